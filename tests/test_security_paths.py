"""Hostile paths: nothing a post, its front matter, the freeze or a shard
artifact names may read or write outside where it belongs, links out of the
site are refused, and the build never loses a file it did not write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from execblog.errors import BuildError
from execblog.fsutil import relative_problem
from execblog.output.write import SiteWriter

from conftest import Site

KERNEL = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"
SVG_CELL = (
    "```python\nfrom IPython.display import SVG\n"
    'SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="6"><rect width="8" height="6"/></svg>\')\n```\n'
)
PRIVATE = "PRIVATE-CONTENT-must-not-be-published"


def _site_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _nothing_published(site: Site, text: str = PRIVATE) -> bool:
    return not site.out.exists() or all(text.encode() not in data for data in _site_files(site.out).values())


# --- the shared helper -----------------------------------------------------------------------------------
@pytest.mark.parametrize("rel", ["/etc/passwd", "../x", "a/../../x", "a/..", "..", "", "a\0b", "~/x", "\\x"])
def test_unclean_relative_paths_are_named(rel):
    assert relative_problem(rel)


@pytest.mark.parametrize("rel", ["a", "a/b.csv", "data/*.csv", "**/*.py", "old/url"])
def test_clean_relative_paths_pass(rel):
    assert relative_problem(rel) is None


def test_the_writer_never_writes_outside_its_folder(tmp_path):
    writer = SiteWriter(tmp_path / "public")
    try:
        for rel in ("../outside.html", "a/../../outside.html", "/../outside.html"):
            with pytest.raises(BuildError, match="refusing to write"):
                writer.write_text(rel, "x")
        assert not (tmp_path / "outside.html").exists()
    finally:
        writer.abort()


# --- class 1: aliases --------------------------------------------------------------------------------------
@pytest.mark.parametrize("alias", ["../../outside/x", "/a/../../../outside/x", "/"])
def test_an_alias_cannot_leave_the_output_folder(site, tmp_path, capsys, alias):
    victim = tmp_path / "outside/x/index.html"
    victim.parent.mkdir(parents=True)
    victim.write_text("keep me")
    post = site.post("a.md", f"title: A\ndate: 2025-01-01\naliases: ['{alias}']")
    assert site.build("--no-execute") == 1  # render-only builds are no exception
    err = capsys.readouterr().err
    assert f"{post}:4: the alias `{alias}`" in err and "fix:" in err and "Traceback" not in err
    assert victim.read_text() == "keep me"
    assert not site.out.exists() and not (tmp_path / "site/outside").exists()


def test_an_ordinary_alias_still_redirects(site):
    site.post("a.md", "title: A\ndate: 2025-01-01\naliases: [/old/url/, older]")
    assert site.build() == 0
    assert "posts/a/" in site.read("old/url/index.html") and (site.out / "older/index.html").is_file()


# --- class 1 and 2: the freeze -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frozen_template(tmp_path_factory) -> Path:
    """A site whose post `fig` was executed once: its freeze holds an SVG file."""
    site = Site(tmp_path_factory.mktemp("frozen") / "site")
    site.post("fig.md", "title: Fig\ndate: 2025-01-01\n" + KERNEL, SVG_CELL)
    assert site.build() == 0
    return site.root


@pytest.fixture
def frozen(frozen_template, tmp_path) -> Site:
    """A fresh checkout of the frozen site (no caches, no output)."""
    root = tmp_path / "site"
    shutil.copytree(
        frozen_template, root, symlinks=True, ignore=shutil.ignore_patterns(".cache", ".execblog", "public")
    )
    site = Site.__new__(Site)
    site.root, site.out = root, root / "public"
    return site


def _entry(site: Site) -> Path:
    return site.root / "_freeze/fig"


def _svg(site: Site) -> Path:
    (svg,) = _entry(site).glob("*.svg")
    return svg


def _set_ref(site: Site, ref: str) -> None:
    nb = _entry(site) / "executed.ipynb"
    nb.write_text(nb.read_text().replace(f"execblog-file:{_svg(site).name}", f"execblog-file:{ref}"))


def test_a_frozen_site_renders(frozen):
    assert frozen.build("--no-execute") == 0
    published = (frozen.out / "posts/fig/outputs" / _svg(frozen).name).read_bytes()
    assert published.startswith(b"<svg") and b"<rect" in published  # its sanitized copy


def test_a_frozen_image_reference_cannot_name_an_absolute_file(frozen, tmp_path, capsys):
    private = tmp_path / "private.svg"
    private.write_text(f"<svg>{PRIVATE}</svg>")
    _set_ref(frozen, str(private))
    assert frozen.build("--no-execute") == 1
    err = capsys.readouterr().err
    assert f"{_entry(frozen) / 'executed.ipynb'}: an output refers to `execblog-file:{private}`" in err
    assert "fix:" in err and "Traceback" not in err
    assert _nothing_published(frozen)


def test_a_frozen_image_reference_cannot_climb_out(frozen, tmp_path, capsys):
    (frozen.root / "planted.svg").write_text(f"<svg>{PRIVATE}</svg>")
    _set_ref(frozen, "../../planted.svg")
    assert frozen.build("--no-execute") == 1
    err = capsys.readouterr().err
    assert "an output refers to `execblog-file:../../planted.svg`" in err and "Traceback" not in err
    assert _nothing_published(frozen)
    assert [p.name for p in frozen.root.iterdir() if p.name.endswith(".svg")] == ["planted.svg"]


def test_a_frozen_file_must_hold_what_its_name_claims(frozen, capsys):
    assert frozen.build("--no-execute") == 0
    before = _site_files(frozen.out)
    _svg(frozen).write_text(f"<svg>{PRIVATE}</svg>")
    assert frozen.build("--no-execute") == 1
    err = capsys.readouterr().err
    assert f"the freeze file {_svg(frozen)} does not hold the content its name claims" in err
    assert _site_files(frozen.out) == before  # the last good site stays


def test_a_frozen_file_linked_out_of_the_freeze_is_refused(frozen, tmp_path, capsys):
    svg = _svg(frozen)
    outside = tmp_path / "outside.svg"
    outside.write_bytes(svg.read_bytes())  # even with the right bytes: a link out is never followed
    svg.unlink()
    svg.symlink_to(outside)
    assert frozen.build("--no-execute") == 1
    err = capsys.readouterr().err
    assert f"the freeze file {svg} is a link that leads out of" in err and "Traceback" not in err
    assert not frozen.out.exists()


def test_a_frozen_notebook_linked_elsewhere_is_refused(frozen, tmp_path, capsys):
    notebook = _entry(frozen) / "executed.ipynb"
    elsewhere = tmp_path / "elsewhere.ipynb"
    shutil.move(notebook, elsewhere)
    notebook.symlink_to(elsewhere)
    assert frozen.build("--no-execute") == 1
    assert f"the freeze file {notebook} is a link that leads out of" in capsys.readouterr().err
    assert not frozen.out.exists()


def test_a_freeze_entry_folder_linked_elsewhere_is_refused(frozen, tmp_path, capsys):
    entry = _entry(frozen)
    elsewhere = tmp_path / "elsewhere-entry"
    shutil.move(entry, elsewhere)
    entry.symlink_to(elsewhere, target_is_directory=True)
    assert frozen.build("--no-execute") == 1
    assert f"the freeze entry {entry} is a link that leads out of" in capsys.readouterr().err
    assert not frozen.out.exists()


# --- class 1 and 2: shard artifacts -------------------------------------------------------------------------
def _merge(site: Site, *sources: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "execblog.commands.cli", "merge-freeze", "-s", str(site.root), *map(str, sources)],
        capture_output=True,
        text=True,
    )


def _artifact(frozen: Site, tmp_path: Path) -> Path:
    """What a shard job uploads: a new result for `fig`."""
    artifact = tmp_path / "artifact"
    shutil.copytree(_entry(frozen), artifact / "fig")
    meta = artifact / "fig/meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "key": "new"}))
    return artifact


def test_a_clean_shard_artifact_merges(frozen, tmp_path):
    artifact = _artifact(frozen, tmp_path)
    assert _merge(frozen, artifact).returncode == 0
    assert json.loads((_entry(frozen) / "meta.json").read_text())["key"] == "new"


def test_a_shard_artifact_cannot_bring_a_link_out(frozen, tmp_path):
    artifact = _artifact(frozen, tmp_path)
    private = tmp_path / "private.txt"
    private.write_text(PRIVATE)
    (artifact / "fig/meta.json").rename(tmp_path / "meta.json")
    (artifact / "fig/meta.json").symlink_to(tmp_path / "meta.json")
    before = _site_files(_entry(frozen))
    result = _merge(frozen, artifact)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"the shard artifact file {artifact / 'fig/meta.json'} is a link that leads out of" in result.stderr
    assert _site_files(_entry(frozen)) == before


def test_a_shard_artifact_file_must_hold_what_its_name_claims(frozen, tmp_path):
    artifact = _artifact(frozen, tmp_path)
    (artifact / "fig" / _svg(frozen).name).write_text(f"<svg>{PRIVATE}</svg>")
    (artifact / "fig/notes.txt").write_text("x")
    before = _site_files(_entry(frozen))
    result = _merge(frozen, artifact)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        "does not hold the content its name claims" in result.stderr
        or "is not a file a freeze entry holds" in result.stderr
    )
    assert _site_files(_entry(frozen)) == before


# --- class 1 and 2: inputs ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "entry, problem",
    [("/etc/hostname", "is an absolute path"), ("../../outside.txt", "climbs out of its folder with `..`")],
)
def test_inputs_must_stay_in_the_posts_folder(site, tmp_path, capsys, entry, problem):
    (tmp_path / "outside.txt").write_text(PRIVATE)
    post = site.post(
        "nb/index.md", f"title: NB\ndate: 2025-01-01\ninputs: ['{entry}']\n" + KERNEL, "```python\nprint(1)\n```\n"
    )
    assert site.build("--no-execute") == 1
    err = capsys.readouterr().err
    assert f"{post}:4: the input `{entry}` {problem}" in err and "fix:" in err and "Traceback" not in err
    assert not site.out.exists()


def test_an_input_linked_out_of_the_posts_folder_is_refused(site, tmp_path, capsys):
    (tmp_path / "outside.csv").write_text(PRIVATE)
    post = site.post(
        "nb.md", "title: NB\ndate: 2025-01-01\ninputs: [data/*.csv]\n" + KERNEL, "```python\nprint(1)\n```\n"
    )  # a single-file post: its folder is posts/
    (post.parent / "data").mkdir()
    (post.parent / "data/ok.csv").write_text("1\n")
    (post.parent / "data/stolen.csv").symlink_to(tmp_path / "outside.csv")
    assert site.build("--no-execute") == 1
    err = capsys.readouterr().err
    assert f"{post}:4: the input {post.parent / 'data/stolen.csv'} is a link that leads out of" in err
    assert not site.out.exists()


# --- class 2: links in posts and bundles ------------------------------------------------------------------------
def test_a_bundle_file_linked_out_of_the_site_is_refused(site, tmp_path, capsys):
    (tmp_path / "passwd").write_text(PRIVATE)
    post = site.post("b/index.md", "title: B\ndate: 2025-01-01")
    (post.parent / "passwd.txt").symlink_to(tmp_path / "passwd")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert f"{post.parent / 'passwd.txt'}: the bundle file {post.parent / 'passwd.txt'} is a link" in err
    assert "Traceback" not in err and not site.out.exists()


def test_a_bundle_link_to_a_folder_out_of_the_site_is_refused(site, tmp_path, capsys):
    (tmp_path / "private").mkdir()
    (tmp_path / "private/key.txt").write_text(PRIVATE)
    post = site.post("b/index.md", "title: B\ndate: 2025-01-01")
    (post.parent / "files").symlink_to(tmp_path / "private", target_is_directory=True)
    assert site.build() == 1
    assert f"the bundle file {post.parent / 'files'} is a link" in capsys.readouterr().err
    assert _nothing_published(site)


def test_a_bundle_link_inside_the_site_is_published(site):
    (site.root / "shared").mkdir()
    (site.root / "shared/logo.txt").write_text("logo")
    post = site.post("b/index.md", "title: B\ndate: 2025-01-01")
    (post.parent / "logo.txt").symlink_to(site.root / "shared/logo.txt")
    assert site.build() == 0
    assert site.read("posts/b/logo.txt") == "logo"


@pytest.mark.parametrize("bundle", [False, True])
def test_a_post_linked_out_of_the_site_is_refused(site, tmp_path, capsys, bundle):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.md").write_text(f"---\ntitle: Stolen\ndate: 2025-01-01\n---\n{PRIVATE}\n")
    link = site.root / "posts" / ("stolen" if bundle else "stolen.md")
    link.symlink_to(outside if bundle else outside / "index.md")
    assert site.build() == 1
    err = capsys.readouterr().err
    shown = link / "index.md" if bundle else link
    assert f"{shown}: the post file {shown} is a link that leads out of" in err and "Traceback" not in err
    assert _nothing_published(site)


# --- class 5: lost files -----------------------------------------------------------------------------------------
def test_an_output_path_that_is_a_post_file_is_refused(site, capsys):
    post = site.post("hello.md", "title: Hello\ndate: 2025-01-01")
    original = post.read_bytes()
    from execblog.commands.cli import main

    for _ in range(2):  # the next build must not delete it either
        assert main(["build", "-s", str(site.root), "-d", str(post), "--no-search"]) == 1
        assert "is a file" in capsys.readouterr().err
        assert post.read_bytes() == original
    assert sorted(p.name for p in post.parent.iterdir()) == ["hello.md"]


@pytest.mark.parametrize("dest", ["posts", "posts/new", "theme/out", "_freeze", "_freeze/x", "site_config.yaml"])
def test_an_output_path_inside_the_sources_is_refused(site, capsys, dest):
    site.post("hello.md", "title: Hello\ndate: 2025-01-01")
    before = _site_files(site.root)
    from execblog.commands.cli import main

    assert main(["build", "-s", str(site.root), "-d", str(site.root / dest), "--no-search"]) == 1
    err = capsys.readouterr().err
    assert "the output folder" in err and "fix:" in err
    assert _site_files(site.root) == before
    assert not [p for p in site.root.rglob("*") if ".staging-" in p.name or ".old-" in p.name]


def test_files_added_to_a_built_site_are_kept_and_named(site, capsys):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    assert site.build() == 0
    (site.out / "CNAME").write_text("blog.example.org\n")
    (site.out / ".git").mkdir()
    (site.out / ".git/HEAD").write_text("ref: refs/heads/main\n")
    (site.out / "posts/a/notes.txt").write_text("mine")
    site.post("a.md", "title: A\ndate: 2025-01-01", "Edited.\n")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "holds files that no build wrote: .git/, CNAME, posts/" in err and "theme/static" in err
    assert (site.out / "CNAME").read_text() == "blog.example.org\n"
    assert (site.out / ".git/HEAD").is_file() and (site.out / "posts/a/notes.txt").is_file()
    assert "Edited." not in site.read("posts/a/index.html")
    # the fix the message gives works: files the site should carry live in theme/static
    shutil.move(site.out / "CNAME", site.root / "theme/static/CNAME")
    shutil.rmtree(site.out / ".git")
    os.remove(site.out / "posts/a/notes.txt")
    assert site.build() == 0
    assert site.read("CNAME") == "blog.example.org\n" and "Edited." in site.read("posts/a/index.html")
