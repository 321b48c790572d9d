"""Secret redaction for everything a run produces, and the final leak scan.

Before a notebook is frozen, saved as a failed run, or shown in an error
message, every string in it goes through a `Redactor`:

* the values of secret environment variables (a name containing TOKEN, KEY,
  SECRET or PASSWORD, plus a configurable list) become `[REDACTED:NAME]`;
* well-known token shapes (Hugging Face `hf_`, GitHub `ghp_`/`github_pat_`,
  OpenAI-style `sk-`, AWS `AKIA`, Slack `xox?-`, Google `AIza`) become
  `[REDACTED:kind]`, whether or not they came from the environment;
* the home directory becomes `~` (it names the machine's user).

A secret is looked for in three views of a text, and removed from the text
wherever one of them finds it:

* as written;
* normalised (`normalise`): terminal escape and control sequences and
  invisible characters removed, percent-escapes decoded and, in markup
  (HTML, SVG, Markdown outputs), tags removed and character references
  decoded, so a token split by colour codes or `<span>`s is still one token;
* loose: normalised without whitespace; here a secret value is also looked
  for in its common encodings (`encoded_forms`: base64 at each of the three
  byte alignments, standard and URL-safe; hex in both cases; percent-encoding).

Only the secret's own characters are replaced (the marker goes where it
began); colour codes, tags and line breaks between them stay. The stream
outputs of one cell (stdout, stderr) are redacted as one text per stream, and
every list of strings as one text, so a token printed in halves is found.

Image outputs are data, not text: a PNG ancillary chunk (tEXt, zTXt, iTXt,
eXIf, iCCP... compressed ones decompressed), a JPEG APPn or comment segment
(EXIF, XMP) or a WebP EXIF/XMP/ICCP chunk that holds a secret is dropped, and
the image is otherwise left byte for byte. A secret anywhere else in an image
(its pixel data, or an image format not listed) cannot be removed without
corrupting it: `UnredactableSecret` is raised, naming the cell, and the run
fails.

`scan_for_secrets()` is the last line of defence: it reads the built site and
the freeze as bytes and reports any secret value in any of its forms
(`secret_forms`), any token shape, a secret that the redactor's views find in
the text of a page, notebook or JSON file, and a secret in image metadata.
Findings never include the secret itself.

Everything here is pure except `scan_for_secrets`, which only reads files.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import struct
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from execblog.execution.secret_env import MIN_SECRET_LENGTH
from execblog.fsutil import files_under
from execblog.notebook.mimetypes import TABLE

MARKER = "[REDACTED:{}]"
# An encoded fragment shorter than this could turn up by chance in image data.
MIN_ENCODED_LENGTH = 8

# (kind, pattern). Boundaries keep ordinary words ("task-list-…") from matching.
TOKEN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("hf-token", r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}"),
    ("github-token", r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,}"),
    ("github-token", r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}"),
    ("api-key", r"(?<![A-Za-z0-9_-])sk-(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}"),
    ("aws-key", r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])"),
    ("slack-token", r"(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,}"),
    ("google-api-key", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}"),
)
_TOKEN_RE = [(kind, re.compile(p)) for kind, p in TOKEN_PATTERNS]
# The literal each shape starts with: a file is searched with a pattern only
# when one of its literals occurs (a fast substring test), which keeps the
# final scan of a thousand-page site well under a second.
_ANCHORS: tuple[tuple[bytes, ...], ...] = (
    (b"hf_",),
    (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"),
    (b"github_pat_",),
    (b"sk-",),
    (b"AKIA", b"ASIA"),
    (b"xox",),
    (b"AIza",),
)
_TOKEN_RE_BYTES = [
    (kind, re.compile(p.encode()), anchors) for (kind, p), anchors in zip(TOKEN_PATTERNS, _ANCHORS, strict=True)
]
_TOKEN_RE_TEXT = [
    (kind, pattern, tuple(a.decode() for a in anchors))
    for (kind, pattern), anchors in zip(_TOKEN_RE, _ANCHORS, strict=True)
]

# Notebook keys whose string values are base64 image data: redacted as images.
_BINARY_MIMETYPES = TABLE.redacted_as("binary-image")
# Notebook keys whose text is markup: tags and character references are normalised away.
_MARKUP_MIMETYPES = TABLE.redacted_as("markup")
_MARKUP_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".xml", ".svg", ".md"})


# --- the encodings of a secret -----------------------------------------------------------------
# Characters of base64(prefix + secret) that depend on the prefix, for a prefix of 0, 1, 2 bytes.
_B64_SKIP = (0, 2, 3)
_URLSAFE = str.maketrans("+/", "-_")


def encoded_forms(value: str) -> set[str]:
    """The common encodings of `value` as they appear inside longer text: the
    base64 characters that depend only on the secret, for each of the three
    positions it can take in the encoded bytes (standard and URL-safe
    alphabets), hex (lower and upper case) and percent-encoding."""
    raw = value.encode("utf-8")
    forms: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        whole = (offset + len(raw)) // 3 * 4  # later characters depend on what follows
        fragment = encoded[_B64_SKIP[offset] : whole]
        forms |= {fragment, fragment.translate(_URLSAFE)}
    forms |= {raw.hex(), raw.hex().upper()}
    quoted = quote(value, safe="")
    forms |= {quoted, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quoted), quote_plus(value, safe="")}
    return {f for f in forms if len(f) >= MIN_ENCODED_LENGTH and f != value}


def secret_forms(value: str) -> set[bytes]:
    """Every byte string that spells `value` in a file: as is, JSON- and
    HTML-escaped, UTF-16, and its `encoded_forms`."""
    texts = {
        value,
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        *encoded_forms(value),
    }
    forms = {t.encode("utf-8") for t in texts if t}
    forms |= {value.encode("utf-16-le"), value.encode("utf-16-be")}
    return forms


# --- the normaliser -----------------------------------------------------------------------------
_CONTROLS = (
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # any other escape sequence
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    # control characters but tab and newline; soft hyphen, zero-width and direction marks
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"
)
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
# A run of percent-escapes. Written with its `%` first, not as `(?:%XX)+`: the regex engine then
# skips to each `%` instead of trying the group at every character (a third of a page's scan).
_PERCENT = r"%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*"
_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"
# What is removed (a constant replacement: fast on big pages), then what is decoded.
_STRIP_RE = {
    markup: re.compile(_CONTROLS + (r"|<!--.*?(?:-->|\Z)|<[A-Za-z/!?][^<>]*>" if markup else ""), re.S)
    for markup in (False, True)
}
_DECODE_RE = {markup: re.compile((_ENTITY + "|" if markup else "") + _PERCENT) for markup in (False, True)}
_SPACE_RE = re.compile(r"\s+")
# (view start, view end, text start, text end, copied): a copied piece maps character
# for character; a decoded one (a character reference, a percent run) as a whole.
_Piece = tuple[int, int, int, int, bool]


@lru_cache(maxsize=4096)  # pages repeat the same few references
def _decoded(token: str) -> str:
    text = html.unescape(token) if token.startswith("&") else unquote(token, errors="replace")
    return _CONTROL_CHARS_RE.sub("", text)


def normalise(text: str, *, markup: bool = False, loose: bool = False) -> str:
    """`text` as a reader sees it: no escape or control sequences, no
    invisible characters, percent-escapes decoded; with `markup`, no tags and
    character references decoded; with `loose`, no whitespace either."""
    text = _DECODE_RE[markup].sub(lambda m: _decoded(m.group()), _STRIP_RE[markup].sub("", text))
    return _SPACE_RE.sub("", text) if loose else text


def _view(text: str, markup: bool, loose: bool) -> tuple[str, list[list[_Piece]]]:
    """`normalise(text)` and the pieces that map it back to `text`, one list per step (last first)."""
    levels = []
    text, pieces = _pieces(text, _STRIP_RE[markup], lambda token: "")
    levels.append(pieces)
    text, pieces = _pieces(text, _DECODE_RE[markup], _decoded)
    levels.append(pieces)
    if loose:
        text, pieces = _pieces(text, _SPACE_RE, lambda token: "")
        levels.append(pieces)
    return text, levels[::-1]


def _pieces(text: str, pattern: re.Pattern[str], replace) -> tuple[str, list[_Piece]]:
    out: list[str] = []
    pieces: list[_Piece] = []
    n = pos = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        if start > pos:
            out.append(text[pos:start])
            pieces.append((n, n + start - pos, pos, start, True))
            n += start - pos
        replacement = replace(match.group())
        if replacement:
            out.append(replacement)
            pieces.append((n, n + len(replacement), start, end, False))
            n += len(replacement)
        pos = end
    if pos < len(text):
        out.append(text[pos:])
        pieces.append((n, n + len(text) - pos, pos, len(text), True))
    return "".join(out), pieces


def _map_back(levels: list[list[_Piece]], a: int, b: int) -> list[tuple[int, int]]:
    """The characters of the original text behind view characters a..b."""
    ranges = [(a, b)]
    for pieces in levels:
        starts = [p[0] for p in pieces]
        ranges = [r for s, e in ranges for r in _text_ranges(pieces, starts, s, e)]
    return ranges


def _text_ranges(pieces: list[_Piece], starts: list[int], a: int, b: int) -> list[tuple[int, int]]:
    """The characters of the original text behind view characters a..b."""
    ranges: list[tuple[int, int]] = []
    i = max(bisect_right(starts, a) - 1, 0)
    while i < len(pieces) and pieces[i][0] < b:
        vs, ve, ts, te, copied = pieces[i]
        if ve > a:
            span = (ts + max(a, vs) - vs, ts + min(b, ve) - vs) if copied else (ts, te)
            if ranges and span[0] <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], span[1]))
            else:
                ranges.append(span)
        i += 1
    return ranges


def _apply(chunks: list[str], edits: list[tuple[int, int, str]]) -> list[str]:
    """Apply (start, end, replacement) edits of the joined text to its chunks:
    the replacement goes to the chunk where the edit starts."""
    merged: list[tuple[int, int, str]] = []
    for start, end, rep in sorted(edits, key=lambda e: e[0]):
        if merged and start < merged[-1][1]:
            ps, pe, prep = merged[-1]
            merged[-1] = (ps, max(pe, end), prep or rep)
        else:
            merged.append((start, end, rep))
    joined = "".join(chunks)
    out = []
    offset = 0
    for chunk in chunks:
        stop = offset + len(chunk)
        parts, pos = [], offset
        for start, end, rep in merged:
            if end <= offset or start >= stop:
                continue
            parts.append(joined[pos : max(start, offset)])
            if start >= offset:
                parts.append(rep)
            pos = min(end, stop)
        parts.append(joined[pos:stop])
        out.append("".join(parts))
        offset = stop
    return out


class UnredactableSecret(Exception):
    """A secret sits where it cannot be cut out (an image's pixel data)."""

    def __init__(self, what: str, where: str, cell: int | None = None):
        super().__init__(f"{what} is in {where}")
        self.what = what  # the variable name or token kind, never the value
        self.where = where
        self.cell = cell  # index in the notebook's cells, when known


class Redactor:
    """Replaces secrets in text and in notebook-shaped JSON."""

    def __init__(self, secrets: Mapping[str, str] | None = None, home: str | None = None, *, patterns: bool = True):
        self.secrets = dict(secrets or {})  # name -> value
        self.home = home
        self.patterns = patterns
        exact: dict[str, str] = {}
        loose: dict[str, str] = {}
        binary: dict[bytes, str] = {}
        # Longest values first: one secret may contain another.
        for name, value in sorted(self.secrets.items(), key=lambda p: len(p[1] or ""), reverse=True):
            if not value:
                continue
            exact.setdefault(value, name)
            squeezed = normalise(value, loose=True)
            if len(squeezed) >= MIN_SECRET_LENGTH:
                loose.setdefault(squeezed, name)
            for form in encoded_forms(value):  # as the loose view shows them (%2B decoded...)
                for seen in (form, normalise(form, loose=True)):
                    if len(seen) >= MIN_ENCODED_LENGTH:
                        loose.setdefault(seen, name)
            for spelling in secret_forms(value):
                binary.setdefault(spelling, name)
        self._exact = (_alternation(exact), exact)
        self._loose = (_alternation(loose), loose)
        self._binary = sorted(binary.items(), key=lambda p: len(p[0]), reverse=True)
        home = (home or "").rstrip("/")
        # Only whole path components: "/home/ann" must not eat "/home/anna".
        self._home_re = re.compile(re.escape(home) + r"(?![\w.-])") if len(home) > 1 else None

    # -- text ----------------------------------------------------------------------------------------
    def text(self, value: str, *, markup: bool = False) -> str:
        return self.chunks([value], markup=markup)[0]

    def chunks(self, chunks: list[str], *, markup: bool = False) -> list[str]:
        """Redact consecutive pieces of one text (stream chunks, lines) as the
        text they make together; each piece keeps its place."""
        for view in ("raw", "normalised", "loose"):
            edits = [
                (start, end, MARKER.format(what) if what else "")
                for start, end, what in self._spans(chunks, view, markup)
            ]
            if edits:
                chunks = _apply(chunks, edits)
        if self._home_re is not None:
            chunks = [self._home_re.sub("~", c) for c in chunks]
        return chunks

    def _spans(self, chunks: list[str], view: str, markup: bool) -> list[tuple[int, int, str]]:
        """(start, end, name or kind) of every secret one view finds, in
        positions of the joined chunks; a secret split by what the view
        removes gives one span per piece, the name on the first."""
        joined = "".join(chunks)
        if not self._matches(
            joined if view == "raw" else normalise(joined, markup=markup, loose=view == "loose"), view
        ):
            return []  # the usual case, decided without mapping positions
        levels: list[list[_Piece]] = []
        text = joined
        if view != "raw":
            text, levels = _view(joined, markup, view == "loose")
        spans = []
        last_end = -1
        for a, b, what in sorted(self._matches(text, view), key=lambda f: (f[0], -f[1])):
            if a < last_end:
                continue  # inside a secret already found (a value that is also a token shape)
            last_end = b
            ranges = _map_back(levels, a, b)
            spans += [(s, e, what if i == 0 else "") for i, (s, e) in enumerate(ranges)]
        return spans

    def _matches(self, text: str, view: str) -> list[tuple[int, int, str]]:
        regex, names = self._loose if view == "loose" else self._exact
        found = [(m.start(), m.end(), names[m.group()]) for m in regex.finditer(text)] if regex else []
        if self.patterns and view != "loose":
            found += [
                (m.start(), m.end(), kind)
                for kind, pattern, anchors in _TOKEN_RE_TEXT
                if any(a in text for a in anchors)
                for m in pattern.finditer(text)
            ]
        return found

    def found_in(self, value: str, *, markup: bool = False) -> list[str]:
        """Names/kinds of the secrets present in `value` (for tests and checks)."""
        return self._found([value], markup)

    def _found(self, chunks: list[str], markup: bool) -> list[str]:
        joined = "".join(chunks)
        normalised = normalise(joined, markup=markup)
        views = [(joined, "raw"), (normalised, "normalised")]
        if self._loose[0] is not None:  # the loose view looks for secret values only (no token shapes)
            views.append((_SPACE_RE.sub("", normalised), "loose"))
        found = [what for text, view in views for _s, _e, what in self._matches(text, view)]
        return list(dict.fromkeys(found))

    # -- notebooks -----------------------------------------------------------------------------------
    def json(self, value: Any, _key: str | None = None) -> Any:
        """A copy of a JSON-like value (dicts, lists, strings) with every string
        redacted; dict subclasses such as nbformat's NotebookNode are kept.
        Raises UnredactableSecret for an image that cannot be cleaned."""
        markup = _key in _MARKUP_MIMETYPES
        if isinstance(value, str):
            if _key in _BINARY_MIMETYPES:
                return self._image_b64(value, _key)
            return self.text(value, markup=markup)
        if isinstance(value, Mapping):
            items = []
            for k, v in value.items():
                v = self._cells(v) if k == "cells" and isinstance(v, list) else self.json(v, k)
                items.append((k, v))
            # NotebookNode is a dict subclass: keep its type
            out = type(value)(items) if isinstance(value, dict) else dict(items)
            if isinstance(out.get("outputs"), list):
                self._join_streams(out["outputs"])
            return out
        if isinstance(value, list):
            if _key not in _BINARY_MIMETYPES and len(value) > 1 and all(isinstance(v, str) for v in value):
                # nbformat on disk splits text into lines (and a traceback is a list): one text
                return self.chunks(list(value), markup=markup)
            return [self.json(v, _key) for v in value]
        return value

    notebook = json  # the same walk; named for readability at call sites

    def json_secrets(self, value: Any) -> list[str]:
        """Names/kinds of the secrets in a JSON-like value, as the final scan
        would report them for a file holding it."""
        found = [what for _o, what in self._bytes_secrets(json.dumps(value, ensure_ascii=False).encode("utf-8"))]
        return found or _json_secrets(self, value)

    def _cells(self, cells: list) -> list:
        out = []
        for index, cell in enumerate(cells):
            try:
                out.append(self.json(cell))
            except UnredactableSecret as exc:
                exc.cell = index if exc.cell is None else exc.cell
                raise
        return out

    def _join_streams(self, outputs: list) -> None:
        """Every stream of a cell is one text: a secret printed in halves,
        or across stdout writes split by stderr, is still found."""
        streams: dict[str, list[Any]] = {}
        for output in outputs:
            if isinstance(output, Mapping) and output.get("output_type") == "stream":
                streams.setdefault(str(output.get("name")), []).append(output)
        for group in streams.values():
            texts = [output.get("text", "") for output in group]
            if len(group) < 2 or not all(isinstance(t, (str, list)) for t in texts):
                continue
            joined = ["".join(t) if isinstance(t, list) else t for t in texts]
            for output, old, new in zip(group, joined, self.chunks(joined), strict=True):
                if new != old:
                    output["text"] = new

    # -- images --------------------------------------------------------------------------------------
    def _image_b64(self, value: str, mime: str) -> str:
        try:
            raw = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            return value  # not inline data (a freeze file reference)
        cleaned = self.image(raw, mime)
        return value if cleaned is raw else base64.b64encode(cleaned).decode("ascii")

    def image(self, data: bytes, mime: str = "image") -> bytes:
        """`data` without the metadata blocks that hold a secret (the same
        object when none does). Raises UnredactableSecret if a secret is
        anywhere else in it."""
        blocks = _image_blocks(data)
        drop = [block for block in blocks if block.droppable and self._block_secrets(block)]
        cleaned = _without_blocks(data, drop) if drop else data
        for block in _image_blocks(cleaned):
            found = self._block_secrets(block)
            if found:
                raise UnredactableSecret(found[0], f"the {block.label} of an {mime} output")
        in_data = self._bytes_secrets(cleaned)
        if in_data:
            raise UnredactableSecret(in_data[0][1], f"the image data of an {mime} output")
        return cleaned

    def _block_secrets(self, block: _Block) -> list[str]:
        if block.unreadable and self.secrets:
            return ["an unreadable metadata block"]
        found = [what for _offset, what in self._bytes_secrets(block.data)]
        for text in block.texts:
            found += self._found([text], markup=True)  # XMP is XML
        return found

    def _bytes_secrets(self, data: bytes) -> list[tuple[int, str]]:
        """(offset, name or kind) of each secret form or token shape in `data`."""
        found = []
        for needle, name in self._binary:
            start = data.find(needle)
            if start >= 0:
                found.append((start, name))
        if self.patterns:
            for kind, pattern, anchors in _TOKEN_RE_BYTES:
                if any(anchor in data for anchor in anchors):
                    match = pattern.search(data)
                    if match:
                        found.append((match.start(), f"a {kind}-shaped string"))
        return found


def _alternation(needles: Mapping[str, str]) -> re.Pattern[str] | None:
    if not needles:
        return None
    return re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))


# --- image metadata -------------------------------------------------------------------------------
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_INFLATED = 16 << 20  # a compressed chunk is read this far; a bigger one counts as unreadable
_WEBP_FLAGS = {b"ICCP": 0x20, b"EXIF": 0x08, b"XMP ": 0x04}


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    label: str  # e.g. "PNG zTXt chunk"
    data: bytes  # the block as stored
    texts: tuple[str, ...] = ()  # its text, decompressed and decoded
    droppable: bool = True
    unreadable: bool = False


def _image_blocks(data: bytes) -> list[_Block]:
    """The blocks of a PNG, JPEG or WebP file that may hold text; none for
    other data (whose bytes are still searched as a whole)."""
    try:
        if data.startswith(_PNG_SIGNATURE):
            return _png_blocks(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_blocks(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_blocks(data)
    except (struct.error, IndexError):
        pass
    return []


def _inflate(data: bytes) -> tuple[bytes, bool]:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, _MAX_INFLATED)
    except zlib.error:
        return b"", True
    return out, bool(inflater.unconsumed_tail)


def _png_blocks(data: bytes) -> list[_Block]:
    blocks = []
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        body = data[pos + 8 : pos + 8 + length]
        texts: list[bytes] = []
        unreadable = False
        keyword, _, rest = body.partition(b"\0")
        if kind == b"tEXt":
            texts = [keyword, rest]
        elif kind in (b"zTXt", b"iCCP"):
            inflated, unreadable = _inflate(rest[1:])
            texts = [keyword, inflated]
        elif kind == b"iTXt" and len(rest) >= 2:
            language, _, rest2 = rest[2:].partition(b"\0")
            translated, _, text = rest2.partition(b"\0")
            if rest[0]:
                text, unreadable = _inflate(text)
            texts = [keyword, language, translated, text]
        decoded = tuple(t.decode("utf-8", errors="replace") for t in texts if t)
        # An ancillary chunk (lower-case first letter) can go; IHDR, PLTE, IDAT, IEND cannot.
        blocks.append(
            _Block(
                pos,
                end,
                f"PNG {kind.decode('latin-1')} chunk",
                body,
                decoded,
                droppable=bool(kind[0] & 0x20),
                unreadable=unreadable,
            )
        )
        pos = end
        if kind == b"IEND":
            break
    return blocks


def _jpeg_blocks(data: bytes) -> list[_Block]:
    blocks = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xDA)):  # no length
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        body = data[pos + 4 : end]
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn (EXIF, XMP, ICC...) and comments
            label = "JPEG comment" if marker == 0xFE else f"JPEG APP{marker - 0xE0} segment"
            blocks.append(_Block(pos, end, label, body, (body.decode("utf-8", errors="replace"),)))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos = end
    return blocks


def _webp_blocks(data: bytes) -> list[_Block]:
    blocks = []
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        end = pos + 8 + length + (length & 1)
        body = data[pos + 8 : pos + 8 + length]
        droppable = kind not in (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF")
        text = (body.decode("utf-8", errors="replace"),) if droppable else ()
        blocks.append(_Block(pos, end, f"WebP {kind.decode('latin-1').strip()} chunk", body, text, droppable))
        pos = end
    return blocks


def _without_blocks(data: bytes, drop: list[_Block]) -> bytes:
    out = bytearray()
    pos = 0
    for block in sorted(drop, key=lambda b: b.start):
        out += data[pos : block.start]
        pos = block.end
    out += data[pos:]
    if data[:4] == b"RIFF":  # WebP: the file size, and VP8X's flags for what is gone
        struct.pack_into("<I", out, 4, len(out) - 8)
        if out[12:16] == b"VP8X":
            for block in drop:
                out[20] &= ~_WEBP_FLAGS.get(block.label.split()[1].ljust(4).encode(), 0) & 0xFF
    return bytes(out)


# --- final scan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SecretFinding:
    path: Path
    line: int | None  # None: found in the file's text once normalised, or in image metadata
    what: str  # the variable name or token kind, never the value

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.what} is present"


def scan_for_secrets(
    paths: Iterable[Path], secrets: Mapping[str, str], *, patterns: bool = True
) -> list[SecretFinding]:
    """Every place under `paths` (files or folders, walked recursively) where
    a secret value in any of its `secret_forms`, or a token shape, is in the
    bytes; or, failing that, where the redactor finds one in the text of a
    page, notebook or JSON file, or in an image's metadata."""
    redactor = Redactor(secrets, patterns=patterns)
    findings: list[SecretFinding] = []
    for file in _files(paths):
        try:
            data = file.read_bytes()
        except OSError:
            continue
        findings += scan_data(redactor, file, data)
    return sorted(set(findings), key=lambda f: (str(f.path), f.line or 0, f.what))


def scan_data(redactor: Redactor, file: Path, data: bytes) -> list[SecretFinding]:
    """`scan_for_secrets` of one file whose bytes are `data` (e.g. a page, before it is
    written as `file`): what the redactor's secrets and patterns find there."""
    found = [
        SecretFinding(file, data.count(b"\n", 0, offset) + 1, what) for offset, what in redactor._bytes_secrets(data)
    ]
    return found or [SecretFinding(file, None, what) for what in _document_secrets(redactor, file.suffix, data)]


def _document_secrets(redactor: Redactor, suffix: str, data: bytes) -> list[str]:
    """What the redactor would remove from a file: image metadata, a
    notebook's or JSON file's strings, a page's text."""
    blocks = _image_blocks(data)
    if blocks:
        return [what for block in blocks for what in redactor._block_secrets(block)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    if suffix in (".ipynb", ".json"):
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            return _json_secrets(redactor, value)
    return redactor._found([text], suffix.lower() in _MARKUP_SUFFIXES)


def _json_secrets(redactor: Redactor, value: Any) -> list[str]:
    try:
        redacted = redactor.json(value)
    except UnredactableSecret as exc:
        return [exc.what]
    if redacted == value:
        return []
    before, after = (re.findall(r"\[REDACTED:([^\]]+)\]", json.dumps(v, ensure_ascii=False)) for v in (value, redacted))
    added = list(after)
    for name in before:
        if name in added:
            added.remove(name)
    return list(dict.fromkeys(added)) or ["a secret in image metadata"]


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        yield from (Path(name) for name, _ in files_under(path) or [])
