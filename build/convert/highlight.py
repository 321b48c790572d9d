"""Highlighted code: Pygments' lexers, with markup and CSS sized to the theme's two code styles.

`CodeStyle(light, dark)` works out how each Pygments token type looks on the page in
each colour scheme, as Pygments' own HTML and stylesheet would show it (the dark
style's rules under `[data-theme=dark]` override the light ones property by property;
a span inherits the block's colour and font). Then:

- a token that looks like the code around it in both schemes (names and punctuation
  in most styles) gets no span; neither does whitespace, unless its class shows on
  blank space (a background, a border, an underline) or sets the font;
- token types that look alike in both schemes share one class, the shortest of their
  Pygments names (`s1`, `s2` and `s` are all `s` where the styles colour them alike);
- neighbouring tokens of one class share a span, whitespace between them included
  when the class only sets a colour;
- `css()` writes a rule for each class that remains, and nothing else.

So a page shows what Pygments' markup and stylesheet show, in fewer bytes. The text
is escaped as Go's html.EscapeString (what Hugo's Chroma writes): Hugo's word counts
are taken over the HTML, entities included.
"""

from __future__ import annotations

import functools

from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.token import STANDARD_TYPES, Token, _TokenType

Look = frozenset[tuple[str, str]]  # CSS (property, value) pairs

# What a span inherits from the block; anything else shows only where the span sets it.
_INHERITED = ("color", "font-weight", "font-style")
_SHOWS_ON_SPACE = ("background-color", "border", "text-decoration")


def go_escape(s: str) -> str:
    """Go's html.EscapeString, which Hugo's Chroma uses for the text of code."""
    return s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


def _declarations(text: str) -> dict[str, str]:
    pairs = (d.split(":", 1) for d in text.split(";") if d.strip())
    return {name.strip(): value.strip() for name, value in pairs}


class _Scheme:
    """One Pygments style as its stylesheet applies it."""

    def __init__(self, style: str):
        self.formatter = HtmlFormatter(style=style)
        self.background = self.formatter.style.background_color
        rules = self.formatter.class2style
        self.block = _declarations(rules[""][0]) if "" in rules and Token.Text in self.formatter.ttype2class else {}

    def own(self, ttype: _TokenType) -> dict[str, str]:
        """The declarations of the rules for a token's classes (Pygments sorts them shallow to deep)."""
        found: dict[str, str] = {}
        for cls in self.formatter._get_css_classes(ttype).split():
            if cls in self.formatter.class2style:
                found.update(_declarations(self.formatter.class2style[cls][0]))
        return found


class CodeStyle:
    """The classes and rules for code in a light and a dark Pygments style."""

    def __init__(self, light: str, dark: str, css_class: str = "highlight"):
        self.css_class = css_class
        self._light, self._dark = _Scheme(light), _Scheme(dark)
        # The block's own look in each scheme: the dark rule overrides the light one.
        self._block_dark = self._light.block | self._dark.block
        types = set(STANDARD_TYPES) | set(self._light.formatter.ttype2class) | set(self._dark.formatter.ttype2class)
        looks = {t: self._look(t) for t in types}
        plain = (self._inherit(self._light.block), self._inherit(self._block_dark))
        groups: dict[tuple[Look, Look], list[str]] = {}
        for ttype, look in looks.items():
            if look != plain:
                groups.setdefault(look, []).append(self._light.formatter._get_css_class(ttype))
        names = {look: min(members, key=lambda c: (len(c), c)) for look, members in groups.items()}
        self.classes: dict[_TokenType, str] = {t: names.get(look, "") for t, look in looks.items()}
        self._looks = {names[look]: look for look in groups}
        self._color_only = frozenset(
            name for name, (light, dark) in self._looks.items() if {p for p, _ in light | dark} <= {"color"}
        )
        self._shows_on_space = frozenset(
            name
            for name, (light, dark) in self._looks.items()
            if any(p in _SHOWS_ON_SPACE or p in ("font-weight", "font-style") for p, _ in light | dark)
        )

    def _inherit(self, block: dict[str, str]) -> Look:
        return frozenset((p, v) for p, v in block.items() if p in _INHERITED)

    def _look(self, ttype: _TokenType) -> tuple[Look, Look]:
        light = dict(self._inherit(self._light.block)) | self._light.own(ttype)
        dark = dict(self._inherit(self._block_dark)) | self._light.own(ttype) | self._dark.own(ttype)
        return frozenset(light.items()), frozenset(dark.items())

    def class_of(self, ttype: _TokenType) -> str:
        """The class a token gets ("" for none). A type the styles do not name looks like its nearest named parent."""
        while ttype not in self.classes:
            ttype = ttype.parent
        return self.classes[ttype]

    def html(self, code: str, lexer: Lexer) -> str:
        """The spans for `code` (no wrapper: the caller writes `<pre><code>`)."""
        out: list[str] = []
        current, space = "", ""  # the open class, whitespace waiting to see what follows
        text: list[str] = []  # the text of the open span

        def close():
            if text:
                body = go_escape("".join(text))
                out.append(f'<span class="{current}">{body}</span>' if current else body)
                text.clear()

        for ttype, value in lexer.get_tokens(code):
            cls = self.class_of(ttype)
            if value.isspace() and cls not in self._shows_on_space:
                space += value
                continue
            if cls != current or (space and cls and cls not in self._color_only):
                close()
                out.append(space)
                current = cls
            else:
                text.append(space)
            space = ""
            text.append(value)
        close()
        out.append(space)
        return "".join(out)

    def css(self) -> str:
        """The block's background and a rule per class, light first, then dark under `[data-theme=dark]`."""
        block = f".{self.css_class}"
        dark_block = f"[data-theme=dark] {block}"
        lines = [
            f"{selector} {{ {_background(scheme)}{_css(scheme.block)} }}"
            for selector, scheme in ((block, self._light), (dark_block, self._dark))
        ]
        light_rules, dark_rules = [], []
        light_block = dict(self._inherit(self._light.block))
        dark_block_inherited = dict(self._inherit(self._block_dark))
        for name, (light, dark) in sorted(self._looks.items()):
            own_light = {p: v for p, v in light if p not in _INHERITED or light_block.get(p) != v}
            before_dark = dark_block_inherited | own_light
            own_dark = {p: v for p, v in dark if before_dark.get(p) != v}
            if own_light:
                light_rules.append(f"{block} .{name} {{ {_css(own_light)} }}")
            if own_dark:
                dark_rules.append(f"{dark_block} .{name} {{ {_css(own_dark)} }}")
        lines[1:1] = light_rules
        return "\n".join(lines + dark_rules) + "\n"


def _background(scheme: _Scheme) -> str:
    return f"background: {scheme.background}; " if scheme.background else ""


def _css(declarations: dict[str, str]) -> str:
    return "; ".join(f"{p}: {v}" for p, v in sorted(declarations.items()))


@functools.cache
def code_style(light: str, dark: str, css_class: str = "highlight") -> CodeStyle:
    """One `CodeStyle` per pair of styles (building one reads every token type of both)."""
    return CodeStyle(light, dark, css_class)
