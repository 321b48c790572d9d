"""Page weight: bytes a reader downloads for a page, without images.

Counts the HTML plus the same-site stylesheets and scripts it references
(what `make bench` reports and the browser tests bound).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from lxml import html as lhtml

# One representative file per page type of a built site.
PAGE_TYPES = {
    "home": "index.html",
    "post": None,  # the largest post page
    "tags": "tags/index.html",
    "term": None,  # the first term page
    "archives": "archives/index.html",
    "search": "search/index.html",
    "404": "404.html",
}


def page_bytes(public: Path, page: Path) -> int:
    data = page.read_bytes()
    total = len(data)
    tree = lhtml.fromstring(data)
    refs = [e.get("href") for e in tree.xpath("//link[@rel='stylesheet']")] + [e.get("src") for e in tree.xpath("//script[@src]")]
    for ref in refs:
        path = urlsplit(ref).path
        if urlsplit(ref).netloc:
            continue
        # map the URL path onto the output folder whatever the base path is
        parts = path.strip("/").split("/")
        for i in range(len(parts)):
            candidate = public.joinpath(*parts[i:])
            if candidate.is_file():
                total += candidate.stat().st_size
                break
    return total


def page_weights(public: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    posts = sorted((public / "posts").glob("*/index.html"), key=lambda p: p.stat().st_size)
    terms = sorted((public / "tags").glob("*/index.html"))
    for kind, rel in PAGE_TYPES.items():
        page = public / rel if rel else (posts[-1] if kind == "post" and posts else terms[0] if kind == "term" and terms else None)
        if page is not None and page.is_file():
            out[kind] = page_bytes(public, page) / 1024
    return out
