"""The import graph keeps the architecture's layers: the contracts in pyproject.toml
([tool.importlinter]), checked by import-linter; docs/architecture.md draws them.

import-linter reads the source folder build/ itself, linked under its import name,
so the check needs no reinstall and never looks at an installed copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(package: Path, workdir: Path) -> subprocess.CompletedProcess:
    link = workdir / "import-path" / "execblog"
    link.parent.mkdir(parents=True)
    link.symlink_to(package, target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(link.parent)}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )


def test_imports_follow_the_layers(tmp_path):
    result = lint_imports(ROOT / "build", tmp_path)
    assert "Analyzed" in result.stdout, result.stdout + result.stderr  # it read the package, not nothing
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_forbidden_import_is_reported_with_its_line(tmp_path):
    package = tmp_path / "build"
    shutil.copytree(ROOT / "build", package, ignore=shutil.ignore_patterns("__pycache__"))
    plan = package / "pages" / "plan.py"
    lines = plan.read_text(encoding="utf-8").count("\n")
    plan.write_text(plan.read_text(encoding="utf-8") + "from execblog.execution import freeze\n", encoding="utf-8")
    result = lint_imports(package, tmp_path)
    assert result.returncode == 1
    assert f"execblog.pages.plan -> execblog.execution.freeze (l.{lines + 1})" in result.stdout, result.stdout
