"""Markdown to HTML, configured like Hugo's goldmark defaults.

CommonMark plus tables, strikethrough, autolinks (linkify), footnotes, task
lists, definition lists, heading ids, a goldmark-style typographer, Pygments
highlighting and `$...$` / `$$...$$` math rendered to MathML at build time.
Raw HTML is omitted unless the site config allows it, as Hugo does.

The HTML shape (paragraphs, footnotes, code blocks) follows goldmark closely
because Hugo's word count and summary are computed over the rendered HTML: the
same text in the same markup gives the same numbers.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# Hugo's manual summary divider. It is kept in the HTML (as a comment) even when
# raw HTML is omitted, so the summary step can find it.
SUMMARY_DIVIDER = "<!--more-->"
RAW_HTML_OMITTED = "<!-- raw HTML omitted -->"


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    headings: tuple[Heading, ...] = ()
    has_math: bool = False
    has_code: bool = False


@dataclass
class MarkdownOptions:
    unsafe_html: bool = False
    typographer: bool = True
    math: bool = True
    highlight: bool = True
    # Pygments options; classes are styled by theme CSS (light and dark).
    code_css_class: str = "highlight"
    tab_width: int = 4
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


# --- typographer -------------------------------------------------------------
# goldmark's typographer: smart quotes plus these substitutions, and nothing
# else (markdown-it's (c)/(tm)/+- replacements are not part of it).
_TYPO = [
    (re.compile(r"---"), "\u2014"),
    (re.compile(r"--"), "\u2013"),
    (re.compile(r"\.\.\."), "\u2026"),
    (re.compile(r"<<"), "\u00ab"),
    (re.compile(r">>"), "\u00bb"),
]


def _goldmark_replacements(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        inside_link = 0
        for tok in block.children:
            if tok.type == "link_open" and tok.info == "auto":
                inside_link += 1
            elif tok.type == "link_close" and inside_link:
                inside_link -= 1
            elif tok.type == "text" and not inside_link:
                content = tok.content
                for pattern, repl in _TYPO:
                    if pattern.search(content):
                        content = pattern.sub(repl, content)
                tok.content = content


# --- heading ids ---------------------------------------------------------------
def _heading_ids(state: StateCore) -> None:
    seen: dict[str, int] = {}
    headings: list[Heading] = []
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open":
            continue
        inline = tokens[i + 1]
        text = "".join(
            c.content for c in (inline.children or []) if c.type in ("text", "code_inline", "math_inline")
        )
        hid = _unique_id(anchorize(text) or "heading", seen)
        tok.attrSet("id", hid)
        headings.append(Heading(level=int(tok.tag[1]), id=hid, text=text))
    state.env["headings"] = headings


class MarkdownRenderer:
    """One configured markdown-it instance, reused for every post."""

    def __init__(self, options: MarkdownOptions | None = None):
        self.options = options or MarkdownOptions()
        opts = self.options
        md = MarkdownIt(
            "commonmark",
            {"html": True, "linkify": True, "typographer": opts.typographer},
        )
        md.enable(["table", "strikethrough", "linkify"])
        if opts.typographer:
            md.enable(["smartquotes"])
            md.disable("replacements")
            md.core.ruler.after("smartquotes", "goldmark_replacements", _goldmark_replacements)
        md.use(footnote_plugin)
        md.use(tasklists_plugin, enabled=False)
        md.use(deflist_plugin)
        if opts.math:
            md.use(dollarmath_plugin, allow_space=True, allow_digits=False, double_inline=True)
        md.core.ruler.push("heading_ids", _heading_ids)
        self._formatter = HtmlFormatter(cssclass=opts.code_css_class, wrapcode=True)
        self._install_renderers(md)
        self.md = md

    # -- renderers ---------------------------------------------------------------
    def _install_renderers(self, md: MarkdownIt) -> None:
        rules = md.add_render_rule
        unsafe = self.options.unsafe_html

        def html_block(renderer, tokens, idx, options, env):
            content = tokens[idx].content
            if content.strip() == SUMMARY_DIVIDER:
                return SUMMARY_DIVIDER + "\n"
            return content if unsafe else RAW_HTML_OMITTED + "\n"

        def html_inline(renderer, tokens, idx, options, env):
            content = tokens[idx].content
            if content == SUMMARY_DIVIDER:
                return content
            return content if unsafe else RAW_HTML_OMITTED

        rules("html_block", html_block)
        rules("html_inline", html_inline)
        # markdown-it binds rule functions to the renderer: wrap our methods.
        def method(fn):
            return lambda _renderer, tokens, idx, options, env: fn(tokens, idx, env)

        rules("fence", method(self._render_fence))
        rules("code_block", method(self._render_fence))
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

    def highlight_code(self, code: str, lang: str) -> str:
        """A code block as the theme shows it: Pygments spans inside
        `div.highlight > pre > code`, with the language kept for the copy UI."""
        code = code.expandtabs(self.options.tab_width) if "\t" in code else code
        lexer = None
        if lang and self.options.highlight:
            try:
                lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
            except ClassNotFound:
                lexer = None
        lang_attr = f' data-lang="{html.escape(lang)}"' if lang else ""
        cls = f' class="language-{html.escape(lang)}"' if lang else ""
        if lexer is None:
            body = html.escape(code)
        else:
            body = highlight(code, lexer, _PlainFormatter()).rstrip("\n") + "\n"
            if not code.endswith("\n"):
                body = body.rstrip("\n")
        return (
            f'<div class="{self.options.code_css_class}"><pre tabindex="0"><code{cls}{lang_attr}>'
            f"{body}</code></pre></div>\n"
        )

    def _render_math_inline(self, tokens, idx, env) -> str:
        env["has_math"] = True
        return _mathml(tokens[idx].content, display=False)

    def _render_math_block(self, tokens, idx, env) -> str:
        env["has_math"] = True
        return _mathml(tokens[idx].content, display=True) + "\n"

    # -- API -------------------------------------------------------------------------
    def render(self, text: str) -> RenderedMarkdown:
        env: dict = {}
        out = self.md.render(text, env)
        return RenderedMarkdown(
            html=out,
            headings=tuple(env.get("headings", ())),
            has_math=bool(env.get("has_math")),
            has_code=bool(env.get("has_code")),
        )


class _PlainFormatter(HtmlFormatter):
    """Pygments spans only: the wrapper markup is ours."""

    def __init__(self):
        super().__init__(nowrap=True)


def _mathml(tex: str, display: bool) -> str:
    try:
        out = latex_to_mathml(tex.strip(), display="block" if display else "inline")
    except Exception:  # malformed TeX: show the source rather than fail the build
        cls = "math-error"
        return f'<code class="{cls}">{html.escape(tex)}</code>'
    return out


def _footnote_ref(renderer, tokens, idx, options, env) -> str:
    n = tokens[idx].meta["id"] + 1
    return f'<sup id="fnref:{n}"><a href="#fn:{n}" class="footnote-ref" role="doc-noteref">{n}</a></sup>'


def _footnote_block_open(renderer, tokens, idx, options, env) -> str:
    return '<div class="footnotes" role="doc-endnotes">\n<hr>\n<ol>\n'


def _footnote_block_close(renderer, tokens, idx, options, env) -> str:
    return "</ol>\n</div>\n"


def _footnote_open(renderer, tokens, idx, options, env) -> str:
    n = tokens[idx].meta["id"] + 1
    return f'<li id="fn:{n}">'


def _footnote_anchor(renderer, tokens, idx, options, env) -> str:
    n = tokens[idx].meta["id"] + 1
    return f'&#160;<a href="#fnref:{n}" class="footnote-backref" role="doc-backlink">&#x21a9;&#xfe0e;</a>'


def pygments_css(light_style: str, dark_style: str, css_class: str = "highlight") -> str:
    """Stylesheet for code blocks: the light style by default, the dark one
    under `[data-theme=dark]`."""
    fmt_light = HtmlFormatter(style=light_style, cssclass=css_class)
    fmt_dark = HtmlFormatter(style=dark_style, cssclass=css_class)
    light = fmt_light.get_style_defs(f".{css_class}")
    dark = fmt_dark.get_style_defs(f"[data-theme=dark] .{css_class}")
    return light + "\n" + dark + "\n"
