"""Figures: captions, alt text, numbers and `@fig-` references (Quarto's syntax), in Markdown and code cells."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import nbformat
import pytest
from PIL import Image

from execblog.convert.figures import number_figures, reference, reference_line
from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.errors import BuildError
from execblog.records import ExecutedPost

from conftest_exec import read_post


class Figures(HTMLParser):
    """What a reader gets: each figure's id, its image's alt and its caption text; each link's text and target."""

    def __init__(self, text: str):
        super().__init__()
        self.figures: list[dict] = []
        self.links: list[tuple[str, str]] = []
        self._in: str | None = None
        self._href = ""
        self._figure = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self._figure = True
            self.figures.append({"id": a.get("id"), "alt": None, "caption": ""})
        elif tag == "img" and self._figure:
            self.figures[-1]["alt"] = a.get("alt")
        elif tag == "figcaption":
            self._in = "caption"
        elif tag == "a":
            self._in, self._href = "link", a.get("href", "")
            self.links.append(("", self._href))

    def handle_endtag(self, tag):
        self._figure = self._figure and tag != "figure"
        if tag in ("figcaption", "a"):
            self._in = None

    def handle_data(self, data):
        if self._in == "caption":
            self.figures[-1]["caption"] += data
        elif self._in == "link":
            self.links[-1] = (self.links[-1][0] + data, self._href)


def test_numbers_follow_the_document_and_references_link_to_them():
    md = MarkdownRenderer(MarkdownOptions())
    body = md.render(
        "As @fig-b shows (and @fig-a), see also `@fig-a` and me@fig-a.org.\n\n"
        '![The *first* one](a.png){#fig-a fig-alt="Bars, rising"}\n\n'
        "![Second](b.png){#fig-b}\n\n"
        "![not a figure](c.png){.wide}\n"
    ).html
    text, numbers, problems = number_figures(body, "Figure {n}")
    page = Figures(text)
    assert numbers == {"fig-a": 1, "fig-b": 2}
    assert [f["id"] for f in page.figures] == ["fig-a", "fig-b"]
    assert page.figures[0] == {"id": "fig-a", "alt": "Bars, rising", "caption": "Figure 1: The first one"}
    # without fig-alt the caption is the alt text (Pandoc), and screen readers hear it once
    assert page.figures[1]["alt"] == "Second" and '<figcaption aria-hidden="true">' in text
    assert ("Figure 2", "#fig-b") in page.links and ("Figure 1", "#fig-a") in page.links
    assert "<code>@fig-a</code>" in text and "mailto:me@fig-a.org" in text  # code and e-mail stay as written
    assert problems.unknown == () and problems.duplicate == ()


def test_an_unknown_reference_shows_as_quarto_shows_it_and_is_reported():
    text, _, problems = number_figures("<p>see " + reference("fig-nope") + "</p>", "図 {n}")
    assert '<strong class="xref-unknown">?@fig-nope</strong>' in text
    assert problems.unknown == ("fig-nope",)
    assert reference_line("a\nb @fig-nope.\n", "fig-nope") == 2
    assert reference_line("x@fig-nope\n", "fig-nope") is None


def test_caption_and_alt_are_escaped():
    md = MarkdownRenderer(MarkdownOptions())
    text, _, _ = number_figures(
        md.render('![<script>x</script> cap](a.png){#fig-a fig-alt="a &quot; b <b>"}').html, "Figure {n}"
    )
    assert "<script>" not in text and "<b>" not in text


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 200, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _executed(tmp_path, cells, text="---\ntitle: T\ndate: 2024-01-01\n---\nBody\n"):
    path = tmp_path / "post.md"
    path.write_text(text, encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = cells
    return ExecutedPost(source=read_post(path), status="executed", notebook=nb)


def _image_cell(source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"})]
    return cell


def _converter(tmp_path) -> NotebookConverter:
    return NotebookConverter(
        MarkdownRenderer(MarkdownOptions()), ConverterOptions(cache_dir=tmp_path / "cache", labels={"figure": "図 {n}"})
    )


def test_code_cell_options_make_a_numbered_captioned_figure(tmp_path):
    cells = [
        nbformat.v4.new_markdown_cell("The map (@fig-heatmap) and @fig-other."),
        _image_cell("#| label: fig-other\n#| fig-alt: Other\nshow()"),
        _image_cell('#| label: fig-heatmap\n#| fig-cap: "A **heat** map"\n#| fig-alt: Rows attend to <b>\nplot()\n'),
    ]
    converted = _converter(tmp_path).convert(_executed(tmp_path, cells))
    page = Figures(converted.html)
    assert page.figures == [
        {"id": "fig-other", "alt": "Other", "caption": "図 1: "},
        {"id": "fig-heatmap", "alt": "Rows attend to <b>", "caption": "図 2: A heat map"},
    ]
    assert ("図 2", "#fig-heatmap") in page.links and ("図 1", "#fig-other") in page.links
    assert "#|" not in converted.html  # the options are not shown as code
    assert "<strong>heat</strong>" in converted.html and "<b>" not in converted.html
    assert converted.warnings == ()


def test_a_caption_cannot_forge_a_figure_number_or_reference(tmp_path):
    # the conversion's private marks typed into a caption are dropped, as in the post's Markdown
    forged = f"Real {reference('fig-a')} caption".encode("unicode_escape").decode()  # YAML's "\\x02" escapes
    cells = [_image_cell(f'#| label: fig-a\n#| fig-cap: "{forged}"\n#| fig-alt: A\nplot()\n')]
    converted = _converter(tmp_path).convert(_executed(tmp_path, cells))
    page = Figures(converted.html)
    assert page.figures == [{"id": "fig-a", "alt": "A", "caption": "図 1: Real R:fig-a caption"}]
    assert page.links == [] and "\x02" not in converted.html


def test_a_figure_output_without_alt_text_is_one_warning_per_post_naming_each_cell(tmp_path):
    text = "---\ntitle: T\ndate: 2024-01-01\n---\n\n```python\nshow()\n```\n\n```python\nplot()\n```\n"
    cells = [_image_cell("show()"), _image_cell("plot()"), _image_cell("#| fig-alt: fine\nok()")]
    converted = _converter(tmp_path).convert(_executed(tmp_path, cells, text))
    (warning,) = converted.warnings
    assert warning.startswith(f"{tmp_path.name}/post.md: 2 figure output(s) have no alt text")
    assert "line 7, line 11" in warning and "#| fig-alt:" in warning


def test_an_unknown_reference_warns_with_the_line(tmp_path):
    text = "---\ntitle: T\ndate: 2024-01-01\n---\nIntro.\n\nSee @fig-missing.\n"
    converted = _converter(tmp_path).convert(
        _executed(tmp_path, [nbformat.v4.new_markdown_cell("See @fig-missing.")], text)
    )
    (warning,) = converted.warnings
    assert warning.startswith(f"{tmp_path.name}/post.md:7: @fig-missing refers to no figure")
    assert "?@fig-missing" in converted.html


@pytest.mark.parametrize("options", ["#| label: fig-bad-\n", "#| fig-cap: [1, 2]\n", "#| nothing here\n"])
def test_bad_cell_options_are_a_build_error_naming_the_line(tmp_path, options):
    source = options + "show()"
    text = f"---\ntitle: T\ndate: 2024-01-01\n---\n\n```python\n{source}\n```\n"
    with pytest.raises(BuildError) as info:
        _converter(tmp_path).convert(_executed(tmp_path, [_image_cell(source)], text))
    assert info.value.line == 7 and "#| label: fig-heatmap" in info.value.hint
