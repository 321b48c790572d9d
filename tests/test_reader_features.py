"""What readers get beyond the post itself: series (a box with every part, the
series page in reading order), related posts (Hugo's algorithm, worked by
hand here; tests/test_hugo_oracle.py checks it against the Hugo binary),
full-content feeds that validate, and comments and analytics that exist only
where the site configures them, with partials a site overrides."""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from lxml import html as lhtml
from test_pages import BASE, ROOT, config, view

from execblog.errors import BuildError
from execblog.hugo.related import Document, RelatedConfig, RelatedIndex, default_indices, keywords, related_pages
from execblog.i18n import Translator
from execblog.output.render import PageRenderer
from execblog.pages.feed import absolute_urls
from execblog.pages.plan import ListContext, SingleContext, plan_site
from execblog.pages.series import series_boxes, series_order

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def doc(key: str, day: int, **values) -> Document:
    when = T0 + timedelta(days=day)
    return Document(key, key.title(), when, {"date": when, **values})


def titles(found) -> list[str]:
    return [d.key for d in found]


# --- related: Hugo's algorithm ------------------------------------------------------------------------
TAGS = RelatedIndex("tags", 80)
DEFAULTS = (RelatedIndex("keywords", 100), RelatedIndex("date", 10), TAGS)


def test_defaults_are_hugos_and_tags_only_with_the_tag_taxonomy():
    assert default_indices({"tag": "tags", "category": "categories"}) == DEFAULTS
    assert default_indices({"category": "categories"}) == DEFAULTS[:2]
    assert RelatedConfig().threshold == 80 and not RelatedConfig().include_newer


def test_one_shared_tag_passes_the_threshold_one_shared_year_does_not():
    docs = [doc("a", 0, tags=["llm"]), doc("b", 1, tags=["llm"]), doc("c", 2, tags=["other"])]
    found = related_pages(docs, RelatedConfig(), DEFAULTS)
    # c shares only the year with a and b: weight 10 normalises to 10 < 80
    assert titles(found["c"]) == [] and titles(found["b"]) == ["a"]


def test_two_weak_matches_halve_the_threshold():
    """Hugo divides the threshold by the number of matches (integer division):
    two matches at weight 45 average 45 (of 0..100) >= 80 // 2."""
    index = (RelatedIndex("keywords", 100), RelatedIndex("topics", 45))
    docs = [doc("a", 0, topics=["x", "y"]), doc("b", 1, topics=["x", "y"]), doc("c", 2, topics=["x"])]
    found = related_pages(docs, RelatedConfig(), index)
    assert titles(found["b"]) == ["a"]  # two matches: 45 >= 40
    assert titles(found["c"]) == []  # one match: 45 < 80


def test_order_is_summed_weight_then_newest_then_title():
    docs = [
        doc("x", 10, tags=["a", "b"], keywords=["k"]),
        doc("old", 1, tags=["a", "b"]),
        doc("new", 2, tags=["a", "b"]),  # 160 each: newer first
        doc("kw", 3, keywords=["k"]),  # 100
        doc("zeta", 4, tags=["a"]),
        doc("alpha", 4, tags=["a"]),
    ]  # 80 each, same date: by title
    found = related_pages(docs, RelatedConfig(), DEFAULTS)
    assert titles(found["x"]) == ["new", "old", "kw", "alpha", "zeta"]


def test_newer_posts_are_left_out_unless_include_newer():
    docs = [doc("a", 0, tags=["t"]), doc("b", 5, tags=["t"])]
    assert titles(related_pages(docs, RelatedConfig(), DEFAULTS)["a"]) == []
    assert titles(related_pages(docs, RelatedConfig(include_newer=True), DEFAULTS)["a"]) == ["b"]


def test_to_lower_and_date_pattern():
    docs = [doc("a", 0, tags=["LLM"]), doc("b", 1, tags=["llm"])]
    assert titles(related_pages(docs, RelatedConfig(), (TAGS,))["b"]) == []
    assert titles(related_pages(docs, RelatedConfig(to_lower=True), (TAGS,))["b"]) == ["a"]
    month = RelatedIndex("date", 100, pattern="200601")
    assert keywords(month, T0) == ["202401"] and keywords(RelatedIndex("date", 10), T0) == ["2024"]


def test_cardinality_threshold_drops_keywords_most_posts_share():
    index = (RelatedIndex("tags", 80, cardinality_threshold=70),)
    docs = [doc("a", 0, tags=["common", "rare"]), doc("b", 1, tags=["common", "rare"]), doc("c", 2, tags=["common"])]
    found = related_pages(docs, RelatedConfig(include_newer=True), index)
    assert titles(found["c"]) == []  # "common" is on 100% of the posts: dropped
    assert titles(found["b"]) == ["a"]  # "rare" is on ceil(66.7) = 67%: kept
    assert titles(related_pages(docs, RelatedConfig(include_newer=True), (TAGS,))["c"]) == ["b", "a"]


def test_negative_weights_use_go_integer_division():
    """Weights may be negative (Hugo's scale then starts below 0); averages truncate toward zero."""
    index = (RelatedIndex("tags", 100), RelatedIndex("series", -50))
    docs = [doc("a", 0, tags=["t"], series=["s"]), doc("b", 1, tags=["t"], series=["s"])]
    # (100 - 50) // 2 = 25 -> normalised (25 + 50) / 150 = 50 >= 80 // 2
    assert titles(related_pages(docs, RelatedConfig(), index)["b"]) == ["a"]


# --- series ---------------------------------------------------------------------------------------------
def test_series_parts_in_reading_order_with_position_and_neighbours():
    posts = [view("third", 9), view("first", 1), view("second", 5), view("alone", 3)]
    series = {"first": ["S"], "second": ["S"], "third": ["S"]}
    boxes = series_boxes(posts, lambda p: series.get(p.name, []), lambda name: f"/series/{name.lower()}/")
    assert "alone" not in boxes
    box = boxes["second"][0]
    assert [p.name for p in box.parts] == ["first", "second", "third"]
    assert (box.number, box.total, box.prev.name, box.next.name, box.url) == (2, 3, "first", "third", "/series/s/")
    assert boxes["first"][0].prev is None and boxes["third"][0].next is None
    # same day: by title, then file name
    same = [view("b", 1), view("a", 1)]
    assert [p.name for p in series_order(same)] == ["a", "b"]


SERIES_CONFIG = "taxonomies: {tag: tags, series: series}\n"


def test_series_pages_and_the_box_on_each_part(t):
    views = [view(n, d, {"series": ("Attention",), "tags": ("x",)}) for n, d in (("p1", 1), ("p2", 2), ("p3", 3))]
    views.append(view("other", 4, {"tags": ("x",)}))
    plan = plan_site(views, config(SERIES_CONFIG), t)
    pages = {p.output: p for p in plan.pages}
    single = pages["posts/p2/index.html"].context
    assert isinstance(single, SingleContext)
    assert [(b.name, b.number, b.total) for b in single.series] == [("Attention", 2, 3)]
    assert pages["posts/other/index.html"].context.series == ()
    term = pages["series/attention/index.html"].context
    assert isinstance(term, ListContext) and [p.name for p in term.pager.items] == ["p1", "p2", "p3"]
    assert [p.name for p in pages["series/attention/index.xml"].context.items] == ["p3", "p2", "p1"]  # feeds: newest
    html = render(pages["posts/p2/index.html"], config(SERIES_CONFIG), t)
    box = html.xpath("//nav[@class='series-box']")[0]
    assert "Part 2 of 3" in box.text_content() and "3 parts" in box.text_content()
    assert box.xpath(".//*[@aria-current='page']")[0].text == "P2"
    assert box.xpath(".//a[@rel='prev']/@href") == [BASE[len("https://blog.example.org") :] + "posts/p1/"]
    off = plan_site(views, config(SERIES_CONFIG + "show: {series: false}\n"), t)
    assert all(p.context.series == () for p in off.pages if p.kind == "post")


def test_series_box_in_japanese_has_no_english_plural():
    ja = Translator(ROOT, "ja")
    assert ja("series_parts", 1) == "全 1 回" and ja("series_part", number=2, total=3) == "第 2 回 (全 3 回)"
    en = Translator(ROOT, "en")
    assert en("series_parts", 1) == "1 part" and en("series_parts", 2) == "2 parts"


# --- related posts on the page ------------------------------------------------------------------------------
def test_related_posts_off_by_default_and_count_limits_them(t):
    views = [view(n, d, {"tags": ("llm",)}) for n, d in (("a", 1), ("b", 2), ("c", 3), ("d", 4))]
    assert all(p.context.related == () for p in plan_site(views, config(), t).pages if p.kind == "post")
    plan = plan_site(views, config("related: {count: 2}\n"), t)
    pages = {p.output: p for p in plan.pages}
    assert [p.name for p in pages["posts/d/index.html"].context.related] == ["c", "b"]  # newest first among equals
    html = render(pages["posts/d/index.html"], config("related: {count: 2}\n"), t)
    assert [a.text for a in html.xpath("//section[@class='related-posts']//a")] == ["C", "B"]
    assert not render(pages["posts/a/index.html"], config("related: {count: 2}\n"), t).xpath(
        "//*[@class='related-posts']"
    )


def test_related_indices_from_the_config_and_front_matter_keywords(t):
    views = [view("a", 1, params={"keywords": ["attention"]}), view("b", 2, params={"Keywords": ["attention"]})]
    plan = plan_site(views, config("related:\n  count: 5\n  indices: [{name: keywords, weight: 100}]\n"), t)
    assert [p.name for p in {p.output: p for p in plan.pages}["posts/b/index.html"].context.related] == ["a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("related: {threshold: 120}", "between 0 and 100"),
        ("related: {count: -1}", "must not be negative"),
        ("related: {indices: [{name: Tags, weight: 1}]}", "lower-case"),
        ("comments: {giscus: {repo: nope, repo_id: R, category: C, category_id: D}}", "owner/name"),
        ("comments: {giscus: {repo: o/n, repo_id: R, category: C, category_id: D, mapping: number}}", "mapping"),
        ("analytics: {google: {id: UA-1}}", "G-XXXXXXX"),
        ("analytics: {plausible: {domain: 'x\" onload=1'}}", "domain name"),
        ("analytics: {plausible: {domain: example.org, src: 'http://plausible.io/js/script.js'}}", "https://"),
        ("feed: {full: true}", "unknown key `feed.full`"),
    ],
)
def test_bad_reader_settings_name_the_line(text, message):
    with pytest.raises(BuildError) as err:
        config(text + "\n")
    assert message in str(err.value) and err.value.line == 4


# --- feeds: absolute URLs ------------------------------------------------------------------------------------
POST_URL = "https://blog.example.org/sub/posts/p/"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('<img src="abc.png" alt="x">', f'<img src="{POST_URL}abc.png" alt="x">'),
        ('<a href="#fn:1">1</a>', f'<a href="{POST_URL}#fn:1">1</a>'),
        ('<a href="../other/">o</a>', '<a href="https://blog.example.org/sub/posts/other/">o</a>'),
        ('<a href="/sub/tags/x/">x</a>', '<a href="https://blog.example.org/sub/tags/x/">x</a>'),
        ('<a href="https://e.org/a?b=1&amp;c=2">e</a>', '<a href="https://e.org/a?b=1&amp;c=2">e</a>'),
        ('<img src="data:image/png;base64,AAAA" alt="">', '<img src="data:image/png;base64,AAAA" alt="">'),
        ('<a href="mailto:me@example.org">m</a>', '<a href="mailto:me@example.org">m</a>'),
        ("<img src='a b.png' alt=''>", f"<img src=\"{POST_URL}a b.png\" alt=''>"),  # only URL attributes change
        (
            '<img srcset="a.png 1x, b.png 2x" src=a.png>',
            f'<img srcset="{POST_URL}a.png 1x, {POST_URL}b.png 2x" src="{POST_URL}a.png">',
        ),
        ('<p>write src="x.png" and href="y" in prose</p>', '<p>write src="x.png" and href="y" in prose</p>'),
        ('<pre><code>&lt;img src="z.png"&gt;</code></pre>', '<pre><code>&lt;img src="z.png"&gt;</code></pre>'),
        ('<img alt=\'src="q.png"\' src="r.png">', f'<img alt=\'src="q.png"\' src="{POST_URL}r.png">'),
        (
            'line one\n<p>two\n<img src="c.png" alt="c"></p>',
            f'line one\n<p>two\n<img src="{POST_URL}c.png" alt="c"></p>',
        ),
    ],
)
def test_absolute_urls(before, after):
    assert absolute_urls(before, POST_URL) == after


# --- rendering helpers ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def t() -> Translator:
    return Translator(ROOT, "en")


def render(page, site_config, t, layouts: Path | None = None):
    renderer = PageRenderer(site_config, t, ROOT / "theme", {"css": "/sub/main.css", "js": "/sub/main.js"}, layouts)
    return lhtml.fromstring(renderer.render(page))


GISCUS = (
    "comments:\n  giscus: {repo: me/blog, repo_id: R_kgDO, category: Announcements, category_id: DIC_kwDO}\n"
    "analytics:\n  plausible: {domain: blog.example.org}\n  google: {id: G-ABC1234}\n"
)
THIRD_PARTY = re.compile(r"giscus\.app|plausible\.io|googletagmanager|gtag\(")


def test_no_comments_or_analytics_unless_configured(t):
    plan = plan_site([view("a", 1)], config(), t)
    for page in plan.pages:
        if page.template.endswith(".html"):
            text = PageRenderer(config(), t, ROOT / "theme", {"css": "c", "js": "j"}).render(page)
            assert not THIRD_PARTY.search(text), page.output
            assert 'class="giscus' not in text and 'class="comments' not in text


def test_configured_comments_and_analytics(t):
    site_config = config(GISCUS)
    views = [view("a", 1), view("b", 2, comments=False)]
    pages = {p.output: p for p in plan_site(views, site_config, t).pages}
    doc = render(pages["posts/a/index.html"], site_config, t)
    giscus = doc.xpath("//div[@class='giscus']")[0]
    assert giscus.get("data-repo") == "me/blog" and giscus.get("data-category-id") == "DIC_kwDO"
    assert giscus.get("data-mapping") == "pathname" and giscus.get("data-lang") == "en"
    assert doc.xpath("//head/script[@data-domain='blog.example.org']/@src") == ["https://plausible.io/js/script.js"]
    assert doc.xpath("//head/script/@src")[-1] == "https://www.googletagmanager.com/gtag/js?id=G-ABC1234"
    assert 'gtag("config","G-ABC1234")' in lhtml.tostring(doc, encoding="unicode").replace(" ", "")
    # `comments: false` in front matter keeps the widget off that post; analytics stay
    off = render(pages["posts/b/index.html"], site_config, t)
    assert not off.xpath("//*[@class='giscus']") and off.xpath("//script[@data-domain]")


def test_theme_script_loads_giscus_with_the_page_theme_and_follows_the_toggle():
    script = (ROOT / "theme" / "static" / "js" / "comments.js").read_text(encoding="utf-8")
    assert script.startswith("// needs: .giscus")  # only pages with the widget load it
    assert '"https://giscus.app/client.js"' in script and "client.dataset.theme" in script
    assert "setConfig" in script and 'attributeFilter: ["data-theme"]' in script


def test_a_site_partial_overrides_the_theme_one(t, tmp_path):
    layouts = tmp_path / "layouts" / "partials"
    layouts.mkdir(parents=True)
    (layouts / "comments.html").write_text('<div id="my-comments">{{ post.title }}</div>\n', encoding="utf-8")
    (layouts / "head_extra.html").write_text('<meta name="x-site" content="mine">\n', encoding="utf-8")
    (layouts / "body_end.html").write_text('<p id="end">{{ site.title }}</p>\n', encoding="utf-8")
    pages = {p.output: p for p in plan_site([view("a", 1)], config(), t).pages}
    doc = render(pages["posts/a/index.html"], config(), t, tmp_path / "layouts")
    assert doc.xpath("//div[@id='my-comments']/text()") == ["A"]
    assert doc.xpath("//head/meta[@name='x-site']/@content") == ["mine"]
    assert doc.xpath("//body/*[last()]/@id") == ["end"]
    home = render(pages["index.html"], config(), t, tmp_path / "layouts")
    assert not home.xpath("//div[@id='my-comments']") and home.xpath("//p[@id='end']")
    # without a site folder the theme's partials are empty
    plain = render(pages["posts/a/index.html"], config(), t)
    assert not plain.xpath("//div[@id='my-comments']") and not plain.xpath("//meta[@name='x-site']")


# --- a whole site: the feed validates ----------------------------------------------------------------------
RFC822 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} [+-]\d{4}"
)
ATOM = "{http://www.w3.org/2005/Atom}"


def check_rss(text: str, self_url: str) -> list[ElementTree.Element]:
    """The W3C feed validator's rules for RSS 2.0 that a generator can break: well-formed XML,
    required channel elements, RFC-822 dates, atom:link rel=self at the feed's own address,
    a unique permalink guid per item, and content whose URLs all stand alone."""
    root = ElementTree.fromstring(text.encode("utf-8"))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None, "no <channel>"
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"channel has no {name}"
    assert (channel.findtext("link") or "").startswith("https://")
    assert re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)*", channel.findtext("language") or "")
    selfs = [link for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert len(selfs) == 1 and selfs[0].get("href") == self_url and selfs[0].get("type") == "application/rss+xml"
    for date in channel.findall("lastBuildDate") + channel.findall("item/pubDate"):
        assert RFC822.fullmatch(date.text or ""), date.text
        assert parsedate_to_datetime(date.text or "").tzinfo is not None
    items = channel.findall("item")
    guids = [item.findtext("guid") for item in items]
    assert len(set(guids)) == len(items) and all(g and g.startswith("https://") for g in guids)
    for item in items:
        assert item.findtext("title") and item.findtext("link") == item.findtext("guid")
        guid, description = item.find("guid"), item.findtext("description")
        assert guid is not None and description is not None
        assert guid.get("isPermaLink") in (None, "true")
        content = lhtml.fragment_fromstring(description, create_parent="div")
        for element in content.iter():
            for attr in ("src", "href"):
                value = element.get(attr)
                if value is not None:
                    assert re.match(r"(https://|mailto:|data:image/)", value), (item.findtext("title"), attr, value)
            assert element.tag not in ("script", "iframe"), element.tag
    return items


@pytest.mark.pipeline
def test_full_content_feed_validates(site):
    site.config(
        textwrap.dedent("""\
        title: Test Blog
        description: a test site
        base_url: https://blog.example.org/sub/
        language: ja
        time_zone: Asia/Tokyo
        feed: {full_content: true}
        """)
    )
    bundle = site.post(
        "figures/index.md",
        "title: 図の記事\ndate: 2024-05-06\ntags: [x]",
        '本文[^1]と![図](plot.png)、[別の記事](../plain/)。\n\n[^1]: 注。\n\n```html\n<img src="in-code.png">\n```\n',
    )
    (bundle.parent / "plot.png").write_bytes((ROOT / "theme" / "static" / "apple-touch-icon.png").read_bytes())
    site.post("plain.md", "title: Plain & <simple>\ndate: 2024-05-07T10:00:00+02:00", "Just text.\n")
    assert site.build() == 0
    items = check_rss(site.read("index.xml"), "https://blog.example.org/sub/index.xml")
    check_rss(site.read("tags/x/index.xml"), "https://blog.example.org/sub/tags/x/index.xml")
    by_title = {item.findtext("title"): item for item in items}
    assert set(by_title) == {"図の記事", "Plain & <simple>"}
    content = by_title["図の記事"].findtext("description")
    assert 'src="https://blog.example.org/sub/posts/figures/plot.png"' in content
    assert 'href="https://blog.example.org/sub/posts/plain/"' in content
    assert "https://blog.example.org/sub/posts/figures/#fn:1" in content
    assert 'src="in-code.png"' in lhtml.fromstring(content).text_content()  # code is text, left alone
    # the raw XML carries the HTML escaped, never as markup of the feed
    raw = site.read("index.xml")
    assert "<img" not in raw and "&lt;img" in raw


@pytest.mark.pipeline
def test_summary_feed_is_the_default_and_validates(site):
    site.post("a.md", "title: A\ndate: 2024-05-06", "Text with a [link](../b/)\n\n<!--more-->\n\nMore.\n")
    assert site.build() == 0
    (item,) = check_rss(site.read("index.xml"), "https://blog.example.org/sub/index.xml")
    assert item.findtext("description") == "Text with a link..."
