"""Social cards: a generated og:image for posts without a cover, read back as a link preview reads it."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from urllib.parse import urlsplit

from PIL import Image
from test_pages import BASE, ROOT, config

from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.i18n import Translator
from execblog.output.render import PageRenderer
from execblog.pages.plan import SiteUrls, plan_site, post_view
from execblog.pages.social_card import SocialCards, fallback_font, japanese_font, missing_glyphs, render_card
from execblog.records import ExecutedPost

from conftest_exec import read_post

FONTS = (japanese_font(), fallback_font())
TITLE = "AIモデルの裏側を探る:アテンションメカニズムの可視化とは?"


class Preview(HTMLParser):
    """What a link-preview service (Facebook's, X's, Slack's unfurler) reads: the first value of each
    `<meta property|name=... content=...>` in the head."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: dict[str, str] = {}
        self.structured: list = []  # what search engines read: each JSON-LD block, parsed
        self._in_json_ld = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        key = a.get("property") or a.get("name")
        if tag == "meta" and key and a.get("content") is not None:
            self.tags.setdefault(key, a["content"])
        self._in_json_ld = tag == "script" and a.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_json_ld:
            self.structured.append(json.loads(data))
            self._in_json_ld = False


def test_a_card_is_1200x630_and_the_same_input_gives_the_same_bytes(tmp_path):
    figure = tmp_path / "fig.png"
    Image.new("RGBA", (300, 200), (10, 200, 30, 128)).save(figure)
    first = render_card(TITLE, "ML Blog", "4月 12, 2025 · 1 分", figure, FONTS)
    assert first == render_card(TITLE, "ML Blog", "4月 12, 2025 · 1 分", figure, FONTS)
    assert first != render_card(TITLE + "!", "ML Blog", "4月 12, 2025 · 1 分", figure, FONTS)
    image = Image.open(io.BytesIO(first))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    assert not image.info and not getattr(image, "text", {})  # no time stamp or other metadata chunk
    # the figure is on the card (its green shows), and without it the card differs
    assert (10, 200, 30) != image.getpixel((1100, 315)) != (29, 30, 32)
    assert first != render_card(TITLE, "ML Blog", "4月 12, 2025 · 1 分", None, FONTS)


def test_every_title_character_has_a_glyph_or_is_reported():
    assert missing_glyphs(TITLE + " Ġ ▁ «quotes» — 日本語", FONTS) == ""  # IPAexGothic, then DejaVu Sans
    assert missing_glyphs("Attention 🔥 map 🔥", FONTS) == "🔥"


def test_cards_are_cached_by_content(tmp_path):
    cards = SocialCards(tmp_path, "ML Blog")
    one = cards.card(TITLE, "meta")
    stamp = one.path.stat().st_mtime_ns
    assert cards.card(TITLE, "meta").path == one.path and one.path.stat().st_mtime_ns == stamp
    assert cards.card(TITLE, "other meta").path != one.path


def _page(tmp_path, front: str, cards: SocialCards | None):
    path = tmp_path / "post.md"
    path.write_text(f"---\ntitle: {TITLE}\ndate: 2024-01-01\n{front}---\nBody text.\n", encoding="utf-8")
    t = Translator(ROOT, "en")
    converter = NotebookConverter(MarkdownRenderer(MarkdownOptions()), ConverterOptions(cache_dir=tmp_path / "nb"))
    site = config()
    view = post_view(
        converter.convert(ExecutedPost(source=read_post(path), status="plain")), site, t, SiteUrls(BASE), cards
    )
    page = next(p for p in plan_site([view], site, t).pages if p.kind == "post")
    renderer = PageRenderer(site, t, ROOT / "theme", {"css": "/sub/main.css", "js": "/sub/main.js"})
    text = renderer.render(page)
    # the browser tab and search results name the post, then the site (PaperMod's "title | site")
    assert f"<title>{TITLE} | {site.title}</title>" in text
    preview = Preview(text)
    # the article as search engines read it
    (article,) = preview.structured
    assert article["@type"] == "BlogPosting" and article["headline"] == TITLE
    assert article["datePublished"].startswith("2024-01-01") and article["mainEntityOfPage"]["@id"] == view.permalink
    return view, preview.tags


def test_link_previews_read_the_card(tmp_path):
    view, tags = _page(tmp_path, "", SocialCards(tmp_path / "cards", "Blog"))
    image = tags["og:image"]
    assert urlsplit(image).scheme == "https" and image.startswith(view.permalink)
    assert tags["twitter:card"] == "summary_large_image" and tags["twitter:image:alt"] == tags["og:image:alt"]
    # X falls back to the Open Graph tags: the same text twice would only weigh
    assert not {"twitter:image", "twitter:title", "twitter:description"} & tags.keys()
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:title"] == TITLE and tags["og:type"] == "article" and tags["og:url"] == view.permalink
    assert tags["og:description"] == "Body text."
    # the URL names a file published beside the page, and it is the card
    (asset,) = [a for a in view.assets if image == view.permalink + a.site_path]
    assert Image.open(asset.source).size == (1200, 630)


def test_a_cover_wins_and_cards_can_be_off(tmp_path):
    _, tags = _page(tmp_path, "cover: {image: cover.jpg, alt: A cover}\n", SocialCards(tmp_path / "cards", "Blog"))
    assert tags["og:image"].endswith("/cover.jpg") and tags["og:image:alt"] == "A cover"
    assert "og:image:width" not in tags  # its size is not known
    _, tags = _page(tmp_path, "", None)
    assert "og:image" not in tags and tags["twitter:card"] == "summary"
