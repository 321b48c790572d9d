"""Stage 4: turn converted posts into pages ready to render.

Everything a template shows is computed here (URLs, the meta line, summaries,
taxonomy lists, pagination, archives, feeds); templates only lay it out.

    post_view(converted, config, t, urls) -> PostView    (one post, as templates see it)
    plan_site(views, config, t)           -> SitePlan    (every page, every published file)

The site's pages come from the page kinds in `PAGE_KINDS`, called in order:
a kind is a function `(Site, pages planned so far) -> pages`, and each page
carries a typed context (a frozen dataclass such as `ListContext`) whose
fields are its template's variables, beside the globals of `output.render`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from execblog.config import SiteConfig
from execblog.hugo import dates, summaries, text_metrics
from execblog.hugo.related import Document, default_indices, related_pages
from execblog.hugo.taxonomies import ArchiveYear, Pager, Term, archive, group_terms, pager_path, paginate, urlize
from execblog.i18n import Translator
from execblog.pages.feed import absolute_urls
from execblog.pages.search import SearchRecord, search_record, visible_html
from execblog.pages.series import SERIES_TAXONOMY, SeriesBox, series_boxes, series_order
from execblog.pages.social_card import HEIGHT, WIDTH, SocialCards
from execblog.records import Asset, ConvertedPost, Cover, Heading, Notice, Provenance


@dataclass(frozen=True)
class Link:
    name: str
    url: str


@dataclass(frozen=True)
class SocialImage:
    """The image link previews show (og:image): the cover, or the generated card."""

    url: str  # absolute
    alt: str
    width: int | None = None
    height: int | None = None


class Body(Protocol):
    """What only the pages showing a post in full read of it (its page, feeds): held (`HeldBody`), or
    read when a template asks for it (incremental.bodies.StoredBody: the build's process keeps every
    post's view, not this)."""

    @property
    def content_html(self) -> str: ...

    @property
    def feed_html(self) -> str: ...

    @property
    def summary_text(self) -> str: ...


@dataclass(frozen=True)
class HeldBody:
    content_html: str
    feed_html: str  # the content with absolute URLs, for feeds with `feed.full_content`; "" otherwise
    summary_text: str  # the summary as plain text (PaperMod's feeds)


@dataclass(frozen=True)
class PostView:
    """One post as every template sees it."""

    name: str
    title: str
    path: str  # site-relative folder, e.g. "posts/my-post/"
    url: str  # root-relative URL (base path included)
    permalink: str  # absolute URL
    date: datetime
    lastmod: datetime | None
    date_text: str
    meta: tuple[str, ...]  # the meta line's items, joined by " · " in templates
    truncated: bool
    card_summary: str  # what a list card shows: the summary, cut, with "..." when there is more
    meta_description: str  # <meta name="description">: search engines show ~160 characters
    body: Body  # `content_html`, `feed_html` and `summary_text`, below
    notices: tuple[Notice, ...]  # banners above the content (not counted, not summarized)
    provenance: Provenance | None  # execution details below the content
    description: str  # front matter's (Hugo's .Description); "" without
    headings: tuple[Heading, ...]
    show_toc: bool
    terms: dict[str, tuple[Link, ...]]  # taxonomy (plural) -> the post's term pages, for each one configured
    authors: tuple[str, ...]
    word_count: int
    reading_time: int
    cover: Cover | None
    cover_url: str | None  # root-relative or absolute URL of the cover image
    cover_permalink: str | None  # absolute URL, for social cards
    hidden_in_list: bool
    aliases: tuple[str, ...]
    assets: tuple[Asset, ...]
    params: dict[str, Any]  # every front matter key as written (Hugo's .Params), for templates
    comments: bool = True  # front matter `comments`: the site's comment thread under this post
    social_image: SocialImage | None = None
    warnings: tuple[str, ...] = ()  # what converting the post found for its author to fix (printed by the build)
    search: SearchRecord | None = None  # what the site's search index holds for this post

    @property
    def content_html(self) -> str:
        return self.body.content_html

    @property
    def feed_html(self) -> str:
        return self.body.feed_html

    @property
    def summary_text(self) -> str:
        return self.body.summary_text

    @property
    def tags(self) -> tuple[Link, ...]:
        """The `tags` taxonomy's terms: what PaperMod shows on a post, its cards and feeds."""
        return self.terms.get("tags", ())


@dataclass(frozen=True)
class Page:
    kind: str  # post | alias | home | section | rss | terms | term | archives | search | 404 | robots | sitemap
    template: str
    output: str  # file path relative to the site root
    context: Any  # the template's context: a frozen dataclass (e.g. ListContext for list.html)
    in_sitemap: bool = True
    lastmod: datetime | None = None

    @property
    def path(self) -> str:
        """The page's URL path relative to the site root ('' for the home page)."""
        return self.output[: -len("index.html")] if self.output.endswith("index.html") else self.output

    def template_values(self) -> dict[str, Any]:
        """The context's fields as the template's variables (shallow: values keep their types)."""
        return {f.name: getattr(self.context, f.name) for f in fields(self.context)}


@dataclass(frozen=True)
class MenuLink:
    name: str
    href: str
    section: str | None  # site path prefix that marks the link active, None for external links


CARD_SUMMARY_CHARS = 200  # two lines of a card; more would only add weight
META_DESCRIPTION_CHARS = 160


def menu_links(config: SiteConfig, urls: SiteUrls) -> list[MenuLink]:
    """The config's menu, ordered by weight; site paths get the base path, other URLs stay."""
    links = []
    for item in sorted(config.menu, key=lambda m: m.weight):
        if urlsplit(item.url).scheme:
            links.append(MenuLink(item.name, item.url, None))
        else:
            path = item.url.strip("/") + "/" if item.url.strip("/") else ""
            links.append(MenuLink(item.name, urls.url(path), path))
    return links


def shorten(text: str, limit: int, more: bool, mark: str) -> str:
    if len(text) > limit:
        return text[:limit].rstrip() + mark
    return text + (mark if more else "")


@dataclass(frozen=True)
class SitePlan:
    posts: tuple[PostView, ...]
    pages: tuple[Page, ...]
    assets: tuple[tuple[str, Asset], ...]  # (output path, asset)


class SiteUrls:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.base_path = urlsplit(base_url).path or "/"

    def url(self, path: str) -> str:
        """Root-relative URL of a site path ('' is the home page)."""
        return self.base_path + quote(path, safe="/#?=&%~:")

    def absolute(self, path: str) -> str:
        return self.base_url + quote(path, safe="/#?=&%~:")


def post_view(
    converted: ConvertedPost, config: SiteConfig, t: Translator, urls: SiteUrls, cards: SocialCards | None = None
) -> PostView:
    post = converted.executed.source
    section = config.posts_section
    path = f"{section}/{urlize(post.slug)}/"
    is_cjk = text_metrics.is_cjk_page(post.text, post.is_cjk, config.has_cjk_language)
    summarized = summaries.summarize(
        converted.html,
        is_cjk=is_cjk,
        summary_length=config.summary_length,
        front_matter_summary_html=converted.summary_html or None,
    )
    metrics = text_metrics.text_metrics(summarized.content, is_cjk)
    words, minutes = metrics.word_count, metrics.reading_time
    summary = summarized.summary
    # PaperMod shows the summary as plain text: `.Summary | plainify | htmlUnescape`
    summary_text = " ".join(html.unescape(text_metrics.strip_html(summary.html)).split())
    date_text = dates.hugo_format(post.date, config.date_format, config.language)
    description = post.description or ""
    cover_url = cover_permalink = None
    if post.cover:
        image = post.cover.image
        if urlsplit(image).scheme:
            cover_url = cover_permalink = image
        elif image.startswith("/"):
            cover_url, cover_permalink = urls.url(image.lstrip("/")), urls.absolute(image.lstrip("/"))
        else:
            cover_url, cover_permalink = urls.url(path + image), urls.absolute(path + image)
    show = config.show
    meta: list[str] = []
    if show.date:
        meta.append(date_text)
    if show.reading_time:
        meta.append(t("reading_time", minutes))
    if show.word_count:
        meta.append(t("words", words))
    if show.author and post.authors:
        meta.append(", ".join(post.authors))
    bundle = post.bundle_dir  # resources are a bundle's files: there is one whenever there are resources
    assets = tuple(Asset(r.relative_to(bundle).as_posix(), r) for r in post.resources if bundle) + converted.assets
    warnings = converted.warnings
    social = None
    if cover_permalink:
        social = SocialImage(cover_permalink, post.cover.alt if post.cover and post.cover.alt else post.title)
    elif cards is not None:
        figure = next(
            (
                a.source
                for a in converted.assets
                if a.site_path.startswith("outputs/") and a.source.suffix in (".png", ".jpg", ".jpeg")
            ),
            None,
        )
        card = cards.card(post.title, " · ".join(meta), figure)
        name = f"card-{card.path.stem[:16]}.png"
        assets += (Asset(name, card.path),)
        social = SocialImage(urls.absolute(path + name), post.title, WIDTH, HEIGHT)
        if card.missing:
            warnings += (
                f"{post.shown_path}: the social card leaves out {card.missing!r}: no font it uses has "
                "these characters. Reword the title, or give the post a `cover` image",
            )
    url = urls.url(path)
    return PostView(
        name=post.name,
        title=post.title,
        path=path,
        url=url,
        permalink=urls.absolute(path),
        date=post.date,
        lastmod=post.lastmod,
        date_text=date_text,
        meta=tuple(meta),
        truncated=summary.truncated,
        card_summary=shorten(summary_text, CARD_SUMMARY_CHARS, summary.truncated, "..."),
        meta_description=shorten(description or summary_text, META_DESCRIPTION_CHARS, False, "…"),
        body=HeldBody(
            summarized.content,
            absolute_urls(summarized.content, urls.absolute(path)) if config.feed.full_content else "",
            summary_text,
        ),
        notices=converted.notices,
        provenance=converted.provenance,
        description=description,
        headings=converted.headings,
        show_toc=bool(converted.headings) and (post.toc if post.toc is not None else show.toc),
        terms={
            plural: tuple(Link(name, urls.url(term_path(plural, name))) for name in post.terms.get(plural, ()))
            for plural in config.taxonomies.values()
        },
        authors=post.authors,
        word_count=words,
        reading_time=minutes,
        cover=post.cover,
        cover_url=cover_url,
        cover_permalink=cover_permalink,
        hidden_in_list=post.hidden_in_list,
        aliases=post.aliases,
        # Bundle files are published beside the page, then any extracted outputs and the social card.
        assets=assets,
        params=post.params,
        comments=post.comments,
        social_image=social,
        warnings=warnings,
    )


def with_search_record(view: PostView) -> PostView:
    """The view with what the site's search index holds for the post (pages.search): made only
    by builds with search, then kept by view key (incremental/bodies)."""
    plain = text_metrics.strip_html(visible_html(view.content_html))
    shown = view.description
    tags = tuple(link.name for link in view.terms.get("tags", ()))
    text = html.unescape(f"{shown}\n{plain}" if shown else plain)
    return replace(view, search=search_record(view.url, view.title, view.date_text, tags, text))


def sort_posts(posts: list[PostView]) -> list[PostView]:
    """Hugo's default order: newest first, then title, then file name."""
    return sorted(posts, key=lambda p: (-p.date.timestamp(), p.title, p.name))


# -- template contexts: one type per template, what the template may use besides the globals -------------
@dataclass(frozen=True)
class SingleContext:  # single.html
    title: str  # the post's title: the head names the page "title | site"
    post: PostView
    newer: PostView | None
    older: PostView | None
    series: tuple[SeriesBox[PostView], ...] = ()  # one box per series the post is part of
    related: tuple[PostView, ...] = ()  # Hugo's related content, best first, at most `related.count`
    comments: bool = False  # the site's comment widget (giscus) goes under this post


@dataclass(frozen=True)
class AliasContext:  # alias.html
    target: str  # absolute URL the old address redirects to


@dataclass(frozen=True)
class ListContext:  # list.html: the home page, the posts section, a term
    title: str
    pager: Pager[PostView]
    prev_url: str | None
    next_url: str | None
    is_home: bool
    breadcrumb: Link | None
    feed_url: str


@dataclass(frozen=True)
class FeedContext:  # rss.xml
    title: str
    items: tuple[PostView, ...]
    feed_url: str
    home: str


@dataclass(frozen=True)
class TermsContext:  # terms.html: every term of one taxonomy
    title: str
    terms: tuple[tuple[Link, int], ...]  # (term page, number of posts)
    taxonomy: str


@dataclass(frozen=True)
class ArchivesContext:  # archives.html
    title: str
    years: tuple[ArchiveYear[PostView], ...]


@dataclass(frozen=True)
class TitleContext:  # search.html, 404.html: pages that show only their title and the globals
    title: str


@dataclass(frozen=True)
class RobotsContext:  # robots.txt
    sitemap: str


@dataclass(frozen=True)
class SitemapContext:  # sitemap.xml
    entries: tuple[tuple[str, datetime | None], ...]  # (absolute URL, last change)


@dataclass(frozen=True)
class Site:
    """What every page kind gets: the posts (sorted, see `sort_posts`) and the site's settings."""

    posts: tuple[PostView, ...]
    config: SiteConfig
    t: Translator
    urls: SiteUrls

    @property
    def listed(self) -> tuple[PostView, ...]:
        """The posts that list pages show (front matter `hidden_in_list` keeps one off them)."""
        return tuple(p for p in self.posts if not p.hidden_in_list)

    @property
    def lastmod(self) -> datetime | None:
        return self.posts[0].lastmod or self.posts[0].date if self.posts else None


# A page kind: the site and the pages planned before it (in PAGE_KINDS order) -> its pages.
PageKind = Callable[[Site, Sequence[Page]], Iterable[Page]]

FEED_ITEMS = 20


def post_pages(site: Site, planned: Sequence[Page]) -> list[Page]:
    posts, config = site.posts, site.config
    boxes = (
        series_boxes(
            posts,
            lambda p: [link.name for link in p.terms.get(SERIES_TAXONOMY, ())],
            lambda name: site.urls.url(term_path(SERIES_TAXONOMY, name)),
        )
        if config.show.series
        else {}
    )
    related = related_posts(site) if config.related.count else {}
    giscus = config.comments.giscus is not None
    return [
        Page(
            "post",
            "single.html",
            post.path + "index.html",
            SingleContext(
                post.title,
                post,
                posts[i - 1] if i > 0 else None,
                posts[i + 1] if i + 1 < len(posts) else None,
                series=boxes.get(post.name, ()),
                related=related.get(post.name, ())[: config.related.count],
                comments=giscus and post.comments,
            ),
            lastmod=post.lastmod or post.date,
        )
        for i, post in enumerate(posts)
    ]


def related_posts(site: Site) -> dict[str, tuple[PostView, ...]]:
    """Every post's related posts by Hugo's algorithm over all posts (its `.Site.RegularPages.Related .`)."""
    config = site.config
    by_name = {post.name: post for post in site.posts}
    docs = []
    for post in site.posts:
        # Hugo looks an index's name up among the page's fields, then its params (keys in lower case).
        values = {str(k).lower(): v for k, v in post.params.items()}
        values.update({plural: [link.name for link in links] for plural, links in post.terms.items()})
        values.update(date=post.date, publishdate=post.date, lastmod=post.lastmod or post.date, title=post.title)
        docs.append(Document(post.name, post.title, post.date, values))
    indices = config.related.indices if config.related.indices is not None else default_indices(config.taxonomies)
    found = related_pages(docs, config.related, indices)
    return {name: tuple(by_name[d.key] for d in docs_) for name, docs_ in found.items()}


def alias_pages(site: Site, planned: Sequence[Page]) -> list[Page]:
    """Front matter `aliases`: old addresses that redirect to the post."""
    return [
        Page("alias", "alias.html", alias.strip("/") + "/index.html", AliasContext(post.permalink), in_sitemap=False)
        for post in site.posts
        for alias in post.aliases
    ]


def home_pages(site: Site, planned: Sequence[Page]) -> list[Page]:
    return list_pages("home", "", site.listed, site, title=site.config.title)


def section_pages(site: Site, planned: Sequence[Page]) -> list[Page]:
    return list_pages("section", f"{site.config.posts_section}/", site.listed, site, title=site.t("posts"))


def feeds(site: Site, planned: Sequence[Page]) -> list[Page]:
    """The posts section's feed and the site's."""
    section = f"{site.config.posts_section}/"
    return [
        feed(section, f"{site.t('posts')} - {site.config.title}", site.listed, site),
        feed("", site.config.title, site.listed, site),
    ]


def taxonomy_pages(site: Site, planned: Sequence[Page]) -> list[Page]:
    """Per taxonomy of the config, in its order: the list of its terms, then each
    term's list pages and feed. A taxonomy no post uses has no pages."""
    pages: list[Page] = []
    urls = site.urls
    for taxonomy in site.config.taxonomies.values():
        # every post is on its term pages; hidden_in_list only keeps it off the home list
        terms: list[Term[PostView]] = group_terms(
            site.posts, lambda p, taxonomy=taxonomy: [link.name for link in p.terms.get(taxonomy, ())]
        )
        if not terms:
            continue
        title = taxonomy_title(site.t, taxonomy)
        term_links = tuple(
            (Link(term.name, urls.url(term_path(taxonomy, term.name))), len(term.items)) for term in terms
        )
        pages.append(Page("terms", "terms.html", f"{taxonomy}/index.html", TermsContext(title, term_links, taxonomy)))
        for term in terms:
            base = term_path(taxonomy, term.name)
            # a series page lists its parts in reading order
            listed = tuple(series_order(term.items)) if taxonomy == SERIES_TAXONOMY else term.items
            pages += list_pages(
                "term", base, listed, site, title=term.name, breadcrumb=Link(title, urls.url(f"{taxonomy}/"))
            )
            pages.append(feed(base, f"{term.name} - {site.config.title}", term.items, site))
    return pages


def term_path(taxonomy: str, term: str) -> str:
    """A term's page, e.g. `tags/llm/`: terms that differ only in case share it."""
    return f"{taxonomy}/{urlize(term)}/"


def taxonomy_title(t: Translator, taxonomy: str) -> str:
    """The theme's string for the taxonomy (its plural is the i18n key), else the
    name with a capital, as Hugo titles a taxonomy page."""
    return t(taxonomy) if t.has(taxonomy) else taxonomy[:1].upper() + taxonomy[1:]


def archives_page(site: Site, planned: Sequence[Page]) -> list[Page]:
    years: list[ArchiveYear[PostView]] = archive(site.listed, lambda p: p.date)
    return [Page("archives", "archives.html", "archives/index.html", ArchivesContext(site.t("archives"), tuple(years)))]


def search_page(site: Site, planned: Sequence[Page]) -> list[Page]:
    return [Page("search", "search.html", "search/index.html", TitleContext(site.t("search")))]


def not_found_page(site: Site, planned: Sequence[Page]) -> list[Page]:
    return [Page("404", "404.html", "404.html", TitleContext(site.t("not_found")), in_sitemap=False)]


def robots_page(site: Site, planned: Sequence[Page]) -> list[Page]:
    return [
        Page("robots", "robots.txt", "robots.txt", RobotsContext(site.urls.absolute("sitemap.xml")), in_sitemap=False)
    ]


def sitemap_page(site: Site, planned: Sequence[Page]) -> list[Page]:
    """Every page planned before it that belongs in a sitemap: keep it last."""
    entries = tuple((site.urls.absolute(p.path), p.lastmod or site.lastmod) for p in planned if p.in_sitemap)
    return [Page("sitemap", "sitemap.xml", "sitemap.xml", SitemapContext(entries), in_sitemap=False)]


# Every page of a site, in this order (a kind sees the pages of the kinds before it).
# A new kind: one function here, one template, its i18n keys, one unit test.
PAGE_KINDS: list[PageKind] = [
    post_pages,
    alias_pages,
    home_pages,
    section_pages,
    feeds,
    taxonomy_pages,
    archives_page,
    search_page,
    not_found_page,
    robots_page,
    sitemap_page,
]


def plan_site(
    views: list[PostView], config: SiteConfig, t: Translator, kinds: Sequence[PageKind] | None = None
) -> SitePlan:
    """Every page of the site, from the posts as views (see `post_view`), made by
    each page kind in turn (`PAGE_KINDS` unless `kinds` is given)."""
    site = Site(tuple(sort_posts(views)), config, t, SiteUrls(config.base_url))
    pages: list[Page] = []
    for kind in PAGE_KINDS if kinds is None else kinds:
        pages += kind(site, tuple(pages))
    assets = tuple((post.path + asset.site_path, asset) for post in site.posts for asset in post.assets)
    return SitePlan(posts=site.posts, pages=tuple(pages), assets=assets)


def list_pages(
    kind: str, base: str, items: Sequence[PostView], site: Site, title: str, breadcrumb: Link | None = None
) -> list[Page]:
    """A list of posts split into pagers of `paginate` posts: `base`, then `base`page/2/ and on."""
    urls = site.urls
    out = []
    lastmod = max(p.date for p in items) if items else None
    for pager in paginate(items, site.config.paginate):
        path = pager_path(base, pager.number)
        prev_url = urls.url(pager_path(base, pager.number - 1)) if pager.has_prev else None
        next_url = urls.url(pager_path(base, pager.number + 1)) if pager.has_next else None
        out.append(
            Page(
                kind,
                "list.html",
                path + "index.html",
                ListContext(title, pager, prev_url, next_url, kind == "home", breadcrumb, urls.url(base + "index.xml")),
                lastmod=lastmod,
            )
        )
    return out


def feed(base: str, title: str, items: Sequence[PostView], site: Site) -> Page:
    """The RSS feed of a list: its newest posts."""
    return Page(
        "rss",
        "rss.xml",
        base + "index.xml",
        FeedContext(title, tuple(items[:FEED_ITEMS]), site.urls.absolute(base + "index.xml"), site.urls.absolute(base)),
        in_sitemap=False,
    )
