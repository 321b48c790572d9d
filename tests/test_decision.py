"""The one decision (execution/decision.py) whether a post runs, as a table: what the post is, what its freeze
entry holds, what this machine resolves its models to, and what the build was asked to do."""

import pytest

from execblog.execution.decision import Decision, Policy, PostFacts, decide

FRESH = dict(entry="ok", key_matches=True, code_matches=False)
STALE = dict(entry="ok", key_matches=False, code_matches=False)
SAME_CODE = dict(entry="ok", key_matches=False, code_matches=True)  # only the parameters/models part of the key moved
REAL_RUN_HERE_STANDINS = dict(SAME_CODE, entry_real=True, has_models=True, stand_ins=True)
STANDIN_RUN_HERE_STANDINS = dict(SAME_CODE, entry_real=False, has_models=True, stand_ins=True)
NEVER = dict(entry="none")
CORRUPT = dict(entry="corrupt")
OLD_ENTRY = dict(SAME_CODE, has_models=True, models_recorded=False, entry_real=True)

RENDER_ONLY = Policy(execute=False)
FORCE = Policy(force=True)
NOT_SELECTED = Policy(selected=False)
NO_GPU = Policy(gpu=False)
STRICT = Policy(strict=True)
STRICT_RENDER_ONLY = Policy(execute=False, strict=True)

TABLE = [
    # facts, policy -> action, status, (kind or words of the reason)
    (dict(executable=False), Policy(), "skip", "plain", ""),
    (dict(executable=False, **STALE), FORCE, "skip", "plain", ""),
    (dict(execute=False, **STALE), FORCE, "skip", "disabled", "execute: false"),
    (dict(execute=False, **NEVER), STRICT, "skip", "disabled", "execute: false"),
    (dict(read_error="bad kernelspec", **FRESH), Policy(), "fail", "error", "read"),
    (dict(inputs_error="data.csv", **FRESH), Policy(), "fail", "error", "inputs"),
    # key unchanged
    (FRESH, Policy(), "reuse", "fresh", ""),
    (FRESH, RENDER_ONLY, "reuse", "fresh", ""),
    (FRESH, STRICT, "reuse", "fresh", ""),
    (FRESH, NO_GPU, "reuse", "fresh", ""),
    (FRESH, FORCE, "run", "fresh", ""),
    (dict(FRESH, needs_gpu=True), Policy(force=True, gpu=False), "keep-stale", "fresh", "needs a GPU"),
    # key changed
    (STALE, Policy(), "run", "stale", ""),
    (STALE, FORCE, "run", "stale", ""),
    (STALE, RENDER_ONLY, "keep-stale", "stale", "execution is off"),
    (STALE, NOT_SELECTED, "keep-stale", "stale", "not selected"),
    (dict(STALE, needs_gpu=True), NO_GPU, "keep-stale", "stale", "needs a GPU"),
    (dict(STALE, needs_gpu=True), Policy(), "run", "stale", ""),
    (dict(STALE, blocked="its models are not available here (gpt2)"), Policy(), "keep-stale", "stale", "not available"),
    (STALE, STRICT_RENDER_ONLY, "fail", "stale", "strict"),
    (dict(STALE, needs_gpu=True), Policy(gpu=False, strict=True), "fail", "stale", "strict"),
    (STALE, STRICT, "run", "stale", ""),
    # real-model run frozen, only stand-ins here: kept, unless forced
    (REAL_RUN_HERE_STANDINS, Policy(), "reuse", "fresh", "real-model run kept"),
    (REAL_RUN_HERE_STANDINS, NOT_SELECTED, "reuse", "fresh", "real-model run kept"),
    (REAL_RUN_HERE_STANDINS, STRICT, "reuse", "fresh", "real-model run kept"),
    (REAL_RUN_HERE_STANDINS, FORCE, "run", "stale", ""),
    (dict(REAL_RUN_HERE_STANDINS, code_matches=False), Policy(), "run", "stale", ""),
    (dict(REAL_RUN_HERE_STANDINS, stand_ins=False), Policy(), "run", "stale", ""),  # real models here: rerun
    (STANDIN_RUN_HERE_STANDINS, Policy(), "run", "stale", ""),
    # an entry from before model resolutions were recorded: kept when rendering only and the code matches
    (OLD_ENTRY, RENDER_ONLY, "reuse", "fresh", "before model runs were recorded"),
    (dict(OLD_ENTRY, code_matches=False), RENDER_ONLY, "keep-stale", "stale", "execution is off"),
    (dict(OLD_ENTRY, entry_real=False, stand_ins=False), Policy(), "run", "stale", ""),
    # never run
    (NEVER, Policy(), "run", "never run", ""),
    (NEVER, RENDER_ONLY, "keep-stale", "never run", "execution is off"),
    (NEVER, STRICT_RENDER_ONLY, "fail", "never run", "strict"),
    (dict(NEVER, needs_gpu=True), NO_GPU, "keep-stale", "never run", "needs a GPU"),
    # the last run failed (the last good entry stays)
    (dict(STALE, last_failed=True), Policy(), "run", "failed", ""),
    (dict(NEVER, last_failed=True), Policy(), "run", "failed", ""),
    (dict(STALE, last_failed=True), RENDER_ONLY, "keep-stale", "failed", "execution is off"),
    # a corrupt entry: run again where possible, else the build fails
    (CORRUPT, Policy(), "run", "corrupt", ""),
    (CORRUPT, FORCE, "run", "corrupt", ""),
    (CORRUPT, RENDER_ONLY, "fail", "corrupt", "freeze"),
    (CORRUPT, NOT_SELECTED, "fail", "corrupt", "freeze"),
    (dict(CORRUPT, needs_gpu=True), NO_GPU, "fail", "corrupt", "freeze"),
]


@pytest.mark.parametrize("facts, policy, action, status, why", TABLE)
def test_decision_table(facts, policy, action, status, why):
    decision = decide(PostFacts(**facts), policy)
    assert (decision.action, decision.status) == (action, status)
    if action == "fail":
        assert decision.kind == why
    else:
        assert why in decision.reason and (decision.reason == "") == (why == "")


def test_a_kept_stale_post_is_refused_only_under_a_strict_profile():
    for facts in (STALE, NEVER):
        lenient = decide(PostFacts(**facts), RENDER_ONLY)
        strict = decide(PostFacts(**facts), STRICT_RENDER_ONLY)
        assert lenient == Decision("keep-stale", "execution is off in this build", lenient.status)
        assert (strict.action, strict.kind, strict.reason, strict.status) == (
            "fail",
            "strict",
            lenient.reason,
            lenient.status,
        )
