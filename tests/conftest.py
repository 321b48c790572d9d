"""Shared fixtures: throwaway sites built from the project's own theme."""

from __future__ import annotations

import shutil
import textwrap
from fnmatch import fnmatch
from pathlib import Path

import pytest

from browser_support import browser  # noqa: F401 - one Chromium per browser test module

ROOT = Path(__file__).resolve().parent.parent

BASE_CONFIG = """\
title: Test Blog
description: a test site
base_url: https://blog.example.org/sub/
language: ja
time_zone: Asia/Tokyo
author: Me
"""


class Site:
    """A site folder in tmp_path: config, posts/ and a copy of the theme."""

    def __init__(self, root: Path, config: str = BASE_CONFIG):
        self.root = root
        self.out = root / "public"
        shutil.copytree(ROOT / "theme", root / "theme")
        (root / "posts").mkdir()
        self.config(config)

    def config(self, text: str) -> None:
        (self.root / "site_config.yaml").write_text(textwrap.dedent(text), encoding="utf-8")

    def post(self, name: str, front: str, body: str = "Body text.\n") -> Path:
        path = self.root / "posts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n" + textwrap.dedent(front).strip() + "\n---\n" + textwrap.dedent(body), encoding="utf-8")
        return path

    def build(self, *args: str) -> int:
        from execblog.commands.cli import main

        return main(["build", "-s", str(self.root), "-d", str(self.out), "--no-search", *args])

    def read(self, rel: str) -> str:
        return (self.out / rel).read_text(encoding="utf-8")

    def build_from_nothing(self, where: Path, search: bool = False) -> Path:
        """The same sources (posts, theme, config) built in `where`, with no cache and no previous
        site: the output folder, to compare an incremental build with."""
        from execblog.pipeline import BuildOptions, build_site

        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        for name in ("posts", "theme", "site_config.yaml"):
            (shutil.copytree if (self.root / name).is_dir() else shutil.copy2)(self.root / name, where / name)
        build_site(BuildOptions(site_dir=where, out_dir=where / "public", search_index=search, quiet=True))
        return where / "public"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path / "site")


# --- test tiers -------------------------------------------------------------------------------------
# Every test carries one tier marker (registered in pyproject.toml), chosen here by its module so test
# files need not say it; a test that differs from its module carries its own marker.
#   unit      fast and deterministic: no site build, kernel, stand-in model, server or external tool, no
#             timed assertion. `make test-fast` runs this tier.
#   pipeline  builds a site, runs a kernel or the CLI, builds stand-in models, starts a server, or runs
#             an external tool (actionlint, ruff, mypy)
#   browser   drives Chromium over a built site
#   oracle    compares with the Hugo binary
# A module not listed is `unit`, so a new module of unit tests joins `make test-fast` on its own.
TIERS = ("unit", "pipeline", "browser", "oracle")
MODULE_TIERS = {
    "test_browser*.py": "browser",
    "test_hugo_oracle.py": "oracle",
    "test_example_blog.py": "pipeline",
    "test_decision_agree.py": "pipeline",
    "test_execute.py": "pipeline",
    "test_gpu_profile.py": "pipeline",
    "test_incremental.py": "pipeline",
    "test_render_workers.py": "pipeline",
    "test_lint.py": "pipeline",
    "test_models.py": "pipeline",
    "test_runner_sim.py": "pipeline",
    "test_search_build.py": "pipeline",
    "test_search_js.py": "pipeline",
    "test_serve.py": "pipeline",
    "test_shards.py": "pipeline",
    "test_site_build.py": "pipeline",
    "test_standins.py": "pipeline",
    "test_warm.py": "pipeline",
}


def module_tier(filename: str) -> str:
    return next((tier for pattern, tier in MODULE_TIERS.items() if fnmatch(filename, pattern)), "unit")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker(module_tier(item.path.name))
