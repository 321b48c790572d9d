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
`RegexLexer` (Python, IPython, Bash, most others) it tries, at each position, only
the rules of the state that can match text starting with the character there, in
their order: Pygments takes the first rule that matches, and a rule left out cannot
match, so the tokens are the same. Which characters a rule's match can start with is
read from the regex's parse tree (Python's own parser); a rule it cannot tell is
tried at every character. Pygments tries every rule in turn, a regex call each,
about thirty per token of Python: lexing was the largest cost of a build.
"""

from __future__ import annotations

import functools
import re
import re._constants as _sre
import re._parser as _sre_parse
from collections.abc import Callable, Iterable, Iterator
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
# A state's rule as the loop uses it: (the rule's match, action, new state).
_Rule = tuple[Callable, Any, Any]


class _State:
    """One state of a lexer class: its rules, and `at[c]`, those of them that can match text
    starting with the ASCII character c, in their order."""

    def __init__(self, rules: list[_Rule]):
        self.rules = [tuple(rule) for rule in rules]
        firsts = [_first_characters(rexmatch) for rexmatch, _action, _new_state in rules]
        self.at = [tuple(r for r, first in zip(self.rules, firsts, strict=True) if c in first) for c in range(128)]


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
    """RegexLexer.get_tokens_unprocessed(text), positions left out, trying only the rules that can
    match at each character."""
    tokendefs = lexer._tokens
    states = _STATES.setdefault(type(lexer), {})

    def state(name: str) -> _State:
        found = states.get(name)
        if found is None:
            found = states[name] = _State(tokendefs[name])
        return found

    pos, end = 0, len(text)
    stack = ["root"]
    current = state("root")
    while True:
        # at the end, and at a character beyond ASCII, every rule (one that matches nothing may match there)
        rules = current.at[c] if pos < end and (c := ord(text[pos])) < 128 else current.rules
        m = None
        for rule in rules:
            m = rule[0](text, pos)
            if m:
                break
        if m:
            _, action, new_state = rule
            if type(action) is _TokenType:
                yield action, m.group()
            elif action is not None:
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
        elif pos >= end:
            return
        elif text[pos] == "\n":  # no rule matches: at the end of a line, back to the root state
            stack = ["root"]
            current = state("root")
            yield Whitespace, "\n"
            pos += 1
        else:
            yield Error, text[pos]
            pos += 1


# --- the characters a rule's match can start with -------------------------------------------------
_ASCII = frozenset(range(128))
_CATEGORY_CLASSES = {
    _sre.CATEGORY_DIGIT: r"\d",
    _sre.CATEGORY_NOT_DIGIT: r"\D",
    _sre.CATEGORY_SPACE: r"\s",
    _sre.CATEGORY_NOT_SPACE: r"\S",
    _sre.CATEGORY_WORD: r"\w",
    _sre.CATEGORY_NOT_WORD: r"\W",
}
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)


def _first_characters(rexmatch: Callable) -> frozenset[int]:
    """The ASCII characters a match of the rule can start with: all of them when it can match
    nothing (then it matches anywhere), and when its regex holds what this does not model, so a
    rule is left out at a character only when it cannot match there."""
    pattern = getattr(rexmatch, "__self__", None)
    if not isinstance(pattern, re.Pattern) or not isinstance(pattern.pattern, str):
        return _ASCII
    try:
        first, empty = _sequence(_sre_parse.parse(pattern.pattern, pattern.flags), pattern.flags)
    except Exception:  # noqa: BLE001 - a construct not modelled here (or another Python's parse tree)
        return _ASCII
    return _ASCII if empty else frozenset(first)


def _sequence(items: Iterable, flags: int) -> tuple[set[int], bool]:
    """(the first characters of a sequence of parse-tree nodes, whether it can match nothing)."""
    found: set[int] = set()
    for op, av in items:
        first, empty = _node(op, av, flags)
        found |= first
        if not empty:
            return found, False
    return found, True


def _node(op: Any, av: Any, flags: int) -> tuple[set[int], bool]:
    if op is _sre.LITERAL or op is _sre.NOT_LITERAL:
        return set(_class_members(((op, av),), flags)), False
    if op is _sre.IN:
        return set(_class_members(tuple(av), flags)), False
    if op is _sre.ANY:
        return set(_ASCII), False
    if op is _sre.AT or op is _sre.ASSERT or op is _sre.ASSERT_NOT:  # an anchor or a look-around: no character
        return set(), True
    if op is _sre.SUBPATTERN:
        _group, add, remove, sub = av
        return _sequence(sub, (flags | add) & ~remove)
    if op is _sre.ATOMIC_GROUP:
        return _sequence(av, flags)
    if op is _sre.BRANCH:
        found: set[int] = set()
        empty = False
        for alternative in av[1]:
            first, can_be_empty = _sequence(alternative, flags)
            found |= first
            empty = empty or can_be_empty
        return found, empty
    if op in _REPEATS:
        low, _high, sub = av
        first, empty = _sequence(sub, flags)
        return first, empty or low == 0
    raise ValueError(f"not modelled: {op}")  # a group reference, a conditional


@functools.cache
def _class_members(items: tuple, flags: int) -> frozenset[int]:
    """The ASCII characters that one character or class of a parse tree matches, found by compiling
    it alone with the pattern's flags: Python decides, case folding included."""
    parts = []
    for op, av in items:
        if op is _sre.NEGATE or op is _sre.NOT_LITERAL:
            parts.append("^")
        if op is _sre.LITERAL or op is _sre.NOT_LITERAL:
            parts.append(_escaped(av))
        elif op is _sre.RANGE:
            parts.append(f"{_escaped(av[0])}-{_escaped(av[1])}")
        elif op is _sre.CATEGORY and av in _CATEGORY_CLASSES:
            parts.append(_CATEGORY_CLASSES[av])
        elif op is not _sre.NEGATE:
            raise ValueError(f"not modelled: {op} {av}")
    one = re.compile("[" + "".join(parts) + "]", flags & (re.IGNORECASE | re.ASCII))
    return frozenset(c for c in range(128) if one.fullmatch(chr(c)))


def _escaped(code: int) -> str:
    return f"\\U{code:08x}"  # any character, and safe in a class (`]`, `^`, `-`, `\\`)
