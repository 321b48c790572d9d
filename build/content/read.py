"""Stage 1: read a post file into a `SourcePost` (readers.py finds the files
and picks the reader by suffix; `read_post` is the Markdown one).

A post is `posts/<name>.md` or a page bundle `posts/<name>/index.md` whose other
files are published beside the page. Front matter is YAML between `---` lines;
every key execblog interprets is validated here, once, into the SourcePost's
typed fields (execution keys: `SourcePost.run`, records.ExecutionFrontMatter),
so later stages trust it and never read `params` (kept for templates). Keys are
case-insensitive as in Hugo; a list key given one value is a one-item list.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import re
import typing
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from execblog import safe_yaml
from execblog.config import DEFAULT_TAXONOMIES, typed_value
from execblog.errors import BuildError
from execblog.fsutil import confine, inside, relative_problem
from execblog.hugo.dates import hugo_time
from execblog.records import Cover, ExecutionFrontMatter, SourcePost

_Loader = safe_yaml.Loader
_FENCE = re.compile(r"^(---|\.\.\.)\s*$")
_FENCE_LINE = "---\n"


def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """(front matter YAML, body, 1-based line where the body starts)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        if lines and lines[0].strip() == "+++":
            raise BuildError(
                "TOML front matter is not supported", path, 1, "write the front matter as YAML between --- lines"
            )
        raise BuildError(
            "missing front matter",
            path,
            1,
            "start the file with a YAML block:\n---\ntitle: My post\ndate: 2025-01-01\n---",
        )
    for i in range(1, len(lines)):
        if _FENCE.match(lines[i]):
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise BuildError("front matter is not closed", path, 1, "end the YAML block with a line holding only ---")


def read_post(
    path: Path,
    zone: ZoneInfo,
    default_author: str = "",
    taxonomies: Iterable[str] = DEFAULT_TAXONOMIES.values(),
    text: str | None = None,
) -> SourcePost:
    """The post in `path`; `text` is the post as Markdown with front matter when
    a reader of another format has converted the file (errors still name `path`)."""
    bundle_dir = path.parent if path.stem == "index" else None
    site_dir = (path.parent.parent if bundle_dir else path.parent).parent  # <site>/posts/<name>[/index.md]
    inside(path, site_dir, "the post file", hint="move the post into posts/ instead of linking to it")
    text = safe_yaml.decode_text(path.read_bytes(), path) if text is None else text
    fm_text, body, body_line = split_front_matter(text, path)
    # Parsed with the opening "---", so the marks are the file's lines (0-based)
    data, node = safe_yaml.load_with_node(_FENCE_LINE + fm_text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BuildError("front matter must be a mapping of keys to values", path, 2)
    fm = _FrontMatter(data, fm_text, path, node)

    name = bundle_dir.name if bundle_dir else path.stem
    title = fm.str_("title")
    if not title:
        raise BuildError("missing `title` in front matter", path, 2, "add a line such as: title: My first post")
    # Without `date`, Hugo-style fallbacks: lastmod, then the file's modification time.
    lastmod = fm.date("lastmod", zone)
    post_date = fm.date("date", zone) or lastmod or datetime.fromtimestamp(path.stat().st_mtime, zone)
    if fm.written("jupyter") != "jupyter":
        raise fm.fail(
            "jupyter", f"write `{fm.written('jupyter')}` as `jupyter`", "Jupytext reads the key in lower case"
        )
    jupyter = data.get("jupyter")
    executable = isinstance(jupyter, dict) and isinstance(jupyter.get("kernelspec"), dict)
    cover = fm.value("cover")
    cover_obj = None
    if isinstance(cover, dict) and cover.get("image"):
        cover_obj = Cover(
            image=str(cover["image"]), alt=str(cover.get("alt", "")), caption=str(cover.get("caption", ""))
        )
    elif cover not in (None, {}) and not isinstance(cover, dict):
        raise fm.fail(
            "cover",
            "`cover` must be a mapping with `image` and `alt`",
            "e.g. cover: {image: cover.png, alt: what it shows}",
        )
    authors = fm.list_("author") or ((default_author,) if default_author else ())
    resources: tuple[Path, ...] = ()
    if bundle_dir is not None:
        found = [p for p in sorted(bundle_dir.rglob("*")) if p != path and not is_hidden(p, bundle_dir)]
        for p in found:  # published as they are: a link must not bring in a file from elsewhere
            if p.is_symlink():
                inside(p, site_dir, "the bundle file", hint="copy the file into the bundle instead of linking to it")
        resources = tuple(p for p in found if p.is_file())
    return SourcePost(
        path=path,
        name=name,
        text=text,
        body_start=len(text) - len(body),  # the body is the end of the text
        body_line=body_line,
        title=title,
        date=post_date,
        lastmod=lastmod,
        draft=fm.bool_("draft", False),
        terms={plural: fm.list_(plural) for plural in taxonomies},
        authors=authors,
        summary=fm.str_("summary"),
        description=fm.str_("description"),
        slug=fm.str_("slug") or name,
        cover=cover_obj,
        toc=fm.bool_("toc", None),
        hidden_in_list=fm.bool_("hidden_in_list", False),
        aliases=fm.aliases(),
        is_cjk=fm.bool_("isCJKLanguage", None),
        executable=executable,
        execute=fm.bool_("execute", True),
        params=data,
        run=fm.execution(),
        comments=fm.bool_("comments", True),
        bundle_dir=bundle_dir,
        resources=resources,
    )


def front_matter_line(post: SourcePost, key: str) -> int:
    """The line of a front matter key (any case) in the post's file, for errors found after reading."""
    return _FrontMatter(post.params, split_front_matter(post.text, post.path)[0], post.path).line(key)


def is_hidden(path: Path, root: Path) -> bool:
    """Dot files and Python caches under `root` are neither published nor inputs."""
    return any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts)


def declared_inputs(post: SourcePost) -> list[tuple[str, list[Path]]]:
    """Front matter `inputs:` (paths or globs relative to the post's folder; a
    folder means every file under it): each entry with the files it names,
    none of which lies outside the post's folder (links resolved)."""
    base = post.source_dir
    out = []
    for entry in post.run.inputs:
        files: list[Path] = []
        for rel in sorted(glob.glob(str(entry), root_dir=base, recursive=True)):
            match = _confined_input(base, rel, post)
            if match.is_dir():
                files += sorted(
                    _confined_input(base, p.relative_to(base).as_posix(), post)
                    for p in match.rglob("*")
                    if not is_hidden(p, match)
                )
            elif match.is_file():
                files.append(match)
        out.append((str(entry), [f for f in files if f.is_file()]))
    return out


def _confined_input(base: Path, rel: str, post: SourcePost) -> Path:
    try:
        return confine(
            base,
            rel,
            "the input",
            post.path,
            hint="declare files inside the post's folder; copy or move the file there instead of linking",
        )
    except BuildError as exc:  # the line is looked up only when there is an error to show
        raise BuildError(exc.message, exc.path, front_matter_line(post, "inputs"), exc.hint) from None


@functools.cache
def _execution_keys() -> tuple[tuple[str, Any, Any], ...]:
    """(name, type, default) of the ExecutionFrontMatter keys read as they are (type hints are slow to resolve)."""
    hints = typing.get_type_hints(ExecutionFrontMatter)
    return tuple(
        (f.name, hints[f.name], f.default)
        for f in dataclasses.fields(ExecutionFrontMatter)
        if f.name not in ("timeout", "cell_timeout", "parameters")
    )


class _FrontMatter:
    """Typed access to front matter values, with the line of each key for errors.

    Keys are matched case-insensitively, as Hugo does (`isCJKLanguage`,
    `iscjklanguage` and `Tags` are the keys they spell); two spellings of one key
    are an error. Values are converted by config.typed_value, the validator
    site_config.yaml uses; a list key given one value is a list of that value."""

    def __init__(self, data: dict[str, Any], text: str, path: Path, node: yaml.Node | None = None):
        """`node`: `text` as composed with the opening fence (read_post's parse), else composed here."""
        self.data = data
        self.path = path
        if node is None:  # the opening "---" makes the marks the file's lines (0-based)
            node = yaml.compose(_FENCE_LINE + text, Loader=_Loader)
        self.nodes: dict[str, tuple[str, yaml.Node, yaml.Node]] = {}  # lower-case key -> (as written, key, value)
        for key_node, value_node in node.value if isinstance(node, yaml.MappingNode) else ():
            written = str(key_node.value)
            first = self.nodes.get(written.lower())
            if first is not None:
                message = (
                    f"`{written}` is written twice"
                    if first[0] == written
                    else f"`{first[0]}` and `{written}` are the same key"
                )
                raise BuildError(
                    message,
                    path,
                    key_node.start_mark.line + 1,
                    "keep one of them (front matter keys are case-insensitive, as in Hugo)",
                )
            self.nodes[written.lower()] = (written, key_node, value_node)

    def line(self, key: str) -> int:
        found = self.nodes.get(key.lower())
        return found[1].start_mark.line + 1 if found else 2

    def written(self, key: str) -> str:
        """`key` as the file spells it."""
        found = self.nodes.get(key.lower())
        return found[0] if found else key

    def value(self, key: str) -> Any:
        found = self.nodes.get(key.lower())
        return self.data.get(found[0]) if found else None

    def fail(self, key: str, message: str, hint: str = "") -> BuildError:
        return BuildError(message, self.path, self.line(key), hint)

    def typed(self, key: str, tp: Any, default: Any = None) -> Any:
        """The value of `key` as the type `tp`; `default` when absent or empty (`key:`)."""
        found = self.nodes.get(key.lower())
        if found is None:
            return default
        written, _key_node, node = found
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return default
        if typing.get_origin(tp) is tuple and isinstance(node, yaml.ScalarNode):
            node = yaml.SequenceNode("tag:yaml.org,2002:seq", [node], node.start_mark, node.end_mark)
        return typed_value(tp, node, self.path, written)

    def str_(self, key: str) -> str | None:
        return self.typed(key, str)

    def bool_(self, key: str, default):
        return self.typed(key, bool, default)

    def list_(self, key: str) -> tuple[str, ...]:
        return self.typed(key, tuple[str, ...], ())

    def aliases(self) -> tuple[str, ...]:
        """`aliases:` URL paths; each becomes a folder of the output, so it must stay inside it."""
        aliases = self.list_("aliases")
        for alias in aliases:
            problem = relative_problem(alias.strip("/")) if alias.strip("/") else "points at the home page"
            if problem:
                raise self.fail(
                    "aliases",
                    f"the alias `{alias}` {problem}",
                    "an alias is a URL path of this site, e.g. aliases: [/old/url/]",
                )
        return aliases

    def execution(self) -> ExecutionFrontMatter:
        """The keys the execution stage interprets (records.ExecutionFrontMatter)."""
        values = {name: self.typed(name, tp, default) for name, tp, default in _execution_keys()}
        parameters = self.typed("parameters", dict[str, Any], {})
        for name in parameters:
            if not isinstance(name, str) or not name.isidentifier():
                raise self.fail(
                    "parameters",
                    f"the parameter name `{name}` is not a Python name",
                    "name a variable of the post's `parameters` cell, e.g. parameters: {steps: 20}",
                )
        for model in values["models"]:
            if not model.strip():
                raise self.fail("models", "an empty model id in `models`", "e.g. models: [gpt2]")
        for entry in values["inputs"]:
            problem = relative_problem(entry)
            if problem:
                raise self.fail(
                    "inputs",
                    f"the input `{entry}` {problem}",
                    "declare files inside the post's folder, relative to it, e.g. inputs: [data.csv]",
                )
        return ExecutionFrontMatter(
            **values, parameters=parameters, timeout=self.seconds("timeout"), cell_timeout=self.seconds("cell_timeout")
        )

    def seconds(self, key: str) -> float | None:
        """A time limit: seconds; 0, false, off, none or never for no limit (0.0)."""
        value = self.value(key)
        if value is False or (isinstance(value, str) and value.strip().lower() in ("none", "off", "never")):
            return 0.0
        written = self.written(key)
        hint = f"give seconds, e.g. {written}: 1800, or {written}: off for no limit"
        try:
            seconds = self.typed(key, float)
        except BuildError as exc:
            raise BuildError(
                f"`{written}` must be a number of seconds, not {value!r}", self.path, exc.line, hint
            ) from None
        if seconds is not None and not seconds >= 0:  # also NaN
            raise self.fail(key, f"`{written}` must not be negative", hint)
        return seconds

    def date(self, key: str, zone: ZoneInfo) -> datetime | None:
        value = self.value(key)
        if value is None or value == "":
            return None
        try:
            return hugo_time(value, zone)
        except ValueError:
            raise self.fail(
                key,
                f"cannot read `{self.written(key)}: {value}` as a date",
                "use 2025-04-13, 2025-04-13T09:30:00 or 2025-04-13T09:30:00+09:00",
            ) from None
