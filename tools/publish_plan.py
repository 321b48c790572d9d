"""The publish workflow's plan: which posts the GPU jobs must execute, over how
many shards, and whether to deploy at all.

    execblog status --json ... | python3 tools/publish_plan.py

Reads the status JSON on stdin and the run from the environment (EVENT, REF,
DEFAULT_BRANCH, SHARDS, FORCE, SCHEDULE_WINDOW_HOURS); appends `stale`,
`total`, `shards` (a JSON list for the matrix) and `deploy` to $GITHUB_OUTPUT
and a short table to $GITHUB_STEP_SUMMARY. `plan` itself is pure.
Runs with any Python >= 3.9 (the hosted runner's system Python is enough).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta

NEEDS_RUN = ("stale", "never run", "failed")
GPU_EVENTS = ("push", "workflow_dispatch", "schedule")


class PlanError(Exception):
    pass


def plan(
    status: dict,
    event: str,
    ref: str,
    default_branch: str,
    shards: str,
    force: bool,
    now: datetime,
    schedule_window: timedelta,
) -> dict:
    """Outputs for the workflow (all strings) plus `notes` for the summary."""
    if event not in GPU_EVENTS:
        raise PlanError(f"publish runs on {', '.join(GPU_EVENTS)} only, not on `{event}`")
    branch = default_branch or ref.removeprefix("refs/heads/")  # a schedule runs on the default branch
    if ref != f"refs/heads/{branch}":
        raise PlanError(
            f"publish runs only on the default branch ({branch}), not on {ref}; "
            "the GPU runner never executes code from other branches"
        )
    text = (shards or "1").strip()
    if not text.isdigit():
        raise PlanError(f"shards must be a whole number, got `{text}`")
    requested = int(text)
    posts = [p for p in status.get("posts", []) if p.get("published")]
    errors = [f"{p['path']}: {p['detail']}" for p in posts if p.get("status") == "error"]
    if errors:
        raise PlanError("posts that cannot be planned:\n  " + "\n  ".join(errors))
    wanted = NEEDS_RUN + ("fresh",) if force else NEEDS_RUN  # FORCE re-executes every executable post
    stale = sorted(p["name"] for p in posts if p.get("status") in wanted)
    notes = []
    deploy = True
    if event == "schedule":
        due = [p["name"] for p in posts if now - schedule_window < datetime.fromisoformat(p["date"]) <= now]
        if not due:
            stale, deploy = [], False
            notes.append(f"no post became due in the last {schedule_window}: nothing to publish")
        else:
            notes.append(f"became due: {', '.join(due)}")
    if requested == 0 and stale:
        notes.append(f"shards: 0, so nothing is executed; {len(stale)} stale post(s) render from the freeze as is")
        stale = []
    total = min(requested, len(stale))
    return {
        "stale": str(len(stale)),
        "total": str(total),
        "shards": json.dumps(list(range(1, total + 1))),
        "deploy": "true" if deploy else "false",
        "posts": " ".join(stale),
        "notes": notes,
    }


def main() -> int:
    env = os.environ
    try:
        status = json.load(sys.stdin)
        result = plan(
            status,
            env.get("EVENT", ""),
            env.get("REF", ""),
            env.get("DEFAULT_BRANCH", ""),
            env.get("SHARDS", "1"),
            env.get("FORCE", "") in ("1", "true"),
            datetime.now(UTC),
            timedelta(hours=float(env.get("SCHEDULE_WINDOW_HOURS") or 25)),
        )
    except (PlanError, ValueError, KeyError) as exc:
        print(f"error: plan: {exc}", file=sys.stderr)
        return 1
    notes = result.pop("notes")
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        for key, value in result.items():
            out.write(f"{key}={value}\n")
    lines = [
        f"to execute: {result['posts'] or 'nothing'} (shards: {result['total']})",
        f"deploy: {result['deploy']}",
        *notes,
    ]
    print("\n".join(lines), file=sys.stderr)
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write("### Publish plan\n\n" + "\n".join(f"- {line}" for line in lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
