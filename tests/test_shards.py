"""Scale-out: shards execute disjoint shares of the stale posts in separate
processes; merging their freezes and rendering once gives the site a single
run gives."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from execblog.execution.shards import assign

KERNEL = """jupyter:
  kernelspec: {name: execblog, display_name: execblog, language: python}
"""


@pytest.mark.unit
def test_assignment_is_stable_and_balanced():
    durations = {"a": 100.0, "b": 90.0, "c": 10.0, "d": 10.0, "e": None}
    first = assign(durations, 2)
    assert first == assign(dict(reversed(list(durations.items()))), 2)  # order of input does not matter
    assert set(first.values()) == {1, 2}
    load = {1: 0.0, 2: 0.0}
    for name, shard in first.items():
        load[shard] += durations[name] or 60.0
    assert abs(load[1] - load[2]) <= 60.0  # longest-first greedy keeps shards close
    assert assign(durations, 1) == {n: 1 for n in durations}


def _site(root: Path, site_factory) -> Path:
    site = site_factory(root)
    for i in range(4):
        site.post(f"p{i}.md", f"title: Post {i}\ndate: 2025-01-0{i + 1}\n" + KERNEL,
                  f"Intro {i}.\n\n```python\nprint('result', {i} * 7)\n```\n")
    return site.root


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "execblog.commands.cli", *args], capture_output=True, text=True)


def _normalized(public: Path) -> dict[str, bytes]:
    """Every file of a built site; HTML without the provenance block (run time
    and duration differ between any two runs) and notebooks left out (they
    carry the same provenance)."""
    out = {}
    for path in sorted(public.rglob("*")):
        rel = path.relative_to(public).as_posix()
        if not path.is_file() or rel.startswith("pagefind/") or rel.endswith((".ipynb", ".execblog-manifest.json")):
            continue
        data = path.read_bytes()
        if rel.endswith(".html"):
            data = re.sub(rb'<div class="provenance"[^>]*>.*?</div>', b"", data, flags=re.S)
        out[rel] = data
    return out


def test_two_shards_then_one_render_equal_a_single_run(tmp_path):
    from conftest import Site

    single = _site(tmp_path / "single", Site)
    assert _run("build", "-s", str(single), "--no-search").returncode == 0

    runners = []
    for i in (1, 2):  # each runner has its own checkout
        root = _site(tmp_path / f"runner{i}", Site)
        runners.append(root)
    procs = [subprocess.Popen([sys.executable, "-m", "execblog.commands.cli", "build", "-s", str(r), "--shard", f"{i}/2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, r in enumerate(runners, 1)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    executed = [set(re.findall(r"\[\d/\d\] (p\d): executed", err)) for _, err in outputs]
    assert executed[0] and executed[1] and not (executed[0] & executed[1])
    assert executed[0] | executed[1] == {"p0", "p1", "p2", "p3"}
    assert not (runners[0] / "public").exists()  # a shard only executes

    final = _site(tmp_path / "final", Site)
    merged = _run("merge-freeze", "-s", str(final), *(str(r / "_freeze") for r in runners))
    assert merged.returncode == 0 and "merged 4 freeze entries" in merged.stderr
    render = _run("build", "-s", str(final), "--no-search", "--no-execute")
    assert render.returncode == 0 and "executed" not in render.stderr
    assert _normalized(final / "public") == _normalized(single / "public")
    assert "result 21" in (final / "public/posts/p3/index.html").read_text()
