"""Markdown to HTML, configured like Hugo's goldmark defaults.

CommonMark plus tables, strikethrough, autolinks (linkify), footnotes, task
lists, definition lists, heading ids, goldmark's typographer, Pygments
highlighting and `$...$` / `$$...$$` math rendered to MathML at build time.
Raw HTML is omitted unless the site config allows it, as Hugo does. Math and
heading attribute blocks never carry script: MathML is written by allow-list
and headings keep only id, class and data-* (see sanitize.py), whatever the
config says, since neither is raw HTML the author wrote.

The HTML follows Hugo 0.168's output byte for byte where it matters (entities
from the typographer, footnotes, task lists, tables, `<br>`/`<hr>`, dropped
HTML comments, the `<!--more-->` split) because Hugo's word count, reading time
and summary are computed over the rendered HTML: the same text in the same
markup gives the same numbers. Highlighted code has its own lean markup
(highlight.py), so only its text matches Chroma's.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from execblog.convert.figures import LABEL as FIGURE_LABEL
from execblog.convert.figures import figure_slot, reference, strip_marks
from execblog.convert.highlight import code_style, go_escape
from execblog.convert.sanitize import heading_attribute_allowed, mathml
from execblog.hugo.summaries import SUMMARY_DIVIDER
from execblog.hugo.text_metrics import go_is_space
from execblog.records import Heading

# Hugo's manual summary divider. It is kept in the HTML (as a comment) even when
# raw HTML is omitted, so the summary step can find it.
RAW_HTML_OMITTED = "<!-- raw HTML omitted -->"
# Hugo swaps the first divider for this paragraph before goldmark runs, which
# splits a paragraph the divider sits in; we do the same.
_DIVIDER_MARK = "HUGOMORE42"


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    headings: tuple[Heading, ...] = ()
    has_math: bool = False
    has_code: bool = False


# GitHub's alert types, the ones the theme titles and colours (any other `[!word]` gets its word as title).
CALLOUT_TYPES = ("note", "tip", "important", "warning", "caution")
DEFAULT_CALLOUT_TITLES = {kind: kind.title() for kind in CALLOUT_TYPES}


@dataclass
class MarkdownOptions:
    unsafe_html: bool = False
    typographer: bool = True
    math: bool = True
    highlight: bool = True
    # Pygments styles (light, dark): they decide which tokens need a class (see highlight.py).
    code_styles: tuple[str, str] = ("friendly", "github-dark")
    code_css_class: str = "highlight"
    tab_width: int = 4
    callout_titles: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CALLOUT_TITLES))
    extra: dict = field(default_factory=dict)


def anchorize(text: str) -> str:
    """Heading id the way Hugo's default ("github") anchorizer makes it.

    Lower-cases, keeps letters, digits, marks, '_' and '-', turns spaces into
    '-', drops everything else.
    """
    out = []
    for ch in text.strip().lower():
        cat = unicodedata.category(ch)
        if ch in "_-" or cat[0] in "LNM":
            out.append(ch)
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def _unique_id(base: str, seen: dict[str, int]) -> str:
    if base not in seen:
        seen[base] = 0
        return base
    while True:
        seen[base] += 1
        candidate = f"{base}-{seen[base]}"
        if candidate not in seen:
            seen[candidate] = 0
            return candidate


def _split_at_divider(text: str) -> str:
    """Hugo's page parser: the first `<!--more-->` anywhere in the body (and the
    whitespace after it) becomes its own paragraph."""
    i = text.find(SUMMARY_DIVIDER)
    if i < 0:
        return text
    j = i + len(SUMMARY_DIVIDER)
    while j < len(text) and go_is_space(text[j]):
        j += 1
    return text[:i] + "\n\n" + _DIVIDER_MARK + "\n\n" + text[j:]


# --- goldmark's typographer ------------------------------------------------------
# A port of goldmark's typographer *behaviour* (a left-to-right scan deciding
# each quote from its neighbours, entity output), which differs from
# markdown-it's smartquotes in many small cases ('90s, 'n', "日本" ...).
_ENT = {
    "lsquo": "&lsquo;",
    "rsquo": "&rsquo;",
    "ldquo": "&ldquo;",
    "rdquo": "&rdquo;",
    "ndash": "&ndash;",
    "mdash": "&mdash;",
    "hellip": "&hellip;",
    "laquo": "&laquo;",
    "raquo": "&raquo;",
}
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ASCII_SPACE = set(" \t\n\v\f\r")


def _punct(ch: str) -> bool:  # unicode.IsPunct
    return bool(ch) and unicodedata.category(ch)[0] == "P"


def _punct_or_symbol(ch: str) -> bool:  # goldmark util.IsPunctRune
    return unicodedata.category(ch)[0] in "PS"


def _typographer(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    c = src[pos]
    if c not in "'\"-.<>":
        return False
    # goldmark looks at the rest of the source line (not at a link label's
    # end) and tests its *bytes*: lengths are UTF-8 lengths, and a byte of a
    # non-ASCII character is neither ASCII punctuation nor space.
    eol = src.find("\n", pos)
    line = src[pos : eol + 1] if eol >= 0 else src[pos:]
    raw = line.encode("utf-8")
    n = len(raw)

    def byte(k: int) -> str:
        return chr(raw[k]) if k < n and raw[k] < 0x80 else ""

    def ascii_punct_or_space(k: int) -> bool:
        return byte(k) in _ASCII_PUNCT or byte(k) in _ASCII_SPACE

    def emit(name: str, width: int) -> bool:
        if pos + width > state.posMax:
            return False
        if not silent:
            tok = state.push("typographer", "", 0)
            tok.content = _ENT[name]
        state.pos += width
        return True

    if n > 2:
        if c == "-" and byte(1) == "-" and byte(2) == "-":
            return emit("mdash", 3)
        if c == ".":
            return byte(1) == "." and byte(2) == "." and emit("hellip", 3)
    if n > 1:
        if c == "<":
            return byte(1) == "<" and emit("laquo", 2)
        if c == ">":
            return byte(1) == ">" and emit("raquo", 2)
        if c == "-" and byte(1) == "-":
            return emit("ndash", 2)
    if c not in "'\"":
        return False

    before = src[pos - 1] if pos > 0 else "\n"
    nxt = line[1] if len(line) > 1 else ""  # the character after the quote
    run = 1
    while run < len(line) and line[run] == c:
        run += 1
    after = line[run] if run < len(line) else " "
    b_punct, b_space = _punct_or_symbol(before), go_is_space(before)
    a_punct, a_space = _punct_or_symbol(after), go_is_space(after)
    can_open = not a_space and (not a_punct or b_space or b_punct)
    can_close = not b_space and (not b_punct or a_space or a_punct)
    if not hasattr(state, "_typo_counter"):
        state._typo_counter = [0, 0]  # type: ignore[attr-defined]  # unclosed ' and "
    counter: list[int] = state._typo_counter  # type: ignore[attr-defined]
    maybe_close = (
        can_close
        and can_open
        and n > 1
        and _punct(nxt)
        and (n == 2 or (n > 2 and byte(2) in _ASCII_PUNCT) or byte(2) in _ASCII_SPACE)
    )
    is_close = can_close and not can_open

    if c == "'":
        if can_open and not can_close and n > 3 and byte(1).isdigit() and byte(2).isdigit() and byte(3) == "s":
            after_s = line[4] if n > 4 else " "
            if go_is_space(after_s) or _punct_or_symbol(after_s):
                return emit("rsquo", 1)  # '90s
        if n > 1 and (_punct(before) or go_is_space(before)) and byte(1) in ("t", "e", "n", "l"):
            return emit("rsquo", 1)  # 'twas, 'em, 'n'
        if n > 1 and (unicodedata.category(before) == "Nd" or before.isalpha()) and nxt.isalpha():
            return emit("rsquo", 1)  # it's
        if can_open and not can_close:
            name = "lsquo"
            if n > 1 and byte(1) in ("s", "m", "t", "d") and (n < 3 or ascii_punct_or_space(2)):
                name = "rsquo"  # 's, 'm, 't, 'd
            if n > 2 and byte(1) + byte(2) in ("ve", "ll", "re") and (n < 4 or ascii_punct_or_space(3)):
                name = "rsquo"  # 've, 'll, 're
            if name == "lsquo":
                counter[0] += 1
            return emit(name, 1)
        # goldmark's condition reads (space && ...) || (punct && ...); the
        # quote itself is punctuation, so: more than two bytes, no digit next.
        if n > 2 and unicodedata.category(nxt or " ") != "Nd":
            return emit("rsquo", 1)  # Smiths', doin'
        if counter[0] > 0 and (is_close or maybe_close):
            counter[0] -= 1
            return emit("rsquo", 1)
        return False
    if can_open and not can_close:
        counter[1] += 1
        return emit("ldquo", 1)
    if counter[1] > 0 and (is_close or maybe_close):
        if n > 1 and byte(1) == '"' and unicodedata.category(before) == "Nd":
            return False  # "Monitor 21""
        counter[1] -= 1
        return emit("rdquo", 1)
    return False


# --- task lists (goldmark's: `[ ]`/`[x]` opening a list item's first paragraph) ---
_TASK_RE = re.compile(r"\[([ \t\n\f\rxX])\][ \t\n\f\r]*")


def _task_lists(state: StateCore) -> None:
    tokens = state.tokens
    for i in range(2, len(tokens)):
        inline = tokens[i]
        if inline.type != "inline" or tokens[i - 1].type != "paragraph_open" or tokens[i - 2].type != "list_item_open":
            continue
        children = inline.children or []
        if not children or children[0].type != "text":
            continue
        m = _TASK_RE.match(children[0].content)
        if not m:
            continue
        children[0].content = children[0].content[m.end() :]
        box = Token("task_checkbox", "input", 0)
        box.meta = {"checked": m.group(1) in "xX"}
        children.insert(0, box)


# --- heading ids -------------------------------------------------------------------
# Hugo's parser.attribute.title: `## Title {#id .class key=value}`.
_ATTR_ITEM = r"""(?:\#[^\s{}#.]+|\.[^\s{}#.]+|[A-Za-z_:][\w:.-]*=(?:"[^"]*"|'[^']*'|[^\s{}"'=]+))"""
_HEADING_ATTRS = re.compile(r"[ \t]*\{[ \t]*(" + _ATTR_ITEM + r"(?:[ \t]+" + _ATTR_ITEM + r")*)[ \t]*\}[ \t]*$")
_ATTR_SPLIT = re.compile(_ATTR_ITEM)


def _heading_attributes(state: StateCore) -> None:
    """Before inline parsing (the typographer must not see the quotes): move a
    trailing attribute block of each heading into the heading's meta."""
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open" or i + 1 >= len(tokens):
            continue
        inline = tokens[i + 1]
        m = _HEADING_ATTRS.search(inline.content)
        if not m:
            continue
        inline.content = inline.content[: m.start()].rstrip(" \t")
        attrs: dict[str, str] = {}
        for item in _ATTR_SPLIT.findall(m.group(1)):
            if item[0] == "#":
                attrs["id"] = item[1:]
            elif item[0] == ".":
                attrs["class"] = (attrs["class"] + " " if "class" in attrs else "") + item[1:]
            else:
                key, value = item.split("=", 1)
                if heading_attribute_allowed(key):  # Hugo drops only on*; we allow-list
                    attrs[key.lower()] = value[1:-1] if value[:1] in "\"'" else value
        tok.meta["attrs"] = attrs


def _heading_ids(state: StateCore) -> None:
    seen: dict[str, int] = {}
    headings: list[Heading] = []
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open":
            continue
        inline = tokens[i + 1]
        text = "".join(c.content for c in (inline.children or []) if c.type in ("text", "code_inline", "math_inline"))
        # Written attributes keep their order; an automatic id comes last.
        attrs = dict(tok.meta.get("attrs") or {})
        for key, value in attrs.items():
            tok.attrSet(key, value)
        hid = attrs.get("id")
        if hid:
            seen.setdefault(hid, 0)
        else:
            hid = _unique_id(anchorize(text) or "heading", seen)
            tok.attrSet("id", hid)
        headings.append(Heading(level=int(tok.tag[1]), id=hid, text=text))
    state.env["headings"] = headings


class MarkdownRenderer:
    """One configured markdown-it instance, reused for every post."""

    def __init__(self, options: MarkdownOptions | None = None):
        self.options = options or MarkdownOptions()
        opts = self.options
        md = MarkdownIt("commonmark", {"html": True, "linkify": True, "typographer": False, "xhtmlOut": False})
        md.enable(["table", "strikethrough", "linkify"])
        md.linkify = _Linkify()
        md.options["strikethrough_single_tilde"] = True  # goldmark takes `~x~` too
        if opts.typographer:
            for ch in "'\".":
                md.inline.add_terminator_char(ch)
            # Last, like goldmark's priority 9999: `<` tries HTML/autolinks first.
            md.inline.ruler.push("goldmark_typographer", _typographer)
        md.use(footnote_plugin)
        md.use(deflist_plugin)
        if opts.math:
            md.use(dollarmath_plugin, allow_space=True, allow_digits=False, double_inline=True)
        md.core.ruler.after("inline", "task_lists", _task_lists)
        md.core.ruler.after("linkify", "https_www_links", _https_www_links)
        md.core.ruler.before("inline", "heading_attributes", _heading_attributes)
        md.core.ruler.before("inline", "figure_attributes", _figure_attributes)
        md.core.ruler.before("inline", "alerts", _alerts)
        md.core.ruler.after("inline", "figures", _figures)
        md.core.ruler.push("heading_ids", _heading_ids)
        md.inline.add_terminator_char("@")
        md.inline.ruler.push("figure_ref", _figure_ref)
        self._install_renderers(md)
        self.md = md
        self._memo: tuple[Mapping[str, str], dict[str, str]] | None = None  # see `reusing`

    # -- renderers ---------------------------------------------------------------
    def _install_renderers(self, md: MarkdownIt) -> None:
        rules = md.add_render_rule
        unsafe = self.options.unsafe_html

        def html_block(renderer, tokens, idx, options, env):
            content = tokens[idx].content
            if unsafe:
                return content
            # Hugo drops HTML comments silently; other raw HTML leaves a marker.
            return "" if content.startswith("<!--") else RAW_HTML_OMITTED + "\n"

        def html_inline(renderer, tokens, idx, options, env):
            content = tokens[idx].content
            if unsafe:
                return content
            return "" if content.startswith("<!--") else RAW_HTML_OMITTED

        rules("html_block", html_block)
        rules("html_inline", html_inline)
        rules("typographer", lambda r, tokens, idx, o, e: tokens[idx].content)
        rules("s_open", lambda *a: "<del>")
        rules("s_close", lambda *a: "</del>")
        rules("task_checkbox", _task_checkbox)

        def fixed(markup):  # a rule that always writes the same markup
            return lambda r, tokens, idx, o, e: markup

        for name, markup in _TABLE_MARKUP.items():
            rules(name, fixed(markup))
        rules("th_open", _table_cell_open)
        rules("td_open", _table_cell_open)
        rules("table_close", _table_close)
        rules("image", _image)
        rules("figure_ref", lambda r, tokens, idx, o, e: reference(tokens[idx].meta["label"]))
        rules("figure", _figure)
        titles = self.options.callout_titles
        rules("callout_open", lambda r, tokens, idx, o, e: _callout_open(r, tokens[idx], o, e, titles))
        rules("callout_close", lambda *a: "</div>\n")

        # markdown-it binds rule functions to the renderer: wrap our methods.
        def method(fn):
            return lambda _renderer, tokens, idx, options, env: fn(tokens, idx, env)

        rules("fence", method(self._render_fence))
        rules("code_block", method(self._render_code_block))
        rules("math_inline", method(self._render_math_inline))
        rules("math_inline_double", method(self._render_math_block))
        rules("math_block", method(self._render_math_block))
        rules("math_block_label", method(self._render_math_block))
        # goldmark's footnote markup, so footnotes count the same as in Hugo.
        rules("footnote_ref", _footnote_ref)
        rules("footnote_block_open", _footnote_block_open)
        rules("footnote_block_close", _footnote_block_close)
        rules("footnote_open", _footnote_open)
        rules("footnote_close", lambda *a: "</li>\n")
        rules("footnote_anchor", _footnote_anchor)

    def _render_fence(self, tokens, idx, env) -> str:
        tok = tokens[idx]
        env["has_code"] = True
        info = tok.info.strip() if tok.info else ""
        lang = info.split()[0] if info else ""
        lang = lang.strip("{}")
        return self.highlight_code(tok.content, lang)

    def _render_code_block(self, tokens, idx, env) -> str:
        # Indented code is not highlighted by Hugo; goldmark writes it plainly.
        env["has_code"] = True
        return f"<pre><code>{_escape_text(tokens[idx].content)}</code></pre>\n"

    @contextmanager
    def reusing(self, earlier: Mapping[str, str]) -> Iterator[dict[str, str]]:
        """Within the block, a code block found in `earlier` (what a past `reusing` collected, for
        the same options) is taken from it instead of highlighted again; yields the dict collecting
        every block highlighted within. Making a lexer compiles its regular expressions (Python's:
        ~50 ms), so a process converting one edited post would pay that for code it did not change."""
        used: dict[str, str] = {}
        self._memo = (earlier, used)
        try:
            yield used
        finally:
            self._memo = None

    def highlight_code(self, code: str, lang: str, lexer_name: str | None = None) -> str:
        """A code block as the theme shows it (see `_highlight`), from `reusing`'s blocks when it has it."""
        if self._memo is None:
            return self._highlight(code, lang, lexer_name)
        earlier, used = self._memo
        key = hashlib.sha256(f"{lang}\0{lexer_name}\0{code}".encode()).hexdigest()
        found = earlier.get(key)
        used[key] = found if isinstance(found, str) else self._highlight(code, lang, lexer_name)
        return used[key]

    def _highlight(self, code: str, lang: str, lexer_name: str | None) -> str:
        """A code block as the theme shows it: Pygments spans inside
        `div.highlight > pre > code` when the language is known, a plain
        `pre > code` otherwise (as Hugo does), with the language kept for the
        copy UI. Quotes are escaped the way Go escapes them (`&#34;`), so the
        text Hugo counts is the same. `lexer_name` picks another lexer than
        `lang`'s (a notebook's Python cells are IPython)."""
        code = code.expandtabs(self.options.tab_width) if "\t" in code else code
        lexer = None
        if lang and self.options.highlight:
            try:
                lexer = _lexer(lexer_name or lang)
            except ClassNotFound:
                lexer = None
        attrs = f' class="language-{html.escape(lang)}" data-lang="{html.escape(lang)}"' if lang else ""
        if lexer is None:
            return f'<pre tabindex="0"><code{attrs}>{go_escape(code)}</code></pre>'
        body = code_style(*self.options.code_styles, self.options.code_css_class).html(code, lexer)
        if not code.endswith("\n"):
            body = body.rstrip("\n")
        return f'<div class="{self.options.code_css_class}"><pre tabindex="0"><code{attrs}>{body}</code></pre></div>'

    def _render_math_inline(self, tokens, idx, env) -> str:
        env["has_math"] = True
        return _mathml(tokens[idx].content, display=False)

    def _render_math_block(self, tokens, idx, env) -> str:
        env["has_math"] = True
        return _mathml(tokens[idx].content, display=True) + "\n"

    # -- API -------------------------------------------------------------------------
    def render_inline(self, text: str) -> str:
        """One line of an author's Markdown (a figure caption) as inline HTML, marks removed as in `render`."""
        return self.md.renderInline(strip_marks(text)).strip()

    def render(self, text: str) -> RenderedMarkdown:
        env: dict = {}
        prepared = _split_at_divider(strip_marks(text))
        out = self.md.render(prepared, env)
        if _DIVIDER_MARK in prepared:
            # Leaves `<p><!--more--></p>`: summaries.summarize() takes it out.
            out = out.replace(_DIVIDER_MARK, SUMMARY_DIVIDER, 1)
        return RenderedMarkdown(
            html=out,
            headings=tuple(env.get("headings", ())),
            has_math=bool(env.get("has_math")),
            has_code=bool(env.get("has_code")),
        )


def _escape_text(s: str) -> str:
    """goldmark's escaping of text: `& < > "`, apostrophes left alone."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _task_checkbox(renderer, tokens, idx, options, env) -> str:
    checked = 'checked="" ' if tokens[idx].meta.get("checked") else ""
    return f'<input {checked}disabled="" type="checkbox"> '


# Hugo's default table rendering (its table render hook) indents with tabs.
_TABLE_MARKUP = {
    "table_open": "<table>\n",
    "table_close": "</table>\n",
    "thead_open": "\t<thead>\n",
    "thead_close": "\t</thead>\n",
    "tbody_open": "\t<tbody>\n",
    "tbody_close": "\t</tbody>\n",
    "tr_open": "\t\t\t<tr>\n",
    "tr_close": "\t\t\t</tr>\n",
    "th_close": "</th>\n",
    "td_close": "</td>\n",
}


def _table_cell_open(renderer, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    style = str(tok.attrs.get("style", ""))
    align = style.split(":", 1)[1] if style.startswith("text-align:") else ""
    attr = f' style="text-align: {align}"' if align else ""
    return f"\t\t\t\t\t<{tok.tag}{attr}>"


def _table_close(renderer, tokens, idx, options, env) -> str:
    # Hugo writes an empty tbody for a header-only table.
    empty_body = "\t<tbody>\n\t</tbody>\n" if idx and tokens[idx - 1].type == "thead_close" else ""
    return empty_body + "</table>\n"


def _alt_text(tokens: list[Token]) -> str:
    """An image's alt text as goldmark writes it: escaped text, typographer
    entities kept."""
    out = []
    for tok in tokens:
        if tok.type == "typographer":
            out.append(tok.content)
        elif tok.type in ("text", "code_inline"):
            out.append(_escape_text(tok.content))
        elif tok.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif tok.type == "image":
            out.append(_alt_text(tok.children or []))
    return "".join(out)


def _image(renderer, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    src = html.escape(str(tok.attrs.get("src", "")), quote=True).replace("&#x27;", "'")
    title = tok.attrs.get("title")
    title_attr = f' title="{_escape_text(str(title))}"' if title else ""
    return f'<img src="{src}" alt="{_alt_text(tok.children or [])}"{title_attr}>'


# --- figures (Quarto's `![caption](src){#fig-label fig-alt="..."}`) and `@fig-label` references ---------
_FIGURE_ATTRS = re.compile(r"\)[ \t]*\{[ \t]*(" + _ATTR_ITEM + r"(?:[ \t]+" + _ATTR_ITEM + r")*)[ \t]*\}[ \t]*$")


def _figure_attributes(state: StateCore) -> None:
    """Before inline parsing (the typographer must not see the quotes): a
    paragraph that is one image followed by an attribute block naming a
    `#fig-` id becomes a figure; the block moves into the paragraph's meta."""
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type != "paragraph_open" or i + 1 >= len(tokens):
            continue
        inline = tokens[i + 1]
        if not inline.content.startswith("!["):
            continue
        m = _FIGURE_ATTRS.search(inline.content)
        if not m:
            continue
        attrs: dict[str, str] = {}
        for item in _ATTR_SPLIT.findall(m.group(1)):
            if item[0] == "#":
                attrs["id"] = item[1:]
            elif "=" in item:
                key, value = item.split("=", 1)
                attrs[key.lower()] = value[1:-1] if value[:1] in "\"'" else value
        if not FIGURE_LABEL.fullmatch(attrs.get("id", "")):
            continue
        inline.content = inline.content[: m.start() + 1]
        tok.meta["figure"] = attrs


def _figures(state: StateCore) -> None:
    """A paragraph marked by _figure_attributes whose content is exactly one
    image turns into one `figure` token (anything else stays a paragraph)."""
    tokens = state.tokens
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        attrs = tok.meta.get("figure") if tok.type == "paragraph_open" else None
        children = [c for c in (tokens[i + 1].children or []) if c.type != "text" or c.content.strip()] if attrs else []
        if attrs and len(children) == 1 and children[0].type == "image":
            figure = Token("figure", "figure", 0)
            figure.meta = {"attrs": attrs, "image": children[0]}
            figure.map, figure.block = tok.map, True
            out.append(figure)
            i += 3  # paragraph_open, inline, paragraph_close
            continue
        out.append(tok)
        i += 1
    state.tokens = out


def _figure(renderer, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    image, label = meta["image"], meta["attrs"]["id"]
    caption = renderer.renderInline(image.children or [], options, env)
    # Pandoc's way: without fig-alt the caption is the alt text, and the
    # caption is hidden from screen readers so it is not read twice.
    alt = _escape_text(meta["attrs"]["fig-alt"]) if "fig-alt" in meta["attrs"] else _alt_text(image.children or [])
    hidden = "" if "fig-alt" in meta["attrs"] else ' aria-hidden="true"'
    img = _image(renderer, [image], 0, options, env).replace(
        f' alt="{_alt_text(image.children or [])}"', f' alt="{alt}"', 1
    )
    return (
        f'<figure class="figure" id="{html.escape(label)}">{img}'
        f"<figcaption{hidden}>{figure_slot(label)}{caption}</figcaption></figure>\n"
    )


def _figure_ref(state: StateInline, silent: bool) -> bool:
    """`@fig-label` (Quarto's cross-reference), not inside a word or an e-mail address."""
    pos = state.pos
    if state.src[pos] != "@" or (pos > 0 and (state.src[pos - 1].isalnum() or state.src[pos - 1] in "_@")):
        return False
    m = FIGURE_LABEL.match(state.src, pos + 1, state.posMax)
    if not m:
        return False
    if not silent:
        state.push("figure_ref", "", 0).meta = {"label": m.group(0)}
    state.pos = m.end()
    return True


# --- callouts: GitHub's alerts, detected as Hugo detects them for its blockquote render hook -----------
# Hugo matches `^<p>\[!([a-zA-Z]+)\](-|\+)?[^\S\r\n]?([^\n]*)\n?` on the rendered blockquote: the first
# paragraph's first line is `[!TYPE]`, an optional fold sign, an optional title.
ALERT = re.compile(r"^\[!([a-zA-Z]+)\](-|\+)?[^\S\r\n]?([^\n]*)\n?")


def alert_of(first_line: str) -> tuple[str, str, str] | None:
    """(type, sign, title) when a blockquote's first paragraph starts as an alert (type lower-cased)."""
    m = ALERT.match(first_line)
    return (m.group(1).lower(), m.group(2) or "", m.group(3).strip()) if m else None


def _alerts(state: StateCore) -> None:
    """Before inline parsing: a blockquote whose first paragraph opens with
    `[!TYPE]` becomes a callout; the marker line leaves the paragraph."""
    tokens = state.tokens
    drop: set[int] = set()
    for i, tok in enumerate(tokens):
        if tok.type != "blockquote_open" or i + 2 >= len(tokens) or tokens[i + 1].type != "paragraph_open":
            continue
        inline = tokens[i + 2]
        alert = alert_of(inline.content)
        if alert is None:
            continue
        kind, sign, title = alert
        tok.type, tok.tag = "callout_open", "div"
        tok.meta["callout"] = {"kind": kind, "sign": sign, "title": title}
        if title:  # Markdown, like the text after it
            children: list[Token] = []
            state.md.inline.parse(title, state.md, state.env, children)
            tok.children = children
        depth = 0
        for j in range(i, len(tokens)):  # the matching close
            depth += tokens[j].type in ("blockquote_open", "callout_open")
            depth -= tokens[j].type == "blockquote_close"
            if depth == 0:
                tokens[j].type, tokens[j].tag = "callout_close", "div"
                break
        rest = inline.content[ALERT.match(inline.content).end() :]  # type: ignore[union-attr]
        if rest.strip():
            inline.content = rest
        else:
            drop.update((i + 1, i + 2, i + 3))  # the paragraph held only the marker
    if drop:
        state.tokens = [t for k, t in enumerate(tokens) if k not in drop]


def _callout_open(renderer, tok: Token, options, env, titles: dict[str, str]) -> str:
    meta = tok.meta["callout"]
    kind = meta["kind"]
    if tok.children:
        title = renderer.renderInline(tok.children, options, env)
    else:
        title = _escape_text(titles.get(kind, kind.title()))
    css = kind if kind in CALLOUT_TYPES else "note"
    return (
        f'<div class="callout callout-{css}" data-callout="{_escape_text(kind)}">\n'
        f'<p class="callout-title">{title}</p>\n'
    )


def _https_www_links(state: StateCore) -> None:
    """Hugo's linkify makes `www.` links https (linkifyProtocol)."""
    for block in state.tokens:
        for tok in block.children or ():
            if tok.type == "link_open" and tok.info == "auto" and tok.markup == "linkify":
                href = str(tok.attrs.get("href", ""))
                if href.startswith("http://www.") and not _has_scheme_text(block, tok):
                    tok.attrSet("href", "https://" + href[len("http://") :])


def _has_scheme_text(block: Token, link_open: Token) -> bool:
    children = block.children or []
    i = children.index(link_open)
    return i + 1 < len(children) and children[i + 1].content.startswith("http://")


class _Linkify(LinkifyIt):
    """linkify-it with a faster `pretest`, the check markdown-it runs on every paragraph before
    looking for links in it. linkify-it's is one search for `(schema test)|(host test)|@`; this one
    gives the same answer from its parts, cheapest first: an `@`; the schema test where a schema's
    name (`http:`, `//`, ...) occurs, which it needs, and each name holds a `:` or a `/`, which no
    other character matches case-insensitively; then the host test. (The joined expression is
    tried at every position of the text, and it starts with a large case-insensitive character
    class: over a site's prose it cost a fifth of converting the posts.)"""

    def _compile(self) -> None:
        super()._compile()
        schema, host = self.re["schema_test"], self.re["host_fuzzy_test"]
        head = "(^|(?!_)(?:[><\uff5c]|" + self.re["src_ZPCc"] + "))("
        self._parts: tuple[Callable[[str], Any], ...] | None = None
        if self.re["pretest"] == f"({schema})|({host})|@" and schema.startswith(head) and schema.endswith(")"):
            names = schema[len(head) : -1]
            self._parts = tuple(re.compile(p, re.IGNORECASE).search for p in (host, names, schema))
        # the schema names (linkify-it joins them so): text with neither mark holds none of them
        compiled = getattr(self, "_compiled", None)
        schemas = [name for name, value in compiled.items() if name and value] if isinstance(compiled, dict) else []
        self._marked = bool(schemas) and all(":" in name or "/" in name for name in schemas)

    def pretest(self, text: str) -> bool:
        if self._parts is None:  # another linkify-it than the one this was written for
            return super().pretest(text)
        host, names, schema = self._parts
        if "@" in text:
            return True
        if (not self._marked or ":" in text or "/" in text) and names(text) and schema(text):
            return True
        return bool(host(text))


@functools.cache
def _lexer(lang: str):
    # Looking a lexer up by name scans Pygments' registry: once per language.
    return get_lexer_by_name(lang, stripnl=False, ensurenl=False)


def _mathml(tex: str, display: bool) -> str:
    # imported on the first formula: loading its symbol tables costs a build without math ~30 ms
    from latex2mathml.converter import convert_to_element as latex_to_element

    try:
        out = mathml(latex_to_element(tex.strip(), display="block" if display else "inline"))
    except Exception:  # malformed TeX: show the source rather than fail the build
        cls = "math-error"
        return f'<code class="{cls}">{html.escape(tex)}</code>'
    return out


def _fnref_id(meta: dict) -> str:
    # goldmark: fnref:1 for the first reference, fnref1:1, fnref2:1 ... after.
    return f"fnref{meta.get('subId') or ''}:{meta['id'] + 1}"


def _footnote_ref(renderer, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    n = meta["id"] + 1
    return f'<sup id="{_fnref_id(meta)}"><a href="#fn:{n}" class="footnote-ref" role="doc-noteref">{n}</a></sup>'


def _footnote_block_open(renderer, tokens, idx, options, env) -> str:
    return '<div class="footnotes" role="doc-endnotes">\n<hr>\n<ol>\n'


def _footnote_block_close(renderer, tokens, idx, options, env) -> str:
    return "</ol>\n</div>\n"


def _footnote_open(renderer, tokens, idx, options, env) -> str:
    n = tokens[idx].meta["id"] + 1
    return f'<li id="fn:{n}">\n'


def _footnote_anchor(renderer, tokens, idx, options, env) -> str:
    ref = _fnref_id(tokens[idx].meta)
    return f'&#160;<a href="#{ref}" class="footnote-backref" role="doc-backlink">&#x21a9;&#xfe0e;</a>'
