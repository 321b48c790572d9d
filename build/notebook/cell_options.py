"""Cell options in the Quarto/Jupytext style: `#| key: value` lines at the top of a code cell.

    options = cell_options(source)      # -> CellOptions(values, code, lines)
    key_source(source)                  # the source as the freeze key sees it

The options are the leading run of lines starting with `#|` (blank lines
between them allowed, as Quarto does); each `#| key: value` starts an option
and more-indented `#|` lines continue it (YAML block values). Values are read
as YAML. `code` is the cell without the option lines: what a page shows.

Options that only change how a cell is presented (`PRESENTATION_OPTIONS`:
label, caption, alt text) are left out of the freeze key (`key_source`), so
captioning a figure does not re-run its post; any other option line stays in
the key, since a kernel might read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

PRESENTATION_OPTIONS = frozenset({"label", "fig-cap", "fig-alt"})
_OPTION = re.compile(r"^#\|[ \t]?(.*)$")
_KEY = re.compile(r"^([A-Za-z][\w.-]*)[ \t]*:(?:[ \t]|$)")


class CellOptionError(ValueError):
    """An option line that is not `key: value` YAML; `line` is 1-based within the cell."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class CellOptions:
    values: dict[str, Any] = field(default_factory=dict)
    code: str = ""  # the cell without its option lines
    lines: dict[str, int] = field(default_factory=dict)  # option -> its 1-based line in the cell

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def _groups(source: str) -> tuple[list[tuple[str, list[int], list[str]]], list[str], int]:
    """(key, its line indexes, option texts) per option, all lines, and the index of the first code line."""
    lines = source.split("\n")
    groups: list[tuple[str, list[int], list[str]]] = []
    end = 0
    for i, line in enumerate(lines):
        m = _OPTION.match(line)
        if m is None:
            if line.strip() or not groups:
                break
            end = i + 1  # a blank line inside the option block
            continue
        text = m.group(1)
        key = _KEY.match(text)
        if key is None and groups and text[:1] in (" ", "\t", "-"):
            groups[-1][1].append(i)  # continues the previous option
            groups[-1][2].append(text)
        else:
            groups.append((key.group(1) if key else "", [i], [text]))
        end = i + 1
    return groups, lines, end


def cell_options(source: str) -> CellOptions:
    """The options at the top of a code cell and the code without them.

    Raises CellOptionError (with the line in the cell) for an option line that is not YAML."""
    groups, lines, end = _groups(source)
    if not groups:
        return CellOptions(code=source)
    values: dict[str, Any] = {}
    where: dict[str, int] = {}
    for key, indexes, texts in groups:
        line = indexes[0] + 1
        if not key:
            raise CellOptionError(f"cell option line {texts[0]!r} is not `key: value`", line)
        try:
            parsed = yaml.safe_load("\n".join(texts))
        except yaml.YAMLError as exc:
            raise CellOptionError(f"cell option {key!r} is not valid YAML: {exc}", line) from None
        if not isinstance(parsed, dict) or key not in parsed:
            raise CellOptionError(f"cell option line {texts[0]!r} is not `key: value`", line)
        values[key] = parsed[key]
        where[key] = line
    code = "\n".join(lines[end:])
    return CellOptions(values=values, code=code, lines=where)


def key_source(source: str) -> str:
    """The cell's source without its presentation-only option lines (never raises)."""
    groups, lines, end = _groups(source)
    drop = {i for i in range(end) if not lines[i].strip()}  # blank lines between options
    for key, indexes, _texts in groups:
        if key in PRESENTATION_OPTIONS:
            drop.update(indexes)
    if not drop:
        return source
    return "\n".join(text for i, text in enumerate(lines) if i not in drop)
