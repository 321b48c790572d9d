"""Stage 4: turn converted posts into pages ready to render.

Everything a template shows is computed here (URLs, the meta line, summaries,
taxonomy lists, pagination, archives, feeds); templates only lay it out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from execblog.hugo import dates, summaries, text_metrics
from execblog.config import SiteConfig
from execblog.i18n import Translator
from execblog.convert.markdown import Heading
from execblog.records import Asset, ConvertedPost, Cover
from execblog.hugo.taxonomies import ArchiveYear, Pager, Term, archive, group_terms, paginate, pager_path, urlize


@dataclass(frozen=True)
class Link:
    name: str
    url: str


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
    summary_text: str
    truncated: bool
    card_summary: str  # what a list card shows: the summary, cut, with "..." when there is more
    meta_description: str  # <meta name="description">: search engines show ~160 characters
    content_html: str
    notices_html: str  # banners above the content (not counted, not summarized)
    provenance_html: str  # execution details below the content
    description: str
    headings: tuple[Heading, ...]
    show_toc: bool
    tags: tuple[Link, ...]
    categories: tuple[Link, ...]
    authors: tuple[str, ...]
    word_count: int
    reading_time: int
    cover: Cover | None
    cover_url: str | None  # root-relative or absolute URL of the cover image
    cover_permalink: str | None  # absolute URL, for social cards
    hidden_in_list: bool
    aliases: tuple[str, ...]
    assets: tuple[Asset, ...]
    params: dict[str, Any]


@dataclass(frozen=True)
class Page:
    kind: str  # home | post | terms | term | archives | search | 404 | rss | sitemap | robots | alias
    template: str
    output: str  # file path relative to the site root
    context: dict[str, Any] = field(default_factory=dict)
    in_sitemap: bool = True
    lastmod: datetime | None = None

    @property
    def path(self) -> str:
        """The page's URL path relative to the site root ('' for the home page)."""
        return self.output[: -len("index.html")] if self.output.endswith("index.html") else self.output


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


def post_view(converted: ConvertedPost, config: SiteConfig, t: Translator, urls: SiteUrls) -> PostView:
    post = converted.executed.source
    section = config.posts_section
    path = f"{section}/{urlize(post.slug)}/"
    is_cjk = text_metrics.is_cjk_page(post.text, post.is_cjk, config.has_cjk_language)
    summarized = summaries.summarize(converted.html, is_cjk=is_cjk, summary_length=config.summary_length,
                                     front_matter_summary_html=converted.summary_html or None)
    metrics = text_metrics.text_metrics(summarized.content, is_cjk)
    words, minutes = metrics.word_count, metrics.reading_time
    summary = summarized.summary
    # PaperMod shows the summary as plain text: `.Summary | plainify | htmlUnescape`
    summary_text = " ".join(html.unescape(text_metrics.strip_html(summary.html)).split())
    date_text = dates.hugo_format(post.date, config.date_format, config.language)
    description = post.description or summary_text
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
    return PostView(
        name=post.name,
        title=post.title,
        path=path,
        url=urls.url(path),
        permalink=urls.absolute(path),
        date=post.date,
        lastmod=post.lastmod,
        date_text=date_text,
        meta=tuple(meta),
        summary_text=summary_text,
        truncated=summary.truncated,
        card_summary=shorten(summary_text, CARD_SUMMARY_CHARS, summary.truncated, "..."),
        meta_description=shorten(description, META_DESCRIPTION_CHARS, False, "…"),
        content_html=summarized.content,
        notices_html=converted.notices_html,
        provenance_html=converted.provenance_html,
        description=description,
        headings=converted.headings,
        show_toc=bool(converted.headings) and (post.toc if post.toc is not None else show.toc),
        tags=tuple(Link(name, urls.url(f"tags/{urlize(name)}/")) for name in post.tags),
        categories=tuple(Link(name, urls.url(f"categories/{urlize(name)}/")) for name in post.categories),
        authors=post.authors,
        word_count=words,
        reading_time=minutes,
        cover=post.cover,
        cover_url=cover_url,
        cover_permalink=cover_permalink,
        hidden_in_list=post.hidden_in_list,
        aliases=post.aliases,
        # Bundle files are published beside the page, then any extracted outputs.
        assets=tuple(Asset(r.relative_to(post.bundle_dir).as_posix(), r) for r in post.resources) + converted.assets,
        params=post.params,
    )


def sort_posts(posts: list[PostView]) -> list[PostView]:
    """Hugo's default order: newest first, then title, then file name."""
    return sorted(posts, key=lambda p: (-p.date.timestamp(), p.title, p.name))


def plan_site(views: list[PostView], config: SiteConfig, t: Translator) -> SitePlan:
    """Every page of the site, from the posts as views (see `post_view`)."""
    urls = SiteUrls(config.base_url)
    posts = sort_posts(views)
    listed = [p for p in posts if not p.hidden_in_list]
    pages: list[Page] = []
    assets: list[tuple[str, Asset]] = []

    for i, post in enumerate(posts):
        newer = posts[i - 1] if i > 0 else None
        older = posts[i + 1] if i + 1 < len(posts) else None
        pages.append(Page("post", "single.html", post.path + "index.html",
                          {"post": post, "newer": newer, "older": older}, lastmod=post.lastmod or post.date))
        for asset in post.assets:
            assets.append((post.path + asset.site_path, asset))
        for alias in post.aliases:
            target = alias.strip("/") + "/"
            pages.append(Page("alias", "alias.html", target + "index.html", {"target": post.permalink}, in_sitemap=False))

    pages += _list_pages("home", "", listed, config, urls, title=config.title)
    section = f"{config.posts_section}/"
    pages += _list_pages("section", section, listed, config, urls, title=t("posts"))
    pages.append(Page("rss", "rss.xml", section + "index.xml",
                      {"title": f"{t('posts')} - {config.title}", "items": listed[:20],
                       "feed_url": urls.absolute(section + "index.xml"), "home": urls.absolute(section)},
                      in_sitemap=False))
    site_lastmod = posts[0].lastmod or posts[0].date if posts else None
    pages.append(Page("rss", "rss.xml", "index.xml", {"title": config.title, "items": listed[:20],
                                                       "feed_url": urls.absolute("index.xml"),
                                                       "home": urls.absolute("")}, in_sitemap=False))

    for taxonomy, label_key, terms_of in (("tags", "tags", lambda p: [l.name for l in p.tags]),
                                          ("categories", "categories", lambda p: [l.name for l in p.categories])):
        # every post is on its term pages; hidden_in_list only keeps it off the home list
        terms: list[Term[PostView]] = group_terms(posts, terms_of)
        if not terms:
            continue
        term_links = [(Link(term.name, urls.url(f"{taxonomy}/{term.slug}/")), len(term.items)) for term in terms]
        pages.append(Page("terms", "terms.html", f"{taxonomy}/index.html",
                          {"title": t(label_key), "terms": term_links, "taxonomy": taxonomy}))
        for term in terms:
            base = f"{taxonomy}/{term.slug}/"
            pages += _list_pages("term", base, list(term.items), config, urls, title=term.name,
                                 breadcrumb=Link(t(label_key), urls.url(f"{taxonomy}/")))
            pages.append(Page("rss", "rss.xml", base + "index.xml",
                              {"title": f"{term.name} - {config.title}", "items": term.items[:20],
                               "feed_url": urls.absolute(base + "index.xml"), "home": urls.absolute(base)},
                              in_sitemap=False))

    years: list[ArchiveYear[PostView]] = archive(listed, lambda p: p.date)
    pages.append(Page("archives", "archives.html", "archives/index.html", {"title": t("archives"), "years": years}))
    pages.append(Page("search", "search.html", "search/index.html", {"title": t("search")}))
    pages.append(Page("404", "404.html", "404.html", {"title": t("not_found")}, in_sitemap=False))
    pages.append(Page("robots", "robots.txt", "robots.txt", {"sitemap": urls.absolute("sitemap.xml")}, in_sitemap=False))
    sitemap_entries = [(urls.absolute(p.output[: -len("index.html")] if p.output.endswith("index.html") else p.output),
                        p.lastmod or site_lastmod) for p in pages if p.in_sitemap]
    pages.append(Page("sitemap", "sitemap.xml", "sitemap.xml", {"entries": sitemap_entries}, in_sitemap=False))
    return SitePlan(posts=tuple(posts), pages=tuple(pages), assets=tuple(assets))


def _list_pages(kind: str, base: str, items: list[PostView], config: SiteConfig, urls: SiteUrls,
                title: str, breadcrumb: Link | None = None) -> list[Page]:
    pagers: list[Pager[PostView]] = paginate(items, config.paginate)
    out = []
    for pager in pagers:
        path = pager_path(base, pager.number)
        prev_url = urls.url(pager_path(base, pager.number - 1)) if pager.has_prev else None
        next_url = urls.url(pager_path(base, pager.number + 1)) if pager.has_next else None
        out.append(Page(kind, "list.html", path + "index.html", {
            "title": title, "pager": pager, "prev_url": prev_url, "next_url": next_url,
            "is_home": kind == "home", "breadcrumb": breadcrumb,
            "feed_url": urls.url(base + "index.xml"),
        }, lastmod=items[0].date if items else None))
    return out
