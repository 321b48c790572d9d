"""Feed content: a post's HTML made to stand alone in a feed reader.

    absolute_urls(html, base) -> html with every relative URL resolved against `base`

A reader shows a feed item away from the site, so a relative `src` or `href`
(an output image beside the post, `#fn:1`, `../other-post/`) would point
nowhere. Only attribute values inside tags change: the parser finds each
start tag, so text that merely looks like `src="x"` (in code, in prose) stays.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

URL_ATTRIBUTES = frozenset({"src", "href", "poster", "cite", "action", "data"})
_ATTRIBUTE = re.compile(r"""(\s)([^\s"'>/=]+)(\s*=\s*)("([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def absolute_url(url: str, base: str) -> str:
    """`url` resolved against `base`; absolute URLs, data: and mailto: stay as they are."""
    return urljoin(base, url.strip()) if url.strip() else url


def _srcset(value: str, base: str) -> str:
    out = []
    for candidate in value.split(","):
        parts = candidate.strip().split(None, 1)
        if parts:
            out.append(" ".join([absolute_url(parts[0], base), *parts[1:]]))
    return ", ".join(out)


def _rewrite_tag(tag: str, base: str) -> str:
    def attribute(m: re.Match[str]) -> str:
        name = m.group(2).lower()
        if name not in URL_ATTRIBUTES and name != "srcset":
            return m.group(0)
        raw = m.group(5) if m.group(5) is not None else m.group(6) if m.group(6) is not None else m.group(7)
        value = html.unescape(raw)
        value = _srcset(value, base) if name == "srcset" else absolute_url(value, base)
        return f'{m.group(1)}{m.group(2)}{m.group(3)}"{html.escape(value, quote=True)}"'

    return _ATTRIBUTE.sub(attribute, tag)


class _Tags(HTMLParser):
    """Collects (offset, raw text) of every start tag."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        # getpos() counts lines by "\n" only
        self.lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.tags: list[tuple[int, str]] = []

    def _record(self) -> None:
        raw = self.get_starttag_text()
        if raw:
            line, col = self.getpos()
            self.tags.append((self.lines[line - 1] + col, raw))

    def handle_starttag(self, tag, attrs):
        self._record()

    def handle_startendtag(self, tag, attrs):
        self._record()


def absolute_urls(text: str, base: str) -> str:
    """The HTML with relative URLs in src, href, srcset (and the like) made absolute against `base`."""
    parser = _Tags(text)
    parser.feed(text)
    parser.close()
    out, last = [], 0
    for offset, raw in parser.tags:
        if text.startswith(raw, offset):
            out += [text[last:offset], _rewrite_tag(raw, base)]
            last = offset + len(raw)
    out.append(text[last:])
    return "".join(out)
