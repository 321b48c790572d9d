"""Map a function over many items on every core, for the per-post and per-page
work of a build (Markdown, highlighting, metrics, templates).

Workers are forked after the caller has set everything up, so they inherit the
compiled templates and the configured renderer instead of rebuilding them, and
the function may be a closure. Small inputs stay in-process: forking costs more
than it saves below a few dozen items.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 64
_task: Callable | None = None


def _run(index: int):
    assert _task is not None
    return _task(index)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parallel_map(fn: Callable[[T], R], items: Sequence[T], done: Callable[[int], None] | None = None) -> list[R]:
    """`[fn(item) for item in items]`, in order; `done(n)` is called in this
    process as the first n results arrive (for a progress line)."""
    global _task
    jobs = cpu_count()
    results: list[R] = []
    if jobs < 2 or len(items) < MIN_ITEMS or "fork" not in multiprocessing.get_all_start_methods():
        for item in items:
            results.append(fn(item))
            if done:
                done(len(results))
        return results
    _task = lambda i: fn(items[i])  # noqa: E731 - inherited by the forked workers
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            chunk = max(1, len(items) // (jobs * 8))
            for result in pool.imap(_run, range(len(items)), chunksize=chunk):
                results.append(result)
                if done:
                    done(len(results))
            return results
    finally:
        _task = None
