"""YAML written by authors (front matter, site_config.yaml), read with bounds.

    decode_text(data, path) -> str        UTF-8 text, or BuildError naming the line
    check_size(node, path)                refuses alias bombs (BuildError)
    load(text, path) -> Any               composed, bounded, then constructed
    load_with_node(...) -> (value, node)  the same, with the composed node (for key lines)
    syntax_error(exc, text, path) -> BuildError   a YAML syntax error at its line

Every error names the line of `text`; a caller whose text starts later in its file
(front matter) keeps the file's lines in `text` (content.read puts the opening `---` back).

PyYAML shares the node an alias points to, so composing `a: &a [*b, *b, ...]`
costs little; it is every later walk of the data (JSON for the freeze key,
deep copies, templates) that expands it exponentially. The bound is therefore
on the expanded size, counted once over the composed graph. A value YAML
recognises as a date but that is no date (`2024-13-45`, year 0) is reported
with its line instead of PyYAML's ValueError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from execblog.errors import BuildError

MAX_YAML_CHARS = 1_000_000
MAX_EXPANDED_NODES = 100_000
DATE_HINT = "use 2025-04-13, 2025-04-13T09:30:00 or 2025-04-13T09:30:00+09:00 (quote it to keep it as text)"

# libyaml's parser when PyYAML has it (it does in the wheels): ~5x faster.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BadValue(Exception):
    """A scalar YAML types (a timestamp) that cannot be that type."""

    def __init__(self, message: str, line: int, hint: str):
        super().__init__(message)
        self.line = line  # 0-based, in the YAML text
        self.hint = hint


class Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _timestamp(loader: SafeConstructor, node: yaml.ScalarNode) -> Any:
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise BadValue(f"`{node.value}` is not a valid date ({exc})", node.start_mark.line, DATE_HINT) from None


Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


class _Constructor(SafeConstructor):
    """Loader's constructors without a parser: for nodes composed earlier."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def construct(node: yaml.Node) -> Any:
    """The value of a node that `load`'s parse composed (and bounded) earlier, as `load` would give it:
    typed config and front matter values read their node again without serialising and parsing it."""
    return _Constructor().construct_document(node)


def decode_text(data: bytes, path: Path) -> str:
    """`data` as UTF-8 text; a binary or mis-encoded file is named with its line."""
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise BuildError(
            "this is a binary file, not UTF-8 text",
            path,
            line,
            "keep only Markdown posts in posts/ (put data files inside a post's bundle folder)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BuildError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)",
            path,
            line,
            "save the file as UTF-8 (most editors: 'Save with encoding' > UTF-8)",
        ) from None


def check_size(node: yaml.Node | None, path: Path) -> None:
    """Refuse YAML whose aliases expand past MAX_EXPANDED_NODES (or refer to themselves)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _too_big(n, path, "an alias refers to the value that contains it")
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            children = n.value
        elif isinstance(n, yaml.MappingNode):
            children = [part for pair in n.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                raise _too_big(n, path, f"its aliases expand to more than {MAX_EXPANDED_NODES:,} values")
        active.discard(key)
        sizes[key] = total
        return total

    if node is not None:
        try:
            size(node)
        except RecursionError:
            raise _too_big(node, path, "it is nested too deeply") from None


def _too_big(node: yaml.Node, path: Path, why: str) -> BuildError:
    return BuildError(
        f"YAML refused: {why}",
        path,
        node.start_mark.line + 1,
        "write the values out instead of repeating anchors (&name) and aliases (*name)",
    )


def check_length(text: str, path: Path) -> None:
    if len(text) > MAX_YAML_CHARS:
        raise BuildError(
            f"YAML refused: longer than {MAX_YAML_CHARS:,} characters",
            path,
            1,
            "keep front matter and configuration short; put data in files the post reads",
        )


def syntax_error(exc: yaml.MarkedYAMLError, text: str, path: Path) -> BuildError:
    """The error to raise for a YAML syntax error in `text`, at the line where
    what was left open starts (a bracket, a key) when PyYAML knows it, else
    where parsing broke, but not past the last line written (PyYAML often
    reports the end of the text)."""
    mark = exc.context_mark or exc.problem_mark
    line = min(mark.line + 1 if mark else 1, len(text.rstrip().splitlines()) or 1)
    return BuildError(
        f"invalid YAML: {exc.problem}",
        path,
        line,
        "check indentation, and quote values containing ':' or '#'",
    )


def load(text: str, path: Path) -> Any:
    """Parse, bound (check_size) and construct one YAML document; a syntax
    error, an alias bomb or an impossible date is a BuildError at its line."""
    return load_with_node(text, path)[0]


def load_with_node(text: str, path: Path) -> tuple[Any, yaml.Node | None]:
    """`load`, and the composed node too (its marks give each key's line): one parse for both."""
    check_length(text, path)
    loader = Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise syntax_error(exc, text, path) from None
        check_size(node, path)
        try:
            return (loader.construct_document(node) if node is not None else None), node
        except BadValue as exc:
            raise BuildError(str(exc), path, exc.line + 1, exc.hint) from None
        except yaml.MarkedYAMLError as exc:  # e.g. a mapping as a key: parsed, but not a value
            raise syntax_error(exc, text, path) from None
        except RecursionError:
            raise _too_big(node, path, "it is nested too deeply") from None
    finally:
        loader.dispose()
