"""The page planner (pages/plan.py) as pure functions: which pages a site has,
at which paths, with which template contexts; and the page-kind recipe."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import html as lhtml

from execblog.config import parse_config_text
from execblog.content.read import read_post
from execblog.i18n import Translator
from execblog.output.render import PageRenderer
from execblog.pages.plan import (
    PAGE_KINDS,
    AliasContext,
    ArchivesContext,
    FeedContext,
    HeldBody,
    Link,
    ListContext,
    Page,
    PostView,
    SingleContext,
    Site,
    SitemapContext,
    SiteUrls,
    TermsContext,
    plan_site,
    post_view,
)
from execblog.records import ConvertedPost, ExecutedPost, Notice

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://blog.example.org/sub/"
T0 = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


def config(extra: str = "", site_dir: Path = ROOT):
    return parse_config_text(f"title: Blog\nbase_url: {BASE}\nlanguage: en\n{extra}", site_dir)


def view(name: str, day: int, terms: dict[str, tuple[str, ...]] | None = None, **changes) -> PostView:
    """A post as the planner receives it (the fields the planner reads, the rest empty)."""
    urls = SiteUrls(BASE)
    path = f"posts/{name}/"
    terms = terms or {}
    base = PostView(
        name=name,
        title=name.title(),
        path=path,
        url=urls.url(path),
        permalink=urls.absolute(path),
        date=T0 + timedelta(days=day),
        lastmod=None,
        date_text="",
        meta=(),
        truncated=False,
        card_summary="",
        meta_description="",
        body=HeldBody("", "", ""),
        notices=(),
        provenance=None,
        description="",
        headings=(),
        show_toc=False,
        terms={tax: tuple(Link(n, urls.url(f"{tax}/{n.lower()}/")) for n in names) for tax, names in terms.items()},
        authors=(),
        word_count=0,
        reading_time=0,
        cover=None,
        cover_url=None,
        cover_permalink=None,
        hidden_in_list=False,
        aliases=(),
        assets=(),
        params={},
    )
    return replace(base, **changes)


def pages_by_output(plan) -> dict[str, Page]:
    return {p.output: p for p in plan.pages}


@pytest.fixture(scope="module")
def t() -> Translator:
    return Translator(ROOT, "en")


def test_every_page_of_a_small_site_in_kind_order(t):
    views = [view("a", 1, {"tags": ("LLM",)}), view("b", 2), view("c", 3, aliases=("/old/c/",))]
    plan = plan_site(views, config("paginate: 2\n"), t)
    assert [p.name for p in plan.posts] == ["c", "b", "a"]  # newest first
    assert [(p.kind, p.output) for p in plan.pages] == [
        ("post", "posts/c/index.html"),
        ("post", "posts/b/index.html"),
        ("post", "posts/a/index.html"),
        ("alias", "old/c/index.html"),
        ("home", "index.html"),
        ("home", "page/2/index.html"),
        ("section", "posts/index.html"),
        ("section", "posts/page/2/index.html"),
        ("rss", "posts/index.xml"),
        ("rss", "index.xml"),
        ("terms", "tags/index.html"),
        ("term", "tags/llm/index.html"),
        ("rss", "tags/llm/index.xml"),
        ("archives", "archives/index.html"),
        ("search", "search/index.html"),
        ("404", "404.html"),
        ("robots", "robots.txt"),
        ("sitemap", "sitemap.xml"),
    ]
    sitemap = plan.pages[-1].context
    assert isinstance(sitemap, SitemapContext)
    # only pages a search engine should list, with the newest post's date where a page has none
    assert [url for url, _ in sitemap.entries] == [
        BASE + "posts/c/",
        BASE + "posts/b/",
        BASE + "posts/a/",
        BASE,
        BASE + "page/2/",
        BASE + "posts/",
        BASE + "posts/page/2/",
        BASE + "tags/",
        BASE + "tags/llm/",
        BASE + "archives/",
        BASE + "search/",
    ]
    assert dict(sitemap.entries)[BASE + "tags/"] == T0 + timedelta(days=3)


def test_post_pages_link_newer_and_older_and_aliases_redirect(t):
    plan = plan_site([view("a", 1), view("b", 2, aliases=("old/b",))], config(), t)
    pages = pages_by_output(plan)
    b, a = pages["posts/b/index.html"].context, pages["posts/a/index.html"].context
    assert isinstance(b, SingleContext) and b.newer is None and b.older.name == "a"
    assert a.newer.name == "b" and a.older is None
    alias = pages["old/b/index.html"]
    assert alias.context == AliasContext(BASE + "posts/b/") and not alias.in_sitemap


def test_list_pages_paginate_with_prev_and_next_urls(t):
    views = [view(n, i) for i, n in enumerate("abcde")]
    pages = pages_by_output(plan_site(views, config("paginate: 2\n"), t))
    first, second, third = (pages[p].context for p in ("index.html", "page/2/index.html", "page/3/index.html"))
    assert isinstance(first, ListContext) and first.is_home and first.title == "Blog"
    assert [p.name for p in first.pager.items] == ["e", "d"] and first.pager.total == 3
    assert (first.prev_url, first.next_url) == (None, "/sub/page/2/")
    assert (second.prev_url, second.next_url) == ("/sub/", "/sub/page/3/")
    assert [p.name for p in third.pager.items] == ["a"] and third.next_url is None
    section = pages["posts/page/2/index.html"].context
    assert not section.is_home and section.title == "Posts" and section.prev_url == "/sub/posts/"
    assert section.feed_url == "/sub/posts/index.xml"


def test_an_empty_site_still_has_a_home_page_and_feeds(t):
    pages = pages_by_output(plan_site([], config(), t))
    home = pages["index.html"].context
    assert home.pager.items == () and home.pager.total == 1 and pages["index.html"].lastmod is None
    assert pages["index.xml"].context.items == ()
    assert not any(p.startswith("tags/") for p in pages)  # a taxonomy no post uses has no pages


def test_hidden_posts_are_off_the_lists_but_on_their_term_pages(t):
    views = [view("a", 1, {"tags": ("X",)}), view("h", 2, {"tags": ("X",)}, hidden_in_list=True)]
    pages = pages_by_output(plan_site(views, config(), t))
    assert [p.name for p in pages["index.html"].context.pager.items] == ["a"]
    assert [p.name for p in pages["index.xml"].context.items] == ["a"]
    assert [p.name for y in pages["archives/index.html"].context.years for m in y.months for p in m.items] == ["a"]
    assert [p.name for p in pages["tags/x/index.html"].context.pager.items] == ["h", "a"]
    assert "posts/h/index.html" in pages  # the post itself is published


def test_terms_pages_group_terms_and_count_posts(t):
    views = [
        view("a", 1, {"tags": ("LLM", "Vision")}),
        view("b", 2, {"tags": ("llm",)}),
        view("c", 3, {"categories": ("ML",)}),
    ]
    pages = pages_by_output(plan_site(views, config(), t))
    tags = pages["tags/index.html"].context
    assert isinstance(tags, TermsContext) and tags.title == "Tags" and tags.taxonomy == "tags"
    # "LLM" and "llm" share one page, named as first met (newest post first), sorted by name
    assert [(link.name, link.url, n) for link, n in tags.terms] == [
        ("llm", "/sub/tags/llm/", 2),
        ("Vision", "/sub/tags/vision/", 1),
    ]
    term = pages["tags/llm/index.html"].context
    assert term.title == "llm" and term.breadcrumb == Link("Tags", "/sub/tags/")
    assert term.feed_url == "/sub/tags/llm/index.xml"
    feed = pages["tags/llm/index.xml"].context
    assert isinstance(feed, FeedContext) and feed.title == "llm - Blog" and feed.home == BASE + "tags/llm/"
    assert pages["categories/index.html"].context.title == "Categories"
    assert [p.name for p in pages["categories/ml/index.html"].context.pager.items] == ["c"]


def test_configured_taxonomies_decide_the_term_pages_and_their_titles(t):
    cfg = config("taxonomies:\n  series: series\n  tag: tags\n")
    views = [view("a", 1, {"series": ("Attention 101",), "tags": ("X",)})]
    plan = plan_site(views, cfg, t)
    outputs = [p.output for p in plan.pages if p.kind in ("terms", "term")]
    # in the config's order; no i18n string for `series`: the name, as Hugo titles it
    assert outputs == ["series/index.html", "series/attention-101/index.html", "tags/index.html", "tags/x/index.html"]
    assert pages_by_output(plan)["series/index.html"].context.title == "Series"
    assert not any(p.output.startswith("categories/") for p in plan.pages)


def test_archives_group_listed_posts_by_year_and_month(t):
    views = [view("a", 0), view("b", 40), view("c", 300)]
    years = pages_by_output(plan_site(views, config(), t))["archives/index.html"].context
    assert isinstance(years, ArchivesContext) and years.title == "Archive"
    assert [(y.year, [(m.month, [p.name for p in m.items]) for m in y.months]) for y in years.years] == [
        (2026, [(1, ["c"])]),
        (2025, [(5, ["b"]), (4, ["a"])]),
    ]


def test_post_view_links_terms_of_configured_taxonomies(tmp_path, t):
    path = tmp_path / "hello.md"
    path.write_text(
        "---\ntitle: Hello\ndate: 2025-04-13\nTags: [Deep Learning]\nseries: [Intro]\n---\n"
        "Hello world, this is a post.\n",
        encoding="utf-8",
    )
    cfg = config("taxonomies:\n  tag: tags\n  series: series\n")
    source = read_post(path, cfg.zone, taxonomies=cfg.taxonomies.values())
    notice = Notice("not-executed", text="why")
    converted = ConvertedPost(ExecutedPost(source, "plain"), "<p>Hello world, this is a post.</p>", notices=(notice,))
    post = post_view(converted, cfg, t, SiteUrls(cfg.base_url))
    assert (post.path, post.url, post.permalink) == ("posts/hello/", "/sub/posts/hello/", BASE + "posts/hello/")
    assert post.terms == {
        "tags": (Link("Deep Learning", "/sub/tags/deep-learning/"),),
        "series": (Link("Intro", "/sub/series/intro/"),),
    }
    assert post.tags == post.terms["tags"]  # what the theme shows on the post
    assert post.word_count == 6 and post.meta == ("April 13, 2025", "1 min", "6 words")
    assert post.notices == (notice,) and post.provenance is None


def test_a_posts_description_is_its_front_matters_and_the_meta_description_falls_back_to_the_summary(tmp_path, t):
    """As Hugo's .Description: a post shows a description only when it has one; search engines get the
    summary otherwise."""
    cfg = config()
    made = {}
    for name, front in (("plain", ""), ("described", "description: What this post is about\n")):
        path = tmp_path / f"{name}.md"
        path.write_text(f"---\ntitle: T\ndate: 2025-04-13\n{front}---\nFirst words of the body.\n", encoding="utf-8")
        source = read_post(path, cfg.zone)
        converted = ConvertedPost(ExecutedPost(source, "plain"), "<p>First words of the body.</p>")
        made[name] = post_view(converted, cfg, t, SiteUrls(cfg.base_url))
    assert made["plain"].description == "" and made["plain"].meta_description == "First words of the body."
    assert made["plain"].summary_text == "First words of the body."
    assert made["described"].description == made["described"].meta_description == "What this post is about"


# -- the recipe: a new page kind is one function, one template, one i18n key, one test ------------------
@dataclass(frozen=True)
class ColophonContext:  # colophon.html
    title: str
    post_count: int


def colophon_page(site: Site, planned: Sequence[Page]) -> list[Page]:
    return [
        Page("colophon", "colophon.html", "colophon/index.html", ColophonContext(site.t("colophon"), len(site.posts)))
    ]


def test_a_new_page_kind_is_planned_listed_and_rendered(tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    (theme / "templates" / "colophon.html").write_text(
        '{% extends "base.html" %}\n{% block main %}<h1 class="colophon">{{ title }}</h1>'
        "<p>{{ t('posts_count', post_count) }}</p>{% endblock %}\n",
        encoding="utf-8",
    )
    with (theme / "i18n" / "en.yaml").open("a", encoding="utf-8") as f:
        f.write("colophon: About this site\n")
    cfg = config(site_dir=tmp_path)
    t = Translator(tmp_path, "en")
    kinds = [*PAGE_KINDS[:-1], colophon_page, PAGE_KINDS[-1]]  # before the sitemap, which lists it
    plan = plan_site([view("a", 1), view("b", 2)], cfg, t, kinds=kinds)

    page = pages_by_output(plan)["colophon/index.html"]
    assert page.context == ColophonContext("About this site", 2)
    assert BASE + "colophon/" in dict(plan.pages[-1].context.entries)
    assert "colophon/index.html" not in pages_by_output(plan_site([view("a", 1)], cfg, t))  # not in the product

    doc = lhtml.fromstring(PageRenderer(cfg, t, theme, {"css": "/s.css", "js": "/m.js"}).render(page))
    assert doc.cssselect("h1.colophon")[0].text_content() == "About this site"
    assert "2 posts" in doc.text_content() and doc.cssselect("header")  # inside the theme's layout
