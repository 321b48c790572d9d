"""Errors an author can act on: where (file, line or cell) and what to do."""

from __future__ import annotations

import re
from pathlib import Path

# Terminal control sequences: string sequences (OSC, DCS, SOS, PM, APC) to their
# terminator or the end, CSI, other ESC sequences; 7-bit and 8-bit (C1) forms.
_CONTROL_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` safe for a terminal: every control sequence and control character
    removed but newline and tab. For anything printed that came from a post."""
    return _CONTROL_CHAR.sub("", _CONTROL_SEQUENCE.sub("", text))


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
