"""Hugo 0.168's `.Summary`, `.Truncated`, `.Content` and `.ContentWithoutSummary`.

Three kinds, in Hugo's order of precedence:

* manual: the body has a `<!--more-->` divider (the renderer leaves it in the
  HTML as `<p><!--more--></p>`). The summary is everything before the
  divider's paragraph; `.Content` loses the divider paragraph.
* auto (no divider, no front matter `summary`): whole top-level chunks up to
  the `</p>` where the running count reaches `summaryLength` (70). The count
  runs over the *raw HTML* between `</p>` tags, split on whitespace, skipping
  tokens that look like tags or attributes: one per token, or in CJK mode one
  per character of a non-ASCII token. It is not `.WordCount`: headings with
  an id, for instance, do not count.
* frontmatter: the front matter `summary`, rendered as Markdown and unwrapped
  from a lone `<p>`. Also used (possibly empty) when the other two give an
  empty summary.

`.Truncated` is true when something other than whitespace follows the
summary (for manual: follows the divider); a front matter summary is not
truncated unless it stands in for an empty manual one.

Pure: works on HTML strings, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from execblog.hugo.text_metrics import SPACE_CHARS, go_is_space, strip_html

__all__ = [
    "DEFAULT_SUMMARY_LENGTH",
    "SUMMARY_DIVIDER",
    "Summary",
    "SummarizedContent",
    "summarize",
    "trim_short_html",
]

SUMMARY_DIVIDER = "<!--more-->"
DEFAULT_SUMMARY_LENGTH = 70

SummaryKind = Literal["auto", "manual", "frontmatter"]


@dataclass(frozen=True)
class Summary:
    html: str
    truncated: bool
    kind: SummaryKind


@dataclass(frozen=True)
class SummarizedContent:
    content: str  # `.Content`: the page HTML without the divider
    summary: Summary  # `.Summary` (html), `.Truncated`
    content_without_summary: str  # `.ContentWithoutSummary`


def _go_trim(s: str) -> str:
    """Go's strings.TrimSpace (the same space set as unicode.IsSpace)."""
    return s.strip(SPACE_CHARS)


def trim_short_html(html: str) -> str:
    """Hugo's TrimShortHTML: drop the `<p>` wrapper of a one-paragraph
    rendering (used for front matter summaries and `markdownify`)."""
    if html.count("<p>") != 1:
        return html
    html = _go_trim(html)
    if html.startswith("<p>") and html.endswith("</p>"):
        html = _go_trim(html[3:-4])
    return html


# --- auto summary -------------------------------------------------------------------
_SPACE = re.compile("[" + re.escape(SPACE_CHARS) + "]")
_HTML_TAG_TOKEN = re.compile(r"</?[A-Za-z]+>?")
_HTML_ATTR_TOKEN = re.compile(r"[A-Za-z]+=[\"']")


def _count_token(word: str, is_cjk: bool) -> int:
    word = _go_trim(word)
    if not word or word == ">" or _HTML_TAG_TOKEN.fullmatch(word) or _HTML_ATTR_TOKEN.match(word):
        return 0
    if not is_cjk:
        return 1
    word = strip_html(word)
    return 1 if word.isascii() else len(word)


def _auto_summary_end(src: str, num_words: int, is_cjk: bool) -> int:
    """End offset of the automatic summary (Hugo's ExtractSummaryFromHTML)."""
    if num_words <= 0:
        return 0
    count = 0
    j = 0
    while j < len(src):
        close = src.find("</p>", j)
        if close < 0:
            break
        chunk = src[j:close]
        # Hugo splits at every space and at the last character, which it leaves out.
        bounds = [m.start() for m in _SPACE.finditer(chunk)]
        if chunk and (not bounds or bounds[-1] != len(chunk) - 1):
            bounds.append(len(chunk) - 1)
        start = 0
        for i in bounds:
            count += _count_token(chunk[start:i], is_cjk)
            start = i
            if count >= num_words:
                return close + 4
        # The next chunk starts at the '>' of this "</p>" (Hugo's offset).
        j = close + 3
    return len(src)


# --- manual summary -------------------------------------------------------------------
_P_OPEN_AT_END = re.compile(r"<p[^>]*?>\Z")
_P_OR_DIV = re.compile(r"<p[^>]?>|<div[^>]?>\Z")


def _expand_divider(s: str, lo: int, hi: int) -> tuple[int, int, tuple[int, int] | None]:
    """Widen the divider to its whole paragraph. Returns (low, high, end_markup):
    when text precedes the divider inside its block, the closing markup after it
    is kept for the summary instead of being removed."""
    preserve = False
    i = lo - 1
    while i >= 0:
        if s[i] == ">":
            head = s[: i + 1]
            m = _P_OPEN_AT_END.search(head)
            if m:
                lo = i - len(m.group()) + 1
                break
            m = _P_OR_DIV.search(head)
            if m and m.group():
                i -= len(m.group())
                continue
        # Go steps back byte by byte: any non-ASCII character reads as text.
        if not (s[i].isascii() and go_is_space(s[i])):
            preserve = True
            break
        i -= 1
    end = hi
    while end < len(s):
        if s[end] == ">" and s.endswith("</p>", 0, end + 1):
            end += 1
            break
        end += 1
    end_markup = None
    if preserve:
        end_markup = (hi, end)
    else:
        hi = end
    if hi < len(s) and s[hi] == "\n":
        hi += 1
    return lo, hi, end_markup


def summarize(
    content_html: str,
    *,
    is_cjk: bool,
    summary_length: int = DEFAULT_SUMMARY_LENGTH,
    front_matter_summary_html: str | None = None,
) -> SummarizedContent:
    """Hugo's summary for a page whose rendered body is `content_html`.

    `front_matter_summary_html` is the front matter `summary` rendered as
    Markdown (e.g. `MarkdownRenderer().render(fm["summary"]).html`); pass
    None when the front matter has no summary or an empty one.
    `is_cjk` is the page's CJK mode (see text_metrics.is_cjk_page)."""
    src = content_html
    summary: Summary | None = None
    content = src
    without = ""
    d = src.find(SUMMARY_DIVIDER)
    if d >= 0:
        lo, hi, end_markup = _expand_divider(src, d, d + len(SUMMARY_DIVIDER))
        text = src[:lo] + (src[end_markup[0] : end_markup[1]] if end_markup else "")
        content = _go_trim(src[:lo] + src[hi:])
        without = _go_trim(src[end_markup[1] if end_markup else hi :])
        summary = Summary(html=_go_trim(text), truncated=bool(without), kind="manual")
    elif front_matter_summary_html is None:
        end = _auto_summary_end(src, summary_length, is_cjk)
        without = "" if end == 0 else _go_trim(src[end:])
        summary = Summary(html=_go_trim(src[:end]), truncated=bool(without), kind="auto")
    if summary is None or not summary.html:
        # An empty manual summary keeps its `.Truncated`; a front matter one
        # is otherwise never truncated.
        truncated = summary.truncated if summary is not None else False
        summary = Summary(
            html=trim_short_html(front_matter_summary_html or ""), truncated=truncated, kind="frontmatter"
        )
        without = content
    return SummarizedContent(content=content, summary=summary, content_without_summary=without)
