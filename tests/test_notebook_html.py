"""The notebook-to-HTML step on hand-made notebooks (no kernel needed)."""

import base64
import io
import json
import re

import nbformat
import pytest
from PIL import Image

from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.execution.freeze import FreezeStore
from execblog.records import Download, ExecutedPost, Notice, Provenance

from conftest_exec import publish_html, read_post

HEADER = """---
title: T
date: 2024-01-01
{extra}jupyter:
  kernelspec:
    display_name: Python 3
    language: python
    name: python3
---
"""


@pytest.fixture(scope="module")
def converter(tmp_path_factory):
    options = ConverterOptions(cache_dir=tmp_path_factory.mktemp("cache"), fold_lines=10)
    return NotebookConverter(MarkdownRenderer(MarkdownOptions()), options)


def _post(tmp_path, extra="", name="post"):
    path = tmp_path / f"{name}.md"
    path.write_text(HEADER.format(extra=extra) + "\nBody\n", encoding="utf-8")
    return read_post(path)


def _png(size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = list(cells)
    return nb


def _code(source, outputs=(), tags=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = list(outputs)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _data(data, metadata=None):
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def _convert(converter, tmp_path, nb, extra="", **executed):
    post = _post(tmp_path, extra)
    executed.setdefault("status", "executed")
    return converter.convert(ExecutedPost(source=post, notebook=nb, **executed))


def test_plain_post_renders_body_like_markdown(converter, tmp_path):
    path = tmp_path / "plain.md"
    path.write_text("---\ntitle: P\n---\n\n## Hi\n\n```python\nprint(1)\n```\n", encoding="utf-8")
    post = read_post(path)
    converted = converter.convert(ExecutedPost(source=post, status="plain"))
    expected = MarkdownRenderer(MarkdownOptions()).render(post.body)
    assert converted.html == expected.html
    assert converted.has_code and converted.headings == expected.headings
    assert 'class="cell' not in converted.html


def test_markdown_cells_render_as_one_document(converter, tmp_path):
    nb = _nb(
        nbformat.v4.new_markdown_cell("## Setup\n\nSee note[^1]."),
        _code("x = 1"),
        nbformat.v4.new_markdown_cell("## Setup\n\n[^1]: The note.\n\nMath $a^2$."),
    )
    converted = _convert(converter, tmp_path, nb)
    assert [h.id for h in converted.headings] == ["setup", "setup-1"]  # unique across cells
    assert 'class="footnote-ref"' in converted.html  # footnote defined in another cell
    assert converted.has_math and converted.has_code
    html = converted.html
    assert html.index('id="setup"') < html.index('<div class="cell">') < html.index('id="setup-1"')
    assert "EXECBLOGCELL" not in html


def test_front_matter_raw_cell_is_dropped(converter, tmp_path):
    nb = _nb(nbformat.v4.new_raw_cell("---\ntitle: T\n---"), nbformat.v4.new_markdown_cell("Hello"))
    assert "title: T" not in _convert(converter, tmp_path, nb).html


def test_images_become_hashed_files_with_size_and_lazy_loading(converter, tmp_path):
    png = _png()
    nb = _nb(_code("plot()", [_data({"image/png": png, "text/plain": "<Figure size 40x30>"})]))
    converted = _convert(converter, tmp_path, nb)
    (asset,) = [a for a in converted.assets if a.site_path.startswith("outputs/")]
    assert re.fullmatch(r"outputs/[0-9a-f]{16}\.png", asset.site_path)
    assert asset.source.read_bytes() == base64.b64decode(png)
    assert f'<img src="{asset.site_path}" width="40" height="30" loading="lazy"' in converted.html
    assert "base64" not in converted.html and png[:40] not in converted.html


def test_frozen_image_references_use_the_asset_dir(converter, tmp_path):
    store = FreezeStore(tmp_path / "_freeze", tmp_path / "failed")
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="30pt" height="15pt"></svg>'
    retina = _data({"image/png": _png((80, 60))}, metadata={"image/png": {"width": 40, "height": 30}})
    entry = store.save("post", _nb(_code("plot()", [_data({"image/svg+xml": svg}), retina])), {"key": "k"})
    nb = entry.notebook()
    converted = _convert(converter, tmp_path, nb, asset_dir=entry.folder, provenance={"python": "3.11"})
    sources = {a.site_path: a.source for a in converted.assets}
    images = [p for p in sources if p.startswith("outputs/")]
    assert len(images) == 2
    png_path = next(p for p in images if p.endswith(".png"))
    svg_path = next(p for p in images if p.endswith(".svg"))
    assert sources[png_path].parent == entry.folder
    # An SVG is published as its sanitized copy (it is a document that can run script),
    # under the name the freeze gave it.
    assert (entry.folder / svg_path.removeprefix("outputs/")).is_file()
    assert sources[svg_path].parent != entry.folder and sources[svg_path].read_bytes().startswith(b"<svg")
    assert 'width="40" height="20"' in converted.html  # 30pt x 15pt in CSS pixels
    assert 'width="40" height="30"' in converted.html  # declared size of a retina PNG
    # The download is self-contained: images inlined again.
    download = json.loads(sources["post.ipynb"].read_text())
    assert download["cells"][0]["outputs"][0]["data"]["image/svg+xml"][0].startswith("<svg")
    assert sources["post.md"] == tmp_path / "post.md"


def test_streams_stderr_progress_and_ansi(converter, tmp_path):
    frames = "".join(f"\r{p:3d}%|{'#' * (p // 10):10s}|" for p in (0, 50, 100)) + "\n"
    nb = _nb(
        _code(
            "run()",
            [
                _stream("out 1\n"),
                _stream(frames, "stderr"),
                _stream("\x1b[31mred\x1b[0m <b>\n"),
                _stream("warn\n", "stderr"),
            ],
        )
    )
    html = _convert(converter, tmp_path, nb).html
    assert '<pre class="output-stream output-stderr">100%|##########|\n</pre>' in html
    assert '<pre class="output-stream output-stderr">warn\n</pre>' in html
    assert " 50%" not in html and "  0%" not in html
    assert '<span class="ansi-red-fg">red</span> &lt;b&gt;' in html
    hidden = _convert(converter, tmp_path, nb, extra="warnings: false\n").html
    assert "output-stderr" not in hidden and "out 1" in hidden


def test_long_text_folds_behind_details(converter, tmp_path):
    text = "".join(f"line {i}\n" for i in range(50))
    html = _convert(converter, tmp_path, _nb(_code("p()", [_stream(text)]))).html
    head, _, rest = html.partition('<details class="fold fold-more">')
    assert "line 9\n" in head and "line 10\n" not in head
    assert "<summary>Show 40 more lines</summary>" in rest and "line 49" in rest
    short = _convert(converter, tmp_path, _nb(_code("p()", [_stream("line\n" * 12)]))).html
    assert "fold-more" not in short  # folding 2 lines is not worth a click


def test_html_outputs_are_sanitized_tables_kept(converter, tmp_path):
    table = (
        '<div><style scoped>.dataframe { color: red }</style><table border="1" class="dataframe">'
        "<thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
        '<script>alert(1)</script><img src="x" onerror="alert(2)"></div>'
    )
    html = _convert(converter, tmp_path, _nb(_code("df", [_data({"text/html": table, "text/plain": "df"})]))).html
    assert '<table border="1" class="dataframe">' in html and "<td>1</td>" in html
    assert "<script" not in html and "alert" not in html and "onerror" not in html
    assert ".dataframe { color" not in html
    chart = {"text/html": "<div><script>draw()</script></div>", "text/plain": "Chart"}
    script_only = _nb(_code("chart", [_data(chart)]))
    html = _convert(converter, tmp_path, script_only).html
    assert '<pre class="output-text">Chart</pre>' in html and "draw()" not in html


PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"


def test_mimetype_choice(converter, tmp_path):
    png = _png()
    nb = _nb(
        _code("widget", [_data({WIDGET: {"model_id": "x"}, "text/plain": "HBox()"})]),
        _code("plotly", [_data({PLOTLY: {}, "text/html": "<script>x</script>", "image/png": png})]),
        _code("plotly2", [_data({PLOTLY: {}, "text/html": "<script>x</script>"})]),
        _code("math", [_data({"text/latex": r"$\frac{a}{b}$", "text/plain": "Math"})]),
        _code("md", [_data({"text/markdown": "**bold**", "text/plain": "Markdown"})]),
        _code("json", [_data({"application/json": {"b": 1}, "text/plain": "{}"})]),
        _code("plain", [nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1)]),
    )
    converted = _convert(converter, tmp_path, nb)
    html = converted.html
    assert "HBox()" not in html
    assert html.count('<figure class="output-image">') == 1
    assert 'class="output-unsupported"' in html and "application/vnd.plotly.v1+json" in html
    assert '<div class="output-math">' in html and "<mfrac>" in html and converted.has_math
    assert "<strong>bold</strong>" in html
    assert '<pre class="output-json">' in html
    assert '<pre class="output-text">42</pre>' in html


VEGALITE = "application/vnd.vegalite.v6+json"


def _chart_spec(html: str) -> dict:
    match = re.search(r'<script type="application/json" class="chart-spec">(.*?)</script>', html, re.S)
    assert match, html
    return json.loads(match.group(1))


def test_charts_are_json_data_for_the_theme_with_their_image_as_fallback(converter, tmp_path):
    hostile = "</script><script>alert(1)</script><!--"
    figure = {
        "data": [{"type": "heatmap", "z": [[0.1, 0.9]], "hovertemplate": hostile}],
        "layout": {
            "title": {"text": "A & B"},
            "images": [{"source": "https://example.com/x.png"}, {"source": "data:image/png;base64,AA=="}],
        },
        "config": {"editable": True},
    }
    nb = _nb(
        _code("fig", [_data({PLOTLY: figure, "image/png": _png(), "text/plain": "Figure()"})]),
        _code("chart", [_data({VEGALITE: {"mark": "bar", "description": hostile}, "text/plain": "alt.Chart(...)"})]),
    )
    html = _convert(converter, tmp_path, nb).html
    # nothing in the data can end the script element or start markup; JSON.parse gives the value back
    assert "<script>" not in html and "alert(1)</script>" not in html and "<!--" not in html
    assert html.count('<script type="application/json" class="chart-spec">') == 2
    plotly, vega = re.findall(r'<div class="output-chart output-(\w+)"', html)
    assert (plotly, vega) == ("plotly", "vega") and 'data-mode="vega-lite"' in html
    spec = _chart_spec(html)
    assert spec["data"][0]["hovertemplate"] == hostile and spec["layout"]["title"]["text"] == "A & B"
    assert [i["source"] for i in spec["layout"]["images"]] == ["data:image/png;base64,AA=="]  # no off-site picture
    assert "config" not in spec  # the theme's config, not the output's
    # the saved image is the fallback, as a file; a chart without one says so without JS only
    fallback = html.split('<div class="chart-fallback">')[1]
    assert fallback.startswith('<figure class="output-image"><img src="outputs/')
    assert '<noscript><p class="output-unsupported">' in html.split('class="output-chart output-vega"')[1]
    assert "output-text" not in html and "alt.Chart" not in html  # not their text reprs


def test_a_chart_that_is_not_a_figure_falls_back(converter, tmp_path):
    nb = _nb(
        _code("x", [_data({PLOTLY: {"nodata": 1}, "image/png": _png(), "text/plain": "x"})]),
        _code("y", [_data({PLOTLY: {"data": [{"z": [float("nan")]}]}, "text/plain": "nan chart"})]),
    )
    html = _convert(converter, tmp_path, nb).html
    assert "output-chart" not in html and '<figure class="output-image">' in html
    assert 'class="output-unsupported"' in html  # the NaN figure is not JSON: said, not drawn


def test_tags(converter, tmp_path):
    nb = _nb(
        _code("print('A')", [_stream("out-A\n")], tags=["remove-cell"]),
        _code("print('B')", [_stream("out-B\n")], tags=["remove-input"]),
        _code("print('C')", [_stream("out-C\n")], tags=["remove-output"]),
        _code("print('D')", [_stream("out-D\n")], tags=["hide-input"]),
        _code("print('E')", [_stream("out-E\n")], tags=["hide-output"]),
        _code("print('F')", [_stream("out-F\n")], tags=["hide-cell"]),
        _code("print('G')", [_stream("err-G\n", "stderr"), _stream("out-G\n")], tags=["remove-stderr"]),
        _code("print('H')", [], tags=["skip-execution"]),
    )
    html = _convert(converter, tmp_path, nb).html
    assert "out-A" not in html and "&#39;A&#39;" not in html and "'A'" not in html
    assert "out-B" in html and 'print</span><span class="p">(</span><span class="s1">&#39;B' not in html
    assert "out-C" not in html and "C&#39;" in html
    fold = '<details class="fold fold-{}"><summary>Show {}</summary>'
    assert re.search(re.escape(fold.format("input", "code")) + '<div class="cell-input">.*?D', html, re.S)
    assert re.search(re.escape(fold.format("output", "output")) + '<div class="cell-output">.*?out-E', html, re.S)
    assert re.search(re.escape(fold.format("cell", "cell")) + ".*?out-F", html, re.S)
    assert "err-G" not in html and "out-G" in html
    assert "H&#39;" in html


def test_errors_and_cell_magics(converter, tmp_path):
    error = nbformat.v4.new_output(
        "error", ename="ValueError", evalue="bad", traceback=["\x1b[31mValueError\x1b[0m: bad"]
    )
    nb = _nb(_code("raise ValueError('bad')", [error], tags=["raises-exception"]), _code("%%bash\necho hi"))
    html = _convert(converter, tmp_path, nb).html
    assert '<div class="output-error"><pre><span class="ansi-red-fg">ValueError</span>: bad</pre></div>' in html
    assert 'data-lang="bash"' in html and "%%bash" not in html


def test_banner_notice_and_provenance(converter, tmp_path):
    provenance = {
        "executed_at": "2024-05-06T07:08:09Z",
        "duration_s": 75.5,
        "device": {
            "kind": "gpu",
            "name": "NVIDIA H200",
            "memory_peak_bytes": 3 * 2**30,
            "memory_total_bytes": 140 * 2**30,
        },
        "python": "3.11.7",
        "versions": {"torch": "2.3.0", "numpy": "2.0"},
        "profile": "gpu",
    }
    converted = _convert(
        converter,
        tmp_path,
        _nb(_code("x = 1")),
        stand_in_models=("meta-llama/Llama-3-8B",),
        provenance=provenance,
        notice="Outputs are from an older run.",
        status="stale-frozen",
    )
    # banners and provenance are page chrome: kept out of the content that Hugo's counts use
    assert "stand-in" not in converted.html and "provenance" not in converted.html
    # data, which the theme lays out
    assert converted.notices == (
        Notice("stand-in", models=("meta-llama/Llama-3-8B",)),
        Notice("not-executed", text="Outputs are from an older run."),
    )
    assert converted.provenance == Provenance(
        executed_at="2024-05-06T07:08:09Z",
        executed_at_text="2024-05-06 07:08 UTC",
        duration="1 min 16 s",
        device="NVIDIA H200 (memory peak 3.0 GiB of 140.0 GiB)",
        versions=("Python 3.11.7", "torch 2.3.0"),
        profile="gpu",
        downloads=(Download("notebook", "post.ipynb"), Download("source", "post.md", ".md")),
        outputs="executed",
    )
    assert {"post.ipynb", "post.md"} <= {a.site_path for a in converted.assets}
    page = publish_html(converted)
    # page furniture, not content: kept out of the search index too
    assert page.startswith('<div class="stand-in-banner" role="note">The outputs on this page')
    assert "<code>meta-llama/Llama-3-8B</code>" in page
    assert '<div class="not-executed-notice" role="note">Outputs are from an older run.</div>' in page
    prov = page[page.index('<div class="provenance"') :]
    assert prov.startswith(
        '<div class="provenance"><dl><dt>Executed</dt>'
        '<dd><time datetime="2024-05-06T07:08:09Z">2024-05-06 07:08 UTC</time></dd>'
    )
    for text in (
        "<dd>1 min 16 s</dd>",
        "<dd>NVIDIA H200 (memory peak 3.0 GiB of 140.0 GiB)</dd>",
        "<dd>Python 3.11.7 · torch 2.3.0</dd>",
        "<dt>Profile</dt><dd>gpu</dd>",
        "<dt>Outputs</dt><dd>executed when the site was built</dd>",
        '<a href="post.ipynb" download>notebook (.ipynb)</a> · <a href="post.md" download>source (.md)</a>',
    ):
        assert text in prov
    assert "numpy" not in prov
    # the banner's text is the theme's, in the site's language
    assert "<code>meta-llama/Llama-3-8B</code> ではなく" in publish_html(converted, "ja")


def test_not_executed_post_has_no_provenance(converter, tmp_path):
    converted = _convert(converter, tmp_path, _nb(_code("x = 1")), status="not-executed")
    assert converted.provenance is None and "provenance" not in publish_html(converted)
    assert not converted.assets


def _bokeh_outputs(monkeypatch, plot):
    """The outputs bokeh's output_notebook() and show(plot) publish in a notebook."""
    import bokeh.io.notebook as nb_io
    from bokeh.io import output_notebook, show

    published = []
    monkeypatch.setattr(
        nb_io, "publish_display_data", lambda data, metadata=None, **kw: published.append(_data(data, metadata))
    )
    output_notebook(hide_banner=False)
    show(plot)
    return published


def test_bokeh_figures_are_document_json_for_bokehjs_never_their_script(converter, tmp_path, monkeypatch):
    from bokeh.models import CustomJS
    from bokeh.plotting import figure

    plot = figure(title="</script><script>alert(1)</script>")
    plot.line([1, 2, 3], [3, 1, 2])
    outputs = _bokeh_outputs(monkeypatch, plot)
    assert any("application/vnd.bokehjs_exec.v0+json" in o["data"] for o in outputs)
    hostile = figure(title="with code")
    hostile.line([1, 2], [2, 1])
    hostile.js_on_event("tap", CustomJS(code="alert(2)"))
    hostile_outputs = _bokeh_outputs(monkeypatch, hostile)
    nb = _nb(_code("show(plot)", outputs), _code("show(hostile)", hostile_outputs))
    html = _convert(converter, tmp_path, nb).html
    assert html.count('class="output-chart output-bokeh"') == 1
    assert "<script>" not in html and "alert(1)</script>" not in html
    assert "Loading BokehJS" not in html
    assert "embed_items_notebook" not in html and "bk-notebook-logo" not in html  # bokeh's own script is never kept
    item = _chart_spec(html)
    assert item["root_id"] == plot.id and item["version"] and plot.id in json.dumps(item["doc"])
    assert "</script><script>alert(1)</script>" in json.dumps(item["doc"])  # the title, as data
    # the CustomJS figure is not drawn (BokehJS would run its code): said so, with no image saved
    assert "alert(2)" not in html and "application/vnd.bokehjs_exec.v0+json" in html.split("output-bokeh")[-1]


def test_image_sizes_are_pillows_whether_or_not_pillow_is_asked(tmp_path):
    from PIL import Image

    from execblog.convert.notebook import _raster_size

    for name, fmt in (("wide.png", "PNG"), ("wide.jpg", "JPEG"), ("wide.gif", "GIF")):
        Image.new("RGB", (37, 11)).save(tmp_path / name, format=fmt)
        assert _raster_size(tmp_path / name) == (37, 11), name
    (tmp_path / "cut.png").write_bytes((tmp_path / "wide.png").read_bytes()[:20])
    assert _raster_size(tmp_path / "cut.png") is None  # a header cut short: no size, as Pillow says
    assert _raster_size(tmp_path / "missing.png") is None
