"""Spare kernels in `serve` (execution/warm.py): a run takes a kernel that ran only the post's setup."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.provisioning import LocalProvisioner
from test_serve import free_port, wait_for

from execblog.execution.execute import ExecutionSettings, execute_posts
from execblog.execution.kernel import install_kernelspec
from execblog.execution.runner import parameterized
from execblog.execution.warm import WarmPool, setup_of

from conftest_exec import read_post

KERNEL = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"


def _nb(*cells: tuple[str, str, list[str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "execblog", "display_name": "execblog", "language": "python"}
    for kind, source, cell_tags in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if cell_tags:
            cell.metadata["tags"] = cell_tags
        nb.cells.append(cell)
    return nb


# --- what a spare runs ahead (pure) ------------------------------------------------------------------------
@pytest.mark.unit
def test_setup_is_the_leading_import_cells_with_literal_parameters_and_the_next_cells_imports():
    nb = _nb(
        ("code", "n = 3\nname: str = 'x'", ["parameters"]),
        ("markdown", "Prose.", []),
        ("code", "import os\nfrom json import dumps", []),
        ("code", "import math", []),
        ("code", "import numpy as np\nfrom pathlib import Path\nx = np.ones(n)\nimport sys", []),
        ("code", "import re", []),
    )
    nb = parameterized(nb, {"n": 4}, "execblog")  # papermill's injected cell follows the parameters cell
    setup = setup_of(nb, ["torch"])
    assert setup.cells == (0, 1, 3, 4)
    assert "injected-parameters" in nb.cells[1].metadata["tags"]
    assert setup.imports == "import numpy as np\nfrom pathlib import Path" and setup.following == 5
    assert setup.preload == "import torch"


@pytest.mark.unit
@pytest.mark.parametrize(
    "first",
    [
        ("code", "import os\nos.environ['X'] = '1'", []),  # state-changing code with the imports
        ("code", "%matplotlib inline\nimport os", []),  # a magic runs code
        ("code", "import os", ["skip-execution"]),  # not run at all
        ("code", "import os", ["raises-exception"]),
        ("code", "n = pick()", ["parameters"]),  # a parameter default that calls code
        ("code", "obj.attr = 1", ["parameters"]),
    ],
)
def test_nothing_but_imports_and_literal_parameters_runs_ahead(first):
    nb = _nb(first, ("code", "import json", []), ("code", "print(1)", []))
    setup = setup_of(nb)
    assert setup.cells == ()
    leading = first[1].split("\n")[0] if first[1].startswith("import") and not first[2] else ""
    assert setup.imports == leading


@pytest.mark.unit
def test_trailing_parameters_are_left_to_the_run():
    nb = parameterized(
        _nb(("code", "import os", []), ("code", "n = 3", ["parameters"]), ("code", "print(n)", [])),
        {"n": 5},
        "execblog",
    )
    assert setup_of(nb).cells == (0,) and not setup_of(nb).imports


# --- the runs ------------------------------------------------------------------------------------------------
COUNTER = """\
```python
import os
import sys
import chatty
```

```python
import json
import noisy
counter = globals().get("counter", 0) + 1
with open("runs.log", "a") as f:
    f.write(f"{os.getpid()} {counter}\\n")
print(json.dumps({"counter": counter, "n": n}))
print("from the cell", file=sys.stderr)
```
"""
PARAMETERS = """\
```python tags=["parameters"]
n = 3
```

"""


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    install_kernelspec()
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "chatty.py").write_text("print('imported chatty')\n", encoding="utf-8")
    (folder / "noisy.py").write_text("import sys\nprint('noisy warning', file=sys.stderr)\n", encoding="utf-8")
    (folder / "p.md").write_text(
        f"---\ntitle: P\ndate: 2025-01-01\nparameters: {{n: 4}}\n{KERNEL}---\n{PARAMETERS}{COUNTER}", encoding="utf-8"
    )
    return folder


def _settings(site: Path, pool: WarmPool | None) -> ExecutionSettings:
    return ExecutionSettings(site_dir=site, progress=False, force_posts="all", spares=pool)


def _run(posts: Path, pool: WarmPool | None) -> None:
    report = execute_posts([read_post(posts / "p.md")], _settings(posts.parent, pool))
    assert report.ok, report.failures[0].message()


def _spare_pid(pool: WarmPool, name: str = "p") -> int:
    spare = pool._spares[name]
    assert spare.ready.wait(120) and spare.usable and spare.kernel is not None
    provisioner = spare.kernel.km.provisioner
    assert isinstance(provisioner, LocalProvisioner) and provisioner.process is not None  # a local process
    return provisioner.process.pid


def _runs(posts: Path) -> list[tuple[int, ...]]:
    return [tuple(map(int, line.split())) for line in (posts / "runs.log").read_text().splitlines()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _freeze(site: Path) -> tuple[str, dict]:
    entry = site / "_freeze" / "p"
    meta = json.loads((entry / "meta.json").read_text())
    for timing in ("executed_at", "duration_s", "cells"):  # when and how long: the only differences allowed
        meta.pop(timing)
    meta["provenance"].pop("cpu_memory_peak_bytes")  # measured, differs from run to run
    return (entry / "executed.ipynb").read_text(), meta


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_each_run_takes_a_fresh_spare_that_ran_only_the_imports(posts):
    pool = WarmPool(1)
    try:
        _run(posts, None)  # cold
        cold = _freeze(posts.parent)
        pool.keep([_request(posts)], _options(posts))
        spares = []
        for _ in range(2):
            spares.append(_spare_pid(pool))
            _run(posts, pool)
        runs = _runs(posts)
        # every run counted 1 in a process of its own: the spare had run nothing but the imports
        assert [counter for _, counter in runs] == [1, 1, 1]
        assert len({pid for pid, _ in runs}) == 3
        assert [pid for pid, _ in runs[1:]] == spares  # the runs took the spares ...
        assert not any(_alive(pid) for pid in spares)  # ... which are gone after them, never reused
        assert _spare_pid(pool) not in spares  # and a new spare waits for the next run
        assert _freeze(posts.parent) == cold  # same cells, outputs, execution counts, parameters
        notebook = nbformat.reads(cold[0], as_version=4)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == [1, 2, 3, 4]
        assert "imported chatty" in code[2].outputs[0]["text"] and "skip-execution" not in cold[0]
        assert [(o.get("name"), o.get("text")) for o in code[3].outputs] == [
            ("stdout", '{"counter": 1, "n": 4}\n'),
            ("stderr", "noisy warning\nfrom the cell\n"),
        ]
    finally:
        pool.close()


def _request(posts: Path):
    from execblog.execution.execute import _plan

    plan = _plan(read_post(posts / "p.md"), 0, _settings(posts.parent, None), _settings(posts.parent, None).store())
    return plan.request()


def _options(posts: Path):
    from execblog.execution.runner import RunnerOptions

    return RunnerOptions(
        site_dir=posts.parent, log_dir=posts.parent / ".execblog" / "logs", kernel_name="execblog", profile="auto"
    )


def test_a_spare_whose_setup_changed_is_not_used(posts):
    pool = WarmPool(1)
    try:
        _run(posts, pool)  # cold; leaves a spare
        spare = _spare_pid(pool)
        text = (posts / "p.md").read_text().replace("import chatty", "import chatty\nimport re")
        (posts / "p.md").write_text(text)
        _run(posts, pool)
        assert _runs(posts)[-1][0] != spare and not _alive(spare)
        (posts / "chatty.py").write_text("print('imported chatty, changed')\n")  # a local module the spare imported
        spare = _spare_pid(pool)
        _run(posts, pool)
        assert _runs(posts)[-1][0] != spare and not _alive(spare)
        assert "changed" in (posts.parent / "_freeze" / "p" / "executed.ipynb").read_text()
    finally:
        pool.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_kills_its_spare_kernels_when_it_stops(site):
    install_kernelspec()
    site.post(
        "k.md", "title: K\ndate: 2025-01-01\n" + KERNEL, "```python\nimport os\n```\n\n```python\nprint(1)\n```\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "execblog.commands.cli", "serve", "-s", str(site.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/posts/k/", timeout=120)
        deadline = time.monotonic() + 60
        while not (spares := _kernels_of(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert spares, "serve keeps a spare kernel for the executable post"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in out
    assert not any(_alive(pid) for pid in spares)


def _kernels_of(parent: int) -> list[int]:
    """Processes started by `parent` that carry execblog's kernel tag."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            if b"EXECBLOG_KERNEL_TAG=" in (stat.parent / "environ").read_bytes():
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found
