"""ipywidgets drawn from the widget state a notebook saved (convert/widgets.py), no kernel needed."""

import re

import nbformat
import pytest

from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.convert.sanitize import clean_html
from execblog.convert.widgets import STATE_MIMETYPE, render_widget, widget_state
from execblog.records import ExecutedPost

from conftest_exec import read_post

VIEW = "application/vnd.jupyter.widget-view+json"
NOTE = "Interactive widget not shown: {name}."


def _model(name, **state):
    return {"model_module": "@jupyter-widgets/controls", "model_name": name, "state": state}


def _tqdm_state(value=10, total=10, style="success", visibility=None):
    """The models tqdm.notebook leaves behind: an HBox of an HTML label, a FloatProgress and an HTML count."""
    return {
        "bar": _model(
            "HBoxModel", children=["IPY_MODEL_desc", "IPY_MODEL_prog", "IPY_MODEL_count"], layout="IPY_MODEL_lay"
        ),
        "desc": _model("HTMLModel", value="steps: 100%", description=""),
        "prog": _model("FloatProgressModel", value=value, min=0, max=total, bar_style=style, description=""),
        "count": _model("HTMLModel", value=" 10/10 [00:00&lt;00:00, 4521.30it/s]"),
        "lay": {"model_name": "LayoutModel", "state": {"visibility": visibility, "display": "inline-flex"}},
    }


def _render(models, model_id="bar"):
    return render_widget(model_id, models, clean_html, NOTE)


def test_tqdm_bar_shows_its_final_state():
    html = _render(_tqdm_state())
    assert '<div class="widget-box widget-hbox">' in html
    assert "steps: 100%" in html and "10/10 [00:00&lt;00:00, 4521.30it/s]" in html
    progress = re.search(
        r'<div class="widget-progress widget-progress-success">(<progress [^>]*>)100%</progress>', html
    )
    assert progress and 'max="10" value="10"' in progress.group(1) and 'aria-label="100%"' in progress.group(1)


def test_progress_range_and_odd_values():
    half = render_widget(
        "p", {"p": _model("IntProgressModel", value=10, min=5, max=15, description="load")}, clean_html, NOTE
    )
    assert '<span class="widget-description">load</span>' in half
    assert 'max="10" value="5" aria-label="load">50%</progress>' in half
    broken = render_widget("p", {"p": _model("FloatProgressModel", value="x", max=float("nan"))}, clean_html, NOTE)
    assert "<progress" in broken and "0%</progress>" in broken  # shown, not a crash
    hidden = _render(_tqdm_state(value=3, style="", visibility="hidden"))
    assert hidden == ""  # tqdm(leave=False) hid its bar when it closed


def test_nested_boxes_keep_their_order_and_direction():
    models = {
        "outer": _model("VBoxModel", children=["IPY_MODEL_row", "IPY_MODEL_text"]),
        "row": _model("HBoxModel", children=["IPY_MODEL_a", "IPY_MODEL_b"]),
        "a": _model("LabelModel", value="first"),
        "b": _model("LabelModel", value="second"),
        "text": _model("HTMLModel", value="<b>third</b>"),
    }
    html = _render(models, "outer")
    assert html.startswith(
        '<div class="output-widget"><div class="widget-box widget-vbox"><div class="widget-box widget-hbox">'
    )
    assert html.index("first") < html.index("second") < html.index("<b>third</b>")


def test_unknown_widgets_say_they_are_not_shown_and_missing_ones_show_nothing():
    models = {
        "box": _model("HBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_gone", "IPY_MODEL_box"]),
        "slider": _model("IntSliderModel", value=3, description='n <"x">'),
    }
    html = _render(models, "box")
    assert (
        '<p class="widget-unsupported">Interactive widget not shown: IntSlider &quot;n &lt;&quot;x&quot;&gt;&quot;.</p>'
    ) in html
    assert html.count("<p") == 1  # the missing child and the cycle back to the box add nothing
    assert render_widget("nothing-saved", {}, clean_html, NOTE) == ""


def test_hostile_markup_in_widgets_never_becomes_script():
    models = {
        "box": _model("VBoxModel", children=["IPY_MODEL_label", "IPY_MODEL_html"]),
        "label": _model(
            "LabelModel",
            value='<script>alert(1)</script><img src=x onerror="alert(2)">',
            description="<b onclick=alert(3)>d</b>",
        ),
        "html": _model(
            "HTMLModel",
            value='<b>ok</b><script>alert(4)</script><a href="javascript:alert(5)">l</a><img src=x onerror=alert(6)>',
        ),
    }
    html = _render(models, "box")
    assert "<script" not in html and "onerror" not in html.replace("onerror=&quot;", "")
    assert "javascript:" not in html and "<b onclick" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # a Label's value is its text, as Jupyter shows it
    assert "<b>ok</b>" in html  # allowed markup of an HTML widget stays


@pytest.fixture(scope="module")
def converter(tmp_path_factory):
    options = ConverterOptions(cache_dir=tmp_path_factory.mktemp("cache"), labels={"widget": NOTE})
    return NotebookConverter(MarkdownRenderer(MarkdownOptions()), options)


def test_a_notebook_shows_its_widgets_from_the_saved_state(converter, tmp_path):
    path = tmp_path / "post.md"
    path.write_text(
        "---\ntitle: T\ndate: 2024-01-01\njupyter:\n  kernelspec:\n    name: python3\n"
        "    language: python\n    display_name: Python 3\n---\nBody\n",
        encoding="utf-8",
    )
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("for i in tqdm(range(10)): pass")
    stale = "steps:   0%|          | 0/10 [00:00<?, ?it/s]"
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={VIEW: {"model_id": "bar"}, "text/plain": stale}),
        nbformat.v4.new_output("display_data", data={VIEW: {"model_id": "unsaved"}, "text/plain": "x"}),
    ]
    nb.cells = [cell]
    nb.metadata["widgets"] = {STATE_MIMETYPE: {"state": _tqdm_state(), "version_major": 2, "version_minor": 0}}
    assert widget_state(nb.metadata)["bar"]["model_name"] == "HBoxModel"
    html = converter.convert(ExecutedPost(source=read_post(path), notebook=nb, status="executed")).html
    assert html.count('class="output-widget"') == 1 and "100%</progress>" in html
    assert " 0/10" not in html and "it/s]<" in html  # the stale text repr is never shown
