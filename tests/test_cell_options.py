"""Quarto-style cell options (`#| key: value`), and what of them the freeze key sees."""

import nbformat
import pytest

from execblog.execution.execute import attach_outputs
from execblog.execution.keys import code_cells_of
from execblog.notebook.cell_options import CellOptionError, cell_options, key_source

CELL = """#| label: fig-heatmap
#| fig-cap: "Attention of the **last** layer"
#| fig-alt: >-
#|   A heatmap: each token
#|   attends mostly to the first.

plt.imshow(m)
#| not an option: the options end at the first code line
"""


def test_options_are_read_and_stripped_from_the_code():
    options = cell_options(CELL)
    assert options.values == {
        "label": "fig-heatmap",
        "fig-cap": "Attention of the **last** layer",
        "fig-alt": "A heatmap: each token attends mostly to the first.",
    }
    assert options.code == "plt.imshow(m)\n#| not an option: the options end at the first code line\n"
    assert options.lines == {"label": 1, "fig-cap": 2, "fig-alt": 3}


def test_a_cell_without_options_is_unchanged():
    assert cell_options("x = 1  #| trailing\n").code == "x = 1  #| trailing\n"
    assert cell_options("x = 1\n").values == {}


@pytest.mark.parametrize("bad, line", [("#| just words\nx = 1", 1), ("#| label: ok\n#| fig-cap: [unclosed\n", 2)])
def test_a_bad_option_line_names_its_line(bad, line):
    with pytest.raises(CellOptionError) as info:
        cell_options(bad)
    assert info.value.line == line


def test_presentation_options_stay_out_of_the_freeze_key():
    def nb(source):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source)]
        return notebook

    plain = code_cells_of(nb("plt.imshow(m)\n"))
    assert code_cells_of(nb(CELL.split("\n#| not")[0] + "\n")) == plain
    assert key_source("#| label: fig-x\n#| fig-cap: A\nx = 1") == "x = 1"
    # An option a kernel could read is code: it stays in the key.
    assert code_cells_of(nb("#| eval: false\nplt.imshow(m)\n")) != plain


def test_frozen_outputs_are_kept_under_new_captions():
    frozen = nbformat.v4.new_notebook()
    frozen.cells = [nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output("stream", text="ran")])]
    current = nbformat.v4.new_notebook()
    current.cells = [nbformat.v4.new_code_cell("#| label: fig-a\n#| fig-cap: New caption\nplot()")]
    merged, complete = attach_outputs(current, frozen)
    assert complete
    assert merged.cells[0].source == current.cells[0].source  # the caption the author just wrote
    assert merged.cells[0].outputs[0].text == "ran"
