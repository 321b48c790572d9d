"""Progress of a long execution on stderr, and the summary table at its end.

Live: which post (i of n), which cell (j of m), elapsed time. On a terminal a
single status line (one entry per running post) is redrawn every second; in a
log (CI) a line is printed when a post starts, when a cell starts (at most one
line per post every 2 s) and every 30 s while a cell keeps running.

The build's other long steps (posts converted, pages written) use `count`:
on a terminal the same status line, in a log nothing (the build's summary line
says it all). `CI=true` counts as a log even where the runner gives a terminal.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from execblog.errors import printable


@dataclass(frozen=True)
class SummaryRow:
    post: str
    status: str  # executed, frozen, stale-frozen, not-executed, failed, skipped
    seconds: float | None = None
    slowest_cell: int | None = None
    slowest_seconds: float | None = None
    note: str = ""


def format_summary(rows: Sequence[SummaryRow], elapsed: float | None = None) -> str:
    """The end-of-build table: post, status, time, slowest cell."""
    table = [("post", "status", "time", "slowest cell")]
    for row in rows:
        slowest = (
            f"cell {row.slowest_cell} ({row.slowest_seconds:.1f} s)"
            if row.slowest_cell is not None and row.slowest_seconds is not None
            else ""
        )
        seconds = f"{row.seconds:.1f} s" if row.seconds is not None else ""
        status = row.status + (f" ({row.note})" if row.note else "")
        table.append((row.post, status, seconds, slowest))
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if elapsed is not None:
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        lines.append(", ".join(f"{n} {s}" for s, n in counts.items()) + f" in {elapsed:.1f} s")
    return "\n".join(lines)


class Progress:
    """Thread-safe progress reporter (worker threads call it)."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = (
            enabled
            and hasattr(self.stream, "isatty")
            and self.stream.isatty()
            and os.environ.get("CI", "").lower() != "true"
        )
        self._counted = 0.0
        self._lock = threading.Lock()
        self._running: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self) -> None:
        if self.enabled:
            self._ticker = threading.Thread(target=self._tick, name="execblog-progress", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker:
            self._ticker.join(timeout=2)
        with self._lock:
            self._clear_line()

    def post_started(self, name: str, position: int, total: int, cells: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            self._running[name] = {"i": position, "n": total, "j": 0, "m": cells, "t0": now, "printed": now}
            if not self.tty:
                self._line(f"[{position}/{total}] {name}: running ({cells} code cells)")

    def cell_started(self, name: str, number: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            state = self._running.get(name)
            if state is None:
                return
            state["j"] = number
            now = time.monotonic()
            if not self.tty and now - state["printed"] >= 2:
                self._line(self._describe(name, state, now))
                state["printed"] = now

    def post_finished(self, name: str, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            state = self._running.pop(name, None)
            prefix = f"[{state['i']}/{state['n']}] " if state else ""
            self._line(f"{prefix}{name}: {text}")

    def count(self, label: str, done: int, total: int) -> None:
        """`label done/total` on the terminal's status line (redrawn at most ten times a second)."""
        if not self.tty:
            return
        now = time.monotonic()
        with self._lock:
            if done < total and now - self._counted < 0.1:
                return
            self._counted = now
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r\x1b[K" + f"{label} {done}/{total}"[:width])
            self.stream.flush()

    def message(self, text: str) -> None:
        if self.enabled:
            with self._lock:
                self._line(text)

    # -- drawing (callers hold the lock) ---------------------------------------------------------
    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                if self.tty:
                    self._draw()
                    continue
                now = time.monotonic()
                for name, state in self._running.items():
                    if now - state["printed"] >= 30:
                        self._line(self._describe(name, state, now) + " (still running)")
                        state["printed"] = now

    def _describe(self, name: str, state: dict[str, Any], now: float) -> str:
        return f"[{state['i']}/{state['n']}] {name}: cell {state['j']}/{state['m']} {_clock(now - state['t0'])}"

    def _line(self, text: str) -> None:
        self._clear_line()
        self.stream.write(printable(text) + "\n")  # post names and errors come from posts
        if self.tty:
            self._draw()
        self.stream.flush()

    def _clear_line(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")

    def _draw(self) -> None:
        now = time.monotonic()
        parts = [self._describe(name, state, now) for name, state in self._running.items()]
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r\x1b[K" + printable(" | ".join(parts))[:width])
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"
