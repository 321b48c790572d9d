"""Map a function over many items on every core, for the per-post and per-page
work of a build (Markdown, highlighting, metrics, templates).

Workers are forked after the caller has set everything up, so they inherit the
compiled templates and the configured renderer instead of rebuilding them, and
the function may be a closure. Small inputs stay in-process: forking costs more
than it saves below a few dozen items.

What exists when the workers are forked is frozen for the garbage collector
(gc.freeze) until they are done: a worker's full collection would otherwise walk
every object it inherited (a site's posts and pages), writing to each and so
copying the memory it shares with the parent (a quarter of a second, at times,
in the middle of a stage), and the parent's would walk them again too. A build
runs within `frozen()` too and freezes what it loads from its caches
(`freeze_loaded`): collections walking a thousand posts' views again and again
were a tenth of a one-post rebuild. Blocks nest; the outermost one unfreezes.

`parallel_map(fn, items)` is one pass (`parallel_imap` gives its results as they arrive);
`split_map(fn, items)` one pass in equal parts, this process doing one of them.
`Background(fn)` runs one job (the search index) in a forked process while the caller
does the rest (the pages). `two_stage_map(first, between, second,
items)` is two passes over the same items where the second needs what the parent
learns from all of the first (a page kind's stylesheet from all its pages): each
item's second pass runs in the worker that ran its first, which keeps the item's
bulky part (`first`'s private result, e.g. the page's bytes) in that worker, so
only small results cross processes.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P")  # what `first` returns to the parent
S = TypeVar("S")  # what `between` gives every `second`

MIN_ITEMS = 64
MAX_CHUNK = 64  # items a worker of parallel_map is given at a time
_task: Callable | None = None
_frozen_depth = 0


@contextmanager
def frozen() -> Iterator[None]:
    """What exists now is left out of garbage collections until the outermost `frozen` block ends
    (see the module docstring); nothing frozen stays so after it (a long-running `serve`)."""
    global _frozen_depth
    gc.freeze()
    _frozen_depth += 1
    try:
        yield
    finally:
        _frozen_depth -= 1
        if _frozen_depth == 0:
            gc.unfreeze()


def freeze_loaded() -> None:
    """Within a `frozen` block: what exists now (a cache just loaded) is left out of collections too."""
    if _frozen_depth:
        gc.freeze()


def release_freed() -> None:
    """Give the system back the memory this process freed but its allocator keeps (glibc's
    `malloc_trim`; elsewhere nothing): a process forked afterwards counts every page it inherits,
    in use or not."""
    import ctypes  # here: a no-op build never needs it

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except AttributeError:  # not glibc
        return
    trim(0)


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
    results: list[R] = []
    for result in parallel_imap(fn, items):
        results.append(result)
        if done:
            done(len(results))
    return results


def parallel_imap(fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
    """`fn(item)` for each item, in order, as the results arrive: for results the caller
    stores one by one rather than holds all together (posts' content)."""
    global _task
    jobs = cpu_count()
    if not _forking(items):
        for item in items:
            yield fn(item)
        return
    _task = lambda i: fn(items[i])  # noqa: E731 - inherited by the forked workers
    try:
        with frozen(), multiprocessing.get_context("fork").Pool(jobs) as pool:
            # at most MAX_CHUNK results arrive together: at 10,000 posts a chunk of converted posts was 25 MB
            chunk = max(1, min(MAX_CHUNK, len(items) // (jobs * 8)))
            yield from pool.imap(_run, range(len(items)), chunksize=chunk)
    finally:
        _task = None


def split_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[fn(item) for item in items]`, in order, the items cut in as many parts as there are cores:
    this process does the first part while forked ones do the others. For work that costs about
    the same per item and whose results are big next to it (posts read from their files): no
    pool to start and stop, and no process only waiting for the others' results. The first
    error, in item order, is raised."""
    jobs = cpu_count()
    if not _forking(items):
        return [fn(item) for item in items]
    size = -(-len(items) // jobs)
    parts = [items[i : i + size] for i in range(0, len(items), size)]

    def run(part: Sequence[T]) -> list[R]:
        return [fn(item) for item in part]

    others = [Background(functools.partial(run, part)) for part in parts[1:]]
    try:
        results = run(parts[0])
        for other in others:
            results += other.result()
        return results
    finally:
        for other in others:
            other.cancel()  # those after a part that failed (a no-op for one that answered)


_stages: tuple[Callable, Callable, Sequence] | None = None


def _forking(items: Sequence) -> bool:
    return len(items) >= MIN_ITEMS and _may_fork()


def _may_fork() -> bool:
    """Whether work may go to forked processes: more than one core, and this process is not itself
    a forked job or worker (those are daemonic: multiprocessing lets them start no process)."""
    return (
        cpu_count() >= 2
        and "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def two_stage_map(
    first: Callable[[T], tuple[P, Any]],
    between: Callable[[list[P]], S],
    second: Callable[[T, Any, S], R],
    items: Sequence[T],
    done: Callable[[int], None] | None = None,
) -> tuple[list[P], list[R]]:
    """`first(item)` gives (public, private) for every item; then, in this process,
    `shared = between(publics)`; then `second(item, private, shared)` for every item,
    in the process that ran its `first`. Returns (publics, seconds), both in order;
    `done(n)` as in parallel_map, for the first pass."""
    global _stages
    jobs = cpu_count()
    if not _forking(items):
        firsts = []
        for item in items:
            firsts.append(first(item))
            if done:
                done(len(firsts))
        publics = [public for public, _ in firsts]
        shared = between(publics)
        return publics, [second(item, private, shared) for item, (_, private) in zip(items, firsts, strict=True)]
    _stages = (first, second, items)
    context = multiprocessing.get_context("fork")
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    held = ExitStack()
    held.enter_context(frozen())
    try:
        for _ in range(jobs):
            mine, theirs = context.Pipe()
            # the parent's ends made so far go to the child only to be closed there: a copy held
            # open in a worker would keep another worker waiting once the parent lets go
            parents = tuple(conn for _, conn in workers) + (mine,)
            process = context.Process(target=_stage_worker, args=(theirs, parents), daemon=True)
            process.start()
            theirs.close()
            workers.append((process, mine))
        size = max(1, len(items) // (jobs * 8))
        chunks = [list(range(i, min(i + size, len(items)))) for i in range(0, len(items), size)]
        chunks.reverse()  # popped from the end: in order
        public: list = [None] * len(items)
        pending: dict[Connection, list[int]] = {}
        for _, conn in workers:
            if chunks:
                pending[conn] = chunks.pop()
                conn.send(("first", pending[conn]))
        count = 0
        while pending:
            for ready in wait(list(pending)):
                conn = next(c for c in pending if c is ready)
                chunk = pending.pop(conn)
                for i, value in zip(chunk, _answer(conn), strict=True):
                    public[i] = value
                count += len(chunk)
                if done:
                    done(count)
                if chunks:
                    pending[conn] = chunks.pop()
                    conn.send(("first", pending[conn]))
        shared = between(public)
        for _, conn in workers:
            conn.send(("second", shared))
        results: list = [None] * len(items)
        for _, conn in workers:
            for i, value in _answer(conn):
                results[i] = value
        return public, results
    finally:
        held.close()
        _stages = None
        for worker, conn in workers:
            conn.close()
            worker.join(timeout=5)
            if worker.is_alive():  # a worker that does not end when its pipe closes
                worker.terminate()
                worker.join()


class Background:
    """`fn()` in a forked process while the caller goes on (in this process at once when `fork` is
    False or there is one core); `result()` waits for its value or raises its error, `cancel()` ends it
    unfinished (a failed build must stop a job writing into what it removes). Call one of them."""

    def __init__(self, fn: Callable[[], R], fork: bool = True):
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._value: Any = None
        self._error: Exception | None = None
        # a job started by a forked job runs in it: its process may not have children (daemonic)
        if not (fork and _may_fork()):
            try:
                self._value = fn()
            except Exception as exc:  # noqa: BLE001 - raised by result(), as a forked job's is
                self._error = exc
            return
        context = multiprocessing.get_context("fork")
        mine, theirs = context.Pipe(duplex=False)
        self._process = context.Process(target=_background, args=(fn, theirs, mine), daemon=True)
        self._process.start()
        theirs.close()  # only the child writes: its end closing is the parent's EOF
        self._conn = mine

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        if self._conn is None:
            return self._value
        try:
            return _answer(self._conn)
        finally:
            self._end(timeout=5)

    def cancel(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
        self._end(timeout=None)

    def _end(self, timeout: float | None) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
            self._process = None


def _background(fn: Callable[[], Any], conn: Connection, parent: Connection) -> None:
    parent.close()
    gc.freeze()  # its collections leave what it inherited alone (see the module docstring)
    try:
        value = fn()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", _portable(exc)))
    else:
        conn.send(("ok", value))


def _answer(conn: Connection) -> Any:
    try:
        status, value = conn.recv()
    except EOFError:
        raise RuntimeError("a build worker process stopped without an answer (out of memory?)") from None
    if status == "error":
        raise value
    return value


def _stage_worker(conn: Connection, parents: tuple[Connection, ...]) -> None:
    """A forked worker of two_stage_map: first passes over the chunks it is sent, then the second
    pass over every item it holds. `parents`: the parent's pipe ends it inherited, closed here."""
    for end in parents:
        end.close()
    assert _stages is not None
    first, second, items = _stages
    held: dict[int, Any] = {}
    try:
        while True:
            try:
                what, value = conn.recv()
            except EOFError:  # the parent stopped
                return
            if what == "first":
                out = []
                for i in value:
                    public, held[i] = first(items[i])
                    out.append(public)
                conn.send(("ok", out))
            else:
                conn.send(("ok", [(i, second(items[i], held.pop(i), value)) for i in sorted(held)]))
                return
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", _portable(exc)))


def _portable(exc: BaseException) -> BaseException:
    """`exc` if the parent can rebuild it from a pickle (an exception whose __init__ takes other
    arguments than its args cannot be), else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
