"""Notebook post formats: `.ipynb`, Jupytext percent scripts (`.py`), R Markdown
(`.Rmd`) and MyST-flavoured Jupytext Markdown (`.md` with a top-level `kernelspec`
or ```{code-cell} fences). Each becomes the same `SourcePost` as a Jupytext
Markdown post, with `SourcePost.notebook` set to the notebook as read.

Front matter, as Quarto and Jupyter Book accept it:

    .ipynb   a first raw cell holding YAML between --- lines, and/or notebook
             metadata: the keys of `metadata.execblog`, and top-level keys that
             are front matter keys (FRONT_MATTER_KEYS, the site's taxonomies);
             the raw cell wins over the metadata. Without `title`, the first
             Markdown heading is the title (as Jupyter Book does).
    .py      Jupytext's header comment (`# ---` ... `# ---`), read with its lines
    .Rmd     the YAML header, as in Markdown
    MyST     the YAML front matter (kernelspec and jupytext keys at its top)

The front matter is validated by `read.read_post` (the same errors, meta
line, summary and counts as a Markdown post). A notebook that cannot be a
post stops the build with a BuildError naming the file: unreadable JSON or
nbformat, invalid cells (with the cell), no title, a kernel other than Python
(unless `execute: false`, which publishes the saved outputs), Jupytext's
pandoc format (it needs the pandoc program).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from execblog import safe_yaml
from execblog.errors import BuildError
from execblog.records import SourcePost

# Top-level notebook metadata keys read as front matter (other tools keep their own keys there:
# `toc`, `widgets`, `colab`... are not ours unless written under `metadata.execblog`).
FRONT_MATTER_KEYS = frozenset(
    {
        "title",
        "date",
        "lastmod",
        "draft",
        "author",
        "summary",
        "description",
        "slug",
        "cover",
        "hidden_in_list",
        "aliases",
        "isCJKLanguage",
        "execute",
        "parameters",
        "inputs",
        "timeout",
        "cell_timeout",
        "allow_errors",
        "requires",
        "models",
        "warnings",
        "keywords",
    }
)
METADATA_KEY = "execblog"  # metadata.execblog: any front matter key
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_CODE_CELL_FENCE = re.compile(r"^(```+|~~~+)\s*\{code-cell\}", re.M)
_PYTHON = ("python", "python3", "ipython", "ipython3")
_FIX_NBFORMAT = "open the notebook in Jupyter and save it again (that repairs it), or export it again from Colab"


def notebook_from_ipynb(path: Path) -> Any:
    """The notebook in an .ipynb file as nbformat v4, validated; BuildError naming the file (and cell)."""
    import nbformat

    text = safe_yaml.decode_text(path.read_bytes(), path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildError(f"the notebook is not valid JSON ({exc.msg})", path, exc.lineno, _FIX_NBFORMAT) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise BuildError("the file is not a Jupyter notebook (no `nbformat` field)", path, hint=_FIX_NBFORMAT)
    major = data.get("nbformat")
    if major not in (2, 3, 4):
        raise BuildError(f"nbformat {major!r} is not supported (versions 2 to 4 are)", path, hint=_FIX_NBFORMAT)
    try:
        nb = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as exc:  # nbformat raises many kinds for a malformed notebook
        raise BuildError(f"cannot read the notebook: {_one_line(exc)}", path, hint=_FIX_NBFORMAT) from None
    _check_notebook(nb, path)
    return nb


def notebook_from_text(path: Path, text: str, fmt: str) -> Any:
    """A Jupytext text notebook (`fmt`: py:percent, Rmd, md:myst) as nbformat v4."""
    import jupytext

    try:
        nb = jupytext.reads(text, fmt=fmt)
    except Exception as exc:  # jupytext and nbformat reject malformed headers in many ways
        raise BuildError(
            f"Jupytext cannot read the file: {_one_line(exc)}",
            path,
            hint="check the header's `jupyter:` section (a kernelspec needs name, display_name, language)",
        ) from None
    _check_notebook(nb, path)
    return nb


def _check_notebook(nb: Any, path: Path) -> None:
    """What later stages rely on: a kernelspec mapping, cells with a known type and a text source."""
    kernelspec = nb.metadata.get("kernelspec")
    if kernelspec is not None and not isinstance(kernelspec, dict):
        raise BuildError(
            "the notebook's `metadata.kernelspec` is not a mapping",
            path,
            hint="set it with `jupytext --set-kernel python3 FILE`, or remove it",
        )
    for number, cell in enumerate(nb.cells, 1):
        where = f"cell {number}"
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            kind = cell.get("cell_type") if isinstance(cell, dict) else type(cell).__name__
            raise BuildError(f"{where} has an unknown type `{kind}`", path, hint=_FIX_NBFORMAT)
        source = cell.get("source")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            cell["source"] = "".join(source)
        elif not isinstance(source, str):
            raise BuildError(f"{where} has no text `source`", path, hint=_FIX_NBFORMAT)
        if not isinstance(cell.get("metadata", {}), dict):
            raise BuildError(f"{where} has metadata that is not a mapping", path, hint=_FIX_NBFORMAT)
        cell.setdefault("metadata", {})
        if cell["cell_type"] != "code":
            continue
        outputs = cell.get("outputs", [])
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise BuildError(f"{where} has outputs that are not a list of outputs", path, hint=_FIX_NBFORMAT)
        for output in outputs:
            if output.get("output_type") == "stream" and not isinstance(output.get("text", ""), (str, list)):
                raise BuildError(f"{where} has a stream output without text", path, hint=_FIX_NBFORMAT)
            data = output.get("data")
            if data is not None and not isinstance(data, dict):
                raise BuildError(f"{where} has an output whose data is not a mapping", path, hint=_FIX_NBFORMAT)


def front_matter_cell(nb: Any, path: Path) -> tuple[dict[str, Any], Any]:
    """(the YAML of a first raw cell between --- lines, the notebook without that cell).
    A first raw cell that is not such a block is an ordinary raw cell."""
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "raw":
        return {}, nb
    lines = first.source.strip().splitlines()
    if len(lines) < 2 or lines[0].strip() != "---" or lines[-1].strip() not in ("---", "..."):
        return {}, nb
    yaml_text = "\n".join(lines[1:-1])
    try:
        data = safe_yaml.load(yaml_text, path)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or _one_line(exc)
        raise BuildError(
            f"invalid YAML in the front matter (the notebook's first raw cell): {problem}",
            path,
            hint="check indentation, and quote values containing ':' or '#'",
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BuildError(
            "the front matter in the notebook's first raw cell is not a mapping of keys to values",
            path,
            hint="write it as `key: value` lines, e.g. title: My post",
        )
    rest = copy.copy(nb)
    rest.cells = nb.cells[1:]
    return data, rest


def metadata_front_matter(nb: Any, taxonomies: tuple[str, ...]) -> dict[str, Any]:
    """Front matter kept in the notebook metadata (see the module docstring)."""
    meta = nb.metadata
    known = FRONT_MATTER_KEYS | set(taxonomies)
    front = {k: copy.deepcopy(v) for k, v in meta.items() if k in known}
    own = meta.get(METADATA_KEY)
    if isinstance(own, dict):
        front.update(copy.deepcopy(dict(own)))
    return front


def first_heading(nb: Any) -> str | None:
    """The first Markdown heading's text (Jupyter Book's page title)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = _HEADING.search(cell.source)
            if match:
                return match.group(1)
    return None


def kernel_language(nb: Any) -> str:
    meta = nb.metadata
    kernelspec = meta.get("kernelspec") or {}
    language = kernelspec.get("language") or (meta.get("language_info") or {}).get("name") or kernelspec.get("name")
    return str(language or "python").lower()


def check_language(post: SourcePost, nb: Any) -> None:
    """A post that runs must be a Python notebook (the build's kernel is Python)."""
    language = kernel_language(nb)
    if post.execute and not language.startswith(_PYTHON):
        kernel = (nb.metadata.get("kernelspec") or {}).get("name") or language
        raise BuildError(
            f"the notebook's kernel is `{kernel}` ({language}); execblog runs Python notebooks only",
            post.path,
            hint="add `execute: false` to its front matter to publish its saved outputs "
            "as they are, or port it to Python",
        )


def is_myst(post: SourcePost) -> bool:
    """A Markdown post written by `jupytext --to md:myst`: the kernelspec at the top of
    its front matter, or ```{code-cell} fences."""
    jupytext_meta = post.params.get("jupytext")
    fmt = ""
    if isinstance(jupytext_meta, dict) and isinstance(jupytext_meta.get("text_representation"), dict):
        fmt = str(jupytext_meta["text_representation"].get("format_name") or "")
    # the literal first: the line-anchored search tries every character of every post (a cold build reads them all)
    fence = "{code-cell}" in post.body and _CODE_CELL_FENCE.search(post.body)
    return isinstance(post.params.get("kernelspec"), dict) or fmt == "myst" or bool(fence)


def jupytext_format(post: SourcePost) -> str:
    """The format_name Jupytext recorded in the front matter ("" when none)."""
    for section in (post.params.get("jupyter"), post.params):
        meta = section.get("jupytext") if isinstance(section, dict) else None
        representation = meta.get("text_representation") if isinstance(meta, dict) else None
        if isinstance(representation, dict) and representation.get("format_name"):
            return str(representation["format_name"])
    return ""


_PANDOC_CELL = re.compile(r"^:::+\s*\{\.cell\b", re.M)


def refuse_pandoc(post: SourcePost) -> None:
    if jupytext_format(post) == "pandoc" or (":::" in post.body and _PANDOC_CELL.search(post.body)):
        raise BuildError(
            "the post is in Jupytext's pandoc format, which needs the pandoc program to read",
            post.path,
            hint="convert it once with `jupytext --to md FILE` (or `--to md:myst`)",
        )


def with_notebook(post: SourcePost, nb: Any) -> SourcePost:
    """The post with its notebook; an executable post has a kernelspec (Python when none is recorded)."""
    nb = copy.deepcopy(nb)
    if not isinstance(nb.metadata.get("kernelspec"), dict):
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    post = replace(post, notebook=nb, executable=True)
    check_language(post, nb)
    return post


def markdown_text(front: dict[str, Any], nb: Any) -> str:
    """The notebook as Markdown with front matter (what `read_post` validates): the
    merged front matter, then the Markdown cells and the code cells as fences."""
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False)
    language = kernel_language(nb)
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code":
            parts.append(f"```{language}\n{cell.source}\n```")
    return f"---\n{header}---\n\n" + "\n\n".join(parts) + "\n"


def without_lines(error: BuildError, where: str) -> BuildError:
    """An error of the front matter `read_post` validated, for a file whose front
    matter has no lines of its own (a notebook's metadata and raw cell)."""
    return BuildError(f"{error.message} ({where})", error.path, None, error.hint)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("…" if len(text) > 300 else "")
