"""The search index as the build writes it: what it holds, exact after every incremental
build, deterministic, and covered by the final secret scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from execblog import parallel
from execblog.commands.cli import main
from execblog.output.search_index import DATA_DIR, MANIFEST
from execblog.parallel import MIN_ITEMS

SECRET = "pw-" + "Qw8z" * 6  # not shaped like any known token: only the told value finds it


def build(site, out: Path | None = None) -> int:
    return main(["build", "-s", str(site.root), "-d", str(out or site.out), "--no-execute"])


def index(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / DATA_DIR).iterdir())}


def documents(out: Path) -> list[list[str]]:
    manifest = json.loads((out / MANIFEST).read_text())
    return [d for name in manifest["docs"] for d in json.loads((out / DATA_DIR / name).read_text())]


@pytest.fixture(params=["few", "many"])
def blog(site, request, monkeypatch):
    """A blog of a few posts (the index is made in the build's process) or of many (in a process of
    its own, beside the page workers, as on a machine of two or more cores)."""
    site.post("a.md", "title: Attention 入門\ndate: 2025-01-02\ntags: [LLM]", "ヒートマップを描く。\n")
    site.post("b.md", "title: B\ndate: 2025-01-03", "English prose about tokenizers.\n")
    site.post("draft.md", "title: Draft\ndate: 2025-01-04\ndraft: true", "unpublished words\n")
    if request.param == "many":
        monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
        for i in range(MIN_ITEMS):
            site.post(f"filler/{i}.md", f"title: Filler {i}\ndate: 2024-02-{i % 28 + 1:02d}", f"filler words {i}\n")
    return site


def test_the_index_holds_the_published_posts_visible_text(blog):
    assert build(blog) == 0
    docs = {d[0]: d for d in documents(blog.out)}
    assert {"/sub/posts/a/", "/sub/posts/b/"} <= set(docs)
    assert "/sub/posts/draft/" not in docs  # no draft in a publish
    url, title, date, text = docs["/sub/posts/a/"]
    assert title == "Attention 入門" and date and text == "ヒートマップを描く。"
    # no search data anywhere else, and nothing of Pagefind's
    assert not (blog.out / "pagefind").exists()


def test_every_incremental_build_gives_the_index_a_full_build_gives(blog, tmp_path):
    assert build(blog) == 0
    blog.post("a.md", "title: Attention 入門\ndate: 2025-01-02\ntags: [LLM]", "走れメロスを描く。\n")  # edit
    (blog.root / "posts" / "b.md").rename(blog.root / "posts" / "c.md")  # rename
    blog.post("d.md", "title: D\ndate: 2025-01-05", "new post\n")  # add
    assert build(blog) == 0
    assert index(blog.out) == index(blog.build_from_nothing(tmp_path / "fresh", search=True))
    assert "/sub/posts/c/" in {d[0] for d in documents(blog.out)}


def test_a_build_with_search_after_one_without_gives_the_full_index(blog, tmp_path):
    """Views cached by a `--no-search` build hold no search records: the next build makes them."""
    assert main(["build", "-s", str(blog.root), "-d", str(blog.out), "--no-execute", "--no-search"]) == 0
    assert not (blog.out / DATA_DIR).exists()
    assert build(blog) == 0
    assert index(blog.out) == index(blog.build_from_nothing(tmp_path / "fresh", search=True))
    assert "/sub/posts/b/" in {d[0] for d in documents(blog.out)}


def test_the_views_cache_holds_neither_content_nor_search_records_the_body_store_does(blog):
    """A rebuild loads every post's view, and every process a build forks starts from what its process
    holds: the content and the records, which only a post's page, the feeds and the index read, are
    kept apart (incremental/bodies), by view key."""
    from execblog.incremental.bodies import BodyStore, StoredBody
    from execblog.incremental.store import finish
    from execblog.incremental.views import ViewStore

    assert build(blog) == 0
    finish()
    views = ViewStore(blog.root / ".cache" / "views.pickle").load()
    assert {"a", "b"} <= views.keys()
    assert all(view.body == StoredBody(key) and view.search is None for key, view in views.values())
    store = BodyStore(blog.root / ".cache" / "bodies.sqlite")
    assert store.keys() == {key for key, _ in views.values()}
    key, view = views["a"]
    assert "ヒートマップを描く" in store.text(key, "content") and store.text(key, "summary") == "ヒートマップを描く。"
    records, total = store.records([view], {"a": key})
    (record,) = list(records)
    assert "ヒートマップ" in record.text and record.url == view.url and total == record.size


def test_an_unchanged_rebuild_keeps_the_index_bytes_and_no_search_writes_none(blog, tmp_path):
    assert build(blog) == 0
    before = index(blog.out)
    blog.post("e.md", "title: E\ndate: 2025-01-06", "another\n")
    (blog.root / "posts" / "e.md").unlink()
    assert build(blog) == 0
    assert index(blog.out) == before
    assert main(["build", "-s", str(blog.root), "-d", str(tmp_path / "n"), "--no-search"]) == 0
    assert not (tmp_path / "n" / "search" / "data").exists()


def test_a_told_secret_in_a_post_is_found_in_the_index_by_the_final_scan(blog, monkeypatch, capsys, tmp_path):
    from execblog.execution.redact import scan_for_secrets

    blog.post("leak.md", "title: Leak\ndate: 2025-01-07", f"the password is {SECRET}\n")
    # the scan reads every file under public/: the index's files hold the post's text
    unguarded = tmp_path / "unguarded"
    assert build(blog, unguarded) == 0
    found = scan_for_secrets([unguarded / DATA_DIR], {"DB_PASSWORD": SECRET})
    assert any(f.path.name.startswith("d0-") for f in found), found
    # told about the secret, the build refuses and leaves the last good site
    assert build(blog) == 0
    (blog.root / "site_config.yaml").write_text(
        (blog.root / "site_config.yaml").read_text() + "execution:\n  secret_env: [DB_PASSWORD]\n"
    )
    monkeypatch.setenv("DB_PASSWORD", SECRET)
    blog.post("leak.md", "title: Leak\ndate: 2025-01-07", f"the password is now {SECRET}\n")
    assert build(blog) == 1
    assert "a secret value is still present in the output" in capsys.readouterr().err
    assert "password is now" not in json.dumps(documents(blog.out), ensure_ascii=False)


def test_a_build_failing_while_the_index_is_made_leaves_the_last_site_and_nothing_else(blog, capsys):
    assert build(blog) == 0
    before = {p.relative_to(blog.out): p.read_bytes() for p in blog.out.rglob("*") if p.is_file()}
    blog.post("a.md", "title: Attention 入門\ndate: 2025-01-02\ntags: [LLM]", "edited\n")
    (blog.root / "layouts").mkdir(exist_ok=True)
    (blog.root / "layouts" / "single.html").write_text("{{ post.title.no_such.field }}", encoding="utf-8")
    assert build(blog) == 1
    assert "template error" in capsys.readouterr().err
    after = {p.relative_to(blog.out): p.read_bytes() for p in blog.out.rglob("*") if p.is_file()}
    assert after == before
    # the index's process was stopped before the stage it writes into was removed: no stage is left
    assert not list(blog.out.parent.glob(f".{blog.out.name}.staging-*"))
