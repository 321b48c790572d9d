"""Fit the theme's stylesheet to the pages that use it.

A page's *tokens* are what a selector can ask of it: element names, classes,
ids and attribute names, as `tag:x`, `class:x`, `id:x`, `attr:x`, and the
elements that carry an id, as `id-on:x` (so `h2[id]` needs an h2 with an id,
not an h2 and an id anywhere: the page's title is an h1). They are read
from the rendered HTML (tags outside scripts and comments, plus the elements a
browser always adds) and from the scripts the page runs, whose every word may
become a class, id, element or attribute at run time (`dataset.fooBar` sets
`data-foo-bar`); a script that names `id` may put one on any element.

A selector can only match if every token it requires is present, so a rule is
kept when one of its selectors requires nothing the pages lack, and written
with only those of its selectors (a selector list is split only where every
selector is one a browser reads alike alone: no vendor pseudo-class, whose
unknown name would void the whole rule). Pseudo-classes,
`:not()` and `:has()` only narrow a match and are not required; `:is()` and
`:where()` require what all their alternatives share. A selector the parser does
not understand keeps its rule. The test is therefore sound (it never drops a rule
that could apply) though not exact, and kept rules stay in their order, so the
cascade is the one of the whole stylesheet. At-rules with rules inside (`@media`,
`@supports`, `@layer`) are filtered the same way and dropped when empty; other
at-rules (`@font-face`, `@keyframes`, ...) are kept.

A custom property (`--x: ...`) shows only where something reads it: a `var(--x)`
of the kept rules (or of a custom property they read), of the page itself (a
`style`), or a script that names `--x` (`getPropertyValue("--x")`), as `var:--x`
tokens. Its declarations are dropped elsewhere; a script that builds such a name
(`"--" + name`) keeps them all. A constant one (set once in the stylesheet, on
`:root`, to a value without var(), and set by no page, `set:--x`, nor named by
a script) has its `var(--x)` replaced by its value, as the browser would, and a
`calc()` of pixels alone that leaves is written as its result.
"""

from __future__ import annotations

import functools
import hashlib
import html
import pickle
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cssselect
import tinycss2
from cssselect import parser as sel

from execblog.fsutil import atomic_write, read_cache

ALWAYS = frozenset({"tag:html", "tag:head", "tag:body"})
ID_ON = "id-on:"  # + an element name: such an element carries an id
_NESTED = {"media", "supports", "layer", "container", "document"}

# A start tag's attributes run to the first `>` outside quotes (written unrolled: it is the build's hot loop).
_ATTRS = r"([^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*)"
_SCRIPT = re.compile(r"<(script|style)\b" + _ATTRS + r">(.*?)</\1\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<([a-zA-Z][\w:-]*)" + _ATTRS + ">")
_ATTR = re.compile(r"([^\s=/>\"']+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_DATASET = re.compile(r"dataset\.([A-Za-z_]\w*)")
_JS_TYPES = ("", "text/javascript", "module", "application/javascript")
_SCRIPT_IDS = "script:sets-ids"  # see with_ids_from_scripts
VAR = "var:"  # + a custom property's name: something reads it
_ANY_VAR = VAR + "*"  # a script builds names of custom properties: any may be read
_VAR_REF = re.compile(r"var\(\s*(--[\w-]+)")
_PLAIN_REF = re.compile(r"var\(\s*(--[\w-]+)\s*\)")  # without a fallback
_FALLBACK_REF = re.compile(r"var\(\s*(--[\w-]+)\s*,")
SET = "set:"  # + a custom property's name: the page sets it (a style)
_SET_VAR = re.compile(r"(--[A-Za-z_][\w-]*)\s*:")
_CUSTOM_NAME = re.compile(r"--[A-Za-z_][\w-]*")
_BUILT_NAME = re.compile(r"[\"'`]--[\"'`]")


def html_tokens(text: str) -> set[str]:
    """The tokens of a rendered page (its inline scripts included)."""
    found = set(ALWAYS) | {VAR + name for name in _VAR_REF.findall(text)} | {SET + n for n in _SET_VAR.findall(text)}
    pieces: list[str] = []  # the page with each script or style element cut down to its start tag
    last = 0
    for match in _SCRIPT.finditer(text):
        if match.group(1).lower() == "script" and _script_type(match.group(2)) in _JS_TYPES:
            found |= _inline_script_tokens(match.group(3))
        pieces += (text[last : match.start()], f"<{match.group(1)}{match.group(2)}>")
        last = match.end()
    pieces.append(text[last:])
    stripped = _COMMENT.sub("", "".join(pieces))
    for tag in set(_TAG.findall(stripped)):  # code is mostly the same few <span class=...> tags
        found.update(_tag_tokens(*tag))
    if "tag:table" in found:
        found.add("tag:tbody")  # the parser adds it to a table written without one
    return with_ids_from_scripts(found)


def with_ids_from_scripts(tokens: set[str]) -> set[str]:
    """`tokens` (a page's and its scripts') with `id-on:` every element, where a script
    may set an id (`script_tokens` marks it): it can set one on an element it does not name."""
    if _SCRIPT_IDS in tokens:
        tokens |= {ID_ON + t[4:] for t in tokens if t.startswith("tag:")}
    return tokens


@functools.lru_cache(maxsize=8192)  # pages of a site share most of their tags: each is read once
def _tag_tokens(tag: str, attrs: str) -> tuple[str, ...]:
    """The tokens of one start tag (name, attributes as written)."""
    found = ["tag:" + tag.lower()]
    for name, value in _ATTR.findall(attrs):
        name = name.lower()
        found.append("attr:" + name)
        if name == "id":
            found.append(ID_ON + found[0][4:])
        if name in ("class", "id") and value:
            value = html.unescape(value.strip("\"'"))
            if name == "id":
                found.append("id:" + value)
            else:
                found.extend("class:" + c for c in value.split())
    return tuple(found)


@functools.lru_cache(maxsize=256)  # a theme's inline scripts are the same on every page
def _inline_script_tokens(js: str) -> frozenset[str]:
    return frozenset(script_tokens(js))


def script_tokens(js: str) -> set[str]:
    """Every word of a script as any kind of token: a script can add a class,
    an element, an id or an attribute named by any string it holds."""
    words = set(_WORD.findall(js))
    attrs = {"data-" + re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), w) for w in _DATASET.findall(js)}
    found = {f"{kind}:{w}" for w in words for kind in ("class", "id")}
    found |= {f"{kind}:{w.lower()}" for w in words for kind in ("tag", "attr")}
    if "attr:id" in found:  # it may set an id on any element, one it creates or one of the page
        found |= {ID_ON + w.lower() for w in words} | {_SCRIPT_IDS}
    found |= {VAR + name for name in _CUSTOM_NAME.findall(js)}
    if _BUILT_NAME.search(js):
        found.add(_ANY_VAR)
    return found | {"attr:" + a for a in attrs}


def _script_type(attrs: str) -> str:
    for name, value in _ATTR.findall(attrs):
        if name.lower() == "type":
            return value.strip("\"'").strip().lower()
    return ""


def selector_requirements(selector_text: str) -> list[frozenset[str]] | None:
    """What each selector of a list requires; None when it cannot be parsed
    (the rule is then always kept)."""
    try:
        return [frozenset(_required(s.parsed_tree)) for s in cssselect.parse(selector_text)]
    except Exception:  # cssselect's SelectorError, or a construct it does not model
        return None


def _required(node) -> set[str]:
    if isinstance(node, sel.CombinedSelector):
        return _required(node.selector) | _required(node.subselector)
    if isinstance(node, sel.Element):
        return {"tag:" + node.element.lower()} if node.element and node.element != "*" else set()
    if isinstance(node, sel.Class):
        return _required(node.selector) | {"class:" + node.class_name}
    if isinstance(node, sel.Hash):
        return _required(node.selector) | {"id:" + node.id} | _id_on(node.selector)
    if isinstance(node, sel.Attrib):
        found = _required(node.selector) | {"attr:" + node.attrib.lower()}
        return found | _id_on(node.selector) if node.attrib.lower() == "id" else found
    if isinstance(node, (sel.Matching, sel.SpecificityAdjustment)):
        alternatives = [_required(s) for s in node.selector_list]
        shared = set.intersection(*alternatives) if alternatives else set()
        return _required(node.selector) | shared
    inner = getattr(node, "selector", None)  # Pseudo, Function, Negation, Relation: only narrow the match
    return _required(inner) if inner is not None else set()


def _id_on(node) -> set[str]:
    """`id-on:x` when the compound selector `node` (before an id) names element x."""
    while not isinstance(node, sel.Element):
        node = getattr(node, "selector", None)
        if node is None or isinstance(node, sel.CombinedSelector):
            return set()
    return {ID_ON + node.element.lower()} if node.element and node.element != "*" else set()


@dataclass(frozen=True)
class _Declaration:
    text: str
    custom: str  # the custom property it sets; "" for any other
    reads: frozenset[str]  # the custom properties its value reads


@dataclass(frozen=True)
class _Rule:
    requires: tuple[frozenset[str], ...] | None  # one set per selector; None: always kept
    text: str
    # the selectors as written, one per `requires`, and the `{...}` after them; () when the list is kept whole
    selectors: tuple[str, ...] = ()
    block: str = ""
    reads: frozenset[str] = frozenset()  # the custom properties it reads, besides its custom ones'
    declarations: tuple[_Declaration, ...] = ()  # where it sets a custom property; else ()

    def fitted(self, tokens: frozenset[str] | None, shown: frozenset[str] | None = None) -> str:
        """The rule with the selectors that may match a page holding `tokens` (None: all),
        and the custom properties in `shown` (None: all)."""
        kept = list(self.selectors)
        if tokens is not None and self.selectors and self.requires is not None:
            kept = [s for s, need in zip(self.selectors, self.requires, strict=True) if need <= tokens]
            if not kept:
                return ""
        block = self.block
        if shown is not None and any(d.custom and d.custom not in shown for d in self.declarations):
            declarations = [d.text for d in self.declarations if not d.custom or d.custom in shown]
            if not declarations:
                return ""
            block = "{" + ";".join(declarations) + "}"
        if len(kept) == len(self.selectors) and block == self.block:
            return self.text
        return (",".join(kept) if self.selectors else self.text[: -len(self.block)]) + block


@dataclass(frozen=True)
class _Block:
    head: str  # "@media (...)"
    body: tuple[_Rule | _Block, ...]


class Stylesheet:
    """A stylesheet parsed once, then fitted to any number of token sets."""

    def __init__(self, css: str):
        self.items = _parse(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))
        self._rules = tuple(_flatten(self.items))
        custom = {d.custom for rule in self._rules for d in rule.declarations if d.custom}
        named = {VAR + name for name in custom} | {SET + name for name in custom} | {_ANY_VAR}
        self.tokens = frozenset(_all_tokens(self.items) | named)
        self._read_by_heads = frozenset(_heads_reads(self.items))
        self._constants = _constants(self.items, self._rules, self._read_by_heads)

    def used(self, tokens: Iterable[str]) -> frozenset[int]:
        """Which rules (by position) may apply to a page holding `tokens`."""
        present = frozenset(tokens)
        return frozenset(
            i
            for i, rule in enumerate(self._rules)
            if rule.requires is None or any(need <= present for need in rule.requires)
        )

    def write(self, rules: frozenset[int], tokens: Iterable[str] | None = None) -> str:
        """The text of rules chosen by position (see `used`), in their order; given the
        `tokens` of the pages it is for, each with only the selectors that may match one."""
        present = frozenset(tokens) if tokens is not None else None
        shown, inline = None, {}
        if present is not None and _ANY_VAR not in present:
            inline = {n: v for n, v in self._constants.items() if VAR + n not in present and SET + n not in present}
            shown = self._shown(rules, present, frozenset(inline))
        texts = _write(self.items, iter(range(len(self._rules))), rules, present, shown)
        if inline:
            texts = [fold_calc(_PLAIN_REF.sub(lambda m: inline.get(m[1], m[0]), t)) for t in texts]
        return "\n".join(texts) + "\n"

    def _shown(self, rules: frozenset[int], tokens: frozenset[str], inlined: frozenset[str]) -> frozenset[str]:
        """The custom properties something reads on pages holding `tokens`, given the chosen
        rules, and those whose `var()` is replaced by the value (`inlined`)."""
        kept = [rule for i, rule in enumerate(self._rules) if i in rules and rule.fitted(tokens)]
        shown = {t[len(VAR) :] for t in tokens if t.startswith(VAR)} | self._read_by_heads
        values: dict[str, set[str]] = {}
        for rule in kept:
            shown |= rule.reads - inlined
            for d in rule.declarations:
                if d.custom:
                    values.setdefault(d.custom, set()).update(d.reads - inlined)
        todo = list(shown)
        while todo:  # a shown property's value shows the ones it reads
            for name in values.get(todo.pop(), ()):
                if name not in shown:
                    shown.add(name)
                    todo.append(name)
        return frozenset(shown)


def parsed_stylesheet(css: str, cache_dir: Path | None = None) -> Stylesheet:
    """`Stylesheet(css)`, kept in `cache_dir` under a hash of the text and of this
    module's code: parsing the theme's CSS is a large part of a one-post rebuild."""
    if cache_dir is None:
        return Stylesheet(css)
    key = hashlib.sha256(Path(__file__).read_bytes() + b"\0" + css.encode("utf-8", "surrogatepass")).hexdigest()
    path = cache_dir / f"stylesheet-{key[:32]}.pickle"
    found = read_cache(path)
    if isinstance(found, Stylesheet):
        return found
    sheet = Stylesheet(css)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.glob("stylesheet-*.pickle"):  # one theme's at a time
        old.unlink(missing_ok=True)
    atomic_write(path, lambda f: pickle.dump(sheet, f, protocol=pickle.HIGHEST_PROTOCOL))
    return sheet


def _parse(nodes) -> tuple[_Rule | _Block, ...]:
    items: list[_Rule | _Block] = []
    for node in nodes:
        if node.type == "qualified-rule":
            prelude = tinycss2.serialize(node.prelude).strip()
            requires = selector_requirements(prelude)
            block = "{" + tinycss2.serialize(node.content).strip() + "}"
            selectors = _selectors(node.prelude)
            if requires is None or len(selectors) != len(requires) or ":-" in prelude:
                selectors = ()  # kept whole: see the module's docstring
            declarations = _declarations(node.content)
            reads = frozenset(_VAR_REF.findall(block))
            if declarations:
                reads = frozenset().union(*(d.reads for d in declarations if not d.custom))
            requires_ = tuple(requires) if requires is not None else None
            items.append(_Rule(requires_, prelude + block, selectors, block, reads, declarations))
        elif node.type == "at-rule" and node.lower_at_keyword in _NESTED and node.content is not None:
            head = f"@{node.at_keyword} {tinycss2.serialize(node.prelude).strip()}".strip()
            inner = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
            items.append(_Block(head, _parse(inner)))
        elif node.type == "at-rule":  # `@property --x`: read as if used
            text = node.serialize()
            items.append(_Rule(None, text, reads=frozenset(_CUSTOM_NAME.findall(text))))
        # parse errors: the browser would drop them too
    return tuple(items)


def _selectors(prelude) -> tuple[str, ...]:
    """A selector list's selectors as written (split at its top-level commas)."""
    parts: list[list] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            parts.append([])
        else:
            parts[-1].append(token)
    return tuple(tinycss2.serialize(part).strip() for part in parts)


def _declarations(content) -> tuple[_Declaration, ...]:
    """A block's declarations where it sets a custom property; () where it sets none, or
    holds anything besides declarations (nested rules): it is then written as it is."""
    nodes = tinycss2.parse_blocks_contents(content, skip_whitespace=True, skip_comments=True)
    if not all(n.type == "declaration" for n in nodes) or not any(n.name.startswith("--") for n in nodes):
        return ()
    return tuple(
        _Declaration(
            f"{n.name}:{tinycss2.serialize(n.value).strip()}" + ("!important" if n.important else ""),
            n.name if n.name.startswith("--") else "",
            frozenset(_VAR_REF.findall(tinycss2.serialize(n.value))),
        )
        for n in nodes
    )


def _constants(items, rules, read_by_heads) -> dict[str, str]:
    """Custom properties set once in the stylesheet, on the root (`:root` or `html`, outside
    any @media), to a value without var(), and always read without a fallback: name -> value."""
    sets: dict[str, int] = {}
    fallback: set[str] = set(read_by_heads)
    for rule in rules:
        for name in _SET_VAR.findall(rule.text):  # a string or at-rule that looks like one counts too
            sets[name] = sets.get(name, 0) + 1
        fallback |= set(_FALLBACK_REF.findall(rule.text)) | (rule.reads if rule.requires is None else set())
    found = {}
    for rule in items:
        if isinstance(rule, _Rule) and rule.selectors in ((":root",), ("html",)):
            for d in rule.declarations:
                value = d.text.split(":", 1)[1]
                plain = value and "var(" not in value and "!important" not in value
                if d.custom and sets[d.custom] == 1 and d.custom not in fallback and plain:
                    found[d.custom] = value
    return found


_CALC = re.compile(r"calc\(([\d\s.+\-*/()px]*)\)")
_CALC_TOKEN = re.compile(r"\s*(?:(\d*\.?\d+)(px)?|([-+*/()]))")


def fold_calc(css: str) -> str:
    """`css` with each `calc()` of pixels alone written as its result (see `_folded`)."""
    return _CALC.sub(_folded, css)


def _folded(match: re.Match[str]) -> str:
    """A `calc()` of pixels and plain numbers as its result in pixels, where it is one that
    is not negative (a negative length is clamped in calc(), refused as a value); else as is."""
    tokens = []
    text = match[1]
    if re.search(r"\S[+-]|[+-]\S", text):  # + and - need spaces around: without, the browser refuses it
        return match[0]
    at = 0
    while at < len(text.rstrip()):
        token = _CALC_TOKEN.match(text, at)
        if token is None:
            return match[0]
        tokens.append((float(token[1]), bool(token[2])) if token[1] else token[3])
        at = token.end()
    try:
        (value, px), rest = _sum(tokens)
    except (ValueError, IndexError, ZeroDivisionError):
        return match[0]
    if rest or not px or value < 0 or abs(value * 10000 - round(value * 10000)) > 1e-6:
        return match[0]  # (a result with more decimals than written would be rounded)
    return f"{value:.4f}".rstrip("0").rstrip(".") + "px"


def _sum(tokens: list) -> tuple[tuple[float, bool], list]:
    (value, px), tokens = _product(tokens)
    while tokens and tokens[0] in ("+", "-"):
        sign, ((other, other_px), tokens) = tokens[0], _product(tokens[1:])
        if px != other_px:
            raise ValueError("a length and a number")
        value = value + other if sign == "+" else value - other
    return (value, px), tokens


def _product(tokens: list) -> tuple[tuple[float, bool], list]:
    (value, px), tokens = _factor(tokens)
    while tokens and tokens[0] in ("*", "/"):
        op, ((other, other_px), tokens) = tokens[0], _factor(tokens[1:])
        if other_px and (op == "/" or px):
            raise ValueError("a length by a length")
        value, px = (value * other if op == "*" else value / other), px or other_px
    return (value, px), tokens


def _factor(tokens: list) -> tuple[tuple[float, bool], list]:
    if tokens[0] == "(":
        inner, rest = _sum(tokens[1:])
        if rest[:1] != [")"]:
            raise ValueError("unbalanced")
        return inner, rest[1:]
    if isinstance(tokens[0], str):
        raise ValueError("an operator where a number goes")
    return tokens[0], tokens[1:]


def _heads_reads(items) -> set[str]:
    """Custom properties named in at-rules' preludes (`@container style(--x: 1)`)."""
    found: set[str] = set()
    for item in items:
        if isinstance(item, _Block):
            found |= set(_CUSTOM_NAME.findall(item.head)) | _heads_reads(item.body)
    return found


def _all_tokens(items) -> set[str]:
    found: set[str] = set()
    for item in items:
        if isinstance(item, _Block):
            found |= _all_tokens(item.body)
        elif item.requires:
            for need in item.requires:
                found |= need
    return found


def _flatten(items) -> list[_Rule]:
    rules: list[_Rule] = []
    for item in items:
        rules += _flatten(item.body) if isinstance(item, _Block) else [item]
    return rules


def _write(items, positions, chosen: frozenset[int], tokens: frozenset[str] | None, shown) -> list[str]:
    kept = []
    for item in items:
        if isinstance(item, _Block):
            inner = _write(item.body, positions, chosen, tokens, shown)
            if inner:
                kept.append(item.head + "{" + "".join(inner) + "}")
        elif next(positions) in chosen and (text := item.fitted(tokens, shown)):
            kept.append(text)
    return kept
