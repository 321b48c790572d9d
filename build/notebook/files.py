"""Image outputs stored as files beside a notebook (how the freeze keeps them).

In such a notebook an image output keeps its mimetype key with the value
`execblog-file:<name>`, naming a file in the same folder: 16 hex digits of the
SHA-256 of its bytes, then the extension the mimetype table gives
(`extract_files` writes them). Which outputs become files, and whether their
data is base64 or text, comes from the mimetype table (notebook/mimetypes.py).

A reference is data from a committed folder: `ref_file` accepts only a name
`extract_files` could have written, for a file inside the folder, whose bytes
hash to that name. `inline_files` turns such a notebook back into an ordinary
self-contained one (for a download).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from pathlib import Path
from typing import Any

from execblog.errors import BuildError
from execblog.fsutil import inside
from execblog.notebook.mimetypes import TABLE

NOTEBOOK_FILE = "executed.ipynb"  # the notebook in a folder of output files
FILE_REF_PREFIX = "execblog-file:"
# Mimetype -> row, for the outputs stored as files.
FILE_MIMETYPES = TABLE.files()

_FILE_NAME = re.compile(r"[0-9a-f]{16}(\.[a-z]+)")
REWRITE_HINT = (
    "delete the entry's folder and build again to re-execute the post (a freeze entry is never edited by hand)"
)


def is_file_name(name: str) -> bool:
    """`name` is one the freeze writes for an output: a content hash and an extension, no folder."""
    return _FILE_NAME.fullmatch(name) is not None


def file_ref(value: Any) -> str | None:
    """The file name an output value refers to, or None for inline data."""
    if isinstance(value, str) and value.startswith(FILE_REF_PREFIX):
        return value[len(FILE_REF_PREFIX) :]
    return None


def output_bytes(mime: str, value: Any) -> bytes:
    """The bytes of an inline image output (base64-decoded where the table says so)."""
    text = "".join(value) if isinstance(value, list) else str(value)
    return base64.b64decode(text) if FILE_MIMETYPES[mime].base64 else text.encode("utf-8")


def file_name(mime: str, data: bytes) -> str:
    """The content-hash name of an image output's file."""
    return hashlib.sha256(data).hexdigest()[:16] + (FILE_MIMETYPES[mime].extension or "")


def extract_files(nb: Any) -> dict[str, bytes]:
    """Replace, in place, every inline image output of `nb` by a reference;
    returns the files (name -> bytes) the references name."""
    files: dict[str, bytes] = {}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            for mime in FILE_MIMETYPES:
                value = data.get(mime)
                if not isinstance(value, str) or value.startswith(FILE_REF_PREFIX):
                    continue
                try:
                    raw = output_bytes(mime, value)
                except ValueError:  # not base64: left inline, where convert says the output is damaged
                    continue
                name = file_name(mime, raw)
                files[name] = raw
                data[mime] = FILE_REF_PREFIX + name
    return files


def ref_file(folder: Path, name: str, mime: str) -> Path:
    """The file an output refers to, checked: a content-hash name (what
    `extract_files` writes for `mime`) of a file in `folder`, not a link
    that leaves it, whose bytes hash to that name."""
    where = folder / NOTEBOOK_FILE
    match = _FILE_NAME.fullmatch(name)
    if mime not in FILE_MIMETYPES or not match or match.group(1) != FILE_MIMETYPES[mime].extension:
        raise BuildError(
            f"an output refers to `{FILE_REF_PREFIX}{name}`, which is not a file name the freeze "
            f"writes for {mime} (16 hex digits of its SHA-256, then the extension)",
            where,
            hint=REWRITE_HINT,
        )
    path = inside(folder / name, folder, "the freeze file", where, hint=REWRITE_HINT)
    try:
        data = path.read_bytes()
    except OSError:
        raise BuildError(f"an output refers to `{name}`, which is not in {folder}", where, hint=REWRITE_HINT) from None
    if hashlib.sha256(data).hexdigest()[:16] != name[:16]:
        raise BuildError(
            f"the freeze file {folder / name} does not hold the content its name claims (edited or replaced)",
            where,
            hint=REWRITE_HINT,
        )
    return folder / name


def inline_files(notebook: Any, folder: Path) -> Any:
    """A copy of a notebook with file references replaced by the data
    (base64 or SVG text), i.e. an ordinary self-contained notebook."""
    import nbformat  # slow to import (jsonschema): only notebooks pay for it

    nb = nbformat.from_dict(copy.deepcopy(dict(notebook)))
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for mime, value in (output.get("data") or {}).items():
                name = file_ref(value)
                if name is None or mime not in FILE_MIMETYPES:
                    continue
                raw = ref_file(folder, name, mime).read_bytes()
                is_base64 = FILE_MIMETYPES[mime].base64
                output["data"][mime] = base64.b64encode(raw).decode("ascii") if is_base64 else raw.decode("utf-8")
    return nb


def notebook_text(notebook: Any) -> str:
    """nbformat's stable on-disk text (sorted keys, lines split)."""
    import nbformat

    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"
