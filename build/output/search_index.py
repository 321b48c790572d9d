"""The site's search index, assembled from the posts' search records (pages.search).

    search_files(records, total, spool) -> (site path, bytes) for each file, the manifest last

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

from execblog.output.write import Spool
from execblog.pages.search import BODY_BASE, SLOTS, TAGS_BASE, SearchRecord

__all__ = ["DATA_DIR", "DOCS_PER_SHARD", "FORMAT", "MANIFEST", "SHARD_BYTES", "search_files"]

DATA_DIR = "search/data/"
MANIFEST = DATA_DIR + "index.json"
DOCS_PER_SHARD = 8
SHARD_BYTES = 16 * 1024
FORMAT = 1  # search.js reads this format (its FORMAT): a page's script refuses another


def search_files(records: Iterable[SearchRecord], total: int, spool: Spool) -> Iterator[tuple[str, bytes]]:
    """Every file of the index as (site path, bytes), the manifest last, for the posts this build
    publishes: `records` in URL order, `total` the sum of their sizes. One record and one file at a
    time: at 10,000 posts the records are ~100 MB and the term shards ~50 MB, which wait in `spool`
    (a file) until the last record is in."""
    count = 1
    while count < SLOTS and total / count > SHARD_BYTES:
        count *= 2
    mask = count - 1
    # pieces of each shard's text since the last flush, referring to the records' fragments (no copies)
    pieces: list[list[str]] = [[] for _ in range(count)]
    spooled: list[list[tuple[int, int]]] = [[] for _ in range(count)]  # each shard's text flushed so far
    unflushed = 0
    documents: list[list[str]] = []
    doc_names: list[str] = []
    lengths: list[int] = []
    for doc, record in enumerate(records):
        head = f'"{doc} '
        for s, frag in zip(record.slots, record.parts(), strict=True):
            pieces[s & mask] += (head, frag, '",')
        lengths.append(record.length)
        documents.append([record.url, record.title, record.date, record.text])
        if len(documents) == DOCS_PER_SHARD:
            name, data = _named(f"d{len(doc_names)}", _json(documents))
            doc_names.append(name)
            documents = []
            yield DATA_DIR + name, data
        unflushed += record.size
        if unflushed > _FLUSH_CHARS:
            for k, shard_pieces in enumerate(pieces):
                if shard_pieces:
                    spooled[k].append(spool.put("".join(shard_pieces).encode()))
                    pieces[k] = []
            unflushed = 0
    if documents:
        name, data = _named(f"d{len(doc_names)}", _json(documents))
        doc_names.append(name)
        yield DATA_DIR + name, data
    shard_names = []
    for k in range(count):
        text = b"".join([*(spool.get(where) for where in spooled[k]), "".join(pieces[k]).encode()])
        pieces[k] = []
        name, data = _named(f"t{k}", b"[" + text[:-1] + b"]")  # the last piece's comma left out
        shard_names.append(name)
        yield DATA_DIR + name, data
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


_FLUSH_CHARS = 2_000_000  # the term shards' text held in memory before it goes to the spool


def _named(stem: str, data: bytes) -> tuple[str, bytes]:
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.json", data


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
