"""hugo/taxonomies.py: term URLs, term grouping, pagination and archives, as Hugo makes them."""

from __future__ import annotations

from datetime import date

import pytest

from execblog.hugo.taxonomies import archive, group_terms, pager_path, paginate, urlize


@pytest.mark.parametrize(
    "name, slug",
    [
        ("LLM", "llm"),
        ("Machine Learning", "machine-learning"),
        ("  spaced   out ", "spaced-out"),
        ("C++", "c"),  # characters unsafe in a path are dropped
        ("機械学習", "機械学習"),  # letters of other scripts are kept
        ("v1.0.", "v1.0"),
        ("???", "-"),  # never an empty path segment
    ],
)
def test_urlize_makes_hugo_term_slugs(name, slug):
    assert urlize(name) == slug


def test_group_terms_merges_case_keeps_item_order_and_sorts_by_name():
    posts = [("p1", ["b", "LLM"]), ("p2", ["llm", "a", "a"]), ("p3", [])]
    terms = group_terms(posts, lambda p: p[1])
    assert [(t.name, t.slug, [p[0] for p in t.items]) for t in terms] == [
        ("a", "a", ["p2"]),  # a term written twice on one post counts it once
        ("b", "b", ["p1"]),
        ("LLM", "llm", ["p1", "p2"]),  # the first spelling met names the shared page
    ]
    assert group_terms(posts, lambda p: []) == []


@pytest.mark.parametrize(
    "count, per_page, sizes",
    [
        (0, 10, [0]),  # an empty list still has its page
        (10, 10, [10]),
        (11, 10, [10, 1]),
        (5, 2, [2, 2, 1]),
    ],
)
def test_paginate_splits_into_pagers(count, per_page, sizes):
    pagers = paginate(list(range(count)), per_page)
    assert [len(p.items) for p in pagers] == sizes
    assert [p.number for p in pagers] == list(range(1, len(sizes) + 1))
    assert all(p.total == len(sizes) for p in pagers)
    assert [(p.has_prev, p.has_next) for p in pagers][0] == (False, len(sizes) > 1)
    assert [(p.has_prev, p.has_next) for p in pagers][-1] == (len(sizes) > 1, False)
    assert [i for p in pagers for i in p.items] == list(range(count))


def test_pager_paths_follow_hugo():
    assert pager_path("", 1) == "" and pager_path("", 2) == "page/2/"
    assert pager_path("tags/llm/", 1) == "tags/llm/" and pager_path("tags/llm/", 3) == "tags/llm/page/3/"


def test_archive_groups_by_year_and_month_newest_first():
    items = [date(2024, 12, 1), date(2025, 1, 5), date(2025, 1, 20), date(2025, 3, 2)]
    years = archive(items, lambda d: d)
    assert [(y.year, y.count, [(m.month, list(m.items)) for m in y.months]) for y in years] == [
        (2025, 3, [(3, [date(2025, 3, 2)]), (1, [date(2025, 1, 20), date(2025, 1, 5)])]),
        (2024, 1, [(12, [date(2024, 12, 1)])]),
    ]
    assert archive([], lambda d: d) == []
