"""Notebook posts: .ipynb, Jupytext percent scripts and MyST Markdown read as posts; saved outputs
published as authored (`execute: false`); provenance; Open in Colab / view on GitHub links."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest
from PIL import Image

from execblog.config import Repository, parse_config_text
from execblog.content.readers import ReadSettings, read_posts
from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.errors import BuildError
from execblog.execution.execute import source_notebook
from execblog.records import Download, ExecutedPost, Link

from conftest import Site

UTC = ZoneInfo("UTC")
SETTINGS = ReadSettings(UTC)
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _png(size=(20, 10)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _notebook(path: Path, *cells, **metadata) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update({"kernelspec": KERNEL, **metadata})
    nb.cells = list(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _front(text: str):
    return nbformat.v4.new_raw_cell(f"---\n{text.strip()}\n---")


def _code(source: str, *outputs):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = list(outputs)
    return cell


def _image(data: str):
    return nbformat.v4.new_output("display_data", data={"image/png": data, "text/plain": "<Figure>"})


def _read(path: Path):
    [post] = read_posts(path.parent if path.stem != "index" else path.parent.parent, UTC)
    return post


@pytest.fixture(scope="module")
def converter(tmp_path_factory):
    options = ConverterOptions(
        cache_dir=tmp_path_factory.mktemp("cache"),
        repository=Repository(url="https://github.com/me/blog", branch="main", path="site"),
    )
    return NotebookConverter(MarkdownRenderer(MarkdownOptions()), options)


def _saved(post) -> ExecutedPost:
    """What the execute stage gives an `execute: false` post."""
    return ExecutedPost(source=post, status="not-executed", notebook=source_notebook(post))


# --- readers -----------------------------------------------------------------------------------------
def test_ipynb_front_matter_from_a_raw_cell_and_metadata(tmp_path):
    path = _notebook(
        tmp_path / "posts" / "colab.ipynb",
        _front("title: From Colab\ndate: 2024-03-01\ntags: [colab, gpu]"),
        nbformat.v4.new_markdown_cell("Some *prose*."),
        _code("x = 1"),
        description="from the metadata",
        toc={"number_sections": True},
    )  # `toc` is a tool's, not ours
    post = _read(path)
    assert (post.name, post.title, post.date.isoformat()) == ("colab", "From Colab", "2024-03-01T00:00:00+00:00")
    assert post.terms["tags"] == ("colab", "gpu") and post.description == "from the metadata"
    assert post.toc is None and post.executable and post.execute
    # the front matter cell is not content
    assert [c.cell_type for c in post.notebook.cells] == ["markdown", "code"]
    # metadata.execblog holds any key; the raw cell wins over the metadata
    path = _notebook(
        tmp_path / "b" / "posts" / "meta.ipynb",
        _front("title: Raw cell title"),
        title="Metadata title",
        execblog={"slug": "own-slug", "execute": False},
    )
    post = _read(path)
    assert (post.title, post.slug, post.execute) == ("Raw cell title", "own-slug", False)


def test_ipynb_title_from_the_first_heading_else_a_clear_error(tmp_path):
    path = _notebook(tmp_path / "posts" / "h.ipynb", nbformat.v4.new_markdown_cell("intro\n\n# The heading\n"))
    assert _read(path).title == "The heading"
    path = _notebook(tmp_path / "x" / "posts" / "untitled.ipynb", _code("1"))
    with pytest.raises(BuildError) as err:
        _read(path)
    assert err.value.path == path and "no title" in err.value.message and "raw cell" in err.value.hint


def test_notebooks_that_cannot_be_posts_are_refused_naming_the_file(tmp_path):
    posts = tmp_path / "posts"
    cases = {
        "json.ipynb": ("{not json", "not valid JSON"),
        "future.ipynb": (json.dumps({"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}), "nbformat 5"),
    }
    for name, (text, message) in cases.items():
        posts.mkdir(exist_ok=True)
        (posts / name).write_text(text, encoding="utf-8")
        with pytest.raises(BuildError) as err:
            read_posts(posts, UTC)
        assert err.value.path == posts / name and message in err.value.message
        (posts / name).unlink()
    r_kernel = {"name": "ir", "display_name": "R", "language": "R"}
    path = _notebook(posts / "r.ipynb", _front("title: R"), _code("1 + 1"), kernelspec=r_kernel)
    with pytest.raises(BuildError) as err:
        read_posts(posts, UTC)
    assert err.value.path == path and "`ir` (r)" in err.value.message and "execute: false" in err.value.hint
    # its saved outputs can still be published
    _notebook(path, _front("title: R\nexecute: false"), _code("1 + 1"), kernelspec=r_kernel)
    assert read_posts(posts, UTC)[0].execute is False
    # a bad front matter value is named, without a line of the JSON
    _notebook(path, _front("title: R\ndraft: maybe\nexecute: false"), kernelspec=r_kernel)
    with pytest.raises(BuildError) as err:
        read_posts(posts, UTC)
    assert err.value.line is None and "`draft` must be true or false" in err.value.message


def test_invalid_cells_are_refused_with_the_cell(tmp_path):
    path = tmp_path / "posts" / "bad.ipynb"
    path.parent.mkdir()
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# T"}, {"cell_type": "code", "metadata": {}}]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": cells}), "utf-8")
    with pytest.raises(BuildError) as err:
        read_posts(path.parent, UTC)
    assert err.value.path == path and err.value.message == "cell 2 has no text `source`"


def test_percent_script_front_matter_in_its_header_comment(tmp_path):
    path = tmp_path / "posts" / "script.py"
    path.parent.mkdir()
    header = (
        "# ---\n# title: A script\n# date: 2024-05-01\n# jupyter:\n#   kernelspec:\n#     name: python3\n"
        "#     display_name: Python 3\n#     language: python\n# ---\n\n"
    )
    path.write_text(header + "# %% [markdown]\n# Some *prose*\n\n# %%\nprint(1)\n", encoding="utf-8")
    post = _read(path)
    assert (post.title, post.executable) == ("A script", True)
    assert [(c.cell_type, c.source) for c in post.notebook.cells] == [
        ("markdown", "Some *prose*"),
        ("code", "print(1)"),
    ]
    # errors point at the file's own line
    path.write_text(header.replace("# date: 2024-05-01", "# date: someday") + "# %%\n1\n", encoding="utf-8")
    with pytest.raises(BuildError) as err:
        _read(path)
    assert (err.value.path, err.value.line) == (path, 3)


def test_myst_markdown_is_a_notebook_not_prose(tmp_path):
    path = tmp_path / "posts" / "myst.md"
    path.parent.mkdir()
    path.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n"
        "  name: python3\n  display_name: Python 3\n  language: python\ntitle: MyST\n---\n\n"
        "Prose.\n\n```{code-cell} ipython3\nx = 1\n```\n",
        encoding="utf-8",
    )
    post = _read(path)
    assert post.executable and [c.cell_type for c in post.notebook.cells] == ["markdown", "code"]
    assert post.notebook.cells[1].source == "x = 1"
    plain = tmp_path / "p" / "posts" / "plain.md"
    plain.parent.mkdir(parents=True)
    plain.write_text("---\ntitle: Plain\n---\n\n```python\nx = 1\n```\n", encoding="utf-8")
    assert not _read(plain).executable and _read(plain).notebook is None


# --- outputs as authored -----------------------------------------------------------------------------
def test_execute_false_publishes_the_saved_outputs_as_authored(tmp_path, converter):
    png = _png()
    attached = nbformat.v4.new_markdown_cell("See ![diagram](attachment:d.png)")
    attached.attachments = {"d.png": {"image/png": png}}
    path = _notebook(
        tmp_path / "posts" / "colab.ipynb",
        _front("title: Colab\nexecute: false"),
        attached,
        _code(
            "!pip install tiny\n%matplotlib inline\nplot()",
            nbformat.v4.new_output("stream", name="stdout", text="done\n"),
            _image(png),
            _image("not base64 at all!"),
        ),
        colab={"gpuType": "T4", "provenance": []},
        accelerator="GPU",
    )
    converted = converter.convert(_saved(_read(path)))
    html = converted.html
    assert '<pre class="output-stream output-stdout">done\n</pre>' in html
    images = sorted(a.site_path for a in converted.assets if a.site_path.startswith("outputs/"))
    assert len(images) == 1 and html.count(f'src="{images[0]}"') == 2  # the output and the attachment
    assert "attachment:" not in html and "base64" not in html
    assert "This image/png output could not be read" in html  # the damaged one, in its place
    prov = converted.provenance
    assert (prov.outputs, prov.environment) == ("saved", "Google Colab (GPU T4)")
    assert prov.downloads == (Download("notebook", "colab.ipynb"),)  # the notebook is its own source
    blob = "blob/main/site/posts/colab.ipynb"
    assert prov.links == (
        Link("colab", f"https://colab.research.google.com/github/me/blog/{blob}"),
        Link("github", f"https://github.com/me/blog/{blob}"),
    )


def test_a_notebook_that_runs_starts_without_its_saved_outputs(tmp_path):
    path = _notebook(
        tmp_path / "posts" / "run.ipynb",
        _front("title: Runs"),
        _code("print(1)", nbformat.v4.new_output("stream", name="stdout", text="stale\n")),
    )
    nb = source_notebook(_read(path))
    assert nb.cells[0].outputs == [] and nb.cells[0].source == "print(1)"


def test_executed_posts_link_to_the_executed_notebook_in_the_freeze(tmp_path, converter):
    path = _notebook(tmp_path / "posts" / "b" / "index.ipynb", _front("title: Bundle"), _code("x = 1"))
    (path.parent / "b.ipynb").write_text("{}", encoding="utf-8")  # a bundle file named like the download
    post = _read(path)
    converted = converter.convert(
        ExecutedPost(
            source=post,
            status="frozen",
            notebook=source_notebook(post),
            provenance={"executed_at": "2024-05-06T07:08:09Z"},
        )
    )
    prov = converted.provenance
    assert prov.outputs == "executed" and prov.environment is None
    assert prov.links[1] == Link("github", "https://github.com/me/blog/blob/main/site/_freeze/b/executed.ipynb")
    # the bundle's own b.ipynb keeps its name; the download takes another
    assert prov.downloads == (Download("notebook", "b-download.ipynb"),)
    assert "b.ipynb" not in {a.site_path for a in converted.assets}


def test_python_cells_are_highlighted_as_ipython(tmp_path, converter):
    path = _notebook(
        tmp_path / "posts" / "magic.ipynb",
        _front("title: Magic\nexecute: false"),
        _code("!pip install diffusers\n%time x = 1\nprint(x)"),
    )
    html = converter.convert(_saved(_read(path))).html
    assert 'class="err"' not in html and "pip install diffusers" in html
    assert '<span class="o">!</span>' in html


def test_repository_config_is_validated():
    with pytest.raises(BuildError) as err:
        parse_config_text("title: T\nrepository: {url: https://gitlab.com/me/blog}\n", Path("."))
    assert "repository.url" in err.value.message
    assert parse_config_text("title: T\n", Path(".")).repository.url == ""


@pytest.mark.pipeline
def test_a_colab_notebook_is_a_post_of_the_site(tmp_path):
    site = Site(tmp_path / "site", "title: T\nlanguage: en\nrepository: {url: https://github.com/me/blog}\n")
    _notebook(
        site.root / "posts" / "colab" / "index.ipynb",
        _front("title: Colab run\nexecute: false"),
        nbformat.v4.new_markdown_cell("The *prose*."),
        _code("print(2)", _image(_png())),
        colab={"provenance": []},
    )
    (site.root / "posts" / "colab" / "colab.ipynb").write_text("{}", encoding="utf-8")
    assert site.build() == 0
    page = site.read("posts/colab/index.html")
    assert "<dt>Outputs</dt><dd>as saved in the notebook (not re-run)</dd>" in page
    assert "<dd>Google Colab</dd>" in page and ">Open in Colab</a>" in page
    assert site.read("posts/colab/colab.ipynb") == "{}"  # the bundle's file, as it was
    assert json.loads(site.read("posts/colab/colab-download.ipynb"))["cells"][1]["outputs"]
