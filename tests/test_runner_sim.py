"""The publish workflow, run from its YAML in a simulated runner (tests/runner_sim.py):
a first push over two shards deploys a site that works under the repository's
Pages URL and commits the freeze; a prose-only push starts no GPU job; a push
during the run does not cost the deploy; a failing shard keeps the live site
and the other shard's results. GPU jobs run the offline profile (CPU stand-ins)
for every job alike: the only substitution."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from runner_sim import Machine, runner_venv

from conftest import ROOT

PAGES_URL = "https://owner.github.io/notes/"
OFFLINE = {"PUBLISH_PROFILE": "offline"}
KERNEL = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"


def _post(i: int, factor: int = 7, extra: str = "") -> str:
    return (
        f"---\ntitle: Post {i}\ndate: 2025-01-0{i + 1}\ntags: [t{i % 2}]\n{KERNEL}---\n"
        f"Intro {i}.\n\n```python\nprint('result', {i} * {factor})\n```\n{extra}"
    )


@pytest.fixture(scope="module")
def sim_root():
    # pytest's tmp_path is private to root; the runner user must reach this one
    root = Path(tempfile.mkdtemp(prefix="execblog-sim-"))
    venv = runner_venv(root, ROOT / ".venv")
    yield root, venv
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def machine(sim_root, request):
    root, venv = sim_root
    m = Machine(root / request.node.name, venv, PAGES_URL)
    seed = m.root / "seed"
    seed.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(seed)], input=archive, check=True)
    shutil.rmtree(seed / "posts")
    shutil.rmtree(seed / "_freeze")
    (seed / "posts").mkdir()
    for i in range(4):
        (seed / "posts" / f"p{i}.md").write_text(_post(i))
    (seed / "posts" / "notes.md").write_text("---\ntitle: Notes\ndate: 2025-01-09\n---\nPlain prose.\n")
    # the committed freeze, made as a user would before pushing
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "execblog.commands.cli",
            "build",
            "-s",
            str(seed),
            "--profile",
            "offline",
            "--no-search",
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    for generated in ("public", ".cache", ".execblog"):
        shutil.rmtree(seed / generated, ignore_errors=True)
    m.first_sha = m.create_origin(seed)
    return m


def _push(m: Machine, name: str, changes: dict[str, str]) -> str:
    clone = m.clone(name)
    for rel, text in changes.items():
        (clone / rel).write_text(text)
    m.own(clone)
    sha = m.commit(clone, f"edit {', '.join(changes)}")
    m.git(clone, "push", "-q", "origin", "HEAD:main")
    return sha


def _workflow_with_shards(m: Machine, n: int) -> str:
    text = (ROOT / ".github/workflows/publish.yml").read_text()
    assert 'PUBLISH_SHARDS: "1"' in text
    return text.replace('PUBLISH_SHARDS: "1"', f'PUBLISH_SHARDS: "{n}"')


def _origin_status(m: Machine, name: str) -> str:
    clone = m.clone(name)
    out = m.sh(
        [str(m.venv / "bin" / "python"), "-m", "execblog.commands.cli", "status", "-s", ".", "--profile", "offline"],
        clone,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _check_links(live: Path) -> int:
    """Every link and asset of the deployed site resolves under the Pages URL."""
    base = urlsplit(PAGES_URL)
    checked = 0
    for page in live.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "example.github.io" not in html, page
        page_url = urljoin(PAGES_URL, page.relative_to(live).as_posix())
        for url in re.findall(r'(?:href|src)="([^"#]+)', html):
            full = urlsplit(urljoin(page_url, url.replace("&amp;", "&")))
            if full.scheme not in ("http", "https") or full.netloc != base.netloc:
                continue
            assert full.path.startswith(base.path), f"{page}: {url} leaves {PAGES_URL}"
            target = live / full.path[len(base.path) :]
            assert target.is_file() or (target / "index.html").is_file(), f"{page}: {url} does not resolve"
            checked += 1
    for name in ("index.xml", "sitemap.xml"):
        text = (live / name).read_text(encoding="utf-8")
        assert PAGES_URL + "posts/" in text and "example.github.io" not in text
    return checked


def test_first_push_over_two_shards_deploys_and_commits_the_freeze(machine):
    m = machine
    sha = _push(
        m,
        "author",
        {
            "posts/p1.md": _post(1, factor=1000),
            "posts/p2.md": _post(2, factor=1000),
            "posts/p4.md": _post(4, factor=3),
            ".github/workflows/publish.yml": _workflow_with_shards(m, 2),
        },
    )
    start = time.perf_counter()
    run = m.run("push", sha, env_override=OFFLINE)
    seconds = time.perf_counter() - start
    assert run.conclusion == "success", run.log()
    assert run.jobs["plan"].outputs["stale"] == "3" and run.jobs["plan"].outputs["total"] == "2"
    assert run.jobs["execute"].runs_on == ["self-hosted", "linux", "gpu"]
    assert run.jobs["execute"].log.count("[execute #") == 2  # one job per shard
    assert run.jobs["render"].runs_on == "ubuntu-latest" and run.jobs["deploy"].result == "success"
    assert sorted(p.name for p in (m.artifacts).iterdir()) == ["freeze-1-1", "freeze-2-1", "github-pages-1"]
    assert "make gpu-preflight" not in run.jobs["execute"].log  # the GPU profile's step; offline skips it

    assert _check_links(m.live) > 20
    for name, text in (("p1", "result 1000"), ("p2", "result 2000"), ("p4", "result 12"), ("p0", "result 0")):
        assert text in (m.live / "posts" / name / "index.html").read_text(), name
    status = _origin_status(m, "after")
    assert "stale" not in status and "never run" not in status and status.count("fresh") == 5
    print(f"\nscenario a: {seconds:.1f} s; " + ", ".join(f"{j} {r.seconds:.1f} s" for j, r in run.jobs.items()))


def test_prose_only_push_starts_no_gpu_job(machine):
    m = machine
    sha = _push(m, "author", {"posts/p0.md": _post(0).replace("Intro 0.", "A new introduction.")})
    start = time.perf_counter()
    run = m.run("push", sha, env_override=OFFLINE)
    seconds = time.perf_counter() - start
    assert run.conclusion == "success", run.log()
    assert run.jobs["plan"].outputs["stale"] == "0" and run.jobs["execute"].result == "skipped"
    assert run.jobs["deploy"].result == "success"
    page = (m.live / "posts" / "p0" / "index.html").read_text()
    assert "A new introduction." in page and "result 0" in page
    assert "Update execution freeze" not in m.git(m.origin, "log", "--format=%s", "main")
    print(f"\nscenario b: {seconds:.1f} s")


def test_a_push_during_the_run_still_deploys_and_the_freeze_lands_after_a_rebase(machine):
    m = machine
    sha = _push(m, "author", {"posts/p3.md": _post(3, factor=100)})

    def meanwhile(job: str) -> None:
        if job == "execute":  # someone pushes while the GPU job runs
            _push(m, "other", {"posts/notes.md": "---\ntitle: Notes\ndate: 2025-01-09\n---\nEdited meanwhile.\n"})

    start = time.perf_counter()
    run = m.run("push", sha, env_override=OFFLINE, after_job=meanwhile)
    seconds = time.perf_counter() - start
    assert run.conclusion == "success", run.log()
    assert "push refused (attempt 1 of 5); rebasing" in run.jobs["render"].log
    assert "result 300" in (m.live / "posts" / "p3" / "index.html").read_text()
    subjects = m.git(m.origin, "log", "--format=%s", "main").splitlines()
    assert subjects[:2] == ["Update execution freeze [skip ci]", "edit posts/notes.md"]
    status = _origin_status(m, "after")
    assert "stale" not in status and status.count("fresh") == 4
    print(f"\nscenario c: {seconds:.1f} s")


def test_a_failing_shard_keeps_the_live_site_and_the_other_shards_entries(machine):
    m = machine
    first = m.run("push", m.first_sha, env_override=OFFLINE)  # the site as it is live
    assert first.conclusion == "success" and first.jobs["execute"].result == "skipped", first.log()
    live_before = _files(m.live)
    failing = _post(1, extra="\n```python\nvalues = [1, 2]\nvalues[5]\n```\n")
    sha = _push(
        m,
        "author",
        {
            "posts/p1.md": failing,
            "posts/p2.md": _post(2, factor=1000),
            ".github/workflows/publish.yml": _workflow_with_shards(m, 2),
        },
    )
    start = time.perf_counter()
    run = m.run("push", sha, env_override=OFFLINE)
    seconds = time.perf_counter() - start
    assert run.conclusion == "failure"
    assert run.jobs["execute"].result == "failure" and run.jobs["deploy"].result == "skipped"
    assert run.jobs["render"].result == "failure"
    assert _files(m.live) == live_before  # the live site is untouched
    log = run.jobs["execute"].log
    assert "IndexError" in log and "p1" in log and re.search(r"cell \d", log), log
    assert any("a shard failed" in a for a in run.annotations)
    # the other shard's result landed in origin; the failed post stays stale
    status = _origin_status(m, "after")
    rows = {line.split()[0]: line.split()[1] for line in status.splitlines()[1:]}
    assert rows["posts/p2.md"] == "fresh" and rows["posts/p1.md"] == "stale", status
    print(f"\nscenario d: {seconds:.1f} s")
