"""The site's search index, assembled from the posts' search records (pages.search).

    search_files(records) -> (site path, bytes) for each file, the manifest last

Files, all under `search/data/` and fetched only by the search page's script
(theme/static/js/search.js):

- `index.json`, the manifest: the shard and document file names, each post's
  body length (BM25) and the average, where tag and body positions start. Its name is fixed; it is fetched without
  the browser cache's stale copy, and every other file is named by its content's
  hash, so a reader never mixes an old manifest with new shards (an old name is
  simply gone, and the script fetches the manifest again).
- `t<k>-<hash>.json`, term shards: shard k holds the postings of the terms whose
  slot (pages.search.slot) is k modulo the shard count, as a list of strings
  `"doc term positions term positions..."` (pages.search.encode_positions). A
  query fetches only the shards of its terms. Strings, not nested lists: the
  final secret scan reads a list of strings as one text, which keeps it cheap.
- `d<k>-<hash>.json`, documents k*DOCS_PER_SHARD...: `[[url, title, date,
  text], ...]`, fetched for the results shown (title, date, excerpt).

Documents are numbered in URL order; the shard count is the smallest power of
two (at most SLOTS) that keeps a shard near SHARD_BYTES. Same records -> the same
bytes; an edit changes the manifest, the shards of the terms it touched and one
document file (adding or removing a post renumbers the documents after it).
Assembly joins the records' precomputed fragments: no tokenizing, no parsing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from execblog.pages.search import BODY_BASE, SLOTS, TAGS_BASE, SearchRecord

__all__ = ["DATA_DIR", "DOCS_PER_SHARD", "FORMAT", "MANIFEST", "SHARD_BYTES", "search_files"]

DATA_DIR = "search/data/"
MANIFEST = DATA_DIR + "index.json"
DOCS_PER_SHARD = 8
SHARD_BYTES = 16 * 1024
FORMAT = 1  # search.js reads this format (its FORMAT): a page's script refuses another


def search_files(records: Iterable[SearchRecord]) -> Iterator[tuple[str, bytes]]:
    """Every file of the index as (site path, bytes), the manifest last, for the posts this build
    publishes. One file at a time: at 10,000 posts the index is tens of MB."""
    docs = sorted(records, key=lambda r: r.url)
    total = sum(r.size for r in docs)
    count = 1
    while count < SLOTS and total / count > SHARD_BYTES:
        count *= 2
    mask = count - 1
    # pieces of each shard's text, referring to the records' fragments (no copies)
    pieces: list[list[str]] = [[] for _ in range(count)]
    for doc, record in enumerate(docs):
        head = f'"{doc} '
        for s, frag in zip(record.slots, record.parts(), strict=True):
            pieces[s & mask] += (head, frag, '",')
    shard_names, doc_names = [], []
    for k in range(count):
        text = "".join(pieces[k])
        pieces[k] = []
        name, data = _named(f"t{k}", f"[{text[:-1]}]".encode())
        shard_names.append(name)
        yield DATA_DIR + name, data
    for k, start in enumerate(range(0, len(docs), DOCS_PER_SHARD)):
        name, data = _named(
            f"d{k}", _json([[r.url, r.title, r.date, r.text] for r in docs[start : start + DOCS_PER_SHARD]])
        )
        doc_names.append(name)
        yield DATA_DIR + name, data
    lengths = [r.length for r in docs]
    manifest = {
        "format": FORMAT,
        "slots": SLOTS,
        "fields": [TAGS_BASE, BODY_BASE],
        "shards": shard_names,
        "docs": doc_names,
        "per": DOCS_PER_SHARD,
        "length": lengths,
        "average": round(sum(lengths) / len(lengths), 2) if lengths else 0,
    }
    yield MANIFEST, _json(manifest)


def _named(stem: str, data: bytes) -> tuple[str, bytes]:
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.json", data


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
