"""Errors an author can act on: where (file, line or cell) and what to do."""

from __future__ import annotations

from pathlib import Path


class BuildError(Exception):
    """A problem in the author's input. Printed as `file:line: message` + hint."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None, hint: str = ""):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text
