"""Spare kernels for `serve`: a code edit re-runs its post without paying for its imports.

    pool = shared_pool(size)          # the process's pool (`serve`); close_shared_pool() when it stops
    pool.keep(requests, options)      # spares for the most recently edited of these posts
    pool.take(request, options, loop) # a ready spare for this run, or None (the run starts a cold kernel)

A spare is a kernel started for one post exactly as the runner starts one (the
post's folder, its environment), that has then run the post's *setup* and
nothing else:

* its setup cells: the leading code cells (in the notebook as papermill
  parameterizes it) that hold only import statements, with the `parameters`
  cell (literal assignments only) and papermill's injected cell among them,
  up to the last import cell (`setup_of`, checked with `ast`). They run as
  nbclient runs them; their outputs and execution counts are recorded, and
  the run skips them and puts those back, so its freeze entry is a cold
  run's except for timings;
* then, silently (no execution count, no history), the import statements
  that open the next code cell (what they print, e.g. a warning, is put in
  front of that cell's outputs, as a cold run shows it), then the modules
  front matter `preload:` names. A spare is dropped when those imports fail
  or display anything but text, or when a `preload:` import prints at all
  (a cold run would show it where the post imports the module).

Soundness: a spare runs none of the post's other code, a run takes it from
the pool (it is never given back; the runner kills it after the run like any
kernel), and a spare is used only when its setup, parameters, environment and
the post's local Python modules (`*.py` under the post's folder, by mtime) are
what the run would use. Anything else makes the run start a cold kernel.
Spares are prepared one at a time on the pool's own thread (with its own
asyncio loop), killed when they no longer match, and all of them when the pool
closes (`serve` stopping) or the process exits (the runner's registry).
Only `serve` has a pool: `publish` runs one cold kernel per post.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import copy
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from execblog.execution.runner import KernelProcess, RanAhead, RunnerOptions, RunRequest, parameterized
from execblog.notebook import tags
from execblog.records import SourcePost


def preload_names(post: SourcePost) -> tuple[str, ...]:
    """Front matter `preload:` (a module name or a list): modules a spare imports ahead."""
    value = post.params.get("preload") or ()
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
    return tuple(str(name) for name in names if str(name).replace(".", "").replace("_", "").isalnum())


def _statements(source: str) -> list[ast.stmt] | None:
    try:
        return ast.parse(source).body
    except SyntaxError:  # magics, shell escapes
        return None


def _only_imports(body: list[ast.stmt]) -> bool:
    return bool(body) and all(isinstance(node, ast.Import | ast.ImportFrom) for node in body)


def _only_literals(body: list[ast.stmt]) -> bool:
    """Assignments of literal values to plain names (a parameters cell), nothing that runs code."""
    for node in body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            return False
        if not all(isinstance(target, ast.Name) for target in targets):
            return False
        try:
            ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
    return True


@dataclass(frozen=True)
class Setup:
    cells: tuple[int, ...] = ()  # indices in the parameterized notebook, run ahead in this order
    imports: str = ""  # the import statements opening the next code cell, run silently after them
    following: int | None = None  # that cell's index
    preload: str = ""  # front matter `preload:`, run silently last

    def __bool__(self) -> bool:
        return bool(self.cells or self.imports or self.preload)


def setup_of(nb: Any, preload: Sequence[str] = ()) -> Setup:
    """What a spare may run ahead of the post (see the module docstring); `nb` is parameterized."""
    cells: list[int] = []
    last_import = -1
    following: list[ast.stmt] = []
    source = ""
    at = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        named = tags.cell_tags(cell)
        body = _statements(cell.source)
        if named & {tags.SKIP_EXECUTION, tags.RAISES_EXCEPTION} or body is None:
            break
        if tags.PARAMETERS in named or tags.INJECTED_PARAMETERS in named:
            if not _only_literals(body):
                break
        elif _only_imports(body):
            last_import = len(cells)
        else:
            following, source, at = body, cell.source, index
            break
        cells.append(index)
    lines = []
    for node in following:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            break
        lines.append(ast.get_source_segment(source, node) or "")
    imports = "\n".join(line for line in lines if line)
    return Setup(
        tuple(cells[: last_import + 1]),
        imports,
        at if imports else None,
        "\n".join(f"import {name}" for name in preload),
    )


# --- the pool -------------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Spare:
    key: tuple[Any, ...]
    request: RunRequest
    options: RunnerOptions
    setup: Setup
    started: float = field(default_factory=time.time)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex)  # the kernel's, known before it starts
    ready: threading.Event = field(default_factory=threading.Event)
    kernel: KernelProcess | None = None
    ran: dict[int, RanAhead] = field(default_factory=dict)
    usable: bool = False
    dropped: bool = False


def _key(request: RunRequest, options: RunnerOptions, setup: Setup) -> tuple[Any, ...]:
    nb = parameterized(request.notebook, request.inject, options.kernel_name)
    return (
        request.post.name,
        str(request.post.source_dir),
        options.kernel_name,
        options.profile,
        tuple(sorted(options.profile_env.items())),
        tuple(sorted(request.env.items())),
        tuple(nb.cells[i].source for i in setup.cells),
        setup.imports,
        setup.preload,
        request.cell_timeout,
    )


def _modules_changed(folder: Path, since: float) -> bool:
    with contextlib.suppress(OSError):
        return any(path.stat().st_mtime >= since for path in folder.rglob("*.py"))
    return True


class WarmPool:
    """At most `size` spares, one per post (see the module docstring)."""

    def __init__(self, size: int):
        self.size = size
        self._spares: dict[str, _Spare] = {}
        self._lock = threading.Lock()
        self._jobs: queue.Queue[_Spare | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- what the execution stage calls ----------------------------------------------------------------
    def keep(self, requests: Sequence[RunRequest], options: RunnerOptions) -> None:
        """Spares for the `size` posts among `requests` whose files changed last; others are dropped."""

        def edited(request: RunRequest) -> float:
            with contextlib.suppress(OSError):
                return request.post.path.stat().st_mtime
            return 0.0

        wanted: dict[str, _Spare] = {}
        for request in sorted(requests, key=edited, reverse=True):
            if len(wanted) == self.size:
                break
            if request.notebook is None:
                continue
            nb = parameterized(request.notebook, request.inject, options.kernel_name)
            setup = setup_of(nb, preload_names(request.post))
            if setup:
                wanted[request.post.name] = _Spare(_key(request, options, setup), request, options, setup)
        with self._lock:
            if self._closed:
                return
            for name, spare in list(self._spares.items()):
                if name not in wanted or wanted[name].key != spare.key:
                    self._drop(self._spares.pop(name))
            for name, spare in wanted.items():
                if name not in self._spares:
                    self._spares[name] = spare
                    self._jobs.put(spare)
            if self._thread is None and self._spares:
                self._thread = threading.Thread(target=self._work, name="execblog-spares", daemon=True)
                self._thread.start()

    def take(
        self, request: RunRequest, options: RunnerOptions, loop: asyncio.AbstractEventLoop
    ) -> KernelProcess | None:
        """The post's spare, ready and matching this run (waits while it is being prepared), or None."""
        with self._lock:
            spare = self._spares.pop(request.post.name, None)
        if spare is None:
            return None
        if spare.key != _key(request, options, spare.setup):
            self._drop(spare)
            return None
        spare.ready.wait()
        if not spare.usable or spare.kernel is None or _modules_changed(request.post.source_dir, spare.started):
            self._drop(spare)
            return None
        spare.kernel.adopt(loop, spare.ran)
        return spare.kernel

    def wait(self, timeout: float | None = None) -> bool:
        """Until every spare wanted now is prepared (or dropped); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            spares = list(self._spares.values())
        for spare in spares:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not spare.ready.wait(left):
                return False
        return True

    def kernel_tags(self) -> set[str]:
        """Tags of the spares' kernels: the runner's cleanup after a build leaves their processes alone."""
        with self._lock:
            return {spare.tag for spare in self._spares.values()}

    def close(self) -> None:
        """Kill every spare and stop the pool's thread."""
        with self._lock:
            self._closed = True
            spares = list(self._spares.values())
            self._spares.clear()
        for spare in spares:
            self._drop(spare)
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    # -- the pool's thread ---------------------------------------------------------------------------------
    def _drop(self, spare: _Spare) -> None:
        spare.dropped = True
        self._jobs.put(spare)  # the thread stops it (it was started on its loop)

    def _work(self) -> None:
        from jupyter_core.utils import ensure_event_loop

        from execblog.execution.runner import _close_loop

        loop = ensure_event_loop()
        try:
            while (spare := self._jobs.get()) is not None:
                if spare.kernel is None and not spare.dropped:
                    self._prepare(spare, loop)
                if spare.dropped and spare.kernel is not None:
                    kernel, spare.kernel = spare.kernel, None
                    kernel.stop()
            while not self._jobs.empty():  # closing: what was left
                left = self._jobs.get()
                if left is not None and left.kernel is not None:
                    left.kernel.stop()
                    left.kernel = None
        finally:
            _close_loop(loop)

    def _prepare(self, spare: _Spare, loop: asyncio.AbstractEventLoop) -> None:
        try:
            kernel = KernelProcess(spare.request, spare.options, loop, tag=spare.tag)
            spare.kernel = kernel
            if kernel.error is None:
                spare.ran, spare.usable = loop.run_until_complete(self._run_setup(spare, kernel))
        except Exception:  # a spare that cannot be prepared is no spare: the run starts cold
            spare.usable = False
        finally:
            spare.ready.set()
        if not spare.usable:
            self._drop(spare)

    async def _run_setup(self, spare: _Spare, kernel: KernelProcess) -> tuple[dict[int, RanAhead], bool]:
        from nbclient import NotebookClient

        request, options = spare.request, spare.options
        nb = parameterized(request.notebook, request.inject, options.kernel_name)
        client = NotebookClient(
            nb,
            km=kernel.km,
            kernel_name=options.kernel_name,
            allow_errors=False,
            coalesce_streams=True,
            record_timing=False,
            timeout=int(request.cell_timeout) if request.cell_timeout else None,
            startup_timeout=int(options.startup_timeout),
        )
        client.reset_execution_trackers()
        ran: dict[int, RanAhead] = {}
        try:
            async with client.async_setup_kernel():
                for index in spare.setup.cells:
                    t0 = time.monotonic()
                    cell = await client.async_execute_cell(nb.cells[index], index)
                    if any(output.get("output_type") == "error" for output in cell.outputs):
                        return ran, False
                    ran[index] = RanAhead(copy.deepcopy(cell.outputs), cell.execution_count, time.monotonic() - t0)
                setup = spare.setup
                if setup.imports and setup.following is not None:
                    t0 = time.monotonic()
                    said = await _silent(client, setup.imports)
                    if said is None:
                        return ran, False
                    ran[setup.following] = RanAhead(said, None, time.monotonic() - t0, before=True)
                if setup.preload and await _silent(client, setup.preload) != []:
                    return ran, False
                return ran, True
        except Exception:  # an import that fails or times out: the run shows it
            return ran, False
        finally:
            kernel.release_clients()


async def _silent(client: Any, code: str) -> list[Any] | None:
    """Run `code` without history or execution count: the text it printed (stream outputs),
    or None when it failed or displayed anything else."""
    import nbformat

    kc = client.kc
    msg_id = kc.execute(code, silent=True, store_history=False)
    reply = await client.async_wait_for_reply(msg_id)
    said: list[Any] | None = [] if reply is not None and reply["content"].get("status") == "ok" else None
    while True:
        message = await kc.get_iopub_msg(timeout=30)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content.get("execution_state") == "idle":
            return said
        if kind == "stream" and said is not None:
            said.append(nbformat.v4.new_output("stream", name=content["name"], text=content["text"]))
        elif kind in ("display_data", "update_display_data", "execute_result", "error", "clear_output"):
            said = None


_SHARED: WarmPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool(size: int) -> WarmPool:
    """The process's pool (`serve` builds again and again in one process)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED._closed:
            _SHARED = WarmPool(size)
        return _SHARED


def close_shared_pool() -> None:
    global _SHARED
    with _SHARED_LOCK:
        pool, _SHARED = _SHARED, None
    if pool is not None:
        pool.close()
