"""Whether a post runs: the one decision the build, `make status` and sharding take.

    decide(facts, policy) -> Decision(action, reason, status, kind)

Pure: `facts` is what is known about the post on this machine (its freeze
entry, its key now, what its models resolve to; execute._plan gathers them),
`policy` is what this build was asked to do. Actions:

    run         execute it in this build
    reuse       the frozen outputs are current: the key is unchanged, or the
                code is what a real-model run executed and this machine has
                only stand-ins (a real run is never replaced by a stand-in run)
    keep-stale  it should run but cannot here (render only, not selected, no
                GPU, models missing): the last good outputs, or the bare code
    skip        it never runs: a plain post, or `execute: false`
    fail        it cannot be shown as it should: its notebook or inputs cannot
                be read, its entry is corrupt and it cannot run, or it would be
                kept stale under a strict profile (`kind` says which)

`status` is the word `make status` prints: fresh, stale, never run, failed,
corrupt, plain, disabled or error. A shard runs the posts whose action is run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["run", "reuse", "keep-stale", "skip", "fail"]
Entry = Literal["none", "ok", "corrupt"]


@dataclass(frozen=True)
class PostFacts:
    executable: bool = True  # front matter has a kernelspec
    execute: bool = True  # front matter `execute`
    read_error: str | None = None  # the notebook cannot be read
    inputs_error: str | None = None  # a declared input matches no file
    entry: Entry = "none"  # the freeze entry of its last good run
    key_matches: bool = False  # that entry's key is the post's key now
    code_matches: bool = False  # that entry executed the post's current code cells
    entry_real: bool = False  # that entry ran on the real models (none of them a stand-in)
    models_recorded: bool = True  # that entry records what its models resolved to (entries before that do not)
    has_models: bool = False  # front matter `models`
    stand_ins: bool = False  # this machine would run it on stand-ins
    last_failed: bool = False  # its last run, with the key it has now, failed
    needs_gpu: bool = False  # `requires: gpu`
    blocked: str | None = None  # why its models cannot be loaded here


@dataclass(frozen=True)
class Policy:
    execute: bool = True  # False: render from the freeze only (--no-execute, a publish's render job)
    force: bool = False  # run it even when its outputs are current (--force)
    selected: bool = True  # it may run in this build (--post, the shard it was assigned to)
    gpu: bool = True  # a GPU is here, or the profile runs GPU posts without one
    strict: bool = False  # outputs older than the code, or none, fail the build (the GPU publish)


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    status: str = ""
    kind: str = ""  # for fail: read, inputs, freeze or strict


def decide(facts: PostFacts, policy: Policy) -> Decision:
    if not facts.executable:
        return Decision("skip", "", "plain")
    if not facts.execute:
        return Decision("skip", "execute: false", "disabled")
    if facts.read_error is not None:
        return Decision("fail", facts.read_error, "error", "read")
    if facts.inputs_error is not None:
        return Decision("fail", f"input {facts.inputs_error!r} not found", "error", "inputs")
    ok = facts.entry == "ok"
    if ok and facts.key_matches and not policy.force:
        return Decision("reuse", "", "fresh")
    if ok and not policy.execute and facts.has_models and not facts.models_recorded and facts.code_matches:
        # an entry older than model records: its key may differ only by the models it ran with
        return Decision("reuse", "frozen before model runs were recorded", "fresh")
    if ok and facts.stand_ins and facts.entry_real and facts.code_matches and not policy.force:
        return Decision("reuse", "real-model run kept", "fresh")
    status = _status(facts)
    why = _why_not_here(facts, policy)
    if why is None:
        return Decision("run", "", status)
    if facts.entry == "corrupt":
        return Decision("fail", why, status, "freeze")
    if policy.strict:
        return Decision("fail", why, status, "strict")
    return Decision("keep-stale", why, status)


def _status(facts: PostFacts) -> str:
    if facts.entry == "corrupt":
        return "corrupt"
    if facts.last_failed:
        return "failed"
    if facts.entry == "none":
        return "never run"
    return "fresh" if facts.key_matches else "stale"


def _why_not_here(facts: PostFacts, policy: Policy) -> str | None:
    if not policy.execute:
        return "execution is off in this build"
    if not policy.selected:
        return "it was not selected in this build"
    if facts.needs_gpu and not policy.gpu:
        return "it needs a GPU and this machine has none"
    return facts.blocked
