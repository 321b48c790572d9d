"""Third-party notebooks (jupytext's and nbformat's test files, in ../shared/corpora beside the
clone; manifest.tsv lists them): each one, dropped into posts/, is read and rendered, or refused
with a BuildError that names the file. Never a traceback.

Most of them have no title and some a kernel that is not Python, so each is tried twice: as it is,
and with `title` and `execute: false` added the way an author would (notebook metadata, front matter),
which publishes its saved outputs."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from execblog.content.readers import READERS, ReadSettings
from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.errors import BuildError
from execblog.execution.execute import source_notebook
from execblog.records import ExecutedPost

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
MANIFEST = CORPORA / "manifest.tsv"


def _entries() -> list[str]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as f:
        return [row["file"] for row in csv.DictReader(f, delimiter="\t")]


ENTRIES = _entries()


def test_the_corpora_are_beside_the_clone():
    assert MANIFEST.is_file(), f"{MANIFEST} is missing: the corpora live in shared/ beside the clone"
    assert len(ENTRIES) >= 60 and all((CORPORA / entry).is_file() for entry in ENTRIES)


@pytest.fixture(scope="module")
def converter(tmp_path_factory):
    options = ConverterOptions(cache_dir=tmp_path_factory.mktemp("cache"))
    return NotebookConverter(MarkdownRenderer(MarkdownOptions()), options)


def _with_title(path: Path) -> None:
    """`title` and `execute: false` added where an author of this format writes them."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return  # refused as it is
        if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
            data["metadata"]["execblog"] = {"title": "A corpus notebook", "execute": False}
            path.write_text(json.dumps(data), encoding="utf-8")
        return
    missing = [
        line
        for key, line in (("title", "title: A corpus notebook\n"), ("execute", "execute: false\n"))
        if not re.search(rf"^{key}:", text, re.M)
    ]
    if text.startswith("---\n"):
        path.write_text("---\n" + "".join(missing) + text[4:], encoding="utf-8")
    else:
        path.write_text("---\n" + "".join(missing) + "---\n" + text, encoding="utf-8")


def _render(path: Path, converter: NotebookConverter) -> str:
    """'rendered' or 'refused'; anything but a BuildError naming the file fails the test."""
    read = READERS.get(path.suffix)
    if read is None:
        return "not a post"
    try:
        post = read(path, ReadSettings(ZoneInfo("UTC")))
        executed = (
            ExecutedPost(source=post, status="not-executed", notebook=source_notebook(post))
            if post.executable
            else ExecutedPost(source=post, status="plain")
        )
        converted = converter.convert(executed)
    except BuildError as exc:
        assert exc.path == path, exc.format()
        assert exc.message.strip() and "Traceback" not in exc.format()
        return "refused"
    sources = [c.source for c in post.notebook.cells] if post.notebook is not None else [post.body]
    assert converted.html.strip() or not any(text.strip() for text in sources)
    return "rendered"


@pytest.mark.parametrize("entry", ENTRIES)
def test_each_corpus_file_renders_or_is_refused_clearly(entry, tmp_path, converter):
    source = CORPORA / entry
    suffix = source.suffix
    as_is = tmp_path / "as-is" / "posts" / f"corpus{suffix}"
    titled = tmp_path / "titled" / "posts" / f"corpus{suffix}"
    for target in (as_is, titled):
        target.parent.mkdir(parents=True)
        shutil.copyfile(source, target)
    _with_title(titled)
    outcomes = (_render(as_is, converter), _render(titled, converter))
    if suffix in READERS:
        assert "not a post" not in outcomes
