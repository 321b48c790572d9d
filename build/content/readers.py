"""Post readers, registered by file suffix: each turns a post file into the same `SourcePost`.

    posts/<name><suffix>           a post
    posts/<name>/index<suffix>     a page bundle: the folder's other files are published beside it

`read_posts` (the stage's entry) finds post files by the registered suffixes
and calls each file's reader with the site-level `ReadSettings`. A reader
validates the front matter with the shared code of `read` and raises
BuildError with the file and line; every later stage sees only the
`SourcePost`. `.md` (Jupytext Markdown, MyST-flavoured Jupytext Markdown or
plain Markdown), `.ipynb`, `.py` (Jupytext percent scripts) and `.Rmd` are the
formats (the notebook ones: content/notebooks.py); a new one is one function
registered with `@reader(suffix)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from execblog import safe_yaml
from execblog.config import DEFAULT_TAXONOMIES
from execblog.content import notebooks
from execblog.content.read import declared_inputs, read_post
from execblog.errors import BuildError
from execblog.hugo.taxonomies import urlize
from execblog.records import SourcePost
from execblog.registry import register

BUNDLE_INDEX = "index"  # a bundle's post file is index<suffix>
_IGNORED = (".", "_")


@dataclass(frozen=True)
class ReadSettings:
    """What every reader needs from the site: its time zone (for dates without
    one), the default author, the plural names of its taxonomies."""

    zone: ZoneInfo
    default_author: str = ""
    taxonomies: tuple[str, ...] = tuple(DEFAULT_TAXONOMIES.values())


PostReader = Callable[[Path, ReadSettings], SourcePost]
READERS: dict[str, PostReader] = {}
# Reads a list of post files, each with its suffix's reader (read_files, or a cache in front of it).
ReadFiles = Callable[[list[Path], ReadSettings, Mapping[str, PostReader]], list[SourcePost]]


def reader(suffix: str, registry: dict[str, PostReader] = READERS) -> Callable[[PostReader], PostReader]:
    """Register the decorated function as the reader of post files ending in `suffix` (e.g. ".md")."""
    return register(suffix, registry)


@reader(".md")
def read_markdown(path: Path, settings: ReadSettings) -> SourcePost:
    """Jupytext Markdown (executable when its front matter has `jupyter.kernelspec`), MyST-flavoured
    Jupytext Markdown (a top-level `kernelspec`, ```{code-cell} fences) or plain Markdown."""
    post = read_post(path, settings.zone, settings.default_author, settings.taxonomies)
    notebooks.refuse_pandoc(post)
    if not notebooks.is_myst(post):
        return post
    return notebooks.with_notebook(post, notebooks.notebook_from_text(path, post.text, "md:myst"))


@reader(".ipynb")
def read_ipynb(path: Path, settings: ReadSettings) -> SourcePost:
    """A Jupyter notebook: front matter from a first raw cell and/or the notebook metadata."""
    nb = notebooks.notebook_from_ipynb(path)
    front, nb = notebooks.front_matter_cell(nb, path)
    front = {**notebooks.metadata_front_matter(nb, settings.taxonomies), **front}
    if not front.get("title"):
        heading = notebooks.first_heading(nb)
        if heading is None:
            raise BuildError(
                "the notebook has no title",
                path,
                hint="add a first raw cell holding front matter "
                "(---, title: My post, ---), a `title` in the notebook metadata, or a # heading",
            )
        front["title"] = heading
    try:
        post = read_post(
            path, settings.zone, settings.default_author, settings.taxonomies, text=notebooks.markdown_text(front, nb)
        )
    except BuildError as exc:
        raise notebooks.without_lines(exc, "in the notebook's first raw cell or metadata") from None
    return notebooks.with_notebook(post, nb)


@reader(".py")
def read_percent_script(path: Path, settings: ReadSettings) -> SourcePost:
    """A Jupytext percent script (`# %%` cells); front matter in its header comment."""
    text = safe_yaml.decode_text(path.read_bytes(), path)
    # The header comment uncommented, line for line, is the front matter read_post validates.
    lines = text.splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines) if i and line.rstrip() == "# ---"), None)
    if not lines or lines[0].rstrip() != "# ---" or end is None:
        raise BuildError(
            "missing front matter: a post script starts with Jupytext's header comment",
            path,
            1,
            "start the file with:\n# ---\n# title: My post\n# jupyter:\n#   kernelspec: "
            "{name: python3, display_name: Python 3, language: python}\n# ---\n\n# %%",
        )
    header = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines[: end + 1]]
    post = read_post(
        path, settings.zone, settings.default_author, settings.taxonomies, text="".join(header + lines[end + 1 :])
    )
    nb = notebooks.notebook_from_text(path, text, "py:percent")
    _front, nb = notebooks.front_matter_cell(nb, path)
    return notebooks.with_notebook(post, nb)


@reader(".Rmd")
def read_rmarkdown(path: Path, settings: ReadSettings) -> SourcePost:
    """R Markdown (chunks as code cells), as Jupytext reads it; front matter in its YAML header."""
    post = read_post(path, settings.zone, settings.default_author, settings.taxonomies)
    nb = notebooks.notebook_from_text(path, post.text, "Rmd")
    _front, nb = notebooks.front_matter_cell(nb, path)
    return notebooks.with_notebook(post, nb)


def discover_post_files(posts_dir: Path, readers: Mapping[str, PostReader] = READERS) -> list[Path]:
    """Every post file, sorted: single files and bundle index files with a registered suffix."""
    found: list[Path] = []
    if not posts_dir.is_dir():
        return found
    # os.scandir: the file type comes with the listing, no call per file (a site has thousands)
    with os.scandir(posts_dir) as listing:
        entries = sorted((e for e in listing if not e.name.startswith(_IGNORED)), key=lambda e: e.name)
    for item in entries:
        dot = item.name.rfind(".")
        ext = item.name[dot:] if 0 < dot < len(item.name) - 1 else ""  # as Path.suffix
        if ext in readers and item.is_file():
            found.append(posts_dir / item.name)
        elif item.is_dir():
            entry = posts_dir / item.name
            index = [entry / f"{BUNDLE_INDEX}{suffix}" for suffix in readers]
            index = [path for path in index if path.is_file()]
            if len(index) > 1:
                raise BuildError(
                    f"the bundle {entry.name}/ has {len(index)} post files: " + ", ".join(p.name for p in index),
                    entry,
                    hint="keep one index file in the folder (the others are the same post)",
                )
            found += index
    return found


def read_files(files: list[Path], settings: ReadSettings, readers: Mapping[str, PostReader]) -> list[SourcePost]:
    """Each file read by the reader of its suffix, in order; many are read on every core (a
    thousand posts' YAML and validation take a tenth of a full build in one process)."""
    from execblog.parallel import split_map

    return split_map(lambda path: readers[path.suffix](path, settings), files)


def read_posts(
    posts_dir: Path,
    zone: ZoneInfo,
    default_author: str = "",
    taxonomies: Iterable[str] = DEFAULT_TAXONOMIES.values(),
    readers: Mapping[str, PostReader] = READERS,
    read_with: ReadFiles = read_files,
) -> list[SourcePost]:
    """Every post under `posts_dir`, each read by the reader of its suffix;
    `taxonomies` are the plural names of the site's taxonomies. `read_with(files,
    settings, readers)` reads the files (a cache gives what it holds and reads the others)."""
    settings = ReadSettings(zone, default_author, tuple(taxonomies))
    posts = read_with(discover_post_files(posts_dir, readers), settings, readers)
    for post in posts:
        declared_inputs(post)  # an input that leads out of the post's folder stops the build before it starts
    # A name keys the freeze and the caches, a slug the URL: each must be one post's.
    for what, key in (("name", lambda p: p.name), ("slug", lambda p: urlize(p.slug))):
        seen: dict[str, SourcePost] = {}
        for post in posts:
            other = seen.setdefault(key(post), post)
            if other is not post:
                raise BuildError(
                    f"two posts have the {what} `{key(post)}`: {other.path} and this one",
                    post.path,
                    hint="rename one of the files, or give one a different `slug:`",
                )
    return posts
