"""Real posts through Papermill in the project kernel (CPU, offline).

One module-scoped build runs every fixture post at once (-j 2, --keep-going);
most tests read its results. The caching tests build their own small site.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.execution.execute import ExecutionSettings, execute_posts, post_statuses
from execblog.execution.kernel import install_kernelspec
from execblog.execution.redact import scan_for_secrets

from conftest_exec import copy_fixtures, publish_html, read_posts

HF_TOKEN = "hf_" + "Zx7" * 12


@pytest.fixture(scope="session")
def kernel():
    install_kernelspec()


def _settings(site: Path, **changes) -> ExecutionSettings:
    base: dict[str, Any] = dict(
        site_dir=site, jobs=2, keep_going=True, progress=False, post_timeout=60, cell_timeout=60
    )
    base.update(changes)
    return ExecutionSettings(**base)


def _publish(site: Path, report, converter: NotebookConverter) -> dict[str, str]:
    """What the writer will do: page HTML plus assets under public/<post>/."""
    pages = {}
    for executed in report.posts:
        converted = converter.convert(executed)
        folder = site / "public" / executed.source.name
        folder.mkdir(parents=True, exist_ok=True)
        page = publish_html(converted)
        (folder / "index.html").write_text(page, encoding="utf-8")
        for asset in converted.assets:
            target = folder / asset.site_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(asset.source.read_bytes())
        pages[executed.source.name] = page
    return pages


def _converter(site: Path) -> NotebookConverter:
    return NotebookConverter(MarkdownRenderer(MarkdownOptions()), ConverterOptions(cache_dir=site / ".cache"))


def _kernel_children() -> list[int]:
    """ipykernel processes started by this test process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"ipykernel" in cmdline and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def site_run(kernel, tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    copy_fixtures(site)
    posts = read_posts(site / "posts")
    stream = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_TOKEN", HF_TOKEN)
        settings = _settings(
            site, progress=True, progress_stream=stream, gpu_available=False, run_gpu_posts_without_gpu=True
        )
        report = execute_posts(posts, settings)
        pages = _publish(site, report, _converter(site))
    by_name = {p.source.name: p for p in report.posts}
    failures = {f.post: f for f in report.failures}
    return {
        "site": site,
        "report": report,
        "posts": by_name,
        "failures": failures,
        "progress": stream.getvalue(),
        "pages": pages,
        "settings": settings,
    }


def test_statuses(site_run):
    statuses = {name: p.status for name, p in site_run["posts"].items()}
    assert statuses == {
        "failing": "failed",
        "figure-ja": "executed",
        "glyph": "failed",
        "killed": "failed",
        "no-exec": "not-executed",
        "params": "executed",
        "plain": "plain",
        "secret": "executed",
        "showcase": "executed",
        "slow": "failed",
        "stand-in": "executed",
    }
    assert sorted(site_run["report"].executed) == ["figure-ja", "params", "secret", "showcase", "stand-in"]
    assert {n: f.kind for n, f in site_run["failures"].items()} == {
        "failing": "error",
        "glyph": "glyph",
        "killed": "kernel-died",
        "slow": "cell-timeout",
    }
    freeze = site_run["site"] / "_freeze"
    assert sorted(p.name for p in freeze.iterdir()) == ["figure-ja", "params", "secret", "showcase", "stand-in"]


def test_failure_message_names_file_cell_and_error(site_run):
    failure = site_run["failures"]["failing"]
    message = failure.message()
    assert message.startswith("posts/failing.md: code cell 2 (line 20): the cell raised an error")
    assert "| y = x / 0" in message
    assert "ZeroDivisionError: division by zero" in message
    assert "\x1b[" not in message
    assert "fix:" in message
    failed = site_run["site"] / ".execblog" / "failed" / "failing.ipynb"
    assert failure.failed_notebook == ".execblog/failed/failing.ipynb" and failed.is_file()
    assert "ZeroDivisionError" in failed.read_text()
    # The page shows the code without a traceback (the error was not allowed).
    page = site_run["pages"]["failing"]
    assert "output-error" not in page and "not-executed-notice" in page


def test_timeouts_and_dead_kernels_name_the_cell(site_run):
    slow = site_run["failures"]["slow"]
    assert (slow.cell, slow.kind) == (2, "cell-timeout") and "time.sleep(30)" in slow.cell_head
    assert "cell_timeout" in slow.fix
    killed = site_run["failures"]["killed"]
    assert killed.cell == 2 and "SIGKILL" in killed.error
    assert "kernel died" in killed.message()
    rows = {r.post: r for r in site_run["report"].rows}
    assert rows["slow"].seconds < 15 and rows["killed"].seconds < 15  # nobody waited forever
    glyph = site_run["failures"]["glyph"]
    assert glyph.cell == 1 and "missing from font" in glyph.error


def test_no_kernel_outlives_the_build(site_run):
    assert _kernel_children() == []


def test_parameters_front_matter_overrides_cell(site_run):
    page = site_run["pages"]["params"]
    assert "hello x 5" in page
    assert 'class="cell cell-injected-parameters"' in page
    assert site_run["posts"]["params"].provenance["parameters"] == {"steps": 5, "greeting": "hello"}


def test_what_a_reader_sees(site_run):
    site, pages = site_run["site"], site_run["pages"]
    figure = pages["figure-ja"]
    (src,) = re.findall(r'<img src="(outputs/[0-9a-f]{16}\.png)" width="\d+" height="\d+" loading="lazy"', figure)
    assert (site / "public" / "figure-ja" / src).read_bytes().startswith(b"\x89PNG")
    assert "base64" not in figure
    showcase = pages["showcase"]
    stderr = re.findall(r'<pre class="output-stream output-stderr">(.*?)</pre>', showcase, re.S)
    assert len(stderr) == 1 and stderr[0].count("steps:") == 1 and "100%" in stderr[0]
    assert "warning: something odd" in stderr[0]
    assert '<table border="1" class="dataframe">' in showcase
    assert showcase.count('class="output-error"') == 1 and "expected failure shown on the page" in showcase
    assert "SHOULD-NOT-APPEAR" not in showcase
    assert "NEVER-RUN" in showcase and "NEVER-RUN\n</pre>" not in showcase  # listed, never run
    assert '<span class="ansi-red-fg">red text</span>' in showcase
    assert '<details class="fold fold-input">' in showcase and '<details class="fold fold-more">' in showcase
    assert 'range</span><span class="p">(</span><span class="mi">200' not in showcase  # remove-input
    assert '<div class="output-math">' in showcase
    assert 'class="provenance"' in showcase and 'href="showcase.ipynb"' in showcase
    assert (site / "public" / "showcase" / "showcase.ipynb").is_file()
    assert "plain" in pages and "must not run" in pages["plain"] and 'class="cell' not in pages["plain"]
    assert "provenance" not in pages["no-exec"]


def test_stand_in_banner(site_run):
    executed = site_run["posts"]["stand-in"]
    assert executed.stand_in_models == ("tiny-random/gpt2",)
    assert site_run["pages"]["stand-in"].startswith('<div class="stand-in-banner"')
    meta = (site_run["site"] / "_freeze" / "stand-in" / "meta.json").read_text()
    assert '"tiny-random/gpt2"' in meta


def test_planted_token_is_absent_everywhere(site_run):
    site = site_run["site"]
    places = [site / "public", site / "_freeze", site / ".execblog"]
    assert scan_for_secrets(places, {"HF_TOKEN": HF_TOKEN}) == []
    assert site_run["report"].secrets["HF_TOKEN"] == HF_TOKEN and HF_TOKEN not in repr(site_run["report"])
    for folder in places:
        for file in folder.rglob("*"):
            if file.is_file():
                assert HF_TOKEN.encode() not in file.read_bytes(), file
    page = site_run["pages"]["secret"]
    assert "[REDACTED:HF_TOKEN]" in page and "[REDACTED:github-token]" in page
    assert str(Path.home()) + "/data" not in page and "~/data" in page
    assert page.count('class="output-error"') == 1  # the expected traceback, redacted


def test_progress_and_summary(site_run):
    text = site_run["progress"]
    assert re.search(r"\[\d+/9\] \w[\w-]*: running \(\d+ code cells\)", text)
    assert "FAILED" in text and "posts/failing.md: code cell 2" in text
    table = site_run["report"].summary_table()
    assert table.splitlines()[0].split() == ["post", "status", "time", "slowest", "cell"]
    assert re.search(r"slow\s+failed \(cell-timeout\)\s+[\d.]+ s\s+cell 2", table)
    assert "4 failed" in table.splitlines()[-1]


def test_statuses_for_make_status(site_run):
    posts = read_posts(site_run["site"] / "posts")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_TOKEN", HF_TOKEN)
        statuses = {s.name: s.status for s in post_statuses(posts, site_run["settings"])}
    assert statuses["params"] == "fresh" and statuses["failing"] == "failed"
    assert statuses["plain"] == "plain" and statuses["no-exec"] == "disabled"


# --- caching: the second publish, code edits, prose edits --------------------------------------------
def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_freeze_drives_what_runs(kernel, tmp_path):
    copy_fixtures(tmp_path, ["params", "figure-ja"])
    posts_dir = tmp_path / "posts"
    settings = _settings(tmp_path)

    t0 = time.monotonic()
    first = execute_posts(read_posts(posts_dir), settings)
    first_time = time.monotonic() - t0
    assert sorted(first.executed) == ["figure-ja", "params"] and first.ok
    frozen_nb = tmp_path / "_freeze" / "params" / "executed.ipynb"
    original = frozen_nb.read_bytes()

    # Nothing changed: nothing executes, and it takes a small fraction of the time.
    t0 = time.monotonic()
    second = execute_posts(read_posts(posts_dir), settings)
    second_time = time.monotonic() - t0
    assert second.executed == [] and [p.status for p in second.posts] == ["frozen", "frozen"]
    assert second_time < first_time / 4, (first_time, second_time)

    # Re-running identical code gives a byte-identical freeze.
    forced = execute_posts(read_posts(posts_dir), _settings(tmp_path, force_posts=frozenset({"params"})))
    assert forced.executed == ["params"] and frozen_nb.read_bytes() == original

    # Prose only: re-rendered from the freeze, nothing executes.
    _edit(posts_dir / "figure-ja" / "index.md", "## グラフ", "## 新しい見出し\n\nAdded prose.")
    prose = execute_posts(read_posts(posts_dir), settings)
    assert prose.executed == []
    page = _converter(tmp_path).convert(prose.posts[0]).html
    assert "Added prose." in page and '<img src="outputs/' in page

    # One code cell changed: only that post runs. Not selected: its old outputs, with a notice.
    _edit(posts_dir / "params.md", 'print(f"{greeting} x {steps}")', 'print(f"{greeting} * {steps}")')
    held = execute_posts(read_posts(posts_dir), _settings(tmp_path, only_posts=frozenset({"figure-ja"})))
    assert held.executed == [] and held.posts[1].status == "stale-frozen"
    assert "not selected" in held.posts[1].notice
    assert {s.name: s.status for s in post_statuses(read_posts(posts_dir), settings)}["params"] == "stale"
    code = execute_posts(read_posts(posts_dir), settings)
    assert code.executed == ["params"]
    assert "hello * 5" in _converter(tmp_path).convert(code.posts[1]).html

    # Command-line parameters beat front matter.
    cli = execute_posts(read_posts(posts_dir), _settings(tmp_path, cli_parameters={"steps": 7}))
    assert cli.executed == ["params"]
    assert "hello * 7" in _converter(tmp_path).convert(cli.posts[1]).html

    # A failing edit keeps the last good freeze and shows it.
    good = frozen_nb.read_bytes()
    _edit(posts_dir / "params.md", 'print(f"{greeting} * {steps}")', "raise KeyError('oops')")
    broken = execute_posts(read_posts(posts_dir), _settings(tmp_path, cli_parameters={"steps": 7}))
    assert [f.kind for f in broken.failures] == ["error"] and frozen_nb.read_bytes() == good
    shown = broken.posts[1]
    assert shown.status == "failed" and "last good run" in shown.notice
    assert "hello * 7" in _converter(tmp_path).convert(shown).html
    assert _kernel_children() == []


def test_stops_at_first_failure_without_keep_going(kernel, tmp_path):
    copy_fixtures(tmp_path, ["failing", "params", "stand-in"])
    posts = read_posts(tmp_path / "posts", ["failing", "params", "stand-in"])
    report = execute_posts(posts, _settings(tmp_path, jobs=1, keep_going=False, gpu_available=False))
    assert [f.post for f in report.failures] == ["failing"]
    assert report.executed == []
    params = report.posts[1]
    assert params.status == "not-executed" and "earlier failure" in params.notice
    stand_in = report.posts[2]  # requires: gpu, and none here: held back, not failed
    assert stand_in.status == "not-executed" and "needs a GPU" in stand_in.notice
    assert _kernel_children() == []


def test_post_timeout_allow_errors_and_missing_inputs(kernel, tmp_path):
    posts_dir = tmp_path / "posts"
    posts_dir.mkdir()
    header = (
        "---\ntitle: {title}\n{extra}jupyter:\n  kernelspec:\n    display_name: Python 3\n"
        "    language: python\n    name: python3\n---\n\n"
    )
    slow = "".join("```python\nimport time; time.sleep(1)\n```\n\n" for _ in range(4))
    (posts_dir / "long.md").write_text(header.format(title="Long", extra="timeout: 1.5\n") + slow)
    (posts_dir / "inputs.md").write_text(
        header.format(title="Inputs", extra="inputs: [missing.csv]\n") + "```python\nprint(1)\n```\n"
    )
    (posts_dir / "allowed.md").write_text(
        header.format(title="Allowed", extra="allow_errors: true\n")
        + "```python\n1 / 0\n```\n\n```python\nprint('still ran')\n```\n"
    )
    t0 = time.monotonic()
    report = execute_posts(read_posts(posts_dir), _settings(tmp_path))
    assert time.monotonic() - t0 < 20
    failures = {f.post: f for f in report.failures}
    assert failures["long"].kind == "post-timeout" and failures["long"].cell == 2
    assert "timeout:" in failures["long"].fix
    assert failures["inputs"].kind == "inputs" and "missing.csv" in failures["inputs"].error
    assert report.executed == ["allowed"] and _kernel_children() == []
    page = _converter(tmp_path).convert(report.posts[0]).html
    assert "ZeroDivisionError" in page and "still ran" in page


def test_tqdm_notebook_bar_shows_its_final_state_from_the_run_and_the_freeze(kernel, tmp_path):
    posts_dir = tmp_path / "posts"
    posts_dir.mkdir()
    (posts_dir / "bars.md").write_text(
        "---\ntitle: Bars\njupyter:\n  kernelspec:\n    display_name: Python 3\n    language: python\n"
        "    name: python3\n---\n\n```python\nfrom tqdm.notebook import tqdm\n"
        "for step in tqdm(range(12), desc='training'):\n    pass\n```\n"
    )
    first = execute_posts(read_posts(posts_dir), _settings(tmp_path))
    again = execute_posts(read_posts(posts_dir), _settings(tmp_path))  # restored from the freeze
    assert (first.posts[0].status, again.posts[0].status) == ("executed", "frozen")
    for report in (first, again):
        page = _converter(tmp_path).convert(report.posts[0]).html
        bar = re.search(r'<div class="output-widget">.*?</div></div>', page.replace("\u2007", " "), re.S)
        assert bar, page  # tqdm pads with figure spaces
        assert "training: 100%" in bar.group(0) and " 12/12 [" in bar.group(0)
        assert re.search(r'<progress max="12" value="12"[^>]*>100%</progress>', bar.group(0))
        assert "0/12" not in page.replace(" 12/12", "")  # never the stale first frame


def test_models_resolution_feeds_env_parameters_key_and_banner(kernel, tmp_path):
    posts_dir = tmp_path / "posts"
    posts_dir.mkdir()
    (posts_dir / "model.md").write_text(
        "---\ntitle: M\nmodels: [org/big-model]\njupyter:\n  kernelspec:\n    display_name: Python 3\n"
        "    language: python\n    name: python3\n---\n\n"
        '```python tags=["parameters"]\nsteps = 50\n```\n\n'
        '```python\nimport os\nprint(os.environ["FAKE_HUB"], steps)\n```\n'
    )

    class Resolution:  # the shape of models.ModelResolution
        def __init__(self, key, unavailable=()):
            self.env = {"FAKE_HUB": "offline-hub"}
            self.parameters = {"steps": 4, "height": 128}  # height: not a parameter of this post
            self.key = key
            self.stand_ins = ("org/big-model",)
            self.unavailable = unavailable
            self.reasons = {"org/big-model": "not cached"}

    settings = _settings(tmp_path, resolve_models=lambda post: Resolution("v1"))
    report = execute_posts(read_posts(posts_dir), settings)
    assert report.executed == ["model"]
    executed = report.posts[0]
    assert executed.stand_in_models == ("org/big-model",)
    assert executed.provenance["parameters"] == {"steps": 4}
    assert "offline-hub 4" in _converter(tmp_path).convert(executed).html
    # A different resolution (e.g. the real model) is a different key: stale, and here unavailable.
    held = execute_posts(
        read_posts(posts_dir),
        _settings(tmp_path, resolve_models=lambda post: Resolution("v2", unavailable=("org/big-model",))),
    )
    assert held.executed == [] and held.posts[0].status == "stale-frozen"
    assert "not cached" in held.posts[0].notice and held.warnings


# --- pure parts (no kernel) ----------------------------------------------------------------------------
def _nb(*cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _code(source, text=None, tags=()):
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    if text is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_attach_outputs_aligns_code_cells():
    import nbformat

    from execblog.execution.execute import attach_outputs

    frozen = _nb(
        _code("steps = 3", tags=["parameters"]),
        _code("# Parameters\nsteps = 5\n", tags=["injected-parameters"]),
        _code("a()", "A\n"),
        _code("b()", "B\n"),
        _code("c()", "C\n"),
    )
    current = _nb(
        nbformat.v4.new_markdown_cell("new prose"),
        _code("steps = 3", tags=["parameters"]),
        _code("a()"),
        _code("b2()"),  # changed: shown as frozen (old code with its output)
        _code("c()"),
        _code("d()"),  # new: no output
    )
    merged, complete = attach_outputs(current, frozen)
    assert not complete
    sources = [(c.cell_type, c.source, "".join(o.text for o in c.get("outputs", []))) for c in merged.cells]
    assert sources == [
        ("markdown", "new prose", ""),
        ("code", "steps = 3", ""),
        ("code", "# Parameters\nsteps = 5\n", ""),
        ("code", "a()", "A\n"),
        ("code", "b()", "B\n"),
        ("code", "c()", "C\n"),
        ("code", "d()", ""),
    ]
    same, complete = attach_outputs(
        _nb(_code("steps = 3", tags=["parameters"]), _code("a()"), _code("b()"), _code("c()")), frozen
    )
    assert complete
    assert ["".join(o.text for o in c.outputs) for c in same.cells] == ["", "", "A\n", "B\n", "C\n"]


def test_input_digests_and_source_notebook(tmp_path):
    from execblog.execution.execute import InputsError, input_digests, source_notebook

    bundle = tmp_path / "posts" / "p"
    (bundle / "data").mkdir(parents=True)
    (bundle / "data" / "a.csv").write_text("1")
    (bundle / "data" / ".hidden").write_text("x")
    (bundle / "helper.py").write_text("x = 1")
    (bundle / "index.md").write_text(
        "---\ntitle: P\ninputs: [data, '*.py']\njupyter:\n  kernelspec: {name: execblog, language: python, "
        "display_name: execblog}\n---\n\n"
        "Intro\n\n```python\nx = 1\n```\n"
    )
    post = read_posts(tmp_path / "posts")[0]
    digests = input_digests(post)
    assert sorted(digests) == ["data/a.csv", "helper.py"]
    nb = source_notebook(post)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"]
    assert [c.id for c in nb.cells] == ["cell-0", "cell-1"]
    (bundle / "helper.py").unlink()
    with pytest.raises(InputsError):
        input_digests(read_posts(tmp_path / "posts")[0])
    # A kernelspec nbformat rejects is reported for the post, not raised.
    text = (bundle / "index.md").read_text().replace(", display_name: execblog", "")
    (bundle / "index.md").write_text(text)
    report = execute_posts(read_posts(tmp_path / "posts"), _settings(tmp_path))
    assert [(f.kind, f.post) for f in report.failures] == [("read", "p")]
    assert "display_name" in report.failures[0].error and report.posts[0].status == "failed"


def test_kernelspec_install(tmp_path):
    import json
    import subprocess
    import sys

    from execblog.execution.kernel import STARTUP_FILE, install_kernelspec

    folder = install_kernelspec(prefix=tmp_path, name="execblog-test")
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "execblog-test"
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable and "{connection_file}" in spec["argv"]
    assert spec["env"]["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    compile((folder / STARTUP_FILE).read_text(), STARTUP_FILE, "exec")
    before = (folder / "kernel.json").stat().st_mtime_ns
    install_kernelspec(prefix=tmp_path, name="execblog-test")  # unchanged: not rewritten
    assert (folder / "kernel.json").stat().st_mtime_ns == before
    done = subprocess.run(
        [sys.executable, "-m", "execblog.execution.kernel", "--prefix", str(tmp_path), "--name", "k2"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "installed kernel 'k2'" in done.stdout


def test_real_model_run_is_not_replaced_by_stand_ins(kernel, tmp_path):
    """The GPU publish froze a run on the real model; a machine that only has
    stand-ins keeps it (unless forced), and re-runs once the code changes."""
    from types import SimpleNamespace

    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    path = site / "posts" / "m.md"
    front = (
        "---\ntitle: M\ndate: 2025-01-01\nmodels: [org/model]\njupyter:\n  kernelspec:\n"
        "    {name: python3, display_name: Python 3, language: python}\n---\n"
    )
    path.write_text(front + "```python\nprint('from the model')\n```\n")

    def resolution(*stand_ins):
        return lambda post: SimpleNamespace(
            env={}, stand_ins=stand_ins, unavailable=(), reasons={}, parameters={}, key="+".join(stand_ins) or "real"
        )

    real = execute_posts(read_posts(site / "posts"), _settings(site, resolve_models=resolution()))
    assert real.executed == ["m"]
    offline = _settings(site, resolve_models=resolution("org/model"))
    again = execute_posts(read_posts(site / "posts"), offline)
    assert again.executed == [] and again.posts[0].status == "frozen" and not again.posts[0].stand_in_models
    path.write_text(front + "```python\nprint('changed code')\n```\n")
    changed = execute_posts(read_posts(site / "posts"), offline)
    assert changed.executed == ["m"] and changed.posts[0].stand_in_models == ("org/model",)


def test_rendering_only_keeps_frozen_outputs_whatever_the_models_here(kernel, tmp_path):
    """The publish's render job (no execution, no model cache, no token) shows
    the frozen outputs of unchanged posts as they are, without asking for models."""
    from types import SimpleNamespace

    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    (site / "posts" / "m.md").write_text(
        "---\ntitle: M\ndate: 2025-01-01\nmodels: [org/model]\njupyter:\n  kernelspec:\n"
        "    {name: python3, display_name: Python 3, language: python}\n---\n```python\nprint('ran')\n```\n"
    )
    real = SimpleNamespace(env={}, stand_ins=(), unavailable=(), reasons={}, parameters={}, key="snapshot-1")
    assert execute_posts(read_posts(site / "posts"), _settings(site, resolve_models=lambda p: real)).executed == ["m"]

    def unavailable(post):
        raise AssertionError("models must not be resolved when nothing may run")

    render = execute_posts(
        read_posts(site / "posts"), _settings(site, resolve_models=unavailable, allow_execution=False)
    )
    [post] = render.posts
    assert post.status == "frozen" and post.notice is None and not render.warnings and not render.failures


# --- secrets in disguise: through a real build ----------------------------------------------------
_KERNEL = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"
_LEAKY = """
```python
import base64, io, os, sys, urllib.parse
from IPython.display import HTML, Image, display
from PIL import Image as PILImage, PngImagePlugin

tok = os.environ["HF_TOKEN"]
print("ansi:", tok[:12] + "\\x1b[1;31m" + tok[12:] + "\\x1b[0m")
sys.stdout.write("halves: " + tok[:15]); sys.stdout.flush()
sys.stderr.write("between\\n"); sys.stderr.flush()
print(tok[15:])
print("b64:", base64.b64encode(b"x" + tok.encode()).decode())
print("hex:", tok.encode().hex(), "url:", urllib.parse.quote("?" + tok + "/"))
display(HTML("<b>" + tok[:10] + "</b><i>" + tok[10:] + "</i>"))
info = PngImagePlugin.PngInfo()
info.add_text("Comment", "made with " + tok, zip=True)
buf = io.BytesIO()
PILImage.new("RGB", (16, 16), "teal").save(buf, "PNG", pnginfo=info)
display(Image(data=buf.getvalue()))
```
"""


def _all_files(*folders: Path) -> list[Path]:
    return [f for folder in folders if folder.exists() for f in folder.rglob("*") if f.is_file()]


def test_disguised_token_is_redacted_from_page_notebook_and_freeze(kernel, site, monkeypatch):
    import base64

    from PIL import Image

    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    site.post("leaky.md", "title: Leaky\ndate: 2025-01-01\n" + _KERNEL, _LEAKY)
    assert site.build() == 0
    page = site.read("posts/leaky/index.html")
    assert page.count("[REDACTED:HF_TOKEN]") >= 6 and "between" in page
    notebooks = [f for f in _all_files(site.out) if f.suffix == ".ipynb"]
    assert len(notebooks) == 1  # the downloadable notebook
    places = [site.out, site.root / "_freeze", site.root / ".execblog"]
    assert scan_for_secrets(places, {"HF_TOKEN": HF_TOKEN}) == []
    raw = HF_TOKEN.encode()
    forms = [raw, raw.hex().encode(), base64.b64encode(b"x" + raw)[4:40], HF_TOKEN[12:].encode()]
    pngs = 0
    for file in _all_files(*places):
        data = file.read_bytes()
        assert not any(form in data for form in forms), file
        if data.startswith(b"\x89PNG"):
            pngs += 1
            text = Image.open(file).text
            assert HF_TOKEN not in " ".join(text.values()) and "Comment" not in text, file
    assert pngs >= 2  # the figure in the freeze and beside the page
    # What the reader sees of the token is the marker, not the pieces.
    assert HF_TOKEN[12:] not in page and HF_TOKEN[15:] not in page and HF_TOKEN[10:] not in page


def test_a_secret_that_cannot_be_redacted_fails_the_post_and_never_reaches_the_freeze(
    kernel, site, monkeypatch, capsys
):
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    site.post("gif.md", "title: Gif\ndate: 2025-01-01\n" + _KERNEL, "```python\nprint('first run')\n```\n")
    assert site.build() == 0
    entry = site.root / "_freeze" / "gif"
    good = (entry / "executed.ipynb").read_bytes()
    site.post(
        "gif.md",
        "title: Gif\ndate: 2025-01-01\n" + _KERNEL,
        """
```python
import io, os
from IPython.display import Image, display
from PIL import Image as PILImage
buf = io.BytesIO()
PILImage.new("RGB", (8, 8)).save(buf, "GIF", comment=os.environ["HF_TOKEN"].encode())
display(Image(data=buf.getvalue(), format="gif"))
```
""",
    )
    capsys.readouterr()
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "posts/gif.md: code cell 1 (line 9): an output holds a secret that cannot be redacted" in err
    assert "HF_TOKEN is in the image data of an image/gif output" in err and "fix: do not print" in err
    assert HF_TOKEN not in err
    assert (entry / "executed.ipynb").read_bytes() == good  # the last good entry, untouched
    assert scan_for_secrets([site.root / "_freeze", site.root / ".execblog"], {"HF_TOKEN": HF_TOKEN}) == []


def test_a_build_stopped_by_the_final_scan_leaves_no_new_entry_in_the_freeze(kernel, site, monkeypatch, capsys):
    # Two separate displays: each half alone is no secret, the page shows them side by side.
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    site.post(
        "halves.md",
        "title: Halves\ndate: 2025-01-01\n" + _KERNEL,
        '```python\nimport os\nfrom IPython.display import HTML\ntok = os.environ["HF_TOKEN"]\n'
        "display(HTML(tok[:20]))\ndisplay(HTML(tok[20:]))\n```\n",
    )
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "a secret value is still present in the output" in err and "HF_TOKEN is present" in err
    assert "new freeze entries of halves were removed" in err and HF_TOKEN not in err
    assert not (site.root / "_freeze" / "halves").exists() and not site.out.exists()
