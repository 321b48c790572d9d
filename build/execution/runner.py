"""Running posts in Jupyter kernels through Papermill (used by execute.py).

* One fresh kernel per post (restart and %reset leak state), started in the
  post's folder with the profile's environment. Each worker thread starts the
  kernel of its next post while the current one runs, so kernel boot overlaps
  work; a finished post's kernel is killed at once (its state is discarded
  anyway, and a polite shutdown costs ~0.7 s).
* `jobs` CPU workers and `gpu_slots` GPU workers; `requires: gpu` posts go
  to the GPU lane only.
* A cell past its timeout (nbclient), a post past its timeout (a watchdog
  kills the kernel's process group) and a kernel that dies (OOM killer,
  segfault) all end as a failure naming the cell. Every kernel is registered
  and killed on exit, Ctrl-C included.
* No process a cell starts outlives its post: each kernel's environment
  carries a tag that its descendants inherit, and stopping the kernel kills
  its process tree and every tagged process. On Linux the build is also a
  child subreaper, so a daemon that double-forks or starts a new session (and
  clears its environment) is re-parented to the build instead of init, and is
  killed when the execution stage ends. Both work without privileges.
* Whatever a run produced is redacted before it is kept or reported.
* In `serve` a run may take a spare kernel that has already run the post's
  setup (execution/warm.py, `RunnerOptions.spares`): the cells it ran are
  skipped and get the outputs and execution counts they had there. The
  notebook is parameterized here, as papermill would, so both see the same cells.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import math
import os
import queue
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from execblog.config import DEFAULT_PROVENANCE_PACKAGES
from execblog.errors import printable
from execblog.execution.freeze import FreezeStore
from execblog.execution.kernel import PROVENANCE_MIMETYPE
from execblog.execution.progress import Progress
from execblog.execution.redact import Redactor, UnredactableSecret
from execblog.notebook import tags
from execblog.records import SourcePost

if TYPE_CHECKING:  # asyncio is imported where a kernel runs: a build with nothing to run does without it
    import asyncio

    from execblog.execution.warm import WarmPool

PROVENANCE_TAG = tags.PROVENANCE
INJECTED_TAG = tags.INJECTED_PARAMETERS
PAPERMILL_ERROR_TAG = tags.PAPERMILL_ERROR
_GLYPH_RE = re.compile(r"Glyph \d+ .*?missing from (?:current )?font", re.S)

FailureKind = Literal[
    "error",
    "cell-timeout",
    "post-timeout",
    "kernel-died",
    "kernel-start",
    "glyph",
    "inputs",
    "read",
    "secret",
    "freeze",
]
_KIND_TITLES = {
    "error": "the cell raised an error",
    "cell-timeout": "the cell ran past its timeout and was stopped",
    "post-timeout": "the post ran past its timeout and its kernel was killed",
    "kernel-died": "the kernel died",
    "kernel-start": "the kernel could not start",
    "glyph": "a figure has characters missing from its font",
    "inputs": "a declared input is missing",
    "read": "the post cannot be read as a notebook",
    "secret": "an output holds a secret that cannot be redacted",
    "freeze": "its frozen outputs cannot be used",
}
SECRET_FIX = (
    "do not print, display or store a secret in an output (read it only where it is used); "
    "for a figure, save it without metadata that holds the value (e.g. metadata={} for savefig)"
)
_INSTALL_FIX = "register the kernel with `make install` (python -m execblog.execution.kernel)"


@dataclass(frozen=True)
class ExecutionFailure:
    post: str
    path: str  # the post's file, relative to the site
    kind: FailureKind
    error: str  # one line, ANSI removed, redacted
    cell: int | None = None  # 1-based number among the post's code cells
    line: int | None = None  # line of that cell's code in the .md file
    cell_head: str = ""  # first lines of the cell
    failed_notebook: str | None = None  # relative to the site
    fix: str = ""
    details: str = ""  # e.g. the tail of the kernel's own log

    def message(self) -> str:
        where = self.path
        if self.cell is not None:
            where += f": code cell {self.cell}" + (f" (line {self.line})" if self.line else "")
        lines = [f"{where}: {_KIND_TITLES[self.kind]}"]
        lines += ["    | " + line for line in self.cell_head.splitlines()]
        lines.append(f"  {self.error}")
        lines += ["  " + line for line in self.details.splitlines()]
        if self.failed_notebook:
            lines.append(f"  failed notebook kept in {self.failed_notebook}; the last good freeze is unchanged")
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RunnerOptions:
    site_dir: Path
    log_dir: Path  # the kernels' own stdout/stderr, one file per post
    kernel_name: str
    profile: str
    profile_env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 60.0
    jobs: int = 1
    gpu_slots: int = 1
    keep_going: bool = False
    provenance_packages: tuple[str, ...] = DEFAULT_PROVENANCE_PACKAGES  # versions recorded, if the post imported them
    spares: WarmPool | None = None  # `serve`: kernels that ran a post's setup ahead (execution/warm.py)


@dataclass(frozen=True)
class RunRequest:
    index: int  # the post's position in the build (results are keyed by it)
    post: SourcePost
    notebook: Any  # the source notebook (front matter cell dropped)
    key: str | None
    inject: dict[str, Any]  # parameters papermill injects
    allow_errors: bool = False
    cell_timeout: float | None = None
    post_timeout: float | None = None
    env: dict[str, str] = field(default_factory=dict)  # on top of the profile's
    gpu: bool = False


@dataclass(frozen=True)
class RanAhead:
    """A setup cell as a spare kernel ran it, before the run took the kernel; or (`before`) what the
    imports opening a cell printed there, the rest of the cell being left to the run."""

    outputs: list[Any]
    execution_count: int | None
    seconds: float
    before: bool = False


@dataclass
class RunOutcome:
    notebook: Any | None  # the executed notebook, redacted, provenance cell removed
    failure: ExecutionFailure | None
    seconds: float
    cell_seconds: dict[int, float]  # code cell number -> seconds
    provenance: dict[str, Any]  # what the kernel reported (device, versions, stand-ins)


# --- processes -----------------------------------------------------------------------------------
_TAG_VAR = "EXECBLOG_KERNEL_TAG"
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Orphans of our descendants become our children instead of init's (Linux; no privileges needed)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _process_table() -> dict[int, int]:
    """pid -> parent pid of every process we can see (/proc)."""
    table: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            table[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    return table


def _descendants(roots: set[int], table: dict[int, int]) -> set[int]:
    found = set(roots)
    grew = True
    while grew:
        more = {pid for pid, parent in table.items() if parent in found} - found
        grew = bool(more)
        found |= more
    return found - roots


def _tagged(tag: str, pids: Iterable[int]) -> set[int]:
    """Processes whose environment carries the kernel's tag (our own user's only are readable)."""
    needle = f"{_TAG_VAR}={tag}".encode()
    found = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.add(pid)
    return found


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        if pid != os.getpid():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _reap(pids: Iterable[int], timeout: float = 2.0) -> None:
    """Collect the exit status of killed processes that were re-parented to us (no zombies left)."""
    waiting = set(pids)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours (any more)
                waiting.discard(pid)
                continue
            if done:
                waiting.discard(pid)
        if waiting:
            time.sleep(0.02)


def own_children() -> set[int]:
    me = os.getpid()
    return {pid for pid, parent in _process_table().items() if parent == me}


def kill_adopted(before: set[int], keep: Iterable[int] = ()) -> None:
    """Kill and reap the processes re-parented to us (as subreaper) since `before` was taken."""
    table = _process_table()
    me = os.getpid()
    adopted = {pid for pid, parent in table.items() if parent == me} - before - set(keep)
    _kill(adopted | _descendants(adopted, table))
    _reap(adopted)


# --- kernels -------------------------------------------------------------------------------------
_LIVE: set[KernelProcess] = set()
_LIVE_LOCK = threading.Lock()


def kill_all_kernels() -> None:
    with _LIVE_LOCK:
        kernels = list(_LIVE)
    for kernel in kernels:
        kernel.kill_now()


atexit.register(kill_all_kernels)


class KernelProcess:
    """One kernel for one post. Created and used in one worker thread (its
    asyncio loop is the one nbclient uses there)."""

    def __init__(
        self, request: RunRequest, options: RunnerOptions, loop: asyncio.AbstractEventLoop, tag: str | None = None
    ):
        from jupyter_client.manager import AsyncKernelManager

        self.loop = loop
        self.error: BaseException | None = None
        self.killed_by_watchdog = False
        self.tag = tag or uuid.uuid4().hex  # inherited by every process the kernel starts
        self.ran_ahead: dict[int, RanAhead] = {}  # a spare's setup cells, by index in the parameterized notebook
        self._clients: list[Any] = []
        options.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = options.log_dir / f"{request.post.name}.log"
        # crash reports (segfault, OOM) land here; open as long as the kernel runs, closed in stop()
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.km = AsyncKernelManager(kernel_name=options.kernel_name)
        make_client = self.km.client

        def client(**kwargs: Any) -> Any:  # nbclient leaves clients of a km it does not own open
            created = make_client(**kwargs)
            self._clients.append(created)
            return created

        self.km.client = client  # type: ignore[method-assign]
        env = dict(os.environ)
        env.update(options.profile_env)
        env.update(request.env)
        env.update({"EXECBLOG_PROFILE": options.profile, "EXECBLOG_POST": request.post.name, _TAG_VAR: self.tag})
        try:
            loop.run_until_complete(
                self.km.start_kernel(cwd=str(request.post.source_dir), env=env, stdout=self._log, stderr=self._log)
            )
        except BaseException as exc:  # reported when the post runs
            self.error = exc
            return
        with _LIVE_LOCK:
            _LIVE.add(self)

    def adopt(self, loop: asyncio.AbstractEventLoop, ran_ahead: dict[int, RanAhead]) -> None:
        """A spare handed to the worker thread whose loop now drives it."""
        self.loop = loop
        self.ran_ahead = dict(ran_ahead)

    def release_clients(self) -> None:
        """Close the clients made so far (in the thread whose loop they use)."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.stop_channels()
        self._clients.clear()

    def kill_now(self) -> None:
        """SIGKILL the kernel, its process group, its descendants and every
        process carrying its tag (safe from any thread)."""
        provisioner = getattr(self.km, "provisioner", None)
        pgid = getattr(provisioner, "pgid", None)
        process = getattr(provisioner, "process", None)
        table = _process_table()
        # only a live kernel's pid: a reaped pid may be reused
        roots = {process.pid} if process is not None and process.poll() is None else set()
        roots |= _tagged(self.tag, table)
        with contextlib.suppress(OSError):
            if pgid:
                os.killpg(pgid, signal.SIGKILL)
            elif process is not None:
                process.kill()
        # Children in another session or group (start_new_session=True) escape killpg.
        _kill(roots | _descendants(roots, table))

    def exit_description(self) -> str:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return ""
        if code >= 0:
            return f"exited with status {code}"
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = {
            "SIGKILL": "usually the out-of-memory killer",
            "SIGSEGV": "a crash in native code",
            "SIGABRT": "an abort in native code",
            "SIGBUS": "a crash in native code",
        }.get(name, "")
        return f"killed by {name}" + (f" ({hint})" if hint else "")

    def log_tail(self, lines: int = 8) -> str:
        with contextlib.suppress(OSError):
            self._log.flush()
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
            keep = [
                line for line in text.splitlines() if line.strip() and "running over TCP without encryption" not in line
            ]
            return "\n".join(keep[-lines:])
        return ""

    def stop(self) -> None:
        self.release_clients()
        if self.error is None:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.km.shutdown_kernel(now=True))
            self.kill_now()  # what the kernel started outlives shutdown_kernel
        with _LIVE_LOCK:
            _LIVE.discard(self)
        self._log.close()


class _CellTracker:
    """nbclient hooks: which cell runs (for progress and failure reports)."""

    def __init__(self, name: str, progress: Progress):
        self.name = name
        self.progress = progress
        self.numbers: dict[int, int] = {}  # executed-notebook index -> code cell number
        self.nb: Any | None = None
        self.current: int | None = None
        self.on_ready: Callable[[], None] | None = None

    def notebook_start(self, notebook: Any, **_: Any) -> None:
        self.nb = notebook
        if self.on_ready is not None:
            self.on_ready()
        self.numbers = code_cell_numbers(notebook)

    def cell_start(self, cell: Any, cell_index: int, **_: Any) -> None:
        if cell.cell_type != "code":
            return
        self.current = cell_index
        if cell_index in self.numbers:
            self.progress.cell_started(self.name, self.numbers[cell_index])


# --- the worker pool -------------------------------------------------------------------------------
class Runner:
    def __init__(self, options: RunnerOptions, store: FreezeStore, redactor: Redactor, progress: Progress):
        self.options = options
        self.store = store
        self.redactor = redactor
        self.progress = progress
        self._stop = threading.Event()  # set at the first failure unless keep_going
        self._lock = threading.Lock()
        self._results: dict[int, RunOutcome] = {}
        self._total = 0
        self._started = 0

    def run_all(self, requests: list[RunRequest], gpu_available: bool) -> dict[int, RunOutcome]:
        """Run the requests; results by request index. A request missing from
        the result never started (the build stopped at an earlier failure)."""
        cpu: queue.Queue[RunRequest] = queue.Queue()
        gpu: queue.Queue[RunRequest] = queue.Queue()
        for request in requests:
            (gpu if request.gpu and gpu_available else cpu).put(request)
        self._total = len(requests)
        # As subreaper the build adopts a cell's daemons even when they leave the kernel's
        # environment behind; whatever it adopted during the run is killed at its end.
        become_subreaper()
        before = own_children()
        threads = []
        for lane, workers, name in ((cpu, self.options.jobs, "cpu"), (gpu, self.options.gpu_slots, "gpu")):
            for n in range(min(max(1, workers), lane.qsize())):
                thread = threading.Thread(target=self._worker, args=(lane,), name=f"execblog-{name}-{n}", daemon=True)
                threads.append(thread)
                thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.2)
        except BaseException:  # Ctrl-C: no kernel may outlive the build
            self._stop.set()
            kill_all_kernels()
            raise
        finally:
            # spares being prepared meanwhile (serve) are the pool's to stop
            spares = self.options.spares.kernel_tags() if self.options.spares is not None else set()
            table = _process_table()
            kill_adopted(before, keep=set().union(*(_tagged(tag, table) for tag in spares)))
        return dict(self._results)

    def _next(self, lane: queue.Queue[RunRequest]) -> RunRequest | None:
        if self._stop.is_set():
            return None
        try:
            return lane.get_nowait()
        except queue.Empty:
            return None

    def _worker(self, lane: queue.Queue[RunRequest]) -> None:
        from jupyter_core.utils import ensure_event_loop

        loop = ensure_event_loop()  # the loop nbclient will use in this thread too
        try:
            self._work(lane, loop)
        finally:
            _close_loop(loop)

    def _work(self, lane: queue.Queue[RunRequest], loop: asyncio.AbstractEventLoop) -> None:
        ahead: tuple[RunRequest, KernelProcess] | None = None
        while True:
            if ahead is not None:
                request, kernel = ahead
                ahead = None
            else:
                claimed = self._next(lane)
                if claimed is None:
                    break
                request, kernel = claimed, self._kernel(claimed, loop)
            following = self._next(lane)
            if following is not None:  # boots while this post runs
                ahead = (following, self._kernel(following, loop))
            try:
                outcome = self._run(request, kernel)
            except Exception as exc:  # a bug here must not hang the build
                failure = self._failure(request, "kernel-start", f"internal error: {exc!r}")
                outcome = RunOutcome(None, failure, 0.0, {}, {})
            finally:
                kernel.stop()
            with self._lock:
                self._results[request.index] = outcome
            self._report(request, outcome)
            if outcome.failure is not None and not self.options.keep_going:
                self._stop.set()
            if ahead is not None and self._stop.is_set():
                ahead[1].stop()
                ahead = None

    def _kernel(self, request: RunRequest, loop: asyncio.AbstractEventLoop) -> KernelProcess:
        spares = self.options.spares
        spare = spares.take(request, self.options, loop) if spares is not None else None
        return spare or KernelProcess(request, self.options, loop)

    def _report(self, request: RunRequest, outcome: RunOutcome) -> None:
        name = request.post.name
        if outcome.failure is None:
            self.progress.post_finished(name, f"executed in {outcome.seconds:.1f} s")
        else:
            self.progress.post_finished(name, f"FAILED after {outcome.seconds:.1f} s")
            self.progress.message(outcome.failure.message())

    # -- one post ------------------------------------------------------------------------------------
    def _run(self, request: RunRequest, kernel: KernelProcess) -> RunOutcome:
        import logging

        import nbformat
        import papermill
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from papermill.exceptions import PapermillExecutionError

        logging.getLogger("papermill").setLevel(logging.CRITICAL)  # we report failures ourselves
        with self._lock:
            self._started += 1
            position = self._started
        code_cells = sum(1 for c in request.notebook.cells if c.cell_type == "code")
        self.progress.post_started(request.post.name, position, self._total, code_cells)
        if kernel.error is not None:
            error = kernel.error
            start = self._failure(request, "kernel-start", f"{type(error).__name__}: {error}", fix=_INSTALL_FIX)
            return RunOutcome(None, start, 0.0, {}, {})

        tracker = _CellTracker(request.post.name, self.progress)
        nb = parameterized(request.notebook, request.inject, self.options.kernel_name)
        for index in (i for i, ran in kernel.ran_ahead.items() if not ran.before):  # run in the spare already
            nb.cells[index].metadata["tags"] = [*nb.cells[index].metadata.get("tags", []), tags.SKIP_EXECUTION]
        probe = nbformat.v4.new_code_cell(provenance_source(self.options.provenance_packages))
        probe.metadata["tags"] = [PROVENANCE_TAG, tags.RAISES_EXCEPTION, tags.REMOVE_CELL]
        nb.cells.append(probe)
        watchdog = None
        if request.post_timeout:
            # Armed when the kernel is ready: boot time has its own limit (startup_timeout).
            watchdog = threading.Timer(request.post_timeout, self._watchdog_fire, args=(kernel,))
            watchdog.daemon = True
            tracker.on_ready = watchdog.start
        t0 = time.monotonic()
        failure: ExecutionFailure | None = None
        try:
            papermill.execute_notebook(
                nb,
                None,
                kernel_name=self.options.kernel_name,
                progress_bar=False,
                request_save_on_cell_execute=False,
                start_timeout=int(math.ceil(self.options.startup_timeout)),
                execution_timeout=int(math.ceil(request.cell_timeout)) if request.cell_timeout else None,
                km=kernel.km,
                allow_errors=request.allow_errors,
                coalesce_streams=True,  # also keeps only the final frame of \r progress bars
                record_timing=False,
                interrupt_on_timeout=False,
                on_notebook_start=tracker.notebook_start,
                on_cell_start=tracker.cell_start,
            )
        except PapermillExecutionError:
            pass  # allowed errors raise this too: decided below from the notebook
        except CellTimeoutError:
            limit = _seconds(request.cell_timeout)
            failure = self._cell_failure(request, tracker, "cell-timeout", f"no result after {limit}")
        except DeadKernelError:
            failure = self._dead_failure(request, tracker, kernel)
        except RuntimeError as exc:  # nbclient: "Kernel died before replying", "didn't respond"
            if kernel.killed_by_watchdog or "died" in str(exc).lower():
                failure = self._dead_failure(request, tracker, kernel)
            else:
                failure = self._failure(request, "kernel-start", str(exc), fix=_INSTALL_FIX)
        except Exception as exc:  # e.g. jupyter_client.NoSuchKernel
            failure = self._failure(request, "kernel-start", f"{type(exc).__name__}: {exc}", fix=_INSTALL_FIX)
        finally:
            if watchdog is not None:
                watchdog.cancel()
        seconds = time.monotonic() - t0

        executed = tracker.nb
        provenance: dict[str, Any] = {}
        cell_seconds: dict[int, float] = {}
        if executed is not None:
            # Papermill inserts marker cells before raising; without them indices match `numbers`.
            executed.cells = [c for c in executed.cells if PAPERMILL_ERROR_TAG not in c.metadata.get("tags", [])]
            for index, ran in kernel.ran_ahead.items():  # as if run here: no trace of the skip
                cell = executed.cells[index]
                if ran.before:
                    if cell.execution_count is not None and ran.outputs:
                        cell.outputs = coalesce_streams([*copy.deepcopy(ran.outputs), *cell.outputs])
                    continue
                cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != tags.SKIP_EXECUTION]
                cell.outputs, cell.execution_count = copy.deepcopy(ran.outputs), ran.execution_count
                cell.metadata.setdefault("papermill", {})["duration"] = ran.seconds
            numbers = tracker.numbers
            for index, cell in enumerate(executed.cells):
                duration = cell.metadata.get("papermill", {}).get("duration")
                if index in numbers and duration is not None:
                    cell_seconds[numbers[index]] = float(duration)
            try:
                executed = self.redactor.notebook(executed)
            except UnredactableSecret as exc:  # nothing of this run may be kept
                cell = executed.cells[exc.cell] if exc.cell is not None else None
                failure = self._failure(
                    request,
                    "secret",
                    str(exc),
                    fix=SECRET_FIX,
                    **self._cell_fields(request, cell, numbers.get(exc.cell) if exc.cell is not None else None),
                )
                executed = None
            if executed is not None:
                if failure is None:
                    failure = self._error_failure(request, executed, numbers) or self._glyph_failure(
                        request, executed, numbers
                    )
                provenance = _pop_provenance(executed)
        elif failure is None:
            failure = self._failure(request, "kernel-start", "the kernel never became ready", fix=_INSTALL_FIX)
        if failure is not None:
            failure = self._keep_failed(request, failure, executed if executed is not None else nb)
        return RunOutcome(executed, failure, seconds, cell_seconds, self.redactor.json(provenance))

    def _watchdog_fire(self, kernel: KernelProcess) -> None:
        kernel.killed_by_watchdog = True
        kernel.kill_now()

    # -- failures ---------------------------------------------------------------------------------------
    def _failure(self, request: RunRequest, kind: FailureKind, error: str, **extra: Any) -> ExecutionFailure:
        return ExecutionFailure(
            post=request.post.name,
            path=relative(request.post.path, self.options.site_dir),
            kind=kind,
            error=self.redactor.text(one_line(error)),
            **extra,
        )

    def _cell_fields(self, request: RunRequest, cell: Any, number: int | None) -> dict[str, Any]:
        if number is None:
            return {}
        head = "\n".join(cell.source.splitlines()[:4])
        return {
            "cell": number,
            "line": cell_lines(request.post, request.notebook).get(number),
            "cell_head": self.redactor.text(head),
        }

    def _cell_failure(
        self, request: RunRequest, tracker: _CellTracker, kind: FailureKind, error: str, **extra: Any
    ) -> ExecutionFailure:
        fields: dict[str, Any] = {}
        if tracker.nb is not None and tracker.current is not None:
            cell = tracker.nb.cells[tracker.current]
            fields = self._cell_fields(request, cell, tracker.numbers.get(tracker.current))
        fix = {
            "cell-timeout": "make the cell faster, or raise `cell_timeout:` in the post's front matter "
            "(or execution.cell_timeout in site_config.yaml)",
            "post-timeout": "raise `timeout:` in the post's front matter "
            "(or execution.post_timeout in site_config.yaml)",
            "kernel-died": "reduce memory use (a smaller model or batch) or look for a crash in native code",
        }.get(kind, "")
        return self._failure(request, kind, error, fix=fix, **fields, **extra)

    def _dead_failure(self, request: RunRequest, tracker: _CellTracker, kernel: KernelProcess) -> ExecutionFailure:
        if kernel.killed_by_watchdog:
            limit = _seconds(request.post_timeout)
            return self._cell_failure(request, tracker, "post-timeout", f"the whole post took longer than {limit}")
        how = kernel.exit_description() or "the kernel process went away"
        details = self.redactor.text(kernel.log_tail())
        return self._cell_failure(request, tracker, "kernel-died", f"kernel died: {how}", details=details)

    def _error_failure(self, request: RunRequest, nb: Any, numbers: dict[int, int]) -> ExecutionFailure | None:
        for index, cell in enumerate(nb.cells):
            if not cell.metadata.get("papermill", {}).get("exception"):
                continue  # papermill marks the cell whose (not allowed) error stopped the run
            error = next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)
            if error is not None:
                text = f"{error.ename}: {error.evalue}"
            else:  # IPython prints a magic's UsageError on stderr instead of sending an error
                stderr = [o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr"]
                lines = [line for line in printable("".join(stderr)).splitlines() if line.strip()]
                text = lines[-1] if lines else "the cell failed without an error message"
            fields = self._cell_fields(request, cell, numbers.get(index))
            line = _magic_line(cell.source, text)
            if line is not None and fields.get("line"):
                fields["line"] += line
            return self._failure(
                request,
                "error",
                text,
                fix="correct the cell, or tag it `raises-exception` (or set `allow_errors: true`) "
                "if the error is meant to be shown",
                **fields,
            )
        return None

    def _glyph_failure(self, request: RunRequest, nb: Any, numbers: dict[int, int]) -> ExecutionFailure | None:
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                match = _GLYPH_RE.search(_output_text(output))
                if match:
                    return self._failure(
                        request,
                        "glyph",
                        match.group(0),
                        fix="keep the kernel's font setup (font.family IPAexGothic, DejaVu Sans); "
                        "if you set a font yourself, pick one that has these characters",
                        **self._cell_fields(request, cell, numbers.get(index)),
                    )
        return None

    def _keep_failed(self, request: RunRequest, failure: ExecutionFailure, nb: Any) -> ExecutionFailure:
        try:
            nb = self.redactor.notebook(nb)
            nb.cells = [c for c in nb.cells if PROVENANCE_TAG not in c.metadata.get("tags", [])]
            info = {"key": request.key, "kind": failure.kind, "message": failure.message(), "failed_at": now_iso()}
            path = self.store.save_failure(request.post.name, nb, info)
        except Exception:  # keeping the evidence must not hide the failure itself
            return failure
        return replace(failure, failed_notebook=relative(path, self.options.site_dir))


# --- helpers ----------------------------------------------------------------------------------------
def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    import asyncio

    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    with contextlib.suppress(Exception):
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()


def parameterized(notebook: Any, inject: dict[str, Any], kernel_name: str) -> Any:
    """A copy of `notebook` with papermill's injected-parameters cell, made as papermill makes it
    (then papermill, given no parameters, runs it as it is)."""
    from papermill import __version__
    from papermill.parameterize import parameterize_notebook

    nb = copy.deepcopy(notebook)
    # what papermill.iorw.load_notebook_node adds before it parameterizes
    nb.metadata.setdefault(
        "papermill", {"default_parameters": {}, "parameters": {}, "environment_variables": {}, "version": __version__}
    )
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    if inject:
        nb = parameterize_notebook(nb, inject, kernel_name=kernel_name)
    return nb


_CARRIAGE_RETURN = re.compile(r".*\r(?=[^\n])")


def coalesce_streams(outputs: list[Any]) -> list[Any]:
    """nbclient's `coalesce_streams` (one stdout and one stderr output per cell, progress frames
    resolved), applied again when a spare's import output is put in front of a cell's own."""
    merged: list[Any] = []
    streams: dict[str, Any] = {}
    for output in outputs:
        if output["output_type"] != "stream":
            merged.append(output)
        elif output["name"] in streams:
            streams[output["name"]]["text"] += output["text"]
        else:
            merged.append(output)
            streams[output["name"]] = output
    for output in streams.values():  # (nbclient's backspace pass never runs: its loop starts with equal lengths)
        output["text"] = _CARRIAGE_RETURN.sub("", output["text"])
    for i, output in enumerate(merged):  # stdout before stderr, as nbclient orders them
        if output["output_type"] == "stream" and output["name"] == "stderr" and len(merged) >= i + 2:
            after = merged[i + 1]
            if after["output_type"] == "stream" and after["name"] == "stdout":
                merged.insert(i, merged.pop(i + 1))
    return merged


def provenance_source(packages: Sequence[str]) -> str:
    """The hidden last cell: the kernel reports device, versions of `packages` and stand-ins."""
    return f'__import__("execblog_kernel").emit_provenance({json.dumps(list(packages))})'


def _magic_line(source: str, error: str) -> int | None:
    """Offset in the cell of the line using the `%magic` an error names, if any."""
    for name in re.findall(r"%%?[\w.-]+", error):
        for offset, line in enumerate(source.splitlines()):
            if line.lstrip().startswith(name):
                return offset
    return None


def _pop_provenance(nb: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    kept = []
    for cell in nb.cells:
        if PROVENANCE_TAG not in cell.metadata.get("tags", []):
            kept.append(cell)
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PROVENANCE_MIMETYPE in data:
                found = dict(data[PROVENANCE_MIMETYPE])
    nb.cells = kept
    return found


def _output_text(output: Any) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    return str((output.get("data") or {}).get("text/plain", ""))


def code_cell_numbers(nb: Any) -> dict[int, int]:
    """Notebook cell index -> number among the post's own code cells (1-based)."""
    numbers: dict[int, int] = {}
    for index, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and INJECTED_TAG not in tags and PROVENANCE_TAG not in tags:
            numbers[index] = len(numbers) + 1
    return numbers


def cell_lines(post: SourcePost, nb: Any) -> dict[int, int]:
    """Code cell number -> line of the post file where that cell's code starts
    (none for an .ipynb: its lines are JSON, the cell number says where)."""
    lines: dict[int, int] = {}
    if post.path.suffix == ".ipynb":
        return lines
    offset = 0
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        first = cell.source.split("\n", 1)[0]
        if not first.strip():
            continue
        found = post.text.find(first, offset)
        if found >= 0:
            lines[number] = post.text.count("\n", 0, found) + 1
            offset = found + len(first)
    return lines


def one_line(text: str) -> str:
    """The first line of a message, terminal control sequences removed."""
    text = printable(text).strip()
    return text.splitlines()[0][:300] if text else ""


def _seconds(value: float | None) -> str:
    return f"{value:g} s" if value else "the limit"


def relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name  # never print a machine's absolute path


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
