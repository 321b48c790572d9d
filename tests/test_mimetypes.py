"""notebook/mimetypes.py: one table from which the freeze, redaction and
conversion derive, and the output-renderer registry that shows an output's
highest-priority mimetype (nbconvert's display priority)."""

from __future__ import annotations

import base64
import io
import re

import nbformat
import pytest
from PIL import Image

from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import RENDERERS, ConverterOptions, NotebookConverter, renderer
from execblog.execution.freeze import FreezeStore, normalize_notebook
from execblog.execution.keys import code_cells_of
from execblog.execution.redact import Redactor, UnredactableSecret
from execblog.notebook import tags
from execblog.notebook.files import FILE_MIMETYPES, FILE_REF_PREFIX
from execblog.notebook.mimetypes import MIMETYPES, TABLE, Mimetype, MimetypeTable
from execblog.records import ExecutedPost

from conftest_exec import read_post

SECRET = "s3cr3t-value-for-the-test"
IMAGE_ROWS = [row for row in TABLE.rows if row.kind == "image"]
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP", "image/bmp": "BMP"}


def image_value(mime: str, extra: bytes = b"") -> str:
    """A real image of `mime` as nbformat stores it, with `extra` bytes appended."""
    if mime == "image/svg+xml":
        return '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="6"><rect width="8" height="6"/></svg>' + (
            f"<!-- {extra.decode()} -->" if extra else ""
        )
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 200, 30)).save(buffer, format=PIL_FORMATS[mime])
    return base64.b64encode(buffer.getvalue() + extra).decode("ascii")


def notebook(*data: dict, cell_tags: tuple[str, ...] = ()):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data=d) for d in data]
    if cell_tags:
        cell.metadata["tags"] = list(cell_tags)
    nb.cells = [cell]
    return nb


@pytest.fixture
def post(tmp_path):
    path = tmp_path / "post.md"
    path.write_text("---\ntitle: T\ndate: 2024-01-01\n---\nBody\n", encoding="utf-8")
    return read_post(path)


def converter(tmp_path, **kwargs) -> NotebookConverter:
    return NotebookConverter(
        MarkdownRenderer(MarkdownOptions()), ConverterOptions(cache_dir=tmp_path / "cache"), **kwargs
    )


def test_every_image_mimetype_is_known_to_freeze_redaction_and_conversion():
    assert {row.name for row in IMAGE_ROWS} == set(PIL_FORMATS) | {"image/svg+xml"}  # bmp included
    assert set(FILE_MIMETYPES) == {row.name for row in IMAGE_ROWS}


@pytest.mark.parametrize("mime", [row.name for row in IMAGE_ROWS])
def test_freeze_redaction_and_conversion_agree_on_an_image(mime, tmp_path, post):
    row = TABLE.lookup(mime)
    nb = notebook({mime: image_value(mime), "text/plain": "<Figure>"})
    # the freeze stores it as a file with the table's extension
    frozen, files = normalize_notebook(nb)
    (name,) = files
    assert name.endswith(row.extension)
    assert frozen.cells[0].outputs[0].data[mime] == FILE_REF_PREFIX + name
    # conversion shows it as an image file, from the freeze and from an inline notebook alike
    entry = FreezeStore(tmp_path / "_freeze", tmp_path / "failed").save("post", nb, {"key": "k", "status": "ok"})
    shown = []
    for executed in (
        ExecutedPost(post, "frozen", entry.notebook(), asset_dir=entry.folder),
        ExecutedPost(post, "executed", nb),
    ):
        converted = converter(tmp_path).convert(executed)
        assert re.search(
            rf'<figure class="output-image"><img src="outputs/[0-9a-f]{{16}}\{row.extension}"', converted.html
        ), converted.html
        shown.append([asset.site_path for asset in converted.assets if asset.site_path.startswith("outputs/")])
    assert shown[0] == shown[1] and len(shown[0]) == 1
    # redaction reads it as the table says: image bytes (a secret in them cannot be cut out) or markup text
    leaky = notebook({mime: image_value(mime, extra=SECRET.encode())})
    redactor = Redactor({"API_TOKEN": SECRET})
    if row.redact == "binary-image":
        with pytest.raises(UnredactableSecret, match=re.escape(mime)):
            redactor.notebook(leaky)
    else:
        assert row.redact == "markup"
        assert "[REDACTED:API_TOKEN]" in redactor.notebook(leaky).cells[0].outputs[0].data[mime]


def test_display_priority_is_the_order_of_the_table(tmp_path, post):
    convert = converter(tmp_path)

    def shown(*data):
        return convert.convert(ExecutedPost(post, "executed", notebook(*data))).html

    png = image_value("image/png")
    assert "output-image" in shown({"text/plain": "x", "text/html": "<b>x</b>", "image/png": png})
    assert "output-html" in shown({"text/plain": "x", "text/html": "<b>x</b>"})
    # a widget's text/plain is a stale repr: nothing is shown
    assert "cell-output" not in shown({"application/vnd.jupyter.widget-view+json": {}, "text/plain": "IntSlider()"})
    # a chart the theme draws comes first, its image inside as the fallback; never its text repr
    figure = {"data": [{"type": "bar", "y": [1, 2]}], "layout": {}}
    drawn = shown({"application/vnd.plotly.v1+json": figure, "image/png": png, "text/plain": "Fig"})
    assert drawn.index("output-chart") < drawn.index("output-image") and "Fig<" not in drawn
    # an interactive output the theme cannot draw shows its image fallback, else says it is not shown
    assert "output-image" in shown({"application/vnd.bokehjs_exec.v0+json": {}, "image/png": png, "text/plain": "F"})
    notice = shown({"application/vnd.plotly.v1+json": {}, "text/html": "<div></div>", "text/plain": "Figure()"})
    assert "output-unsupported" in notice and "application/vnd.plotly.v1+json" in notice and "Figure()" not in notice
    # HTML that was only a script declines: the next mimetype shows
    assert '<pre class="output-text">chart</pre>' in shown(
        {"text/html": "<script>draw()</script>", "text/plain": "chart"}
    )
    only_script = shown({"text/html": "<script>draw()</script>"})
    assert "output-unsupported" in only_script and "draw()" not in only_script


def test_a_new_mimetype_of_a_known_kind_is_one_table_row(tmp_path, post):
    data = {"text/x-made-up": "made <up>", "text/plain": "plain repr"}
    executed = ExecutedPost(post, "executed", notebook(data))
    assert "plain repr" in converter(tmp_path).convert(executed).html  # unknown to the product's table
    rows = list(MIMETYPES)
    rows.insert(rows.index(TABLE.lookup("text/plain")), Mimetype("text/x-made-up", "text", sanitize="escape"))
    html = converter(tmp_path, mimetypes=MimetypeTable(rows)).convert(executed).html
    assert '<pre class="output-text">made &lt;up&gt;</pre>' in html and "plain repr" not in html


def test_a_new_kind_is_one_row_and_one_renderer(tmp_path, post):
    registry = dict(RENDERERS)

    @renderer("dot", registry)
    def render_dot(convert, output, state):
        return f'<pre class="output-dot">{len(output.text.splitlines())} lines of DOT</pre>'

    table = MimetypeTable((Mimetype("text/vnd.graphviz", "dot", sanitize="escape"), *MIMETYPES))
    executed = ExecutedPost(
        post, "executed", notebook({"text/vnd.graphviz": "digraph {\na -> b\n}", "text/plain": "G"})
    )
    html = converter(tmp_path, mimetypes=table, renderers=registry).convert(executed).html
    assert '<pre class="output-dot">3 lines of DOT</pre>' in html
    # without its renderer the row is known but not shown: the next mimetype is
    assert '<pre class="output-text">G</pre>' in converter(tmp_path, mimetypes=table).convert(executed).html


def test_every_shown_mimetype_says_how_it_is_made_safe():
    for row in TABLE.rows:
        if row.kind not in RENDERERS or row.kind in ("interactive", "loader", "plotly", "vega", "bokeh", "widget"):
            # never shown, only a notice naming it, JSON for the theme (json_for_script), or a widget
            # drawn from the saved state with each string escaped or sanitized (convert/widgets.py)
            continue
        raster = row.kind == "image" and row.base64  # bytes behind <img>, never markup
        assert raster or row.sanitize is not None, row.name


def test_a_table_with_two_rows_for_one_mimetype_is_refused():
    with pytest.raises(ValueError, match="one row per mimetype"):
        MimetypeTable((*MIMETYPES, Mimetype("text/plain", "text", sanitize="escape")))


def test_versioned_interactive_mimetypes_match_their_prefix_row():
    assert TABLE.lookup("application/vnd.vegalite.v5+json").kind == "vega"
    assert TABLE.lookup("application/vnd.vega.v5+json").kind == "vega"
    assert TABLE.lookup("application/vnd.plotly.v1+json").kind == "plotly"
    assert TABLE.lookup("application/vnd.bokehjs_exec.v0+json").kind == "bokeh"
    assert TABLE.lookup("application/vnd.bokehjs_load.v0+json").kind == "loader"
    assert TABLE.lookup("application/vnd.holoviews_exec.v0+json").kind == "interactive"
    assert TABLE.lookup("application/x-unknown") is None


def test_only_execution_tags_are_part_of_the_freeze_key():
    def key_cells(*cell_tags):
        return code_cells_of(notebook(cell_tags=cell_tags))

    assert {tags.PARAMETERS, tags.SKIP_EXECUTION, tags.RAISES_EXCEPTION} == tags.EXECUTION_TAGS
    for tag in tags.TAGS:
        changes_key = key_cells(tag.name) != key_cells()
        assert changes_key == (tag.stage == "execution"), tag.name
