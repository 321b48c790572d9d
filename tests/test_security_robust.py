"""Hostile and careless inputs: every one ends in `file:line`, what is wrong and
the fix (never a traceback), a strict render-only build never publishes stale
or unreadable outputs, and no process a post starts outlives the build."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from execblog.execution.kernel import install_kernelspec

KERNEL = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"
GPU_PROFILE = "profiles:\n  gpu:\n    models: real\n    strict: true\n    parameters: {device: cuda}\n"


@pytest.fixture(scope="module")
def kernel():
    install_kernelspec()


def cli(site, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "execblog.commands.cli", "build", "-s", str(site.root), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_clean(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stderr


# --- class 7: bad input is named ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, line, what",
    [
        (b"---\ntitle: A\ndate: 2024-01-01\n---\nok\n\n\xff\xfe caf\xe9\n", 7, "not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "binary file"),
    ],
)
def test_undecodable_post_is_named_by_line(site, body, line, what):
    (site.root / "posts" / "bad.md").write_bytes(body)
    proc = cli(site, "--no-search")
    assert proc.returncode == 1 and f"bad.md:{line}: " in proc.stderr and what in proc.stderr
    assert "fix:" in proc.stderr
    assert_clean(proc)


@pytest.mark.parametrize(
    "value, why", [("2024-13-45", "month must be in 1..12"), ("0000-01-01", "year 0 is out of range")]
)
def test_impossible_date_is_named_by_line(site, value, why):
    site.post("d.md", f"title: D\ntags: [x]\ndate: {value}")
    proc = cli(site, "--no-search")
    assert proc.returncode == 1 and "d.md:4: " in proc.stderr and value in proc.stderr and why in proc.stderr
    assert "fix: use 2025-04-13" in proc.stderr
    assert_clean(proc)


def _bomb(indent: str = "  ") -> str:
    lines = [f"{indent}a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    lines += [f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    return "\n".join(lines)


def test_yaml_alias_bomb_in_front_matter_is_refused(site):
    path = site.root / "posts" / "bomb.md"
    path.write_text("---\ntitle: B\ndate: 2024-01-01\nparameters:\n" + _bomb() + "\n---\nbody\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30));"
            "from execblog.commands.cli import main; sys.exit(main(sys.argv[1:]))",
            "build",
            "-s",
            str(site.root),
            "--no-search",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "bomb.md:" in proc.stderr and "aliases expand" in proc.stderr
    assert_clean(proc)


def test_yaml_alias_bomb_in_site_config_is_refused(site):
    (site.root / "site_config.yaml").write_text(
        (site.root / "site_config.yaml").read_text() + "profiles:\n  x:\n    parameters:\n" + _bomb("      ") + "\n"
    )
    proc = cli(site, "--no-search")
    assert proc.returncode == 1 and "site_config.yaml:" in proc.stderr and "aliases expand" in proc.stderr
    assert_clean(proc)


def test_a_site_without_posts_builds_an_empty_blog_with_search(site):
    proc = cli(site, "-d", str(site.out))
    assert proc.returncode == 0, proc.stderr
    assert (site.out / "index.html").is_file()
    assert_clean(proc)


def test_read_and_inputs_failures_name_the_post(site, kernel):
    site.post(
        "noname.md",
        "title: R\ndate: 2024-01-01\njupyter:\n  kernelspec: {name: execblog}",
        "```python\nprint(1)\n```\n",
    )
    site.post(
        "inp.md", "title: I\ndate: 2024-01-01\ninputs: [data/missing.csv]\n" + KERNEL, "```python\nprint(1)\n```\n"
    )
    proc = cli(site, "--no-search", "--keep-going")
    assert proc.returncode == 1
    assert "posts/noname.md: the post cannot be read as a notebook" in proc.stderr
    assert "posts/inp.md: a declared input is missing" in proc.stderr and "data/missing.csv" in proc.stderr
    without = cli(site, "--no-search")
    assert "fix the cell named above" not in without.stderr
    assert "(posts/inp.md, posts/noname.md)" in without.stderr or "(posts/noname.md, posts/inp.md)" in without.stderr
    assert_clean(without)


def test_magic_error_names_the_line_and_the_error(site, kernel):
    site.post("m.md", "title: M\ndate: 2024-01-01\n" + KERNEL, "```python\nx = 1\n%nosuchmagic\nprint(x)\n```\n")
    proc = cli(site, "--no-search")
    assert proc.returncode == 1
    # the magic is on line 9: six lines of front matter, the fence, `x = 1`
    assert "posts/m.md: code cell 1 (line 9)" in proc.stderr
    assert "UsageError: Line magic function `%nosuchmagic` not found" in proc.stderr
    assert_clean(proc)


def test_internal_error_is_one_line_with_a_report_hint(site, monkeypatch, capsys):
    from execblog import pipeline
    from execblog.commands import cli as cli_module

    def broken(opts):
        raise KeyError("boom")

    monkeypatch.setattr(pipeline, "build_site", broken)
    monkeypatch.delenv(cli_module.DEBUG_VAR, raising=False)
    assert cli_module.main(["build", "-s", str(site.root)]) == 70
    err = capsys.readouterr().err
    assert "internal error: KeyError: 'boom'" in err and "please report it" in err and "Traceback" not in err
    monkeypatch.setenv(cli_module.DEBUG_VAR, "1")
    cli_module.main(["build", "-s", str(site.root)])
    assert "Traceback" in capsys.readouterr().err


# --- class 6: strict render-only ---------------------------------------------------------------------------
def _freeze_under_gpu_profile(site) -> None:
    """Execute the posts the way the publish's execute job does (profile `gpu`),
    on this CPU: the stage itself, below the CLI's CUDA check."""
    from execblog.config import load_config
    from execblog.content.readers import read_posts
    from execblog.execution.execute import execute_posts
    from execblog.pipeline import BuildOptions, execution_settings

    config = load_config(site.root.resolve())
    settings, _ = execution_settings(config, BuildOptions(site_dir=site.root, out_dir=site.out, profile="gpu"))
    report = execute_posts(read_posts(site.root / "posts", config.zone), replace(settings, progress=False))
    assert not report.failures and len(report.executed) == 2


def test_strict_render_only_fails_on_stale_missing_or_corrupt_outputs(site, kernel):
    site.config((site.root / "site_config.yaml").read_text() + GPU_PROFILE)
    site.post("one.md", "title: One\ndate: 2025-01-01\n" + KERNEL, "```python\nprint('one')\n```\n")
    site.post("two.md", "title: Two\ndate: 2025-01-01\n" + KERNEL, "```python\nprint('two')\n```\n")
    render = ("--no-search", "-d", str(site.out), "--profile", "gpu", "--no-execute")

    missing = cli(site, *render)
    assert missing.returncode == 1 and not site.out.exists()
    for name in ("one", "two"):
        assert f"posts/{name}.md: it has no frozen outputs" in missing.stderr
    assert "profile `gpu` is strict" in missing.stderr and "fix: execute it first" in missing.stderr

    _freeze_under_gpu_profile(site)
    fresh = cli(site, *render)
    assert fresh.returncode == 0, fresh.stderr
    assert "one" in site.read("posts/one/index.html")

    site.post("two.md", "title: Two\ndate: 2025-01-01\n" + KERNEL, "```python\nprint('two, changed')\n```\n")
    stale = cli(site, *render)
    assert stale.returncode == 1 and "posts/two.md: its frozen outputs are stale" in stale.stderr
    assert "posts/one.md" not in stale.stderr
    assert_clean(stale)

    notebook = site.root / "_freeze" / "one" / "executed.ipynb"
    notebook.write_bytes(notebook.read_bytes()[:120])  # truncated, as by an interrupted copy
    corrupt = cli(site, *render)
    assert corrupt.returncode == 1
    assert "posts/one.md: its frozen outputs cannot be used" in corrupt.stderr
    assert "the freeze entry `one` is unreadable" in corrupt.stderr and "git checkout -- _freeze/one" in corrupt.stderr
    assert_clean(corrupt)


def test_corrupt_freeze_entry_is_executed_again(site, kernel):
    site.post("c.md", "title: C\ndate: 2025-01-01\n" + KERNEL, "```python\nprint('fresh ' + 'output')\n```\n")
    assert cli(site, "--no-search", "-d", str(site.out)).returncode == 0
    (site.root / "_freeze" / "c" / "meta.json").write_text("{not json")
    proc = cli(site, "--no-search", "-d", str(site.out))
    assert proc.returncode == 0, proc.stderr
    assert "posts/c.md: the freeze entry `c` is unreadable" in proc.stderr and "executing the post again" in proc.stderr
    assert "fresh output" in site.read("posts/c/index.html")
    assert_clean(proc)


# --- class 8: processes and consoles -------------------------------------------------------------------------
def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


DAEMONS = """\
```python
import os, subprocess
session = subprocess.Popen(["sleep", "300"], start_new_session=True)
open("session.pid", "w").write(str(session.pid))
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        open("daemon.pid", "w").write(str(os.getpid()))
        os.execve("/bin/sleep", ["sleep", "301"], {})  # a clean environment, as some daemons do
    os._exit(0)
os.wait()
print("started")
```
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_process_a_cell_starts_outlives_the_build(site, kernel):
    site.post("d.md", "title: D\ndate: 2025-01-01\n" + KERNEL, DAEMONS)
    proc = cli(site, "--no-search", "-d", str(site.out))
    assert proc.returncode == 0, proc.stderr
    pids = [int((site.root / "posts" / f"{name}.pid").read_text()) for name in ("session", "daemon")]
    try:
        assert all(_gone(pid) for pid in pids)
    finally:
        for pid in pids:
            with pytest.raises(OSError):  # already gone: nothing to clean up
                os.kill(pid, 9)


def test_control_sequences_from_a_cell_never_reach_the_console(site, kernel):
    hostile = r"\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x1b\\\x1bP+q\x1b\\\x9b2J\x1b[31mred\x1bc\x07\x08"
    site.post("esc.md", "title: E\ndate: 2025-01-01\n" + KERNEL, f"```python\nraise ValueError('{hostile} end')\n```\n")
    proc = cli(site, "--no-search")
    assert proc.returncode == 1 and "posts/esc.md: code cell 1" in proc.stderr and "ValueError: red end" in proc.stderr
    assert not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in proc.stderr)


def test_printable_strips_every_kind_of_control_sequence():
    from execblog.errors import printable

    text = (
        "a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ b\x1bPq#0\x1b\\ c\x9b31m d"
        "\x1b7\x1b(B e\r\x00\x7f\x85 f\tg\nh\x1b]0;t"
    )
    assert printable(text) == "alink b c d e f\tg\nh"
