"""Helpers for the execution tests: SourcePost objects from files on disk,
read with the pipeline's own content reader; a post's furniture rendered by
the project theme's own partials."""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from execblog.config import parse_config_text
from execblog.content.read import read_post as _read_post
from execblog.i18n import Translator
from execblog.output.render import PageRenderer
from execblog.records import ConvertedPost, SourcePost

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "exec_posts"


def publish_html(converted: ConvertedPost, language: str = "en") -> str:
    """The post as single.html lays it out: notices, content, provenance, each
    from the theme's templates (ConvertedPost has the fields they read)."""
    config = parse_config_text(f"title: T\nlanguage: {language}\n", ROOT)
    env = PageRenderer(config, Translator(ROOT, language), ROOT / "theme", {}).env
    return (
        env.get_template("partials/notices.html").render(post=converted)
        + converted.html
        + env.get_template("partials/provenance.html").render(post=converted)
    )


def read_post(path: Path) -> SourcePost:
    return _read_post(path, ZoneInfo("UTC"))


def copy_fixtures(dest: Path, names: list[str] | None = None) -> Path:
    """Copy fixture posts (files or bundle folders) into `dest/posts`."""
    posts = dest / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    for item in sorted(FIXTURES.iterdir()):
        stem = item.stem if item.is_file() else item.name
        if names is not None and stem not in names:
            continue
        if item.is_dir():
            shutil.copytree(item, posts / item.name)
        else:
            shutil.copy2(item, posts / item.name)
    return posts


def read_posts(posts_dir: Path, names: list[str] | None = None) -> list:
    found = []
    for item in sorted(posts_dir.iterdir()):
        path = item / "index.md" if item.is_dir() else item
        if path.suffix != ".md" or not path.is_file():
            continue
        post = read_post(path)
        if names is None or post.name in names:
            found.append(post)
    if names is not None:
        found.sort(key=lambda p: names.index(p.name))
    return found
