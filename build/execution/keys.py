"""Freeze keys and parameter resolution (pure: no I/O, no kernel).

A post's freeze key is a SHA-256 over everything that decides what its run
produces: the source of its code cells (prose is left out, so editing text
never re-executes; so are presentation-only cell options such as a figure's
caption, notebook/cell_options.py), the execution-relevant tags of those cells, the resolved
parameters, the profile name, the kernel name, the digests of the files it
declares in front matter `inputs:`, and a few switches such as `allow_errors`.
Values are canonicalised to JSON (sorted keys, no whitespace) before hashing,
so the key does not depend on dict order or on how YAML typed a date.

Parameter precedence, lowest first: the defaults in the post's `parameters`
cell, front matter `parameters:`, the active profile, the command line.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

import yaml

from execblog.notebook.cell_options import key_source
from execblog.notebook.tags import EXECUTION_TAGS

# Bump when the meaning of a key changes (e.g. what goes into it): every post
# then reads as stale once, instead of silently reusing outputs.
KEY_VERSION = "execblog-freeze-1"
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


@dataclass(frozen=True)
class CodeCell:
    """What of a code cell goes into the key."""

    source: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DefaultExpression:
    """A parameters-cell default that is not a literal (e.g. a function call).

    Kept as source text: it is shown in provenance, and its value is decided
    by the code, which the key already covers."""

    source: str

    def __str__(self) -> str:
        return self.source


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=canonical_json)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, DefaultExpression):
        return {"expression": value.source}
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    raise TypeError(f"cannot put a {type(value).__name__} into a freeze key: {value!r}")


def canonical_json(value: Any) -> str:
    """Stable JSON text: sorted keys, no insignificant whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_cells_of(notebook: Mapping[str, Any]) -> list[CodeCell]:
    """The key-relevant part of a notebook's code cells (nbformat dict shape)."""
    cells = []
    for cell in notebook.get("cells", ()):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):  # on-disk nbformat splits lines
            source = "".join(source)
        tags = (cell.get("metadata") or {}).get("tags") or ()
        cells.append(CodeCell(key_source(source), tuple(sorted(t for t in tags if t in EXECUTION_TAGS))))
    return cells


def freeze_key(
    *,
    code_cells: Sequence[CodeCell | str],
    parameters: Mapping[str, Any],
    profile: str,
    kernel: str,
    inputs: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The hex SHA-256 key of one post's run.

    `inputs` maps each declared input file (path relative to the post folder,
    '/'-separated) to the hex digest of its bytes; `extra` holds other
    switches that change the result (e.g. `allow_errors`)."""
    cells = [c if isinstance(c, CodeCell) else CodeCell(c) for c in code_cells]
    document = {
        "version": KEY_VERSION,
        "cells": [[c.source, list(c.tags)] for c in cells],
        "parameters": dict(parameters),
        "profile": profile,
        "kernel": kernel,
        "inputs": dict(inputs or {}),
        "extra": dict(extra or {}),
    }
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


# --- parameters ---------------------------------------------------------------------------
def parse_parameter_defaults(source: str) -> dict[str, Any]:
    """Names assigned in a `parameters` cell, with literal values where possible.

    `steps = 20` gives 20; `device = pick()` gives DefaultExpression("pick()").
    Annotated assignments count; anything else in the cell is ignored."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    defaults: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                defaults[target.id] = _literal(value, source)
    return defaults


def _literal(node: ast.expr, source: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return DefaultExpression(ast.get_source_segment(source, node) or ast.unparse(node))


def parse_assignments(items: str | Iterable[str]) -> dict[str, Any]:
    """Command-line parameters, typed like YAML scalars (20 -> int, 1e-3 ->
    float, true -> bool, [1, 2] -> list, anything else -> str).

    A string holds several shell-quoted words (`P='steps=20 title="a b"'`);
    an iterable holds one assignment per item (`-p steps=20 -p device=cpu`)."""
    words = shlex.split(items) if isinstance(items, str) else list(items)
    result: dict[str, Any] = {}
    for word in words:
        key, sep, raw = word.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ValueError(
                f"parameter {word!r} is not of the form name=value (e.g. P='steps=20 device=cpu' or -p steps=20)"
            )
        result[key] = parse_value(raw)
    return result


def parse_value(raw: str) -> Any:
    """One command-line value, typed like a YAML scalar ("20" -> 20, "cpu" -> "cpu")."""
    if not raw.strip():
        return ""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, str) and _NUMBER.match(raw.strip()):
        return float(raw)  # YAML 1.1 reads "1e-3" as a string
    return value


def resolve_parameters(
    defaults: Mapping[str, Any],
    front_matter: Mapping[str, Any] | None = None,
    profile: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameter values a run uses, in precedence order (later wins).

    Front matter may introduce new names (the author asked for them). Profile
    and command-line values apply only to names the post declares (in its
    parameters cell or front matter), so `device=cuda` in the `gpu` profile
    does not leak into posts that have no such parameter."""
    front_matter = dict(front_matter or {})
    declared = set(defaults) | set(front_matter)
    resolved = dict(defaults)
    resolved.update(front_matter)
    for layer in (profile or {}, cli or {}):
        resolved.update({k: v for k, v in layer.items() if k in declared})
    return resolved


def parameters_to_inject(defaults: Mapping[str, Any], resolved: Mapping[str, Any]) -> dict[str, Any]:
    """What papermill must inject: every resolved value that is not simply the
    cell's own literal default (expressions are never 'equal' to a value)."""
    return {
        name: value
        for name, value in resolved.items()
        if not isinstance(value, DefaultExpression) and (name not in defaults or not _same(defaults[name], value))
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, DefaultExpression) or isinstance(b, DefaultExpression):
        return False
    return type(a) is type(b) and canonical_json(a) == canonical_json(b)
