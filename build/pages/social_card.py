"""Social cards: the picture a link preview shows for a post without a `cover`.

    cards = SocialCards(cache_dir, site_title, figure=True)   # once per build
    card = cards.card(title, meta_line, first_figure)         # -> Card(path, missing)

A card is a 1200x630 PNG (the size Facebook, X and Slack crop to): the site
name, the title in up to three lines, the meta line, and optionally the post's
first figure on the right. Text is set in IPAexGothic (the Japanese font
matplotlib-fontja ships, which the posts' figures use too), with DejaVu Sans
(matplotlib's) for the characters it lacks; a character neither font has is
left out and reported in `Card.missing`, never drawn as a box ("tofu").

`render_card` is pure: the same input gives the same bytes (no time stamp,
no metadata chunk). `SocialCards.card` keeps each card in the build cache
under the digest of everything it is drawn from, so an unchanged post
reuses its card.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

from execblog.fsutil import atomic_write

WIDTH, HEIGHT = 1200, 630
_MARGIN = 64
_BACKGROUND = (29, 30, 32)  # the dark theme's --theme
_TEXT = (236, 236, 237)
_MUTED = (168, 169, 170)  # --secondary, dark
_ACCENT = (68, 147, 248)
_VERSION = "card-1"  # bump when the drawing changes: cached cards are redrawn


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)  # found without importing it (matplotlib is slow to import)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the Python package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def japanese_font() -> Path:
    return _package_file("matplotlib_fontja", "fonts", "ipaexg.ttf")


def fallback_font() -> Path:
    return _package_file("matplotlib", "mpl-data", "fonts", "ttf", "DejaVuSans.ttf")


@functools.lru_cache(maxsize=8)
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        return frozenset(font["cmap"].getBestCmap())


def missing_glyphs(text: str, fonts: tuple[Path, ...]) -> str:
    """The characters of `text` (spaces aside) that none of `fonts` has a glyph for, in order, once each."""
    covered = [_cmap(f) for f in fonts]
    out = dict.fromkeys(ch for ch in text if not ch.isspace() and not any(ord(ch) in c for c in covered))
    return "".join(out)


@dataclass(frozen=True)
class Card:
    path: Path
    missing: str  # characters of the title or meta line no font could draw (left out)


class SocialCards:
    def __init__(self, cache_dir: Path, site_title: str, figure: bool = True):
        self.cache_dir = cache_dir
        self.site_title = site_title
        self.figure = figure
        self.fonts = (japanese_font(), fallback_font())
        from PIL import __version__ as pillow

        digest = hashlib.sha256(f"{_VERSION}\0{pillow}".encode())
        for font in self.fonts:
            digest.update(font.read_bytes())
        self._base = digest

    def card(self, title: str, meta: str, figure: Path | None = None) -> Card:
        figure = figure if self.figure else None
        digest = self._base.copy()
        digest.update("\0".join((title, meta, self.site_title)).encode())
        if figure is not None:
            digest.update(b"\0figure\0" + figure.read_bytes())
        path = self.cache_dir / f"{digest.hexdigest()[:32]}.png"
        if not path.is_file():
            data = render_card(title, self.site_title, meta, figure, self.fonts)
            atomic_write(path, data)
        return Card(path, missing_glyphs(self.site_title + title + meta, self.fonts))


def render_card(title: str, site: str, meta: str, figure: Path | None, fonts: tuple[Path, ...]) -> bytes:
    """The card's PNG bytes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    right = WIDTH - _MARGIN
    if figure is not None:
        thumb = _thumbnail(figure, (440, HEIGHT - 2 * _MARGIN))
        if thumb is not None:
            x = WIDTH - _MARGIN - thumb.width
            image.paste(thumb, (x, (HEIGHT - thumb.height) // 2))
            right = x - 48
    draw.rectangle((_MARGIN, _MARGIN, _MARGIN + 72, _MARGIN + 6), fill=_ACCENT)
    _line(draw, (_MARGIN, _MARGIN + 28), site, 34, _MUTED, fonts)
    size = 64
    lines = _wrap(title, size, right - _MARGIN, fonts)
    while len(lines) > 3 and size > 44:
        size -= 6
        lines = _wrap(title, size, right - _MARGIN, fonts)
    if len(lines) > 3:
        lines = lines[:3]
        lines[2] = _fit(lines[2] + "…", size, right - _MARGIN, fonts)
    y = _MARGIN + 110
    for text in lines:
        _line(draw, (_MARGIN, y), text, size, _TEXT, fonts)
        y += round(size * 1.35)
    _line(draw, (_MARGIN, HEIGHT - _MARGIN - 34), _fit(meta, 30, right - _MARGIN, fonts), 30, _MUTED, fonts)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=9)  # no text chunks, no time
    return out.getvalue()


@functools.lru_cache(maxsize=32)
def _font(path: Path, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(path), size)


def _font_for(ch: str, size: int, fonts: tuple[Path, ...]):
    for path in fonts:
        if ord(ch) in _cmap(path):
            return _font(path, size)
    return None  # no glyph anywhere: left out rather than drawn as a box


def _width(text: str, size: int, fonts: tuple[Path, ...]) -> float:
    total = 0.0
    for ch in text:
        font = _font_for(ch, size, fonts)
        total += font.getlength(ch) if font is not None else 0
    return total


def _line(draw, xy: tuple[int, int], text: str, size: int, fill, fonts: tuple[Path, ...]) -> None:
    x, y = xy
    for ch in text:
        font = _font_for(ch, size, fonts)
        if font is None:
            continue
        draw.text((x, y), ch, font=font, fill=fill)
        x += font.getlength(ch)


def _wrap(text: str, size: int, width: int, fonts: tuple[Path, ...]) -> list[str]:
    """Greedy lines: Latin words stay whole where they fit, CJK text breaks between any characters."""
    words: list[str] = []
    for ch in " ".join(text.split()):
        if words and ch.isascii() and not ch.isspace() and words[-1][-1:].isascii() and not words[-1].isspace():
            words[-1] += ch
        else:
            words.append(ch)
    lines: list[str] = [""]
    for word in words:
        if _width(lines[-1] + word, size, fonts) <= width or not lines[-1]:
            lines[-1] += word
        elif word.isspace():
            lines.append("")
        else:
            lines.append(word)
    out = []
    for line in lines:  # a word longer than a line is cut between characters
        while _width(line, size, fonts) > width and len(line) > 1:
            cut = len(line)
            while cut > 1 and _width(line[:cut], size, fonts) > width:
                cut -= 1
            out.append(line[:cut])
            line = line[cut:]
        out.append(line.strip())
    return [line for line in out if line]


def _fit(text: str, size: int, width: int, fonts: tuple[Path, ...]) -> str:
    if _width(text, size, fonts) <= width:
        return text
    while text and _width(text + "…", size, fonts) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _thumbnail(path: Path, box: tuple[int, int]):
    from PIL import Image

    try:
        with Image.open(path) as source:
            source.load()
            rgba = source.convert("RGBA")
        thumb = Image.new("RGB", rgba.size, (255, 255, 255))  # transparent parts on white, as on the page
        thumb.paste(rgba, mask=rgba.getchannel("A"))
    except (OSError, ValueError):
        return None
    thumb.thumbnail(box, Image.Resampling.LANCZOS)
    return thumb
