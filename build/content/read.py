"""Stage 1: read a post file into a `SourcePost` (readers.py finds the files
and picks the reader by suffix; `read_post` is the Markdown one).

A post is `posts/<name>.md` or a page bundle `posts/<name>/index.md` whose other
files are published beside the page. Front matter is YAML between `---` lines;
it is validated here so later stages can trust it.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from execblog.config import DEFAULT_TAXONOMIES
from execblog.errors import BuildError
from execblog.fsutil import confine, inside, relative_problem
from execblog.hugo.dates import hugo_time
from execblog.records import Cover, SourcePost
from execblog import safe_yaml

_Loader = safe_yaml.Loader
_FENCE = re.compile(r"^(---|\.\.\.)\s*$")


def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """(front matter YAML, body, 1-based line where the body starts)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        if lines and lines[0].strip() == "+++":
            raise BuildError("TOML front matter is not supported", path, 1, "write the front matter as YAML between --- lines")
        raise BuildError("missing front matter", path, 1, "start the file with a YAML block:\n---\ntitle: My post\ndate: 2025-01-01\n---")
    for i in range(1, len(lines)):
        if _FENCE.match(lines[i]):
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise BuildError("front matter is not closed", path, 1, "end the YAML block with a line holding only ---")


def read_post(path: Path, zone: ZoneInfo, default_author: str = "",
              taxonomies: Iterable[str] = DEFAULT_TAXONOMIES.values(), text: str | None = None) -> SourcePost:
    """The post in `path`; `text` is the post as Markdown with front matter when
    a reader of another format has converted the file (errors still name `path`)."""
    bundle_dir = path.parent if path.stem == "index" else None
    site_dir = (path.parent.parent if bundle_dir else path.parent).parent  # <site>/posts/<name>[/index.md]
    inside(path, site_dir, "the post file", hint="move the post into posts/ instead of linking to it")
    text = safe_yaml.decode_text(path.read_bytes(), path) if text is None else text
    fm_text, body, body_line = split_front_matter(text, path)
    data = safe_yaml.load(fm_text, path, line_offset=1)  # +1: the opening ---
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BuildError("front matter must be a mapping of keys to values", path, 2)
    fm = _FrontMatter(data, fm_text, path)

    name = bundle_dir.name if bundle_dir else path.stem
    title = fm.str_("title")
    if not title:
        raise BuildError("missing `title` in front matter", path, 2, "add a line such as: title: My first post")
    # Without `date`, Hugo-style fallbacks: lastmod, then the file's modification time.
    lastmod = fm.date("lastmod", zone)
    post_date = fm.date("date", zone) or lastmod or datetime.fromtimestamp(path.stat().st_mtime, zone)
    jupyter = data.get("jupyter")
    executable = isinstance(jupyter, dict) and isinstance(jupyter.get("kernelspec"), dict)
    cover = data.get("cover")
    cover_obj = None
    if isinstance(cover, dict) and cover.get("image"):
        cover_obj = Cover(image=str(cover["image"]), alt=str(cover.get("alt", "")), caption=str(cover.get("caption", "")))
    elif cover not in (None, {}) and not isinstance(cover, dict):
        raise BuildError("`cover` must be a mapping with `image` and `alt`", path, fm.line("cover"))
    is_cjk = fm.bool_(fm.key("iscjklanguage"), None)  # Hugo's keys are case-insensitive
    authors = fm.list_("author") or ((default_author,) if default_author else ())
    resources: tuple[Path, ...] = ()
    if bundle_dir is not None:
        found = [p for p in sorted(bundle_dir.rglob("*")) if p != path and not is_hidden(p, bundle_dir)]
        for p in found:  # published as they are: a link must not bring in a file from elsewhere
            if p.is_symlink():
                inside(p, site_dir, "the bundle file", hint="copy the file into the bundle instead of linking to it")
        resources = tuple(p for p in found if p.is_file())
    fm.inputs()
    return SourcePost(
        path=path,
        name=name,
        text=text,
        body=body,
        body_line=body_line,
        title=title,
        date=post_date,
        lastmod=lastmod,
        draft=fm.bool_("draft", False),
        terms={plural: fm.list_(fm.key(plural)) for plural in taxonomies},
        authors=authors,
        summary=fm.str_("summary"),
        description=fm.str_("description"),
        slug=fm.str_("slug") or name,
        cover=cover_obj,
        toc=fm.bool_("toc", None),
        hidden_in_list=fm.bool_("hidden_in_list", False),
        aliases=fm.aliases(),
        is_cjk=is_cjk,
        executable=executable,
        execute=fm.bool_("execute", True),
        params=data,
        bundle_dir=bundle_dir,
        resources=resources,
    )


def front_matter_line(post: SourcePost, key: str) -> int:
    """The line of a front matter key in the post's file, for errors found after reading."""
    return _FrontMatter(post.params, split_front_matter(post.text, post.path)[0], post.path).line(key)


def is_hidden(path: Path, root: Path) -> bool:
    """Dot files and Python caches under `root` are neither published nor inputs."""
    return any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts)


def declared_inputs(post: SourcePost) -> list[tuple[str, list[Path]]]:
    """Front matter `inputs:` (paths or globs relative to the post's folder; a
    folder means every file under it): each entry with the files it names,
    none of which lies outside the post's folder (links resolved)."""
    declared = post.params.get("inputs") or ()
    declared = [declared] if isinstance(declared, str) else list(declared) if isinstance(declared, list) else []
    base = post.source_dir
    out = []
    for entry in declared:
        files: list[Path] = []
        for rel in sorted(glob.glob(str(entry), root_dir=base, recursive=True)):
            match = _confined_input(base, rel, post)
            if match.is_dir():
                files += sorted(_confined_input(base, p.relative_to(base).as_posix(), post)
                                for p in match.rglob("*") if not is_hidden(p, match))
            elif match.is_file():
                files.append(match)
        out.append((str(entry), [f for f in files if f.is_file()]))
    return out


def _confined_input(base: Path, rel: str, post: SourcePost) -> Path:
    try:
        return confine(base, rel, "the input", post.path,
                       hint="declare files inside the post's folder; copy or move the file there instead of linking")
    except BuildError as exc:  # the line is looked up only when there is an error to show
        front = _FrontMatter(post.params, split_front_matter(post.text, post.path)[0], post.path)
        raise BuildError(exc.message, exc.path, front.line("inputs"), exc.hint) from None


class _FrontMatter:
    """Typed access to front matter values, with the line of each key for errors."""

    def __init__(self, data: dict[str, Any], text: str, path: Path):
        self.data = data
        self.text = text
        self.path = path

    def line(self, key: str) -> int:
        """Line of `key` in the file; only needed for errors, so composed lazily."""
        node = yaml.compose(self.text, Loader=_Loader)
        if isinstance(node, yaml.MappingNode):
            for key_node, _value in node.value:
                if str(key_node.value) == key:
                    return key_node.start_mark.line + 2  # +1 opening ---, +1 1-based
        return 2

    def key(self, name: str) -> str:
        """The key written for `name` in any case (Hugo's front matter keys are
        case-insensitive): `Tags:` is `tags`."""
        found = [k for k in self.data if isinstance(k, str) and k.lower() == name]
        if len(found) > 1:
            raise self.fail(found[1], f"`{found[0]}` and `{found[1]}` are the same key", "keep one of them")
        return found[0] if found else name

    def fail(self, key: str, message: str, hint: str = "") -> BuildError:
        return BuildError(message, self.path, self.line(key), hint)

    def str_(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise self.fail(key, f"`{key}` must be text")
        return str(value)

    def bool_(self, key: str, default):
        value = self.data.get(key, default)
        if value is not default and not isinstance(value, bool):
            raise self.fail(key, f"`{key}` must be true or false, not {value!r}", f"write `{key}: true` or `{key}: false`")
        return value

    def list_(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if isinstance(value, (str, int, float)):
            return (str(value),)
        if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            return tuple(str(v) for v in value)
        raise self.fail(key, f"`{key}` must be a list of names", f"e.g. {key}: [one, two]")

    def aliases(self) -> tuple[str, ...]:
        """`aliases:` URL paths; each becomes a folder of the output, so it must stay inside it."""
        aliases = self.list_("aliases")
        for alias in aliases:
            problem = relative_problem(alias.strip("/")) if alias.strip("/") else "points at the home page"
            if problem:
                raise self.fail("aliases", f"the alias `{alias}` {problem}",
                                "an alias is a URL path of this site, e.g. aliases: [/old/url/]")
        return aliases

    def inputs(self) -> None:
        """`inputs:` must be paths or globs relative to the post's folder."""
        value = self.data.get("inputs")
        entries = [value] if isinstance(value, str) else value if isinstance(value, list) else ()
        if value is not None and not isinstance(value, (str, list)):
            raise self.fail("inputs", "`inputs` must be a list of paths", "e.g. inputs: [data.csv, helpers.py]")
        for entry in entries:
            problem = relative_problem(entry) if isinstance(entry, str) else "is not a path"
            if problem:
                raise self.fail("inputs", f"the input `{entry}` {problem}",
                                "declare files inside the post's folder, relative to it, e.g. inputs: [data.csv]")

    def date(self, key: str, zone: ZoneInfo) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return hugo_time(value, zone)
        except ValueError:
            raise self.fail(
                key,
                f"cannot read `{key}: {value}` as a date",
                "use 2025-04-13, 2025-04-13T09:30:00 or 2025-04-13T09:30:00+09:00",
            ) from None
