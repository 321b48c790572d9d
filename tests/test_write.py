"""output/write.py: the site appears whole or not at all; unchanged files are
reused; the writer never takes a folder it did not make."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from execblog.errors import BuildError
from execblog.output.write import MANIFEST, SiteWriter, check_output_folder


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def build(out: Path, pages: dict[str, str], in_place: bool = False) -> SiteWriter:
    writer = SiteWriter(out, in_place=in_place)
    for rel, text in pages.items():
        writer.write_text(rel, text)
    writer.commit()
    return writer


def test_commit_swaps_in_the_whole_site_with_its_manifest(tmp_path):
    out = tmp_path / "public"
    writer = SiteWriter(out)
    writer.write_text("index.html", "home")
    writer.write_bytes("/posts/a/index.html", b"a")  # site-absolute paths land inside the site
    assert not out.exists()  # nothing visible before the commit
    writer.commit()
    manifest = json.loads((out / MANIFEST).read_text())
    assert files(out) == {"index.html": b"home", "posts/a/index.html": b"a", MANIFEST: (out / MANIFEST).read_bytes()}
    assert set(manifest) == {"index.html", "posts/a/index.html"}
    assert [p.name for p in tmp_path.iterdir()] == ["public"]  # no staging folder left


def test_a_second_build_replaces_the_site_and_reuses_unchanged_files(tmp_path):
    out = tmp_path / "public"
    build(out, {"same.html": "same", "changed.html": "v1", "gone.html": "old"})
    inode = (out / "same.html").stat().st_ino
    second = build(out, {"same.html": "same", "changed.html": "v2"})
    assert second.reused == 1 and (out / "same.html").stat().st_ino == inode  # hard-linked, not rewritten
    assert (out / "changed.html").read_text() == "v2" and not (out / "gone.html").exists()
    # each build removes the sites replaced before it, not the one it replaces
    third = build(out, {"same.html": "same"})
    assert third.cleaner is not None
    third.cleaner.wait()  # in the background: the build does not wait for it
    old = [p for p in tmp_path.iterdir() if p.name.startswith(".public.old-")]
    assert len(old) == 1 and (old[0] / "changed.html").read_text() == "v2"


def test_abort_leaves_the_last_good_site_untouched(tmp_path):
    out = tmp_path / "public"
    build(out, {"index.html": "good"})
    before = files(out)
    writer = SiteWriter(out)
    writer.write_text("index.html", "half-built")
    writer.abort()
    assert files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


SITE_V1 = {"same.html": "same", "changed.html": "v1", "gone/index.html": "old", "posts/a/index.html": "a"}
SITE_V2 = {"same.html": "same", "changed.html": "v2", "posts/a/index.html": "a", "posts/b/index.html": "new"}


def test_an_in_place_commit_gives_the_site_a_whole_build_gives(tmp_path):
    build(tmp_path / "whole", SITE_V1)
    build(tmp_path / "whole", SITE_V2)
    out = tmp_path / "public"
    build(out, SITE_V1)
    inode = (out / "same.html").stat().st_ino
    writer = SiteWriter(out, in_place=True)
    writer.reuse("same.html", json.loads((out / MANIFEST).read_text())["same.html"])
    for rel, text in SITE_V2.items():
        writer.write_text(rel, text)
    assert (out / "changed.html").read_text() == "v1"  # nothing changes before the commit
    writer.commit()
    assert files(out) == files(tmp_path / "whole")  # the removed page's folder is gone too
    assert writer.fresh == {"changed.html", "posts/b/index.html"} and writer.reused == 2
    assert (out / "same.html").stat().st_ino == inode  # untouched
    assert not [p.name for p in tmp_path.iterdir() if ".public.staging-" in p.name]
    _check(out, tmp_path / "site")  # the next build takes the folder as its own


def test_an_in_place_build_that_fails_leaves_the_last_site_untouched(tmp_path):
    out = tmp_path / "public"
    build(out, SITE_V1)
    before = files(out)
    writer = SiteWriter(out, in_place=True)
    for rel, text in SITE_V2.items():
        writer.write_text(rel, text)
    writer.abort()
    assert files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_an_in_place_commit_cut_short_is_repaired_by_the_next_build(tmp_path, monkeypatch):
    out = tmp_path / "public"
    build(out, SITE_V1)
    real_replace, calls = os.replace, []

    def crash_after_the_first_move(src, dst):
        calls.append(dst)
        if len(calls) == 3:  # the manifest of the commit, one page moved in, then the crash
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_after_the_first_move)
    with pytest.raises(KeyboardInterrupt):
        build(out, SITE_V2, in_place=True)
    monkeypatch.setattr(os, "replace", real_replace)
    _check(out, tmp_path / "site")  # the page moved in is not taken for a stranger's file
    writer = SiteWriter(out, in_place=True)
    # the page moved in before the crash (changed.html) is not vouched for by the manifest: written again
    digest = {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in SITE_V2.items()}
    assert {rel for rel in SITE_V2 if writer.reuse(rel, digest[rel])} == {"same.html", "posts/a/index.html"}
    for rel, text in SITE_V2.items():
        writer.write_text(rel, text)
    writer.commit()
    build(tmp_path / "whole", SITE_V2)
    assert files(out) == files(tmp_path / "whole")
    # what the cut-short commit left is named for the cleaner, not left as a stage forever
    assert not list(tmp_path.glob(".public.staging-*"))


def test_in_place_without_a_last_site_swaps_the_whole_site_in(tmp_path):
    out = tmp_path / "public"
    writer = build(out, SITE_V1, in_place=True)
    assert not writer.in_place and set(files(out)) == {*SITE_V1, MANIFEST}


def test_a_link_in_the_last_site_is_never_taken_as_its_file(tmp_path):
    out = tmp_path / "public"
    build(out, SITE_V1)
    (tmp_path / "elsewhere.html").write_text("same")
    (out / "same.html").unlink()
    (out / "same.html").symlink_to(tmp_path / "elsewhere.html")
    writer = build(out, SITE_V1, in_place=True)
    assert writer.in_place and "same.html" in writer.fresh
    assert not (out / "same.html").is_symlink() and (out / "same.html").read_text() == "same"


def test_two_different_files_for_one_path_stop_the_build(tmp_path):
    writer = SiteWriter(tmp_path / "public")
    writer.write_text("old/index.html", "redirect")
    writer.write_text("old/index.html", "redirect")  # the same bytes twice are harmless
    with pytest.raises(BuildError) as err:
        writer.write_text("old/index.html", "a page")
    assert "old/index.html" in err.value.message and "aliases" in err.value.hint
    writer.abort()


def _check(out: Path, site: Path) -> None:
    check_output_folder(out, site, [site / "posts", site / "theme", site / "site_config.yaml"])


def test_the_output_folder_must_be_the_builds_own(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _check(site / "public", site)  # new
    (site / "empty").mkdir()
    _check(site / "empty", site)  # empty
    build(site / "public", {"index.html": "x"})
    _check(site / "public", site)  # written by a build
    (site / "docs").mkdir()
    (site / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(BuildError) as err:
        _check(site / "docs", site)
    assert "no build wrote" in err.value.message and err.value.hint
    for folder in (site, tmp_path):  # the site itself, or a folder holding it
        with pytest.raises(BuildError) as err:
            _check(folder, site)
        assert "contains the site folder" in err.value.message


def test_a_spool_gives_back_each_page_and_a_forked_process_holds_its_own(tmp_path):
    """Render workers hold their pages in a spool until the asset URLs are known (pipeline)."""
    from execblog.output.write import Spool
    from execblog.parallel import Background

    spool = Spool(tmp_path)
    first, second = spool.put(b"<p>one</p>"), spool.put("走れメロス".encode() * 1000)
    forked = Background(lambda: (spool.put(b"child"), spool.get((0, 5))))
    assert forked.result() == ((0, 5), b"child")  # a file of its own, from its start
    assert spool.get(second) == "走れメロス".encode() * 1000 and spool.get(first) == b"<p>one</p>"
    assert os.listdir(tmp_path) == []  # no name in the folder: the file goes with its process
    spool.close()
