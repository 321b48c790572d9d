"""The execution stage: which posts run, and what each post shows.

    execute_posts(posts, settings) -> ExecutionReport   (never raises for a post failure)
    post_statuses(posts, settings) -> list[PostStatus]  (`make status`; starts no kernel)
    posts_to_run(posts, settings) -> list[str]          (what a shard divides; starts no kernel)

All three take decision.decide on the facts _plan gathers, so they agree.

A post runs when its front matter has Jupytext's `jupyter.kernelspec` (and not
`execute: false`). It is read with jupytext; its `parameters` cell defaults are
overridden by front matter `parameters:`, the profile and the command line;
its freeze key (keys.freeze_key) is compared with the committed entry:

    key unchanged, not forced  -> "frozen": outputs from the freeze under the
                                  current prose (prose edits never execute); so is
                                  a real-model run of the current code where the
                                  models resolve to stand-ins
    key changed / never run    -> run (runner.py) and stored in the freeze:
                                  "executed", or "failed" (last good entry kept)
    cannot run here (not selected, execution off, needs a GPU, models missing)
                               -> "stale-frozen" (last good outputs + notice) or
                                  "not-executed" (code without outputs + notice)

Front matter read here: `SourcePost.run` (records.ExecutionFrontMatter, validated
by content/read.py): parameters, inputs, timeouts, allow_errors, requires, models
(through ExecutionSettings.resolve_models). `warnings` is read by convert.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from execblog.config import DEFAULT_PROVENANCE_PACKAGES
from execblog.content.read import declared_inputs
from execblog.errors import BuildError
from execblog.execution.decision import Decision, Policy, PostFacts, decide
from execblog.execution.devices import nvidia_device_present
from execblog.execution.freeze import CorruptEntryError, FreezeStore, FrozenEntry, SecretInEntry
from execblog.execution.kernel import KERNEL_NAME
from execblog.execution.keys import (
    canonical_json,
    code_cells_of,
    digest_bytes,
    freeze_key,
    parameters_to_inject,
    parse_parameter_defaults,
    resolve_parameters,
)
from execblog.execution.progress import Progress, SummaryRow, format_summary
from execblog.execution.redact import Redactor
from execblog.execution.runner import (
    INJECTED_TAG,
    SECRET_FIX,
    ExecutionFailure,
    Runner,
    RunnerOptions,
    RunOutcome,
    RunRequest,
    cell_lines,
    code_cell_numbers,
    now_iso,
    one_line,
    relative,
)
from execblog.execution.secret_env import secret_env_values
from execblog.notebook.cell_options import key_source
from execblog.records import ExecutedPost, ExecutionStatus, SourcePost

if TYPE_CHECKING:
    from execblog.execution.warm import WarmPool


@dataclass(frozen=True)
class ExecutionSettings:
    site_dir: Path
    freeze_dir: Path | None = None  # default <site>/_freeze (committed)
    work_dir: Path | None = None  # default <site>/.execblog (git-ignored: failed runs, kernel logs)
    kernel_name: str = KERNEL_NAME
    profile: str = "auto"
    profile_parameters: Mapping[str, Any] = field(default_factory=dict)
    profile_env: Mapping[str, str] = field(default_factory=dict)
    cli_parameters: Mapping[str, Any] = field(default_factory=dict)  # typed (keys.parse_assignments)
    cell_timeout: float | None = 600.0  # seconds; None = no limit
    post_timeout: float | None = 3600.0
    startup_timeout: float = 60.0  # kernel start
    jobs: int = 1  # CPU posts in parallel
    gpu_slots: int = 1  # `requires: gpu` posts in parallel
    keep_going: bool = False
    force_posts: frozenset[str] | Literal["all"] = frozenset()
    only_posts: frozenset[str] | None = None  # None = any stale post may run
    allow_execution: bool = True  # False: render from the freeze only
    gpu_available: bool | None = None  # None = detect (nvidia-smi, /dev/nvidia0)
    run_gpu_posts_without_gpu: bool = False  # e.g. a profile that runs them on stand-ins
    strict: bool = False  # a post held back fails the build (ExecutionReport.refused)
    secret_env_names: tuple[str, ...] = ()  # redacted besides *TOKEN*, *KEY*, *SECRET*, *PASSWORD*
    provenance_packages: tuple[str, ...] = DEFAULT_PROVENANCE_PACKAGES  # versions recorded when imported
    # For posts with front matter `models:`: what they load on this machine, duck-typed like
    # models.ModelResolution (env, parameters, key, stand_ins, unavailable, reasons).
    resolve_models: Callable[[SourcePost], Any] | None = None
    progress: bool = True
    progress_stream: TextIO | None = None  # default sys.stderr
    spares: WarmPool | None = None  # `serve`: spare kernels that ran a post's setup ahead (execution/warm.py)

    @property
    def freeze_root(self) -> Path:
        return self.freeze_dir or self.site_dir / "_freeze"

    @property
    def work_root(self) -> Path:
        return self.work_dir or self.site_dir / ".execblog"

    def store(self) -> FreezeStore:
        return FreezeStore(self.freeze_root, self.work_root / "failed")


@dataclass(frozen=True)
class ExecutionReport:
    posts: list[ExecutedPost]  # in input order
    rows: list[SummaryRow]  # executable posts only
    failures: list[ExecutionFailure]
    executed: list[str]  # names of the posts run (successfully) in this build
    elapsed: float
    warnings: list[str] = field(default_factory=list)  # e.g. posts held back for missing models
    # (post path, "stale-frozen" | "not-executed", why) for each post shown without a current run
    held_back: list[tuple[str, str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # messages: held back under a strict profile
    # name -> value of every secret redacted in this build, for redact.scan_for_secrets (never printed)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary_table(self) -> str:
        return format_summary(self.rows, self.elapsed)


@dataclass(frozen=True)
class PostStatus:
    name: str
    path: str
    status: str  # fresh, stale, never run, failed, corrupt, plain, disabled, error
    detail: str = ""


# --- reading posts ------------------------------------------------------------------------------
def source_notebook(post: SourcePost) -> Any:
    """The post as jupytext reads it, without the front-matter raw cell; a notebook
    post's own notebook, its saved outputs kept only when it is not to run."""
    import jupytext

    if post.notebook is not None:
        nb = copy.deepcopy(post.notebook)
        if post.execute:  # outputs come from a run (or the freeze), never from the file
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
        for index, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{index}"
        return nb
    try:
        nb = jupytext.reads(post.text, fmt="md")
    except Exception as exc:  # e.g. nbformat rejects a kernelspec without display_name
        raise NotebookReadError(one_line(str(exc))) from exc
    if nb.cells and nb.cells[0].cell_type == "raw" and nb.cells[0].source.lstrip().startswith("---"):
        nb.cells = nb.cells[1:]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"  # jupytext draws random ids; a run must not depend on them
    return nb


class NotebookReadError(Exception):
    pass


class InputsError(Exception):
    pass


def input_digests(post: SourcePost) -> dict[str, str]:
    """Digests of the files the post declares in `inputs:` (see content.declared_inputs)."""
    base = post.source_dir
    digests: dict[str, str] = {}
    for entry, files in declared_inputs(post):
        if not files:
            raise InputsError(entry)
        for file in files:
            digests[file.relative_to(base).as_posix()] = digest_bytes(file.read_bytes())
    return digests


def _timeout(value: float | None, fallback: float | None) -> float | None:
    """A front matter limit (None: the site's; 0: none) as the runner's (None: none)."""
    if value is None:
        return fallback
    return value or None


@dataclass
class _Plan:
    """What this build knows and decides about one post."""

    post: SourcePost
    index: int
    notebook: Any | None = None
    key: str | None = None
    resolved: dict[str, Any] = field(default_factory=dict)
    inject: dict[str, Any] = field(default_factory=dict)
    entry: FrozenEntry | None = None
    gpu: bool = False
    allow_errors: bool = False
    cell_timeout: float | None = None
    post_timeout: float | None = None
    inputs_error: str | None = None
    read_error: str | None = None
    corrupt: str | None = None  # why its freeze entry cannot be used (it is then treated as absent)
    models: dict[str, Any] = field(default_factory=dict)  # what the model resolution added to the key
    env: dict[str, str] = field(default_factory=dict)  # from the model resolution
    stand_ins: tuple[str, ...] = ()
    blocked: str | None = None  # why it cannot run on this machine

    def request(self) -> RunRequest:
        return RunRequest(
            index=self.index,
            post=self.post,
            notebook=self.notebook,
            key=self.key,
            inject=self.inject,
            allow_errors=self.allow_errors,
            cell_timeout=self.cell_timeout,
            post_timeout=self.post_timeout,
            env=self.env,
            gpu=self.gpu,
        )


def _plan(post: SourcePost, index: int, settings: ExecutionSettings, store: FreezeStore) -> _Plan:
    plan = _Plan(post, index)
    if not post.executable:
        return plan
    try:
        nb = source_notebook(post)
    except NotebookReadError as exc:
        plan.read_error = str(exc)
        return plan
    plan.notebook = nb
    plan.gpu = post.run.gpu
    plan.allow_errors = post.run.allow_errors
    plan.cell_timeout = _timeout(post.run.cell_timeout, settings.cell_timeout)
    plan.post_timeout = _timeout(post.run.timeout, settings.post_timeout)
    if not post.execute:
        return plan
    defaults: dict[str, Any] = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            defaults.update(parse_parameter_defaults(cell.source))
    front = post.run.parameters
    try:
        plan.entry = store.load(post.name)
    except CorruptEntryError as exc:
        plan.corrupt = str(exc)
    if settings.allow_execution:
        resolution = _resolve_models(post, settings, plan)
        plan.models = {
            "key": str(getattr(resolution, "key", "") or ""),
            "parameters": dict(getattr(resolution, "parameters", None) or {}),
        }
    else:
        # Rendering only (the render job of a publish): what this machine could load does not
        # matter; the key is checked against what the frozen run loaded.
        recorded = plan.entry.meta.get(MODELS_META) if plan.entry is not None else None
        plan.models = recorded if isinstance(recorded, dict) else {"key": "", "parameters": {}}
    # A stand-in's small sizes sit above the post's values, below the profile and the command line.
    profile = {**dict(plan.models.get("parameters") or {}), **settings.profile_parameters}
    plan.resolved = resolve_parameters(defaults, front, profile, settings.cli_parameters)
    plan.inject = parameters_to_inject(defaults, plan.resolved)
    try:
        digests = input_digests(post)
    except InputsError as exc:
        plan.inputs_error = str(exc)
        digests = {}
    plan.key = freeze_key(
        code_cells=code_cells_of(nb),
        parameters=plan.resolved,
        profile=settings.profile,
        kernel=settings.kernel_name,
        inputs=digests,
        extra={"allow_errors": plan.allow_errors, "models": str(plan.models.get("key") or "")},
    )
    return plan


MODELS_META = "model_resolution"  # meta.json: the models' key and parameters a run used


def _resolve_models(post: SourcePost, settings: ExecutionSettings, plan: _Plan) -> Any:
    if not post.run.models or settings.resolve_models is None:
        return None
    try:
        resolution = settings.resolve_models(post)
    except BuildError:  # the site's own mistake (e.g. a model without a stand-in recipe): stop the build
        raise
    except Exception as exc:  # e.g. models.ModelsUnavailableError under the gpu profile
        plan.blocked = f"its models are not available here ({one_line(str(exc))})"
        return None
    plan.env = {k: str(v) for k, v in (getattr(resolution, "env", None) or {}).items()}
    plan.stand_ins = tuple(getattr(resolution, "stand_ins", ()) or ())
    unavailable = tuple(getattr(resolution, "unavailable", ()) or ())
    if unavailable:
        reasons = getattr(resolution, "reasons", None) or {}
        detail = "; ".join(f"{m}: {reasons[m]}" if m in reasons else m for m in unavailable)
        plan.blocked = f"its models are not available here ({detail})"
    return resolution


# --- frozen outputs under the current prose ------------------------------------------------------------
def attach_outputs(source_nb: Any, frozen_nb: Any) -> tuple[Any, bool]:
    """The current prose with the frozen code cells and their outputs.

    Code cells are aligned by source (presentation options aside: an unchanged
    cell gets its outputs under its current options); a changed cell is shown
    as it was frozen (old code with its outputs, so code and output always
    match); a new cell is shown without outputs; a removed
    one is dropped. Returns (notebook, complete): complete is False when some
    code cell differs from the frozen run. Papermill's injected-parameters
    cell stays after the cell it followed."""
    nb = copy.deepcopy(source_nb)
    frozen_code = [c for c in frozen_nb.cells if c.cell_type == "code"]
    frozen_plain = [c for c in frozen_code if INJECTED_TAG not in c.metadata.get("tags", [])]
    injected_after: dict[int, Any] = {}  # frozen code cell position -> the injected cell after it
    previous = -1
    for cell in frozen_code:
        if INJECTED_TAG in cell.metadata.get("tags", []):
            injected_after[previous] = cell
        else:
            previous += 1
    source_code = [c for c in nb.cells if c.cell_type == "code"]
    # Compared as the freeze key sees them: a cell whose caption or alt text changed is the cell that ran.
    matcher = difflib.SequenceMatcher(
        a=[key_source(c.source) for c in frozen_plain], b=[key_source(c.source) for c in source_code], autojunk=False
    )
    complete = True
    matched: dict[int, int] = {}  # source code cell -> frozen code cell position
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        complete = complete and tag == "equal"
        if tag in ("equal", "replace"):
            matched.update({b0 + k: a0 + k for k in range(min(a1 - a0, b1 - b0))})
    cells: list[Any] = []
    if -1 in injected_after:
        cells.append(copy.deepcopy(injected_after[-1]))
    code_index = -1
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        code_index += 1
        position = matched.get(code_index)
        if position is None:
            cells.append(cell)
            continue
        frozen = copy.deepcopy(frozen_plain[position])
        frozen["id"] = cell.get("id", frozen.get("id"))
        if key_source(frozen.source) == key_source(cell.source):
            frozen["source"] = cell.source  # the same code: its current presentation options apply
        cells.append(frozen)
        if position in injected_after:
            cells.append(copy.deepcopy(injected_after[position]))
    nb.cells = cells
    for key in ("language_info", "papermill", "widgets"):  # widgets: the saved state widget outputs show
        if key in frozen_nb.metadata:
            nb.metadata[key] = copy.deepcopy(frozen_nb.metadata[key])
    return nb, complete


def _restored(plan: _Plan, status: ExecutionStatus, notice: str | None) -> ExecutedPost:
    """The post as the freeze entry shows it (or its bare code when there is none)."""
    entry = plan.entry
    if entry is None:
        return ExecutedPost(source=plan.post, status=status, notebook=plan.notebook, notice=notice)
    nb, complete = attach_outputs(plan.notebook, entry.notebook())
    if not complete and status in ("frozen", "executed"):
        status = "stale-frozen"
    meta = entry.meta
    provenance = {
        **meta.get("provenance", {}),
        "executed_at": meta.get("executed_at"),
        "duration_s": meta.get("duration_s"),
        "profile": meta.get("profile"),
        "kernel": meta.get("kernel"),
        "parameters": meta.get("parameters", {}),
    }
    return ExecutedPost(
        source=plan.post,
        status=status,
        notebook=nb,
        asset_dir=entry.folder,
        provenance=provenance,
        stand_in_models=tuple(meta.get("stand_in_models", ())),
        notice=notice,
    )


# --- the stage ---------------------------------------------------------------------------------------------
def execute_posts(posts: Sequence[SourcePost], settings: ExecutionSettings) -> ExecutionReport:
    """Run or restore every post; failures are in the report, never raised."""
    t0 = time.monotonic()
    store = settings.store()
    progress = Progress(settings.progress_stream, settings.progress)
    plans = [_plan(post, index, settings, store) for index, post in enumerate(posts)]
    redactor = _redactor(settings, [plan.env for plan in plans])
    gpu_available = settings.gpu_available if settings.gpu_available is not None else nvidia_device_present()

    results: dict[int, ExecutedPost] = {}
    rows: dict[int, SummaryRow] = {}
    failures: dict[int, ExecutionFailure] = {}
    to_run: list[_Plan] = []
    held_back: dict[int, str] = {}  # index -> why a stale post was not run
    warnings: list[str] = []
    refused: list[str] = []  # posts a strict profile may not publish as they are

    def fail(plan: _Plan, failure: ExecutionFailure, note: str) -> None:
        failures[plan.index] = failure
        results[plan.index] = _restored(plan, "failed", _failed_notice(failure, plan.entry))
        rows[plan.index] = SummaryRow(plan.post.name, "failed", note=note)
        progress.message(failure.message())  # as a failed run's is, when it happens

    for plan in plans:
        post = plan.post
        if not post.executable:  # most posts: decision.decide skips them, with nothing to say
            results[plan.index] = ExecutedPost(source=post, status="plain")
            continue
        decision = decide(_facts(plan, store), _policy(post, settings, gpu_available))
        path = relative(post.path, settings.site_dir)
        if decision.action == "skip":
            results[plan.index] = ExecutedPost(source=post, status="not-executed", notebook=plan.notebook)
            rows[plan.index] = SummaryRow(post.name, "not-executed", note="execute: false")
        elif decision.action == "reuse":
            results[plan.index] = _restored(plan, "frozen", None)
            rows[plan.index] = SummaryRow(post.name, "frozen", note=decision.reason)
        elif decision.kind == "read":
            fail(
                plan,
                ExecutionFailure(
                    post=post.name,
                    path=path,
                    kind="read",
                    error=decision.reason,
                    fix="check the front matter's `jupyter:` section (`jupytext --set-kernel execblog` writes "
                    "a valid kernelspec with name, display_name and language)",
                ),
                "read",
            )
        elif decision.kind == "inputs":
            fail(
                plan,
                ExecutionFailure(
                    post=post.name,
                    path=path,
                    kind="inputs",
                    error=f"front matter inputs: {plan.inputs_error!r} matches no file in the post's folder",
                    fix="correct the path (relative to the post's folder) or remove it from `inputs:`",
                ),
                "inputs",
            )
        elif decision.kind == "freeze":
            fail(
                plan,
                ExecutionFailure(
                    post=post.name,
                    path=path,
                    kind="freeze",
                    error=str(plan.corrupt),
                    fix=f"execute the post again (a build without --no-execute), or restore the entry with "
                    f"`git checkout -- {relative(settings.freeze_root / post.name, settings.site_dir)}`",
                ),
                "freeze",
            )
        elif decision.action in ("keep-stale", "fail"):  # fail: kept stale under a strict profile
            held_back[plan.index] = decision.reason
            if decision.kind == "strict":
                refused.append(_strict_failure(path, plan.entry is not None, decision.reason, settings.profile))
            if plan.blocked is not None:
                warnings.append(f"{path}: not executed: {decision.reason}")
        else:
            if plan.corrupt is not None:
                progress.message(f"{path}: {plan.corrupt}; executing the post again")
            to_run.append(plan)

    outcomes: dict[int, RunOutcome] = {}
    options = RunnerOptions(
        site_dir=settings.site_dir,
        log_dir=settings.work_root / "logs",
        kernel_name=settings.kernel_name,
        profile=settings.profile,
        profile_env={k: str(v) for k, v in settings.profile_env.items()},
        startup_timeout=settings.startup_timeout,
        jobs=settings.jobs,
        gpu_slots=settings.gpu_slots,
        keep_going=settings.keep_going,
        provenance_packages=settings.provenance_packages,
        spares=settings.spares,
    )
    if to_run:
        progress.start()
        try:
            outcomes = Runner(options, store, redactor, progress).run_all([p.request() for p in to_run], gpu_available)
        finally:
            progress.stop()
    if settings.spares is not None:  # ready for the next code edit (the pool picks the posts edited last)
        runnable = [
            p
            for p in plans
            if p.key is not None
            and p.read_error is None
            and p.inputs_error is None
            and p.blocked is None
            and p.post.execute
            and (gpu_available or not p.gpu or settings.run_gpu_posts_without_gpu)
        ]
        settings.spares.keep([p.request() for p in runnable], options)

    executed: list[str] = []
    for plan in to_run:
        post = plan.post
        outcome = outcomes.get(plan.index)
        if outcome is None:  # never started: the build stopped at an earlier failure
            held_back[plan.index] = "skipped: the build stopped at an earlier failure"
            continue
        slowest = max(outcome.cell_seconds, key=outcome.cell_seconds.__getitem__, default=None)
        timing = (outcome.seconds, slowest, outcome.cell_seconds.get(slowest) if slowest else None)
        if outcome.failure is None:
            try:
                plan.entry = store.save(
                    post.name, outcome.notebook, _meta(plan, outcome, settings, redactor), secrets=redactor.secrets
                )
            except SecretInEntry as exc:  # the last good entry stays
                outcome.failure = _secret_failure(plan, outcome.notebook, exc, settings, redactor)
        if outcome.failure is None:
            results[plan.index] = _restored(plan, "executed", None)
            rows[plan.index] = SummaryRow(post.name, "executed", *timing)
            executed.append(post.name)
        else:
            failures[plan.index] = outcome.failure
            results[plan.index] = _restored(plan, "failed", _failed_notice(outcome.failure, plan.entry))
            rows[plan.index] = SummaryRow(post.name, "failed", *timing, note=outcome.failure.kind)
    stale: list[tuple[str, str, str]] = []
    for index, reason in held_back.items():
        results[index], rows[index] = _held_back(plans[index], reason)
        if not reason.startswith("skipped: "):
            stale.append((relative(plans[index].post.path, settings.site_dir), results[index].status, reason))

    report = ExecutionReport(
        posts=[results[i] for i in range(len(posts))],
        rows=[rows[i] for i in sorted(rows)],
        failures=[failures[i] for i in sorted(failures)],
        executed=executed,
        elapsed=time.monotonic() - t0,
        warnings=warnings,
        held_back=stale,
        refused=refused,
        secrets=dict(redactor.secrets),
    )
    if to_run or failures:
        progress.message(report.summary_table())
    return report


def _facts(plan: _Plan, store: FreezeStore) -> PostFacts:
    """What decision.decide needs to know about the post, from its plan."""
    post, entry = plan.post, plan.entry
    ok = entry is not None and entry.meta.get("status") == "ok"
    key_matches = ok and entry is not None and entry.key == plan.key
    failure = store.failure(post.name) if plan.key is not None else None
    return PostFacts(
        executable=post.executable,
        execute=post.execute,
        read_error=plan.read_error,
        inputs_error=plan.inputs_error,
        entry="corrupt" if plan.corrupt is not None else "ok" if ok else "none",
        key_matches=key_matches,
        code_matches=ok and not key_matches and _frozen_code_matches(plan),
        entry_real=entry is not None and not entry.meta.get("stand_in_models"),
        models_recorded=entry is None or MODELS_META in entry.meta,
        has_models=bool(post.run.models),
        stand_ins=bool(plan.stand_ins),
        last_failed=failure is not None and failure.get("key") == plan.key,
        needs_gpu=plan.gpu,
        blocked=plan.blocked,
    )


def _policy(post: SourcePost, settings: ExecutionSettings, gpu_available: bool) -> Policy:
    return Policy(
        execute=settings.allow_execution,
        force=settings.force_posts == "all" or post.name in settings.force_posts,
        selected=settings.only_posts is None or post.name in settings.only_posts,
        gpu=gpu_available or settings.run_gpu_posts_without_gpu,
        strict=settings.strict,
    )


def _frozen_code_matches(plan: _Plan) -> bool:
    """The post's code cells are the ones its last good run executed."""
    entry = plan.entry
    if entry is None or entry.meta.get("status") != "ok" or plan.notebook is None:
        return False
    ran = [c for c in entry.notebook().cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    return code_cells_of(plan.notebook) == code_cells_of({"cells": ran})


def _strict_failure(path: str, has_entry: bool, why: str, profile: str) -> str:
    what = "its frozen outputs are stale" if has_entry else "it has no frozen outputs"
    return (
        f"{path}: {what} and it was not executed in this build ({why}); profile `{profile}` is strict\n"
        f"  fix: execute it first (make publish PROFILE={profile}, without NO_EXECUTE) and publish "
        "the freeze entry it writes"
    )


def _held_back(plan: _Plan, reason: str) -> tuple[ExecutedPost, SummaryRow]:
    skipped = reason.startswith("skipped: ")
    why = reason.removeprefix("skipped: ")
    status_row = "skipped" if skipped else None
    if plan.entry is not None:
        notice = (
            f"The code of this post changed since its outputs were made ({_run_date(plan.entry)}); "
            f"it was not re-run because {why}."
        )
        row = SummaryRow(plan.post.name, status_row or "stale-frozen", note=why)
        return _restored(plan, "stale-frozen", notice), row
    notice = f"This post has not been executed yet ({why}); its code is shown without outputs."
    executed = ExecutedPost(source=plan.post, status="not-executed", notebook=plan.notebook, notice=notice)
    return executed, SummaryRow(plan.post.name, status_row or "not-executed", note=why)


def _meta(plan: _Plan, outcome: RunOutcome, settings: ExecutionSettings, redactor: Redactor) -> dict[str, Any]:
    provenance = dict(outcome.provenance)
    stand_ins = list(dict.fromkeys([*plan.stand_ins, *provenance.pop("stand_in_models", [])]))
    return {
        "post": plan.post.name,
        "source": relative(plan.post.path, settings.site_dir),
        "key": plan.key,
        "status": "ok",
        "executed_at": now_iso(),
        "duration_s": round(outcome.seconds, 2),
        "cells": {str(n): round(s, 3) for n, s in sorted(outcome.cell_seconds.items())},
        "parameters": redactor.json(json.loads(canonical_json(plan.resolved))),
        "profile": settings.profile,
        "kernel": settings.kernel_name,
        "provenance": provenance,
        "stand_in_models": stand_ins,
        MODELS_META: redactor.json(plan.models),
    }


def _secret_failure(
    plan: _Plan, notebook: Any, exc: SecretInEntry, settings: ExecutionSettings, redactor: Redactor
) -> ExecutionFailure:
    """The run is not frozen: name the first cell whose output still holds a secret."""
    fields: dict[str, Any] = {}
    number = code_cell_numbers(notebook).get(exc.cells[0]) if exc.cells else None
    if number is not None:
        head = "\n".join(notebook.cells[exc.cells[0]].source.splitlines()[:4])
        fields = {
            "cell": number,
            "line": cell_lines(plan.post, plan.notebook).get(number),
            "cell_head": redactor.text(head),
        }
    return ExecutionFailure(
        post=plan.post.name,
        path=relative(plan.post.path, settings.site_dir),
        kind="secret",
        error=f"{exc} of the new freeze entry; it was not written",
        fix=SECRET_FIX,
        **fields,
    )


def _run_date(entry: FrozenEntry) -> str:
    return str(entry.meta.get("executed_at", "an earlier run"))


def _failed_notice(failure: ExecutionFailure, entry: FrozenEntry | None) -> str:
    where = f"code cell {failure.cell}: " if failure.cell else ""
    what = f"The latest run of this post failed ({where}{failure.error})"
    if entry is not None:
        return f"{what}; the outputs shown are from the last good run ({_run_date(entry)})."
    return f"{what}; its code is shown without outputs."


def _redactor(settings: ExecutionSettings, kernel_envs: Iterable[Mapping[str, str]] = ()) -> Redactor:
    """Secrets of every environment a kernel may see: ours, the profile's, the models'."""
    environ = {**os.environ, **{k: str(v) for k, v in settings.profile_env.items()}}
    secrets = secret_env_values(environ, settings.secret_env_names)
    for env in kernel_envs:
        for name, value in secret_env_values(env, settings.secret_env_names).items():
            if secrets.get(name, value) != value:  # same name, another value: keep both
                name = f"{name}~{len(secrets)}"
            secrets[name] = value
    return Redactor(secrets, home=str(Path.home()))


# --- make status -------------------------------------------------------------------------------------
def post_statuses(posts: Sequence[SourcePost], settings: ExecutionSettings) -> list[PostStatus]:
    """fresh / stale / never run / failed for each executable post (plain and
    `execute: false` posts are listed as such), by the decision a build with
    these settings takes (decision.decide). Starts no kernel."""
    return [status for status, _decision in _decisions(posts, settings)]


def posts_to_run(posts: Sequence[SourcePost], settings: ExecutionSettings) -> list[str]:
    """The names of the posts a build with these settings would execute (what a shard divides)."""
    return [status.name for status, decision in _decisions(posts, settings) if decision.action == "run"]


def _decisions(posts: Sequence[SourcePost], settings: ExecutionSettings) -> list[tuple[PostStatus, Decision]]:
    store = settings.store()
    gpu_available = settings.gpu_available if settings.gpu_available is not None else nvidia_device_present()
    out = []
    for index, post in enumerate(posts):
        plan = _plan(post, index, settings, store)
        decision = decide(_facts(plan, store), _policy(post, settings, gpu_available))
        detail = decision.reason
        if decision.status in ("fresh", "stale") and plan.entry is not None:
            detail = "; ".join(filter(None, [f"run {_run_date(plan.entry)}", decision.reason]))
        elif decision.status == "failed":
            detail = str((store.failure(post.name) or {}).get("kind", ""))
        elif decision.status == "corrupt":
            detail = str(plan.corrupt)
        out.append((PostStatus(post.name, relative(post.path, settings.site_dir), decision.status, detail), decision))
    return out


def format_statuses(statuses: Iterable[PostStatus]) -> str:
    rows = [("post", "status", "")] + [(s.path, s.status, s.detail) for s in statuses]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}".rstrip() for r in rows)


__all__ = [
    "ExecutionFailure",
    "ExecutionReport",
    "ExecutionSettings",
    "PostStatus",
    "SummaryRow",
    "attach_outputs",
    "execute_posts",
    "format_statuses",
    "format_summary",
    "NotebookReadError",
    "input_digests",
    "post_statuses",
    "posts_to_run",
    "source_notebook",
]
