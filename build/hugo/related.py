"""Related content the way Hugo finds it (`.Site.RegularPages.Related .`).

    related_pages(docs, config) -> {key: (related Document, ...)}   best first

Hugo keeps an inverted index per configured index (tags, keywords, date, or
any front matter key): keyword -> the documents that carry it. For a page it
looks up each of its own keywords and gives every other document the index's
weight once per shared keyword. A candidate survives when its normalised
average weight reaches `threshold` divided by its number of matches, and the
survivors are ordered by summed weight, then newest first, then by name (the
title). Documents newer than the page are left out unless `include_newer`.
Integer arithmetic follows Go's (division truncates toward zero), so the
order is the one the Hugo binary prints (tests/test_hugo_oracle.py checks it).

Without a `related` section Hugo uses `default_indices`: keywords (100),
date by year (10), and tags (80) when the site has the `tag` taxonomy.
Only Hugo's "basic" index type is supported (not "fragments").
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from execblog.hugo.dates import go_format

DEFAULT_THRESHOLD = 80
DATE_LAYOUT = "2006"  # Hugo's pattern when an index on a date gives none: the year


@dataclass(frozen=True)
class RelatedIndex:
    """One index: a front matter key (lower case) and its weight."""

    name: str
    weight: int
    pattern: str = ""  # Go layout a date is turned into a keyword with; "" = the year
    to_lower: bool = False
    cardinality_threshold: int = 0  # percent: drop keywords more documents than this share; 0 = keep all


@dataclass(frozen=True)
class RelatedConfig:
    """Hugo's `related` configuration (its keys in snake case)."""

    threshold: int = DEFAULT_THRESHOLD  # 0..100, on the normalised weight
    include_newer: bool = False  # Hugo leaves newer pages out so "see also" lists stay stable
    to_lower: bool = False  # lower-case every index's keywords
    indices: tuple[RelatedIndex, ...] | None = None  # None = Hugo's default (see `default_indices`)


def default_indices(taxonomies: Mapping[str, str]) -> tuple[RelatedIndex, ...]:
    """The indices Hugo uses when the site sets none; `taxonomies` is singular -> plural."""
    indices = (RelatedIndex("keywords", 100), RelatedIndex("date", 10))
    return indices + ((RelatedIndex("tags", 80),) if "tag" in taxonomies else ())


K = TypeVar("K", bound=Hashable)  # what identifies a page to the caller (a post's name)


@dataclass(frozen=True)
class Document(Generic[K]):
    """A page as the index sees it. `values` maps a lower-case front matter key
    to its value (a string, a list, a date); `date` orders and filters, `name`
    (Hugo: the title) breaks ties, `key` identifies the page."""

    key: K
    name: str
    date: datetime
    values: Mapping[str, Any]


def keywords(index: RelatedIndex, value: Any, to_lower: bool = False) -> list[str]:
    """A front matter value as the index's keywords, duplicates kept (Hugo counts them)."""
    if value is None:
        return []
    if isinstance(value, (datetime, date)):
        return [go_format(value, index.pattern or DATE_LAYOUT)]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (list, tuple)):
        items = [_go_string(v) for v in value]
    else:
        return []  # Hugo cannot index other types and leaves the page out of this index
    return [s.lower() for s in items] if index.to_lower or to_lower else items


def _go_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _quo(a: int, b: int) -> int:
    """Go's integer division: truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _norm(num: int, low: int, high: int) -> int:
    """num scaled to 0..100 between the lowest and highest weight, rounded half up."""
    if high == low:
        return 0
    return int(math.floor((num - low) / (high - low) * 100 + 0.5))


def related_pages(
    docs: Sequence[Document[K]], config: RelatedConfig, indices: Sequence[RelatedIndex] | None = None
) -> dict[K, tuple[Document[K], ...]]:
    """For every document, the related others in Hugo's order, best first.

    `indices` overrides `config.indices` (pass `default_indices(...)` for a
    config that sets none)."""
    chosen = tuple(indices if indices is not None else (config.indices or ()))
    low = min([0, *(i.weight for i in chosen)])
    high = max([0, *(i.weight for i in chosen)])
    postings: dict[str, dict[str, list[Document]]] = {}
    for index in chosen:
        table: dict[str, list[Document]] = {}
        postings[index.name] = table
        if index.weight == 0:  # disabled
            continue
        counted = 0
        for doc in docs:
            words = keywords(index, doc.values.get(index.name), config.to_lower)
            for word in words:
                table.setdefault(word, []).append(doc)
            counted += bool(words)
        if index.cardinality_threshold and counted:
            for word in [
                w for w, found in table.items() if math.ceil(len(found) / counted * 100) > index.cardinality_threshold
            ]:
                del table[word]
    return {doc.key: _search(doc, chosen, postings, config, low, high) for doc in docs}


def _search(
    doc: Document,
    indices: Sequence[RelatedIndex],
    postings: Mapping[str, Mapping[str, list[Document]]],
    config: RelatedConfig,
    low: int,
    high: int,
) -> tuple[Document, ...]:
    weight: dict[Hashable, int] = {}
    matches: dict[Hashable, int] = {}
    found: dict[Hashable, Document] = {}
    for index in indices:
        table = postings[index.name]
        for word in keywords(index, doc.values.get(index.name), config.to_lower):
            for other in table.get(word, ()):
                if other.key == doc.key or (not config.include_newer and other.date > doc.date):
                    continue
                found[other.key] = other
                weight[other.key] = weight.get(other.key, 0) + index.weight
                matches[other.key] = matches.get(other.key, 0) + 1
    kept = [
        found[k] for k in found if _norm(_quo(weight[k], matches[k]), low, high) >= _quo(config.threshold, matches[k])
    ]
    # Hugo's order; a full tie (same weight, date and title) falls back to the key, which Hugo leaves to chance.
    kept.sort(key=lambda d: (-weight[d.key], -d.date.timestamp(), d.name, str(d.key)))
    return tuple(kept)
