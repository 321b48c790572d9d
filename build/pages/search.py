"""A post's search record: its terms with positions, computed once when the post is converted.

The site's search index (output.search_index) is assembled from these records
every build; the record is cached with the post's converted view, so editing one
post tokenizes one post. theme/static/js/search.js tokenizes queries with the
same rules (tests/test_search_js.py checks that both agree):

- text is normalised with NFKC, then lower-cased;
- a run of letters and digits of a spaced script (Latin, Greek, Hangul...) is one
  word, one position;
- a run of Han, Hiragana and Katakana (with 々〆〇 and the prolonged sound mark)
  takes one position per character and is indexed as overlapping bigrams, plus
  its last character alone, so that every character starts one term: a query
  matches where its characters appear contiguously, and a one-character query
  finds every term that starts with it;
- anything else (spaces, punctuation, emoji, symbols) separates terms.

Positions run over title (from 0), tags (from TAGS_BASE) and body (from
BODY_BASE), so the query side can tell a title hit from a body hit and a phrase
never spans two fields.

Pure: no I/O.
"""

from __future__ import annotations

import array
import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "BODY_BASE",
    "DIGITS",
    "SLOTS",
    "TAGS_BASE",
    "SearchRecord",
    "encode_positions",
    "normalize",
    "search_record",
    "slot",
    "tokens",
]

TAGS_BASE = 1000  # title tokens past this many are not indexed
BODY_BASE = 2000
SLOTS = 4096  # a term's slot (hash of its key): shards are unions of slots
FRAGMENT_END = "\x1f"  # between a record's slot fragments: terms are words, never control characters

# Keep in step with CJK in search.js.
CJK = (
    "\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003347f"
)
# a CJK run, or a run of letters and digits (Python's \w without "_") that are not CJK
_TOKEN = re.compile(f"([{CJK}]+)|[^\\W_{CJK}]+")
# Code-cell chrome in the converted HTML: the fold buttons' labels ("Show code").
_SUMMARY = re.compile(r"<summary>.*?</summary>", re.S)
_BLOCK_TAG = re.compile(
    r"<(?=/?(?:p|div|li|ul|ol|dl|dt|dd|h[1-6]|pre|table|thead|tbody|tr|td|th|caption|blockquote|figure|figcaption"
    r"|details|section|article|aside|header|footer|nav|br|hr|math|mtd|mtr)[\s/>])",
    re.I,
)


def normalize(text: str) -> str:
    """NFKC, then lower case (String.prototype.normalize("NFKC").toLowerCase() in JS), with a final
    sigma as any sigma (ΟΔΟΣ typed is a prefix of οδοσήμανση) and İ's dot dropped (İstanbul)."""
    return unicodedata.normalize("NFKC", text).lower().replace("ς", "σ").replace("i\u0307", "i")


def tokens(normalized: str, base: int = 0) -> list[tuple[str, int]]:
    """(term, position) of already normalized text, positions from `base`."""
    out: list[tuple[str, int]] = []
    pos = base
    for m in _TOKEN.finditer(normalized):
        run = m.group()
        if m.group(1) is None:
            out.append((run, pos))
            pos += 1
            continue
        out.extend((run[i : i + 2], pos + i) for i in range(len(run)))
        pos += len(run)
    return out


def term_key(term: str) -> str:
    """What decides a term's slot: a CJK term's first character (one-character
    queries), a word's first two (prefix queries of two or more characters)."""
    return term[0] if _TOKEN.match(term[0]).group(1) else term[:2]  # type: ignore[union-attr]


@functools.lru_cache(maxsize=1 << 16)  # posts share most of their terms
def slot(term: str) -> int:
    """FNV-1a (32 bit) of the key's UTF-8, modulo SLOTS (search.js: slotOf)."""
    h = 0x811C9DC5
    for byte in term_key(term).encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % SLOTS


# Positions as text: the first, then the gaps, each as base-32 digits (least significant
# first) from DIGITS, a digit from the upper half of DIGITS meaning "more digits follow".
# Nothing in it needs escaping in JSON, and a gap under 32 is one character.
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"


def _digits(n: int) -> str:
    out = []
    while n >= 32:
        out.append(DIGITS[32 + (n & 31)])
        n >>= 5
    out.append(DIGITS[n])
    return "".join(out)


_SHORT = [_digits(n) for n in range(1024)]


def encode_positions(positions: list[int]) -> str:
    """Increasing positions as the index stores them (search.js: decodePositions)."""
    gaps = [positions[0]] + [b - a for a, b in zip(positions, positions[1:], strict=False)]
    return "".join([_SHORT[g] if g < 1024 else _digits(g) for g in gaps])


@dataclass(frozen=True)
class SearchRecord:
    """What the index holds for one post. `fragments`, split at FRAGMENT_END (`parts()`), holds for
    each slot `slots[i]` (slot order) the post's terms of that slot as `term positions`
    (encode_positions) space-separated, in term order: the index joins these without parsing
    them. One string for all slots and the slots as an array keep the record small and quick to
    load (10,000 of them are cached and held in memory, a string per slot was 100 objects each)."""

    url: str
    title: str
    date: str
    text: str  # the body's visible text, whitespace collapsed: excerpts are cut from it
    length: int  # body terms (BM25's document length)
    slots: array.array  # of "H"
    fragments: str
    size: int  # the fragments' total length (the index's shard count follows it)

    def parts(self) -> list[str]:
        """The fragment of each slot, in the order of `slots`."""
        return self.fragments.split(FRAGMENT_END)


def search_record(url: str, title: str, date: str, tags: tuple[str, ...], plain_body: str) -> SearchRecord:
    """The record of a post whose body's plain text (hugo.text_metrics.strip_html of its content,
    see `visible_html`) is `plain_body`."""
    text = " ".join(plain_body.split())
    found = tokens(normalize(title))[:TAGS_BASE]
    pos = TAGS_BASE
    for tag in tags:  # a gap between tags: a phrase never joins two of them
        tag_tokens = tokens(normalize(tag), pos)
        found += tag_tokens
        pos = (tag_tokens[-1][1] + 2) if tag_tokens else pos
    body = tokens(normalize(text), BODY_BASE)
    found += body
    by_term: dict[str, list[int]] = {}
    for term, p in found:
        by_term.setdefault(term, []).append(p)
    by_slot: dict[int, list[str]] = {}
    for term in sorted(by_term):
        by_slot.setdefault(slot(term), []).append(f"{term} {encode_positions(by_term[term])}")
    length = (body[-1][1] - BODY_BASE + 1) if body else 0
    slots = sorted(by_slot)
    fragments = [" ".join(by_slot[s]) for s in slots]
    return SearchRecord(
        url, title, date, text, length, array.array("H", slots), FRAGMENT_END.join(fragments), sum(map(len, fragments))
    )


def visible_html(content_html: str) -> str:
    """The content without the chrome the converter adds around code cells (fold labels), with a
    space before each block's tags: Hugo's tag stripping (word counts) joins `<td>a</td><td>b</td>`
    into one word, which search would then never find."""
    html = _SUMMARY.sub(" ", content_html) if "<summary>" in content_html else content_html
    return _BLOCK_TAG.sub(" <", html)
