"""The caches a rebuild reads instead of redoing work: posts read keyed by their
files' stat (incremental/posts.py), the post views in one file (incremental/views.py)
and the parsed stylesheet (output/purge.py). Each must give what the work would."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from execblog.content.readers import read_posts
from execblog.errors import BuildError
from execblog.incremental.posts import PostReadCache
from execblog.incremental.store import EntryStore, finish
from execblog.incremental.views import ViewStore
from execblog.output.purge import Stylesheet, parsed_stylesheet

UTC = ZoneInfo("UTC")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read(posts: Path, store: Path, calls: list[str], context: str = "code-1"):
    """read_posts through a fresh cache (a new build), noting which posts were read from their files."""
    cache = PostReadCache(store, context)
    found = read_posts(posts, UTC, read_with=cache.read)
    calls += sorted(cache.read_again)
    cache.save()
    return found


def test_unchanged_posts_are_not_read_again_and_an_edit_is(tmp_path):
    posts, store = tmp_path / "site" / "posts", tmp_path / "cache" / "posts.pickle"
    write(posts / "a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nfirst\n")
    write(posts / "b.md", "---\ntitle: B\ndate: 2024-01-02\n---\nbody\n")
    calls: list[str] = []
    assert [p.title for p in read(posts, store, calls)] == ["A", "B"]
    assert calls == ["a", "b"]

    calls.clear()
    again = read(posts, store, calls)
    assert calls == [] and [p.body for p in again] == ["first\n", "body\n"]

    write(posts / "a.md", "---\ntitle: A2\ndate: 2024-01-01\n---\nsecond, longer\n")
    calls.clear()
    assert [p.title for p in read(posts, store, calls)] == ["A2", "B"]
    assert calls == ["a"]


def test_a_file_added_to_a_bundle_is_published_without_touching_the_post(tmp_path):
    posts, store = tmp_path / "site" / "posts", tmp_path / "cache" / "posts.pickle"
    write(posts / "trip" / "index.md", "---\ntitle: Trip\ndate: 2024-01-01\n---\n![map](map.png)\n")
    assert read(posts, store, [])[0].resources == ()
    (posts / "trip" / "map.png").write_bytes(b"\x89PNG")
    post = read(posts, store, [])[0]
    assert [p.name for p in post.resources] == ["map.png"]


def test_a_bad_post_is_reported_on_every_build(tmp_path):
    posts, store = tmp_path / "site" / "posts", tmp_path / "cache" / "posts.pickle"
    write(posts / "a.md", "---\ntitle: [unclosed\n---\nbody\n")
    for _ in range(2):
        with pytest.raises(BuildError, match="YAML"):
            read(posts, store, [])


def test_many_posts_are_read_on_every_core_as_one_process_reads_them(tmp_path, monkeypatch):
    from execblog import parallel

    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    posts, store = tmp_path / "site" / "posts", tmp_path / "cache" / "posts.pickle"
    n = parallel.MIN_ITEMS * 2
    for i in range(n):
        write(posts / f"p{i:03}.md", f"---\ntitle: Post {i}\ndate: 2024-01-01\ntags: [t{i % 3}]\n---\nbody {i}\n")
    calls: list[str] = []
    found = read(posts, store, calls)
    monkeypatch.setattr(parallel, "cpu_count", lambda: 1)
    assert found == read_posts(posts, UTC) and len(calls) == n
    assert [p.body for p in found[:2]] == ["body 0\n", "body 1\n"] and found[5].terms["tags"] == ("t2",)
    # a bad post in the part another process reads: the same error, naming the file and line
    write(posts / f"p{n - 2:03}.md", "---\ntitle: [unclosed\n---\nbody\n")
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    with pytest.raises(BuildError) as raised:
        read(posts, store, [])
    assert raised.value.path == posts / f"p{n - 2:03}.md" and raised.value.line == 2


def test_other_code_reads_every_post_again(tmp_path):
    posts, store = tmp_path / "site" / "posts", tmp_path / "cache" / "posts.pickle"
    write(posts / "a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nbody\n")
    read(posts, store, [])
    calls: list[str] = []
    read(posts, store, calls, "code-2")
    assert calls == ["a"]


def test_view_store_gives_back_what_was_saved_and_nothing_from_a_damaged_file(tmp_path):
    path = tmp_path / "views.pickle"
    assert ViewStore(path).load() == {}
    ViewStore(path).save({"a": ("key", "a view")})
    assert ViewStore(path).load() == {"a": ("key", "a view")}
    path.write_bytes(b"not a pickle")
    assert ViewStore(path).load() == {}


def test_entry_store_writes_what_changed_beside_the_base_and_folds_it_in_later(tmp_path):
    path = tmp_path / "views.pickle"
    entries = {f"post{i}": (f"key{i}", f"view {i}") for i in range(100)}
    EntryStore(path).save(entries)
    finish()  # a whole file is written by a process of its own
    base = path.read_bytes()
    store = EntryStore(path)
    loaded = store.load()
    assert loaded == entries
    loaded["post1"] = ("key1b", "view 1, edited")
    del loaded["post2"]
    store.save(loaded)
    assert path.read_bytes() == base  # one edit: the base stays, the journal says what changed
    assert EntryStore(path).load() == loaded
    inode = store.journal_path.stat().st_ino
    store.save(loaded)  # nothing new: nothing written (a write replaces the file)
    assert store.journal_path.stat().st_ino == inode
    many = {name: (key + "c", value) for name, (key, value) in loaded.items()}
    store.save(many)
    finish()
    assert not store.journal_path.exists() and EntryStore(path).load() == many


def test_saving_a_whole_store_leaves_the_builds_text_as_small_as_it_was(tmp_path, monkeypatch):
    """Pickling a string keeps a UTF-8 copy of it inside the string; the build's process holds the
    posts' text for the whole build, so a whole file is pickled by a process of its own."""
    import sys

    from execblog import parallel

    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    texts = {f"post{i}": (f"key{i}", "走れメロス " * 50 + str(i)) for i in range(100)}
    before = sum(sys.getsizeof(text) for _, text in texts.values())
    EntryStore(tmp_path / "views.pickle").save(texts)
    finish()
    assert sum(sys.getsizeof(text) for _, text in texts.values()) == before
    assert EntryStore(tmp_path / "views.pickle").load() == texts


def test_entry_store_ignores_a_journal_of_another_base_and_anything_damaged(tmp_path):
    path = tmp_path / "posts.pickle"
    store = EntryStore(path, "code-1")
    store.save({"a": ("k1", "A")})
    store.save({"a": ("k2", "A2")})
    journal = store.journal_path.read_bytes()
    store.save({f"n{i}": ("k", i) for i in range(50)})  # a new base
    store.journal_path.write_bytes(journal)  # as a crash between the base and the journal's removal leaves it
    assert EntryStore(path, "code-1").load() == {f"n{i}": ("k", i) for i in range(50)}
    assert EntryStore(path, "code-2").load() == {}  # another context
    store.journal_path.write_bytes(b"not a pickle")
    assert EntryStore(path, "code-1").load() == {f"n{i}": ("k", i) for i in range(50)}
    path.write_bytes(b"not a pickle")
    assert EntryStore(path, "code-1").load() == {}


CSS = ".a{color:red}\n@media (min-width:1px){.b{color:blue}}\n.c .d{margin:0}\n"


def test_the_cached_stylesheet_fits_pages_as_a_fresh_parse_does(tmp_path):
    fresh = Stylesheet(CSS)
    cached = parsed_stylesheet(CSS, tmp_path)  # parsed and stored
    again = parsed_stylesheet(CSS, tmp_path)  # read back
    for tokens in ({"class:a"}, {"class:b", "class:c"}, {"class:c", "class:d"}, set()):
        assert cached.write(cached.used(tokens)) == again.write(again.used(tokens)) == fresh.write(fresh.used(tokens))
    changed = parsed_stylesheet(CSS.replace(".a{", ".e{"), tmp_path)
    assert ".e{" in changed.write(changed.used({"class:e"})) and ".a{" not in changed.write(changed.used({"class:a"}))
    assert len(os.listdir(tmp_path)) == 1  # one theme's stylesheet kept


# A damaged pickle frame (OverflowError) and a class from a module another version had (ImportError).
DAMAGED = [b"not a pickle", b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\x7f.", b"\x80\x04c gone.module\nThing\n)\x81."]


@pytest.mark.parametrize("data", DAMAGED, ids=["text", "frame", "module"])
def test_a_build_over_damaged_caches_rebuilds_as_from_nothing(site, data):
    site.post("a.md", "title: A\ndate: 2025-01-01", "Body.\n")
    assert site.build() == 0
    caches = [p for p in (site.root / ".cache").rglob("*.pickle*") if p.is_file()]
    assert len(caches) >= 3  # posts, views, pages (and the parsed stylesheet)
    caches.append(site.root / ".cache" / "bodies.sqlite")
    for cache in caches:
        cache.write_bytes(data)
    site.post("a.md", "title: A\ndate: 2025-01-01", "Body, edited.\n")
    assert site.build() == 0
    assert "Body, edited." in site.read("posts/a/index.html")


@pytest.mark.pipeline
def test_a_post_whose_content_left_the_cache_is_converted_again(site, capsys):
    """A view is reused only with its row in the body store: without it, the post is converted again."""
    site.post("a.md", "title: A\ndate: 2025-01-01", "Body of A.\n")
    site.post("b.md", "title: B\ndate: 2025-01-02", "Body of B.\n")
    assert site.build() == 0
    before = site.read("posts/a/index.html")
    (site.root / ".cache" / "bodies.sqlite").unlink()
    site.post("b.md", "title: B\ndate: 2025-01-02", "Body of B, edited.\n")
    capsys.readouterr()
    assert site.build() == 0
    assert "(2 converted)" in capsys.readouterr().err
    assert site.read("posts/a/index.html") == before and "Body of B, edited." in site.read("posts/b/index.html")
    assert "Body of A." in site.read("index.xml")  # the feed reads each post's summary from the store


@pytest.mark.pipeline
def test_the_body_store_keeps_the_rows_of_the_posts_views_and_no_others(site, monkeypatch):
    """An edited post's earlier row stays one build (the page cache compares its content with the new
    one's), then goes; a removed post's goes (here at once: no spare rows)."""
    from execblog.incremental import bodies
    from execblog.incremental.bodies import BodyStore

    monkeypatch.setattr(bodies, "SPARE_ROWS", 0)

    def keys() -> tuple[set[str], set[str]]:
        finish()
        views = ViewStore(site.root / ".cache" / "views.pickle").load()
        return BodyStore(site.root / ".cache" / "bodies.sqlite").keys(), {key for key, _ in views.values()}

    site.post("a.md", "title: A\ndate: 2025-01-01", "first\n")
    site.post("b.md", "title: B\ndate: 2025-01-02", "body\n")
    assert site.build() == 0
    stored, first = keys()
    assert stored == first and len(first) == 2
    site.post("a.md", "title: A\ndate: 2025-01-01", "second\n")
    assert site.build() == 0
    stored, second = keys()
    assert stored == second | first and len(stored) == 3
    site.post("a.md", "title: A\ndate: 2025-01-01", "third\n")
    (site.root / "posts" / "b.md").unlink()
    assert site.build() == 0
    stored, third = keys()
    assert len(third) == 1 and stored == third | (second - first)


@pytest.mark.pipeline
def test_a_publish_leaves_the_rows_a_running_serve_reads(site):
    """`make serve` keeps its views in memory and its pages' content in the body store, which `make
    publish` (another process, other settings, other views) shares: each one's next edit converts one
    post, whichever ran between."""
    import re
    import subprocess
    import sys

    from execblog.pipeline import BuildOptions, build_site

    def publish() -> int:
        done = subprocess.run(
            [sys.executable, "-m", "execblog", "build", "-s", str(site.root), "-d", str(site.out)],
            capture_output=True,
            text=True,
            check=True,
        )
        found = re.search(r"\((\d+) converted\)", done.stderr)
        assert found is not None, done.stderr
        return int(found[1])

    for i in range(5):
        site.post(f"p{i}.md", f"title: P{i}\ndate: 2025-01-0{i + 1}", f"Body {i}.\n")
    serve = BuildOptions(
        site_dir=site.root,
        out_dir=site.root / "serve-public",
        base_url="http://127.0.0.1:1313/",
        drafts=True,
        resident=True,  # this process is the server
        quiet=True,
    )
    assert build_site(serve).posts_converted == 5
    assert publish() == 5
    for i in range(4):  # an edit, then serve and publish in turn
        site.post("p2.md", "title: P2\ndate: 2025-01-03", f"Body 2, edit {i}.\n")
        converted = publish() if i % 2 else build_site(serve).posts_converted
        out = site.out if i % 2 else serve.out_dir
        assert (i, converted) == (i, 1)
        assert f"Body 2, edit {i}." in (out / "posts" / "p2" / "index.html").read_text()


def test_the_body_store_commits_its_rows_in_batches(tmp_path):
    """Another build of the site (`make serve` beside `make publish`) reads committed rows only, and
    waits while a writer holds the file: a full build's rows are committed a batch at a time."""
    from execblog.incremental import bodies
    from execblog.incremental.bodies import BodyStore, Row

    writer, reader = BodyStore(tmp_path / "bodies.sqlite"), BodyStore(tmp_path / "bodies.sqlite")
    for i in range(bodies._BATCH + 1):
        writer.put(f"key{i}", Row("<p>本文</p>".encode(), b"", "本文".encode(), None, 0))
    assert len(reader.keys()) == bodies._BATCH  # the last row waits for its batch or the commit
    writer.commit()
    assert len(reader.keys()) == bodies._BATCH + 1 and reader.text("key3", "summary") == "本文"
