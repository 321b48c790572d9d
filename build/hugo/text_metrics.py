"""Hugo 0.168's `.Plain`, `.WordCount`, `.FuzzyWordCount` and `.ReadingTime`.

All of them start from the rendered content HTML (after the `<!--more-->`
divider is taken out). `.Plain` is Hugo's StripHTML: tags go, entities stay
as written (`&rsquo;` is counted as part of its word), `</p>` and `<br>` become
line breaks, other newlines become spaces and runs of whitespace shrink to
their first character.

Counting has two modes. Normally a word is a run of non-space characters and
reading takes 212 words a minute. In CJK mode (front matter `isCJKLanguage`,
or site `hasCJKLanguage` plus CJK characters anywhere in the file) a
whitespace-separated chunk counts 1 if it is pure ASCII and one per character
otherwise, and reading takes 500 a minute. Minutes are rounded up.

Pure: no I/O, nothing from the build pipeline.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

__all__ = [
    "TextMetrics",
    "contains_cjk",
    "fuzzy_word_count",
    "go_fields",
    "go_is_space",
    "is_cjk_page",
    "plain_text",
    "reading_time",
    "strip_html",
    "text_metrics",
    "word_count",
]

# Go's unicode.IsSpace: Latin-1 spaces plus the White_Space property.
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


SPACE_CHARS = "".join(sorted(_SPACES))
_SPACE_CLASS = "[" + re.escape(SPACE_CHARS) + "]"
_FIELD = re.compile("[^" + re.escape(SPACE_CHARS) + "]+")
_SPACE_RUN = re.compile("(" + _SPACE_CLASS + ")" + _SPACE_CLASS + "+")


def go_is_space(ch: str) -> bool:
    """Go's `unicode.IsSpace` (Python's `str.isspace` also accepts \\x1c-\\x1f)."""
    return ch in _SPACES


def go_fields(s: str) -> list[str]:
    """Go's `strings.Fields`: split on runs of `unicode.IsSpace`."""
    return _FIELD.findall(s)


# Hugo's test for CJK text: \p{Han}|\p{Hangul}|\p{Hiragana}|\p{Katakana}
# (Unicode script ranges; "ー", "。" and "、" are Common, so not listed).
_CJK_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2E99),
    (0x2E9B, 0x2EF3),
    (0x2F00, 0x2FD5),
    (0x3005, 0x3005),
    (0x3007, 0x3007),
    (0x3021, 0x3029),
    (0x302E, 0x302F),
    (0x3038, 0x303B),
    (0x3041, 0x3096),
    (0x309D, 0x309F),
    (0x30A1, 0x30FA),
    (0x30FD, 0x30FF),
    (0x3131, 0x318E),
    (0x31F0, 0x31FF),
    (0x3200, 0x321E),
    (0x3260, 0x327E),
    (0x32D0, 0x32FE),
    (0x3300, 0x3357),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97C),
    (0xAC00, 0xD7A3),
    (0xD7B0, 0xD7C6),
    (0xD7CB, 0xD7FB),
    (0xF900, 0xFA6D),
    (0xFA70, 0xFAD9),
    (0xFF66, 0xFF6F),
    (0xFF71, 0xFF9D),
    (0xFFA0, 0xFFBE),
    (0xFFC2, 0xFFC7),
    (0xFFCA, 0xFFCF),
    (0xFFD2, 0xFFD7),
    (0xFFDA, 0xFFDC),
    (0x16FE2, 0x16FE3),
    (0x16FF0, 0x16FF6),
    (0x1AFF0, 0x1AFF3),
    (0x1AFF5, 0x1AFFB),
    (0x1AFFD, 0x1AFFE),
    (0x1B000, 0x1B122),
    (0x1B132, 0x1B132),
    (0x1B150, 0x1B152),
    (0x1B155, 0x1B155),
    (0x1B164, 0x1B168),
    (0x1F200, 0x1F200),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B81E),
    (0x2B820, 0x2CEAD),
    (0x2CEB0, 0x2EBE0),
    (0x2EBF0, 0x2EE5D),
    (0x2F800, 0x2FA1D),
    (0x30000, 0x3134A),
    (0x31350, 0x33479),
)
_CJK_STARTS = [lo for lo, _ in _CJK_RANGES]


def _is_cjk_char(ch: str) -> bool:
    cp = ord(ch)
    if cp < 0x1100:
        return False
    i = bisect.bisect_right(_CJK_STARTS, cp) - 1
    return i >= 0 and cp <= _CJK_RANGES[i][1]


def contains_cjk(text: str) -> bool:
    """Whether the text has a Han, Hangul, Hiragana or Katakana character."""
    return any(_is_cjk_char(ch) for ch in text)


def is_cjk_page(source: str, front_matter: bool | None, has_cjk_language: bool) -> bool:
    """A page's CJK mode: front matter `isCJKLanguage` wins; otherwise, with
    the site's `hasCJKLanguage` on, a CJK character anywhere in the file (Hugo
    looks at the whole source, front matter included) turns it on.

    `source` is the whole file as written (front matter and body)."""
    if front_matter is not None:
        return bool(front_matter)
    return has_cjk_language and contains_cjk(source)


# --- StripHTML ---------------------------------------------------------------------
_NL = "___hugonl_"
_RAW_TEXT = {"script", "style"}  # their content is dropped
_RCDATA = {"textarea", "title"}  # their content is kept as text


def _alpha(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _alnum(ch: str) -> bool:
    return _alpha(ch) or ("0" <= ch <= "9")


_TAG_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|[:-][A-Za-z0-9])*")


def _tag_name_end(s: str, i: int) -> int:
    """End of a tag name at i (Go html/template's eatTagName), i if none."""
    m = _TAG_NAME.match(s, i)
    return m.end() if m else i


def _strip_tags(s: str) -> str:
    """Go html/template's stripTags: text outside tags and comments, with
    quoted attribute values (which may hold `>`) skipped; `<` that does not
    open a tag is text. A malformed tag (quote or `<` in an attribute name)
    drops the rest, as Go does."""
    # Rendered content is almost always well-formed tags and text: one regex pass
    # removes them, and a `<` left over means something else (a comment, a raw text
    # element, a stray or malformed `<`), which the scan below handles as Go does.
    fast = _WELL_FORMED_TAG.sub("", s)
    return fast if "<" not in fast else _scan_tags(s)


def _scan_tags(s: str) -> str:
    """_strip_tags one tag at a time: Go's state machine, every case."""
    out: list[str] = []
    i, n = 0, len(s)
    all_text = True
    while i < n:
        j = s.find("<", i)
        if j < 0 or j + 1 == n:
            break
        if s.startswith("<!--", j):
            out.append(s[i:j])
            if j + 4 == n:  # Go never ran the comment state: input kept as is
                return s if all_text else "".join(out)
            all_text = False
            end = s.find("-->", j + 4)
            if end < 0:
                return "".join(out)
            i = end + 3
            continue
        k = j + 1
        closing = k < n and s[k] == "/"
        if closing:
            if k + 1 == n:
                break
            k += 1
        name_end = _tag_name_end(s, k)
        if name_end == k:  # not a tag: keep scanning after this '<'
            out.append(s[i:k])
            i = k
            continue
        out.append(s[i:j])
        if name_end == n:
            return s if all_text else "".join(out)
        all_text = False
        element = "" if closing else s[k:name_end].lower()
        i = _skip_tag(s, name_end)
        if i < 0:
            return "".join(out)
        if element in _RAW_TEXT or element in _RCDATA:
            end = _special_end(s, i, element)
            if element in _RCDATA:
                out.append(s[i:end])
            i = end
    if all_text:
        return s
    out.append(s[i:])
    return "".join(out)


# A well-formed rest of a tag: attributes (name, optional =value) then '>'.
# Each part's extent is forced by the next character, so a match ends where
# the scan below would; anything else (malformed, unterminated) takes the scan.
_TAG_REST = re.compile(
    r"""(?:[ \t\n\f\r]*[^ \t\n\f\r=>'"<]+(?:[ \t\n\f\r]*=[ \t\n\f\r]*(?:"[^"]*"|'[^']*'|(?!["'])[^ \t\n\f\r>]*))?)*"""
    r"[ \t\n\f\r]*>"
)


# A whole well-formed tag as the scan reads it: the name taken greedily (atomic: a
# shorter name must not let the rest match where Go's would not), neither opening
# nor closing a raw text element, then _TAG_REST.
_WELL_FORMED_TAG = re.compile(
    r"</?(?!(?i:script|style|textarea|title)(?![A-Za-z0-9]|[:-][A-Za-z0-9]))"
    r"(?>[A-Za-z](?:[A-Za-z0-9]|[:-][A-Za-z0-9])*)" + _TAG_REST.pattern
)


def _skip_tag(s: str, i: int) -> int:
    """Position after the `>` closing the tag whose name ends at i, or -1 when
    the input ends inside it or the tag is malformed."""
    m = _TAG_REST.match(s, i)
    if m:
        return m.end()
    n = len(s)
    ws = " \t\n\f\r"
    while True:
        while i < n and s[i] in ws:
            i += 1
        if i >= n:
            return -1
        if s[i] == ">":
            return i + 1
        j = i  # attribute name
        while j < n and s[j] not in " \t\n\f\r=>":
            if s[j] in "'\"<":
                return -1
            j += 1
        if j == i:
            return -1
        i = j
        while i < n and s[i] in ws:
            i += 1
        if i >= n:
            return -1
        if s[i] != "=":  # valueless attribute
            continue
        i += 1
        while i < n and s[i] in ws:
            i += 1
        if i >= n:
            return -1
        if s[i] in "'\"":
            end = s.find(s[i], i + 1)
            if end < 0:
                return -1
            i = end + 1
        else:
            while i < n and s[i] not in " \t\n\f\r>":
                i += 1


def _special_end(s: str, i: int, element: str) -> int:
    """Start of the `</element` (any case) that ends a raw text element."""
    m = re.compile("</" + element + r"(?=[> \t\n\f/])", re.IGNORECASE).search(s, i)
    return m.start() if m else len(s)


def strip_html(s: str) -> str:
    """Hugo's StripHTML (template func `plainify`, page `.Plain`)."""
    if "<" not in s and ">" not in s:
        return s
    pre = s.replace("\n", " ").replace("</p>", _NL).replace("<br>", _NL).replace("<br />", _NL)
    stripped = _strip_tags(pre)
    if pre != s:
        stripped = stripped.replace(_NL, "\n")
    # each run of whitespace shrinks to its first character
    return _SPACE_RUN.sub(r"\1", stripped)


def plain_text(content_html: str) -> str:
    """`.Plain` of a page: StripHTML of its content (divider removed)."""
    return strip_html(content_html)


# --- counting ------------------------------------------------------------------------
def word_count(plain: str, is_cjk: bool) -> int:
    """`.WordCount` of a page whose `.Plain` is `plain`."""
    if not is_cjk:
        return len(go_fields(plain))
    total = 0
    for word in go_fields(plain):
        total += 1 if word.isascii() else len(word)
    return total


def fuzzy_word_count(words: int) -> int:
    """`.FuzzyWordCount`: the word count rounded up to a multiple of 100
    (0 stays 0, 1..100 give 100, 101 gives 200)."""
    return (words + 99) // 100 * 100


def reading_time(words: int, is_cjk: bool) -> int:
    """`.ReadingTime` in minutes: words / 212 (500 in CJK mode), rounded up;
    0 only when there are no words. (Older Hugo used 213 and 501.)"""
    return (words + 499) // 500 if is_cjk else (words + 211) // 212


@dataclass(frozen=True)
class TextMetrics:
    plain: str
    word_count: int
    fuzzy_word_count: int
    reading_time: int
    is_cjk: bool


def text_metrics(content_html: str, is_cjk: bool) -> TextMetrics:
    """All the counts Hugo derives from a page's content HTML (pass the HTML
    *without* the `<!--more-->` divider, i.e. `summarize(...).content`)."""
    plain = strip_html(content_html)
    words = word_count(plain, is_cjk)
    return TextMetrics(
        plain=plain,
        word_count=words,
        fuzzy_word_count=fuzzy_word_count(words),
        reading_time=reading_time(words, is_cjk),
        is_cjk=is_cjk,
    )
