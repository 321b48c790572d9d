"""Helpers for the execution tests: SourcePost objects from files on disk.

A stand-in for the content reader (execblog.content.read_post) until it
exists; it reads the front matter with PyYAML and fills only what the
execution and notebook stages use.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import yaml

from execblog.model import SourcePost

FIXTURES = Path(__file__).parent / "fixtures" / "exec_posts"


def read_post(path: Path) -> SourcePost:
    text = path.read_text(encoding="utf-8")
    front: dict = {}
    body, body_line = text, 1
    if text.startswith("---\n"):
        end = text.index("\n---\n", 4)
        front = yaml.safe_load(text[4:end]) or {}
        body = text[end + 5 :]
        body_line = text[: end + 5].count("\n") + 1
    date = front.get("date") or datetime(2024, 1, 1)
    if not isinstance(date, datetime):
        date = datetime(date.year, date.month, date.day)
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    name = path.parent.name if path.name == "index.md" else path.stem
    jupyter = front.get("jupyter") or {}
    return SourcePost(
        path=path,
        name=name,
        text=text,
        body=body,
        body_line=body_line,
        title=str(front.get("title", name)),
        date=date,
        lastmod=None,
        draft=bool(front.get("draft", False)),
        tags=tuple(front.get("tags", ())),
        categories=tuple(front.get("categories", ())),
        authors=tuple(front.get("authors", ())),
        summary=front.get("summary"),
        description=front.get("description"),
        slug=str(front.get("slug", name)),
        cover=None,
        toc=bool(front.get("toc", False)),
        hidden_in_list=False,
        aliases=(),
        is_cjk=None,
        executable=isinstance(jupyter, dict) and "kernelspec" in jupyter,
        execute=bool(front.get("execute", True)),
        params=dict(front),
        bundle_dir=path.parent if path.name == "index.md" else None,
    )


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
