"""Cell tags: the names an author, papermill or execblog puts in a cell's
`metadata.tags`, and which stage acts on each. Execution and convert read tags
only through these names and `cell_tags`.

As in Jupyter Book: remove-cell, remove-input, remove-output, remove-stderr,
remove-stdout, hide-input, hide-output, hide-cell act when the post is
converted; parameters, skip-execution and raises-exception when it runs
(nbclient and papermill read them), so they are part of the freeze key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Stage = Literal["execution", "convert", "internal"]


@dataclass(frozen=True)
class CellTag:
    name: str
    stage: Stage
    effect: str


REMOVE_CELL = "remove-cell"
REMOVE_INPUT = "remove-input"
REMOVE_OUTPUT = "remove-output"
REMOVE_STDERR = "remove-stderr"
REMOVE_STDOUT = "remove-stdout"
HIDE_CELL = "hide-cell"
HIDE_INPUT = "hide-input"
HIDE_OUTPUT = "hide-output"
PARAMETERS = "parameters"
SKIP_EXECUTION = "skip-execution"
RAISES_EXCEPTION = "raises-exception"
INJECTED_PARAMETERS = "injected-parameters"
PAPERMILL_ERROR = "papermill-error-cell-tag"
PROVENANCE = "execblog-provenance"

TAGS: tuple[CellTag, ...] = (
    CellTag(REMOVE_CELL, "convert", "the cell is not shown"),
    CellTag(REMOVE_INPUT, "convert", "the code is not shown"),
    CellTag(REMOVE_OUTPUT, "convert", "the outputs are not shown"),
    CellTag(REMOVE_STDERR, "convert", "the stderr stream is not shown"),
    CellTag(REMOVE_STDOUT, "convert", "the stdout stream is not shown"),
    CellTag(HIDE_CELL, "convert", "the cell is folded behind a 'show cell' toggle"),
    CellTag(HIDE_INPUT, "convert", "the code is folded behind a 'show code' toggle"),
    CellTag(HIDE_OUTPUT, "convert", "the outputs are folded behind a 'show output' toggle"),
    CellTag(PARAMETERS, "execution", "the cell's assignments are the post's parameters and their defaults"),
    CellTag(SKIP_EXECUTION, "execution", "the cell is not run"),
    CellTag(RAISES_EXCEPTION, "execution", "an error in the cell is expected and shown, not a failure"),
    CellTag(INJECTED_PARAMETERS, "internal", "papermill's cell of the parameters of this run"),
    CellTag(PAPERMILL_ERROR, "internal", "papermill's error-marker cell, never frozen"),
    CellTag(PROVENANCE, "internal", "execblog's probe of the kernel's versions, never shown"),
)

# Tags that change what running a cell does: part of the freeze key.
EXECUTION_TAGS = frozenset(tag.name for tag in TAGS if tag.stage == "execution")
# Cells execblog adds for itself: never shown, never in a download.
INTERNAL_CELL_TAGS = frozenset({PROVENANCE})


def cell_tags(cell: Mapping[str, Any]) -> frozenset[str]:
    """The tags of a notebook cell (none when its metadata has no list)."""
    tags = (cell.get("metadata") or {}).get("tags") or ()
    return frozenset(t for t in tags if isinstance(t, str))
