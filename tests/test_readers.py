"""content/readers.py: post files are found and read by the reader registered for their suffix."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from execblog.content.read import read_post
from execblog.content.readers import READERS, ReadSettings, discover_post_files, read_posts, reader
from execblog.errors import BuildError
from execblog.records import SourcePost

UTC = ZoneInfo("UTC")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_toy(path: Path, settings: ReadSettings) -> SourcePost:
    """A made-up format: `key = value` lines between `%%` lines, then the body;
    read through the shared front matter code as the Markdown it stands for
    (line for line, so errors point at the file's lines)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    markdown = ["---\n" if line.strip() == "%%" else line.replace(" = ", ": ", 1) for line in lines]
    return read_post(path, settings.zone, settings.default_author, settings.taxonomies, text="".join(markdown))


@pytest.fixture
def toy_readers() -> dict:
    registry = dict(READERS)  # a temporary registry: the product's is untouched
    reader(".toy", registry)(read_toy)
    return registry


def test_markdown_is_the_first_registered_format(tmp_path):
    assert set(READERS) >= {".md"}
    posts = tmp_path / "posts"
    write(posts / "a.md", "---\ntitle: A\ndate: 2025-01-01\n---\nbody\n")
    write(posts / "b" / "index.md", "---\ntitle: B\ndate: 2025-01-02\n---\nbody\n")
    write(posts / "b" / "figure.png", "not read, published beside the page")
    write(posts / "notes.txt", "no reader for this suffix: not a post")
    write(posts / "_draft.md", "---\ntitle: ignored\n---\n")
    read = read_posts(posts, UTC)
    assert [(p.name, p.title) for p in read] == [("a", "A"), ("b", "B")]
    assert read[1].bundle_dir == posts / "b" and read[1].resources == (posts / "b" / "figure.png",)


def test_a_new_post_format_is_one_reader_registered_by_suffix(tmp_path, toy_readers):
    posts = tmp_path / "posts"
    write(posts / "a.md", "---\ntitle: A\ndate: 2025-01-01\n---\nbody\n")
    write(posts / "toy.toy", "%%\ntitle = Toy post\ndate = 2025-02-03\ntags = [one, two]\n%%\nThe *body*.\n")
    write(posts / "bundle" / "index.toy", "%%\ntitle = Bundled toy\ndate = 2025-02-04\n%%\nbody\n")
    write(posts / "bundle" / "data.csv", "x\n1\n")
    assert discover_post_files(posts) == [posts / "a.md"]  # the product's registry does not know .toy
    read = {p.name: p for p in read_posts(posts, UTC, "Ann", readers=toy_readers)}
    assert sorted(read) == ["a", "bundle", "toy"]
    toy = read["toy"]
    assert toy.path == posts / "toy.toy" and toy.title == "Toy post" and toy.authors == ("Ann",)
    assert toy.date.year == 2025 and toy.terms["tags"] == ("one", "two") and toy.body == "The *body*.\n"
    assert read["bundle"].bundle_dir == posts / "bundle"
    assert read["bundle"].resources == (posts / "bundle" / "data.csv",)


def test_a_reader_reports_bad_front_matter_with_its_file_and_line(tmp_path, toy_readers):
    posts = tmp_path / "posts"
    bad = write(posts / "bad.toy", "%%\ntitle = T\ndraft = maybe\n%%\nbody\n")
    with pytest.raises(BuildError) as err:
        read_posts(posts, UTC, readers=toy_readers)
    assert err.value.path == bad and err.value.line == 3  # the line of `draft` in the file
    assert "draft" in err.value.message


def test_a_bundle_with_two_post_files_is_refused(tmp_path, toy_readers):
    posts = tmp_path / "posts"
    write(posts / "b" / "index.md", "---\ntitle: B\n---\n")
    write(posts / "b" / "index.toy", "%%\ntitle = B\n%%\n")
    with pytest.raises(BuildError) as err:
        discover_post_files(posts, toy_readers)
    assert err.value.path == posts / "b" and "index.md, index.toy" in err.value.message
    assert err.value.hint


def test_two_formats_of_one_name_are_two_posts_with_one_name(tmp_path, toy_readers):
    posts = tmp_path / "posts"
    write(posts / "same.md", "---\ntitle: M\ndate: 2025-01-01\n---\n")
    write(posts / "same.toy", "%%\ntitle = T\ndate = 2025-01-01\n%%\n")
    with pytest.raises(BuildError, match="two posts have the name `same`"):
        read_posts(posts, UTC, readers=toy_readers)
