"""Page weight: bytes a reader downloads for a page, without images.

Counts the HTML plus the same-site stylesheets and scripts it references
(what `make bench` reports), as files and as transferred with gzip, the way
static hosts such as GitHub Pages serve text.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlsplit

from lxml import html as lhtml

# One representative file per page type of a built site.
PAGE_TYPES = {
    "home": "index.html",
    "post": None,  # the largest post page
    "post-median": None,  # the post page of median size: a typical one
    "tags": "tags/index.html",
    "term": None,  # the first term page
    "archives": "archives/index.html",
    "search": "search/index.html",
    "404": "404.html",
}


def page_bytes(public: Path, page: Path, compressed: bool = False) -> int:
    size = (lambda b: len(gzip.compress(b, 6))) if compressed else len
    data = page.read_bytes()
    total = size(data)
    tree = lhtml.fromstring(data)
    refs = [e.get("href") for e in tree.xpath("//link[@rel='stylesheet']")] + [
        e.get("src") for e in tree.xpath("//script[@src]")
    ]
    for ref in refs:
        path = urlsplit(ref).path
        if urlsplit(ref).netloc:
            continue
        # map the URL path onto the output folder whatever the base path is
        parts = path.strip("/").split("/")
        for i in range(len(parts)):
            candidate = public.joinpath(*parts[i:])
            if candidate.is_file():
                total += size(candidate.read_bytes())
                break
    return total


def page_weights(public: Path, compressed: bool = False) -> dict[str, float]:
    """KiB per page type (one representative page each)."""
    out: dict[str, float] = {}
    posts = sorted((public / "posts").glob("*/index.html"), key=lambda p: p.stat().st_size)
    terms = sorted((public / "tags").glob("*/index.html"))
    for kind, rel in PAGE_TYPES.items():
        chosen = {"post": posts[-1:], "post-median": posts[len(posts) // 2 :][:1], "term": terms[:1]}.get(kind, [])
        page = public / rel if rel else (chosen[0] if chosen else None)
        if page is not None and page.is_file():
            out[kind] = page_bytes(public, page, compressed) / 1024
    return out
