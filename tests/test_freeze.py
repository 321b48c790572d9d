import base64
import io
import json

import nbformat
from PIL import Image

from execblog.execution.freeze import FreezeStore, normalize_notebook
from execblog.notebook.files import FILE_REF_PREFIX, inline_files


def _png(color=(200, 30, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _executed_notebook(text="hello\n", color=(200, 30, 30)):
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(
        {
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
            "papermill": {"start_time": "2024-01-01T00:00:00", "parameters": {"steps": 5}, "duration": 1.2},
            "jupytext": {"text_representation": {"extension": ".md"}},
        }
    )
    md = nbformat.v4.new_markdown_cell("# Title")
    code = nbformat.v4.new_code_cell("print('hello')", execution_count=1)
    code.metadata.update({"papermill": {"duration": 0.1}, "execution": {"iopub.status.busy": "x"}, "tags": []})
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=text),
        nbformat.v4.new_output("display_data", data={"image/png": _png(color), "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": '<svg width="10pt" height="5pt"></svg>'}),
    ]
    nb.cells = [md, code]
    return nb


def test_normalize_drops_volatile_and_extracts_images():
    nb, files = normalize_notebook(_executed_notebook())
    assert set(nb.metadata) == {"kernelspec", "papermill"}
    assert nb.metadata.papermill == {"parameters": {"steps": 5}}
    code = nb.cells[1]
    assert code.metadata == {}
    data = code.outputs[1].data
    assert data["image/png"].startswith(FILE_REF_PREFIX) and data["image/png"].endswith(".png")
    assert code.outputs[2].data["image/svg+xml"].endswith(".svg")
    assert len(files) == 2
    assert all(len(name.split(".")[0]) == 16 for name in files)
    # Content-derived ids: the same cells get the same ids, wherever they are.
    other = _executed_notebook()
    other.cells.insert(0, nbformat.v4.new_markdown_cell("new intro"))
    nb2, _ = normalize_notebook(other)
    assert [c.id for c in nb2.cells[1:]] == [c.id for c in nb.cells]


def test_save_is_byte_identical_for_identical_outputs(tmp_path):
    store = FreezeStore(tmp_path / "_freeze", tmp_path / ".execblog" / "failed")
    store.save("post", _executed_notebook(), {"key": "k1", "status": "ok"})
    first = {p.name: p.read_bytes() for p in (tmp_path / "_freeze" / "post").iterdir()}
    again = _executed_notebook()
    again.cells[1].metadata["papermill"]["duration"] = 9.9  # timings differ from run to run
    store.save("post", again, {"key": "k1", "status": "ok"})
    second = {p.name: p.read_bytes() for p in (tmp_path / "_freeze" / "post").iterdir()}
    assert first == second
    assert not [p for p in (tmp_path / "_freeze").iterdir() if p.name.startswith(".")]
    text = (tmp_path / "_freeze" / "post" / "executed.ipynb").read_text()
    assert "base64" not in text and "iVBOR" not in text  # no inline image data


def test_load_round_trip_and_inline(tmp_path):
    store = FreezeStore(tmp_path / "_freeze", tmp_path / "failed")
    entry = store.save("post", _executed_notebook(), {"key": "k1", "status": "ok"})
    loaded = store.load("post")
    assert loaded is not None and loaded.key == "k1" and loaded.meta["files"] == entry.meta["files"]
    nb = loaded.notebook()
    full = inline_files(nb, loaded.folder)
    png = full.cells[1].outputs[1].data["image/png"]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert full.cells[1].outputs[2].data["image/svg+xml"].startswith("<svg")
    assert nb.cells[1].outputs[1].data["image/png"].startswith(FILE_REF_PREFIX)  # untouched


def test_changed_image_replaces_files(tmp_path):
    store = FreezeStore(tmp_path / "_freeze", tmp_path / "failed")
    store.save("post", _executed_notebook(color=(1, 2, 3)), {"key": "k1", "status": "ok"})
    old = set(store.load("post").meta["files"])
    store.save("post", _executed_notebook(color=(9, 9, 9)), {"key": "k2", "status": "ok"})
    entry = store.load("post")
    new = set(entry.meta["files"])
    assert old != new
    assert {p.name for p in entry.folder.iterdir()} == new | {"executed.ipynb", "meta.json"}


def test_failure_never_replaces_last_good_entry(tmp_path):
    store = FreezeStore(tmp_path / "_freeze", tmp_path / ".execblog" / "failed")
    store.save("post", _executed_notebook(), {"key": "good", "status": "ok"})
    before = (tmp_path / "_freeze" / "post" / "executed.ipynb").read_bytes()
    path = store.save_failure("post", _executed_notebook(text="boom\n"), {"key": "bad", "kind": "error"})
    assert path == tmp_path / ".execblog" / "failed" / "post.ipynb"
    assert (tmp_path / "_freeze" / "post" / "executed.ipynb").read_bytes() == before
    assert store.status("post", "bad") == "failed"
    assert store.status("post", "good") == "fresh"
    assert store.status("post", "other") == "stale"
    assert store.status("missing", "x") == "never run"
    # A later success clears the failure record.
    store.save("post", _executed_notebook(), {"key": "bad", "status": "ok"})
    assert store.failure("post") is None
    assert store.status("post", "bad") == "fresh"


def test_recovers_from_a_crash_between_renames(tmp_path):
    store = FreezeStore(tmp_path / "_freeze", tmp_path / "failed")
    store.save("post", _executed_notebook(), {"key": "k1", "status": "ok"})
    (tmp_path / "_freeze" / "post").rename(tmp_path / "_freeze" / ".post.old-1234abcd")
    entry = store.load("post")
    assert entry is not None and entry.key == "k1"


def test_meta_is_sorted_json(tmp_path):
    store = FreezeStore(tmp_path / "_freeze", tmp_path / "failed")
    store.save("post", _executed_notebook(), {"status": "ok", "key": "k", "cells": {"2": 0.1, "1": 0.2}})
    text = (tmp_path / "_freeze" / "post" / "meta.json").read_text()
    meta = json.loads(text)
    assert list(meta) == sorted(meta)
    assert meta["format"] == 1
