"""Incremental rendering: after an edit, the site a build leaves is the one a
full build of the same sources writes, byte for byte, while only the pages that
show what changed are rendered again."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from execblog.errors import BuildError
from execblog.pipeline import BuildOptions, build_site

from conftest import BASE_CONFIG, Site

CONFIG = (
    BASE_CONFIG
    + """\
paginate: 2
taxonomies: {tag: tags, category: categories, series: series}
related: {count: 3}
"""
)


def _posts(site: Site) -> None:
    for i in range(7):
        tags = ["LLM", "Attention"][: 1 + i % 2] + ([f"t{i}"] if i % 3 == 0 else [])
        front = f"title: Post {i}\ndate: 2025-03-{10 + i:02d}\ntags: [{', '.join(tags)}]"
        if i in (2, 3, 4):
            front += f"\nseries: [Deep dive]\nseries_weight: {i}"
        site.post(f"p{i}.md", front, f"Paragraph of post {i}.\n\n<!--more-->\n\nMore of post {i}.\n")


def _build(site: Site, out: Path):
    return build_site(BuildOptions(site_dir=site.root, out_dir=out, search_index=False, quiet=True))


def _same_tree(a: Path, b: Path) -> list[str]:
    """Paths that differ between two built sites (files or folders missing on one side, or other bytes)."""
    files_a = {p.relative_to(a).as_posix() + ("/" if p.is_dir() else "") for p in a.rglob("*")}
    files_b = {p.relative_to(b).as_posix() + ("/" if p.is_dir() else "") for p in b.rglob("*")}
    differ = sorted(files_a ^ files_b)
    differ += [
        rel
        for rel in sorted(files_a & files_b)
        if not rel.endswith("/") and not filecmp.cmp(a / rel, b / rel, shallow=False)
    ]
    return differ


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


EDITS = {
    "body": lambda posts: _edit(posts / "p3.md", "More of post 3.", "More of post 3, rewritten."),
    "summary": lambda posts: _edit(posts / "p3.md", "Paragraph of post 3.", "A new opening of post 3."),
    "front matter summary": lambda posts: _edit(posts / "p1.md", "title: Post 1", "title: Post 1\nsummary: Told short"),
    "title": lambda posts: _edit(posts / "p2.md", "title: Post 2", "title: Renamed two"),
    "tags": lambda posts: _edit(posts / "p5.md", "tags: [LLM, Attention]", "tags: [Attention, fresh]"),
    "date": lambda posts: _edit(posts / "p0.md", "date: 2025-03-10", "date: 2025-04-30"),
    "series order": lambda posts: _edit(posts / "p4.md", "series_weight: 4", "series_weight: 1"),
    "added": lambda posts: (posts / "new.md").write_text(
        "---\ntitle: Newcomer\ndate: 2025-03-14T12:00:00\ntags: [LLM, t0]\n---\nHello.\n", encoding="utf-8"
    ),
    "removed": lambda posts: (posts / "p6.md").unlink(),
    "renamed": lambda posts: (posts / "p1.md").rename(posts / "p1-moved.md"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_edit_gives_the_full_builds_site(tmp_path, edit):
    site = Site(tmp_path / "site", CONFIG)
    _posts(site)
    _build(site, site.out)
    EDITS[edit](site.root / "posts")
    result = _build(site, site.out)
    assert not result.unchanged
    assert _same_tree(site.out, site.build_from_nothing(tmp_path / "fresh")) == []
    # and the pages that do not show the change were taken from the last site, not rendered again
    assert result.files_reused > 0


def _rewritten(site: Site, edit) -> list[str]:
    """The HTML files a build after `edit` wrote anew (the others are links to the last site's)."""
    before = {p.relative_to(site.out).as_posix(): p.stat().st_ino for p in site.out.rglob("*.html")}
    edit()
    _build(site, site.out)
    after = {p.relative_to(site.out).as_posix(): p.stat().st_ino for p in site.out.rglob("*.html")}
    return sorted(rel for rel in after if before.get(rel) != after[rel])


def test_prose_edit_renders_only_the_pages_that_show_the_post(tmp_path):
    site = Site(tmp_path / "site", CONFIG)
    _posts(site)
    _build(site, site.out)
    p6 = site.root / "posts" / "p6.md"
    # the text after <!--more--> shows only on the post's own page; the word count stays
    assert _rewritten(site, lambda: _edit(p6, "More of post 6.", "Much of post 6.")) == ["posts/p6/index.html"]
    # more words: the meta line on the lists that show the post changes too, no other post's page
    rewritten = _rewritten(site, lambda: _edit(p6, "Much of post 6.", "Much more of post 6 than before."))
    assert "posts/p6/index.html" in rewritten and "index.html" in rewritten and "archives/index.html" in rewritten
    assert not [rel for rel in rewritten if rel.startswith("posts/p") and not rel.startswith("posts/p6/")]
    assert "tags/t0/index.html" not in rewritten  # a tag p6 does not have
    assert _same_tree(site.out, site.build_from_nothing(tmp_path / "fresh")) == []


def test_only_posts_whose_text_changed_count_as_converted(tmp_path):
    """Posts read from their files again are converted early, beside the views' load; one whose
    text is the same (a file saved unchanged) keeps its view and is not counted as converted."""
    site = Site(tmp_path / "site", CONFIG)
    _posts(site)
    _build(site, site.out)
    p2, p4 = site.root / "posts" / "p2.md", site.root / "posts" / "p4.md"
    p2.write_text(p2.read_text(encoding="utf-8"), encoding="utf-8")  # saved again, unchanged
    _edit(p4, "More of post 4.", "More of post 4, edited.")
    result = _build(site, site.out)
    assert result.posts_converted == 1
    assert "More of post 4, edited." in (site.out / "posts" / "p4" / "index.html").read_text(encoding="utf-8")
    assert _same_tree(site.out, site.build_from_nothing(tmp_path / "fresh")) == []


def test_a_posts_code_blocks_are_kept_once_it_is_converted_again(tmp_path):
    """A first build keeps no post's highlighted code (a file per post, for the few edited later);
    an edited post's blocks are kept for its next conversion, which shows the same page."""
    site = Site(tmp_path / "site", CONFIG)
    _posts(site)
    code = site.post("code.md", "title: Code\ndate: 2025-03-01", "```python\nx = 1\n```\n\n```bash\nls -l\n```\n")
    _build(site, site.out)
    memo = site.root / ".cache" / "notebooks" / "highlight"
    assert not list(memo.glob("*.pickle"))
    _edit(code, "ls -l", "ls -la")
    _build(site, site.out)
    assert len(list(memo.glob("*.pickle"))) == 1
    _edit(code, "x = 1", "x = 2")
    _build(site, site.out)
    page = (site.out / "posts" / "code" / "index.html").read_text(encoding="utf-8")
    assert "ls -la" in page and '<span class="m">2</span>' in page
    assert _same_tree(site.out, site.build_from_nothing(tmp_path / "fresh")) == []


def test_edits_in_a_row_stay_equal_to_a_full_build(tmp_path):
    site = Site(tmp_path / "site", CONFIG)
    _posts(site)
    _build(site, site.out)
    for edit in ("title", "body", "tags", "added", "date"):
        EDITS[edit](site.root / "posts")
        _build(site, site.out)
        assert _same_tree(site.out, site.build_from_nothing(tmp_path / "fresh")) == [], edit


def test_rebuilds_in_one_serve_process_stay_equal_to_a_full_build(tmp_path):
    """`serve` keeps its caches in memory between builds (and writes the pages and the search index in place)."""
    site = Site(tmp_path / "site", CONFIG)
    _posts(site)
    opts = BuildOptions(site_dir=site.root, out_dir=site.out, quiet=True, resident=True)
    build_site(opts)
    root = site.root
    site_edits = {
        "theme template": lambda: _edit(root / "theme/templates/single.html", "<footer", "<!-- edited --><footer"),
        "i18n file": lambda: _edit(root / "theme/i18n/ja.yaml", "archives: アーカイブ", "archives: 記事一覧"),
        "site config": lambda: _edit(root / "site_config.yaml", "title: Test Blog", "title: Renamed Blog"),
    }
    edits = {**{name: lambda edit=edit: edit(root / "posts") for name, edit in EDITS.items()}, **site_edits}
    for name, edit in edits.items():
        edit()
        result = build_site(opts)
        assert result.files_reused > 0 or name in site_edits, name
        assert _same_tree(site.out, site.build_from_nothing(tmp_path / "fresh", search=True)) == [], name


def test_an_incremental_build_stopped_by_the_secret_scan_leaves_the_last_site(tmp_path, monkeypatch):
    token = "hf_" + "Qw8" * 12
    monkeypatch.setenv("HF_TOKEN", token)
    site = Site(tmp_path / "site", CONFIG)
    _posts(site)
    _build(site, site.out)
    before = {p.relative_to(site.out).as_posix(): p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
    _edit(site.root / "posts" / "p3.md", "More of post 3.", f"More of post 3: {token}")
    with pytest.raises(BuildError) as err:
        _build(site, site.out)
    assert "a secret value is still present" in err.value.message and token not in err.value.message
    after = {p.relative_to(site.out).as_posix(): p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in site.root.iterdir() if p.name.startswith(".public.")) == []


def test_publish_after_a_publish_that_executed_is_a_no_op(tmp_path):
    from conftest_exec import copy_fixtures

    site = Site(tmp_path / "site", CONFIG)
    copy_fixtures(site.root, ["params"])
    first = _build(site, site.out)
    assert first.executed == ["params"]
    # the freeze entry the first build wrote is its own output, not a change to build again
    second = _build(site, site.out)
    assert second.unchanged and second.executed == []
    # and an edit after it is seen: the post converts again (from its entry, without running)
    _edit(site.root / "posts" / "params.md", "front matter overrides", "the front matter overrides")
    third = _build(site, site.out)
    assert not third.unchanged and third.posts_converted == 1


def test_a_post_run_again_converts_as_its_freeze_entry_restored(tmp_path):
    """The view cache key of a post just executed is the one its entry restored
    gives: the build after the run converts nothing, even when it is not a no-op."""
    from conftest_exec import copy_fixtures

    site = Site(tmp_path / "site", CONFIG)
    copy_fixtures(site.root, ["params"])
    site.post("other.md", "title: Other\ndate: 2025-01-01")
    _build(site, site.out)
    _edit(site.root / "posts" / "other.md", "Body text.", "Other body text.")
    assert _build(site, site.out).posts_converted == 1  # `other` alone
