"""Scale-out: shards execute disjoint shares of the stale posts in separate
processes; merging their freezes and rendering once gives the site a single
run gives."""

from __future__ import annotations

import json
import re
import shutil
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
        site.post(
            f"p{i}.md",
            f"title: Post {i}\ndate: 2025-01-0{i + 1}\n" + KERNEL,
            f"Intro {i}.\n\n```python\nprint('result', {i} * 7)\n```\n",
        )
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
        if not path.is_file() or rel.endswith((".ipynb", ".execblog-manifest.json")):
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
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "execblog.commands.cli", "build", "-s", str(r), "--shard", f"{i}/2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, r in enumerate(runners, 1)
    ]
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


def test_merge_refuses_a_shard_entry_holding_an_encoded_secret(tmp_path):
    import base64
    import json

    import pytest

    from execblog.errors import BuildError
    from execblog.execution.shards import merge_freezes

    token = "hf_" + "Zx7" * 12
    artifact = tmp_path / "freeze-1"
    for name, text in (("clean", "result 21\n"), ("leaky", base64.b64encode(b"x" + token.encode()).decode())):
        entry = artifact / name
        entry.mkdir(parents=True)
        (entry / "meta.json").write_text(json.dumps({"key": name}), encoding="utf-8")
        (entry / "executed.ipynb").write_text(json.dumps({"cells": [{"outputs": [{"text": text}]}]}), encoding="utf-8")
    freeze = tmp_path / "_freeze"
    freeze.mkdir()
    with pytest.raises(BuildError) as info:
        merge_freezes([artifact], freeze, {"HF_TOKEN": token})
    assert "`leaky` holds a secret" in str(info.value) and "HF_TOKEN" in str(info.value)
    assert token not in str(info.value) and list(freeze.iterdir()) == []  # nothing merged


@pytest.mark.unit
def test_a_merge_that_fails_part_way_changes_nothing(tmp_path, monkeypatch):
    """All or none: entries already swapped in get their old folders back when a
    later one cannot be (here: the disk fills up at the third)."""
    from execblog.execution import freeze as freeze_module
    from execblog.execution.shards import merge_freezes

    def entry(root: Path, name: str, text: str) -> None:
        (root / name).mkdir(parents=True)
        (root / name / "meta.json").write_text(json.dumps({"key": text}), encoding="utf-8")
        (root / name / "executed.ipynb").write_text(json.dumps({"cells": [{"outputs": [{"text": text}]}]}))

    def files(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}

    freeze, artifact = tmp_path / "_freeze", tmp_path / "downloaded" / "freeze-1-1"
    for name in ("a", "b"):
        entry(freeze, name, f"old {name}")
    for name in ("a", "b", "c"):
        entry(artifact, name, f"new {name}")
    before = files(freeze)
    real_swap, swaps = freeze_module.swap_in, []

    def swap_until_the_disk_is_full(new: Path, final: Path):
        swaps.append(final.name)
        if len(swaps) == 3:
            raise OSError(28, "No space left on device")
        return real_swap(new, final)

    monkeypatch.setattr(freeze_module, "swap_in", swap_until_the_disk_is_full)
    with pytest.raises(OSError):
        merge_freezes([artifact.parent], freeze)
    assert swaps == ["a", "b", "c"]
    assert files(freeze) == before and sorted(p.name for p in freeze.iterdir()) == ["a", "b"]
    monkeypatch.undo()
    assert merge_freezes([artifact.parent], freeze) == ["a", "b", "c"]
    assert files(freeze) == files(artifact)


def _copy_site(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("public", ".cache", ".execblog"))
    return dest


def _artifacts(tmp_path: Path, runners: list[Path]) -> Path:
    """download-artifact v4 with a pattern and no merge-multiple: one folder per
    artifact, each holding what upload-artifact took from `_freeze/`."""
    folder = tmp_path / "downloaded"
    for i, runner in enumerate(runners, 1):
        shutil.copytree(runner / "_freeze", folder / f"freeze-{i}-1")
    return folder


def test_merge_keeps_what_every_shard_re_executed_over_unchanged_copies(tmp_path):
    """A committed freeze, then changed code in posts that land on different
    shards: each shard uploads its whole freeze (its new entries plus unchanged
    copies of the rest), and the merge must keep every new entry."""
    from conftest import Site

    origin = _site(tmp_path / "origin", Site)
    assert _run("build", "-s", str(origin), "--no-search").returncode == 0  # the committed freeze
    committed = {p.name: (p / "meta.json").read_text() for p in (origin / "_freeze").iterdir()}
    for i in range(4):
        post = origin / "posts" / f"p{i}.md"
        post.write_text(post.read_text().replace(f"{i} * 7", f"{i} * 1000"))

    runners = [_copy_site(origin, tmp_path / f"runner{i}") for i in (1, 2)]
    executed = []
    for i, runner in enumerate(runners, 1):
        shard = _run("build", "-s", str(runner), "--shard", f"{i}/2")
        assert shard.returncode == 0, shard.stderr
        executed.append(set(re.findall(r"\[\d/\d\] (p\d): executed", shard.stderr)))
    assert executed[0] and executed[1] and not executed[0] & executed[1]  # changes spread over both shards

    final = _copy_site(origin, tmp_path / "final")
    merged = _run("merge-freeze", "-s", str(final), str(_artifacts(tmp_path, runners)))
    assert merged.returncode == 0, merged.stderr
    assert "merged 4 freeze entries: p0, p1, p2, p3" in merged.stderr
    for i in range(4):
        assert (final / "_freeze" / f"p{i}" / "meta.json").read_text() != committed[f"p{i}"]
    render = _run("build", "-s", str(final), "--no-search", "--no-execute")
    assert render.returncode == 0, render.stderr
    for i in range(4):
        assert f"result {i * 1000}" in (final / f"public/posts/p{i}/index.html").read_text()
    status = _run("status", "-s", str(final))
    assert "stale" not in status.stdout and "never run" not in status.stdout


def test_merge_of_unchanged_copies_changes_nothing(tmp_path):
    from conftest import Site

    site = _site(tmp_path / "site", Site)
    assert _run("build", "-s", str(site), "--no-search").returncode == 0
    before = {p: p.read_bytes() for p in (site / "_freeze").rglob("*") if p.is_file()}
    copy = tmp_path / "downloaded" / "freeze-1-1"
    shutil.copytree(site / "_freeze", copy)
    merged = _run("merge-freeze", "-s", str(site), str(copy.parent))
    assert merged.returncode == 0 and "merged 0 freeze entries" in merged.stderr
    assert {p: p.read_bytes() for p in (site / "_freeze").rglob("*") if p.is_file()} == before


def test_an_artifact_with_a_link_changes_nothing(tmp_path):
    from conftest import Site

    site = _site(tmp_path / "site", Site)
    assert _run("build", "-s", str(site), "--no-search").returncode == 0
    before = {p: p.read_bytes() for p in (site / "_freeze").rglob("*") if p.is_file()}
    downloaded = tmp_path / "downloaded"
    for i, name in ((1, "p0"), (2, "p1")):  # two shards, each with one new entry
        entry = downloaded / f"freeze-{i}-1" / name
        shutil.copytree(site / "_freeze" / name, entry)
        meta = json.loads((entry / "meta.json").read_text())
        (entry / "meta.json").write_text(json.dumps({**meta, "executed_at": "2030-01-01T00:00:00+00:00"}))
    (downloaded / "freeze-2-1" / "p1" / "leak.png").symlink_to("/etc/passwd")
    merged = _run("merge-freeze", "-s", str(site), str(downloaded))
    assert merged.returncode == 1 and "Traceback" not in merged.stderr
    assert "leak.png" in merged.stderr
    assert {p: p.read_bytes() for p in (site / "_freeze").rglob("*") if p.is_file()} == before
