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

`lexed(lexer, code)` yields what `lexer.get_tokens(code)` yields. For a plain
`RegexLexer` (Python, IPython, Bash, most others) it tries each state's rules as one
regular expression instead of one after the other: Pygments takes the first rule
that matches at the position, and so does an alternation `rule1|rule2|...`, so the
tokens are the same; the first rule's regex then runs once, in C, instead of a
Python loop calling each rule's in turn (lexing was the build's largest cost).
A state whose rules cannot be joined (a backreference, a flag that cannot be
scoped) is lexed rule by rule, as Pygments does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from pygments.filter import apply_filters
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer, RegexLexer
from pygments.token import STANDARD_TYPES, Error, Token, Whitespace, _TokenType

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

        for ttype, value in lexed(lexer, code):
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


# --- lexing -------------------------------------------------------------------------------------
# Flags a group can set or clear for its part of a pattern; the others must be the same in every rule.
_SCOPABLE = re.I | re.M | re.S | re.X
_FLAG_LETTERS = ((re.I, "i"), (re.M, "m"), (re.S, "s"), (re.X, "x"))
_LEADING_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")  # `(?i)` at the start: in the compiled pattern's flags
# A reference to a group by number or name would point elsewhere once the rules are joined.
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")

# A state's rule as the loop uses it: (the rule's own match, action, new state, whether the action
# is a token type or nothing, so the joined match serves and the rule's own match is not needed).
_Rule = tuple[Callable, Any, Any, bool]


class _State:
    """One state of a lexer class: `match` tries all its rules at once, and `rules[k]` is the rule
    whose empty end group is group k of `match`; None when they cannot be joined (`in_turn` then)."""

    def __init__(self, rules: list[tuple[Callable, Any, Any]], base_flags: int):
        self.match: Callable | None = None
        self.rules: dict[int, _Rule] = {}
        self.in_turn = [(rexmatch, action, new_state, _plain(action)) for rexmatch, action, new_state in rules]
        parts, group, by_group = [], 0, {}
        for rexmatch, action, new_state, plain in self.in_turn:
            pattern = getattr(rexmatch, "__self__", None)
            if not isinstance(pattern, re.Pattern) or not isinstance(pattern.pattern, str):
                return
            body = pattern.pattern
            if _GROUP_REFERENCE.search(body):
                return
            while leading := _LEADING_FLAGS.match(body):
                body = body[leading.end() :]
            on, off = pattern.flags & ~base_flags, base_flags & ~pattern.flags
            if (on | off) & ~_SCOPABLE:
                return
            if pattern.flags & re.X:
                body += "\n"  # a comment on the last line of a verbose pattern ends before the `)`
            if on or off:
                body = f"(?{_letters(on)}{'-' + _letters(off) if off else ''}:{body})"
            # the rule, then an empty group: the last group to close, so `lastindex` names the rule
            parts.append(f"(?:{body})()")
            group += pattern.groups + 1
            by_group[group] = (rexmatch, action, new_state, plain)
        try:
            joined = re.compile("|".join(parts), base_flags)
        except re.error:  # e.g. two rules naming a group alike
            return
        if joined.groups == group:
            self.match, self.rules = joined.match, by_group


def _letters(flags: int) -> str:
    return "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)


def _plain(action: Any) -> bool:
    return action is None or type(action) is _TokenType


# Per lexer class, its states as they are first entered (in each process).
_STATES: dict[type, dict[str, _State]] = {}


def lexed(lexer: Lexer, code: str) -> Iterator[tuple[_TokenType, str]]:
    """`lexer.get_tokens(code)`: the same (token type, text) pairs."""
    cls = type(lexer)
    if not (
        isinstance(lexer, RegexLexer)
        and cls.get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed
        and cls.get_tokens is Lexer.get_tokens
    ):
        return lexer.get_tokens(code)
    text = lexer._preprocess_lexer_input(code)
    return apply_filters(_regex_tokens(lexer, text), lexer.filters, lexer)


def _regex_tokens(lexer: RegexLexer, text: str) -> Iterator[tuple[_TokenType, str]]:
    """RegexLexer.get_tokens_unprocessed(text), positions left out, with each state's rules joined."""
    tokendefs = lexer._tokens
    states = _STATES.setdefault(type(lexer), {})
    base_flags = re.compile("", lexer.flags).flags

    def state(name: str) -> _State:
        found = states.get(name)
        if found is None:
            found = states[name] = _State(tokendefs[name], base_flags)
        return found

    pos = 0
    stack = ["root"]
    current = state("root")
    while True:
        joined = current.match
        if joined is not None:
            m = joined(text, pos)
            if m:
                rexmatch, action, new_state, plain = current.rules[m.lastindex]
                if not plain:
                    m = rexmatch(text, pos)
        else:
            m = None
            for rule in current.in_turn:
                m = rule[0](text, pos)
                if m:
                    _, action, new_state, plain = rule
                    break
        if m:
            if plain:
                if action is not None:
                    yield action, m.group()
            else:
                for _, ttype, value in action(lexer, m):
                    yield ttype, value
            pos = m.end()
            if new_state is not None:
                # Pygments' state transitions, as RegexLexer.get_tokens_unprocessed makes them
                if isinstance(new_state, tuple):
                    for name in new_state:
                        if name == "#pop":
                            if len(stack) > 1:
                                stack.pop()
                        elif name == "#push":
                            stack.append(stack[-1])
                        else:
                            stack.append(name)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(stack):
                        del stack[1:]
                    else:
                        del stack[new_state:]
                elif new_state == "#push":
                    stack.append(stack[-1])
                else:
                    raise AssertionError(f"wrong state def: {new_state!r}")
                current = state(stack[-1])
        elif pos >= len(text):
            return
        elif text[pos] == "\n":  # no rule matches: at the end of a line, back to the root state
            stack = ["root"]
            current = state("root")
            yield Whitespace, "\n"
            pos += 1
        else:
            yield Error, text[pos]
            pos += 1
