"""Shared fixtures: throwaway sites built from the project's own theme."""

from __future__ import annotations

import shutil
import textwrap
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


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path / "site")
