"""The project's Python passes its linter, its formatter and its type checker with no
findings (configuration: pyproject.toml). `make lint` runs the same commands.

mypy reads build/ under its import name through the link .cache/lint/execblog, so
`execblog.x` is the source being checked, never the installed copy."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PATHS = ("build", "tests", "tools")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing():
    result = run("ruff", "check", "--no-fix", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    result = run("ruff", "format", "--check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr + "\nfix: ruff format " + " ".join(PATHS)


def test_mypy_finds_nothing():
    link = ROOT / ".cache" / "lint" / "execblog"
    link.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # made by `make lint` or an earlier run
        link.symlink_to(Path("..", "..", "build"), target_is_directory=True)
    assert link.resolve() == (ROOT / "build").resolve()
    result = run("mypy", str(link.relative_to(ROOT)), "tests", "tools")
    assert result.returncode == 0, result.stdout + result.stderr
