"""incremental/stamp.py: a build is skipped only when none of its inputs changed."""

from __future__ import annotations

import os
import time
from dataclasses import fields, replace
from pathlib import Path

import pytest

from execblog.config import load_config
from execblog.content.readers import read_posts
from execblog.incremental.stamp import InputStamp
from execblog.output.write import MANIFEST
from execblog.records import BuildOptions, output_options


@pytest.fixture
def stamped(site, tmp_path, monkeypatch):
    """The site after a successful build: its stamp saved, its output folder present."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no real model cache in the fingerprint
    site.post("a/index.md", "title: A\ndate: 2025-01-01\ninputs: [data/table.csv]")
    (site.root / "posts" / "a" / "data").mkdir()
    (site.root / "posts" / "a" / "data" / "table.csv").write_text("x,y\n")  # known by the declaration
    site.out.mkdir()
    (site.out / MANIFEST).write_text("{}")
    opts = BuildOptions(site_dir=site.root, out_dir=site.out)
    stamped = stamp(site, opts)
    stamped.save(stamped.declared(read_posts(site.root / "posts", load_config(site.root).zone)), None)
    return site, opts


def stamp(site, opts: BuildOptions) -> InputStamp:
    return InputStamp(site.root, load_config(site.root), opts)


def touch(path: Path, text: str) -> None:
    """A change a user makes: new bytes, a later modification time."""
    path.write_text(text)
    later = time.time() + 10
    os.utime(path, (later, later))


def freeze_entry(folder: Path) -> None:
    """A new post's executed outputs in the freeze."""
    folder.mkdir(parents=True)
    touch(folder / "meta.json", "{}")


def test_nothing_changed_means_nothing_to_build(stamped):
    site, opts = stamped
    assert stamp(site, opts).unchanged(site.out)


@pytest.mark.parametrize(
    "change",
    [
        lambda root: touch(root / "posts" / "a.md", "---\ntitle: A2\ndate: 2025-01-01\n---\nedited\n"),
        lambda root: touch(root / "posts" / "b.md", "---\ntitle: B\n---\nnew post\n"),
        lambda root: touch(root / "site_config.yaml", (root / "site_config.yaml").read_text() + "paginate: 3\n"),
        lambda root: touch(root / "theme" / "templates" / "404.html", "changed"),
        lambda root: touch(root / "posts" / "a" / "data" / "table.csv", "x,y\n1,2\n"),
        lambda root: freeze_entry(root / "_freeze" / "a"),
    ],
    ids=["post edited", "post added", "config", "theme", "declared input", "freeze"],
)
def test_a_changed_input_changes_the_stamp(stamped, change):
    site, opts = stamped
    before = stamp(site, opts).digest
    change(site.root)
    after = stamp(site, opts)
    assert after.digest != before and not after.unchanged(site.out)


@pytest.mark.parametrize(
    "option",
    [
        {"drafts": True},
        {"future": True},
        {"base_url": "https://other.example/"},
        {"search_index": False},
        {"execute": False},
        {"profile": "offline"},
        {"parameters": {"steps": "3"}},
        {"only_posts": frozenset({"a"})},
    ],
)
def test_a_different_build_option_is_a_different_build(stamped, option):
    site, opts = stamped
    assert not stamp(site, replace(opts, **option)).unchanged(site.out)


def test_force_a_missing_site_or_a_due_post_rebuild(stamped):
    site, opts = stamped
    assert not stamp(site, replace(opts, force=True)).unchanged(site.out)
    (site.out / MANIFEST).unlink()  # the output folder was cleaned
    assert not stamp(site, opts).unchanged(site.out)
    (site.out / MANIFEST).write_text("{}")
    posts = read_posts(site.root / "posts", load_config(site.root).zone)
    # a future-dated post has become due
    stamp(site, opts).save(stamp(site, opts).declared(posts), valid_until=time.time() - 1)
    assert not stamp(site, opts).unchanged(site.out)


# A second value for every build option: a new option must be added here, and
# then it changes the stamp unless BuildOptions marks it OUTPUT_NEUTRAL.
OTHER_VALUES = {
    "site_dir": None,
    "out_dir": "other-out",
    "drafts": True,
    "future": True,
    "base_url": "https://other.example/",
    "search_index": False,
    "live_reload_script": "<script></script>",
    "quiet": True,
    "execute": False,
    "profile": "offline",
    "parameters": {"steps": "3"},
    "only_posts": frozenset({"a"}),
    "force": True,
    "keep_going": True,
    "jobs": 3,
    "shard": (1, 2),
    "resident": True,
    "warm_kernels": 2,
}
# how the build runs, not what it writes
NEUTRAL = {"site_dir", "quiet", "keep_going", "jobs", "resident", "warm_kernels"}


def test_the_stamp_covers_every_build_option_that_can_change_the_output(stamped):
    site, opts = stamped
    assert {f.name for f in fields(BuildOptions)} == set(OTHER_VALUES), "give the new option a value above"
    assert set(output_options(opts)) == set(OTHER_VALUES) - NEUTRAL
    before = stamp(site, opts).digest
    for name, value in OTHER_VALUES.items():
        if name == "site_dir":
            continue  # the stamp is kept in the site folder: another folder has its own
        other = replace(opts, **{name: site.root / value if name == "out_dir" else value})
        changed = stamp(site, other).digest != before
        assert changed == (name not in NEUTRAL), name


def test_an_option_spelled_differently_is_the_same_build(stamped):
    site, opts = stamped
    before = stamp(site, replace(opts, parameters={"a": "1", "b": "2"}, only_posts=frozenset({"x", "y"}))).digest
    again = replace(
        opts,
        parameters={"b": "2", "a": "1"},
        only_posts=frozenset({"y", "x"}),
        out_dir=site.out.parent / "." / site.out.name,
    )
    assert stamp(site, again).digest == before
