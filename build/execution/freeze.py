"""The freeze: executed posts stored in a folder meant to be committed.

    _freeze/<post>/executed.ipynb      outputs, images replaced by file references
    _freeze/<post>/<sha256[:16]>.png   one file per image output, named by content
    _freeze/<post>/meta.json           key, status, durations, provenance, stand-ins

The notebook is written with nbformat's stable layout (sorted keys, one-space
indent, text split in lines) after removing everything volatile: papermill's
timestamps, nbclient's timing, random cell ids (replaced by ids derived from
the cell's content). Re-running identical code that prints identical output
therefore rewrites byte-identical files, and git shows no change.

An image output keeps its mimetype key, with the value `execblog-file:<name>`
naming the file beside the notebook (notebook/files.py: which mimetypes are
files comes from the mimetype table; `inline_files()` restores the usual
base64 form for a self-contained download).

An entry that holds a secret is never written: `save` scans the new entry
with `redact.scan_for_secrets` before it replaces the old one, and raises
`SecretInEntry` instead (the freeze is committed; a secret there is public).

Writes are atomic per post: the new entry is built in a hidden temporary
folder and swapped in with renames, so a crash or a failed run never leaves a
half-written entry nor replaces the last good one. Failed runs are kept for
inspection in `.execblog/failed/<post>.ipynb` (+ `.json`), which git ignores.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from execblog.errors import BuildError
from execblog.execution.redact import SecretFinding, scan_for_secrets
from execblog.fsutil import atomic_write, confine, inside, swap_in
from execblog.notebook.files import NOTEBOOK_FILE, REWRITE_HINT, extract_files, file_ref, is_file_name, notebook_text
from execblog.notebook.tags import PAPERMILL_ERROR, cell_tags

META_FILE = "meta.json"
FORMAT_VERSION = 1

FreezeStatus = Literal["fresh", "stale", "never run", "failed", "corrupt"]

_VOLATILE_CELL_METADATA = ("papermill", "execution", "ExecuteTime")
_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info", "widgets")  # widgets: the saved widget state pages show


# --- pure normalisation ------------------------------------------------------------------------
def normalize_notebook(notebook: Any) -> tuple[Any, dict[str, bytes]]:
    """A copy of `notebook` fit for committing, and the image files it refers to.

    Drops papermill's error-marker cells and volatile metadata, gives cells
    content-derived ids, and moves image outputs to `<sha256[:16]><ext>` files."""
    import nbformat  # slow to import (jsonschema): only builds that read or write the freeze pay for it

    nb = nbformat.from_dict(copy.deepcopy(dict(notebook)))
    nb.cells = [c for c in nb.cells if PAPERMILL_ERROR not in cell_tags(c)]
    metadata = {k: nb.metadata[k] for k in _KEPT_NOTEBOOK_METADATA if k in nb.metadata}
    parameters = nb.metadata.get("papermill", {}).get("parameters")
    if parameters:
        metadata["papermill"] = {"parameters": parameters}
    nb.metadata = nbformat.from_dict(metadata)
    seen_ids: dict[str, int] = {}
    for cell in nb.cells:
        cell["id"] = _content_id(cell, seen_ids)
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if not cell.metadata.get("tags", True):  # papermill adds empty tag lists
            del cell.metadata["tags"]
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else ():
            output.pop("transient", None)
    return nb, extract_files(nb)


def _content_id(cell: Any, seen: dict[str, int]) -> str:
    # Derived from content, not position: inserting a cell does not renumber the rest.
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    base = hashlib.sha256(f"{cell.get('cell_type')}\0{source}".encode()).hexdigest()[:12]
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def meta_text(meta: Mapping[str, Any]) -> str:
    return json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def entry_folder(root: Path, name: str) -> Path:
    """An entry's folder: a name is one plain folder name, and the folder (or a
    link in its place) must lie inside the freeze."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise BuildError(
            f"`{name}` cannot name a freeze entry",
            root,
            hint="a freeze entry is named after its post's file: one name, not a path",
        )
    return confine(root, name, "the freeze entry", hint=REWRITE_HINT)


class SecretInEntry(Exception):
    """A new freeze entry still holds a secret; it was not written."""

    def __init__(self, name: str, findings: list[SecretFinding], cells: list[int]):
        what = ", ".join(dict.fromkeys(f.what for f in findings))
        where = ", ".join(dict.fromkeys(f.path.name for f in findings))
        super().__init__(f"{what} in {where}")
        self.name = name
        self.findings = findings  # paths inside the discarded temporary entry
        self.cells = cells  # indices of the notebook's cells that hold it, when known


# --- the store ----------------------------------------------------------------------------------
class CorruptEntryError(Exception):
    """A freeze entry that exists but cannot be used (truncated, hand-edited, a file missing)."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"the freeze entry `{name}` is unreadable: {detail}")
        self.name = name
        self.detail = detail


@dataclass(frozen=True)
class FrozenEntry:
    name: str
    folder: Path
    meta: dict[str, Any]
    loaded: Any = field(default=None, repr=False, compare=False)  # the notebook, when load() read it

    @property
    def key(self) -> str | None:
        return self.meta.get("key")

    def notebook(self) -> Any:
        """The frozen notebook (image outputs as `execblog-file:` references)."""
        if self.loaded is not None:
            return self.loaded
        return _read_notebook(self.name, self.folder)


def _read_notebook(name: str, folder: Path) -> Any:
    """The entry's notebook, checked as far as the build relies on it."""
    import nbformat

    try:
        nb = nbformat.read(folder / NOTEBOOK_FILE, as_version=4)
        cells = list(nb.cells)
        if any(not isinstance(c.get("source"), str) or "cell_type" not in c for c in cells):
            raise ValueError("a cell has no cell_type or source")
        refs = [
            ref
            for cell in cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            for value in (output.get("data") or {}).values()
            if (ref := file_ref(value)) is not None
        ]
    except Exception as exc:  # truncated JSON, wrong shapes, bad encoding: nbformat raises many kinds
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CorruptEntryError(name, f"{NOTEBOOK_FILE}: {type(exc).__name__}: {first}") from None
    # only names the freeze writes are looked up here; any other reference (it could name a path elsewhere)
    # is refused by name where it is used (notebook.files.ref_file)
    missing = [ref for ref in refs if is_file_name(ref) and not (folder / ref).is_file()]
    if missing:
        raise CorruptEntryError(name, f"{NOTEBOOK_FILE} refers to missing output file(s): {', '.join(missing[:5])}")
    return nb


class FreezeStore:
    def __init__(self, root: Path, failed_dir: Path):
        self.root = Path(root)
        self.failed_dir = Path(failed_dir)

    def entry_dir(self, name: str) -> Path:
        return entry_folder(self.root, name)

    # -- reading -----------------------------------------------------------------------------------
    def load(self, name: str) -> FrozenEntry | None:
        """The entry, or None when there is none. An entry that is there but
        cannot be used raises CorruptEntryError (the caller decides: re-run, or fail)."""
        folder = self.entry_dir(name)
        if not folder.exists():
            self._recover(name)
        if not folder.exists():
            return None
        meta_path = folder / META_FILE
        for path in (meta_path, folder / NOTEBOOK_FILE):
            inside(path, folder, "the freeze file", hint=REWRITE_HINT)
        for needed in (META_FILE, NOTEBOOK_FILE):
            if not (folder / needed).is_file():
                raise CorruptEntryError(name, f"{needed} is missing")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptEntryError(name, f"{META_FILE}: {exc}") from None
        if not isinstance(meta, dict):
            raise CorruptEntryError(name, f"{META_FILE} is not a JSON object")
        return FrozenEntry(name, folder, meta, _read_notebook(name, folder))

    def failure(self, name: str) -> dict[str, Any] | None:
        path = self.failed_dir / f"{name}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def status(self, name: str, key: str) -> FreezeStatus:
        failure = self.failure(name)
        if failure is not None and failure.get("key") == key:
            return "failed"
        try:
            entry = self.load(name)
        except CorruptEntryError:
            return "corrupt"
        if entry is None:
            return "never run"
        return "fresh" if entry.key == key and entry.meta.get("status") == "ok" else "stale"

    # -- writing -----------------------------------------------------------------------------------
    def save(
        self, name: str, notebook: Any, meta: Mapping[str, Any], secrets: Mapping[str, str] | None = None
    ) -> FrozenEntry:
        """Normalise and store a successful run, replacing the entry atomically.
        Raises SecretInEntry (the old entry kept) if the new one holds one of
        `secrets` or a token shape in any form the final scan looks for."""
        nb, files = normalize_notebook(notebook)
        meta = {**meta, "format": FORMAT_VERSION, "files": sorted(files)}
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{name}.tmp-"))
        tmp.chmod(0o755)  # mkdtemp makes it private; the entry is meant to be shared
        try:
            for file_name, data in files.items():
                (tmp / file_name).write_bytes(data)
            (tmp / NOTEBOOK_FILE).write_text(notebook_text(nb), encoding="utf-8")
            (tmp / META_FILE).write_text(meta_text(meta), encoding="utf-8")
            findings = scan_for_secrets([tmp], secrets or {})
            if findings:
                raise SecretInEntry(name, findings, _cells_with(nb, findings, secrets or {}))
            self._swap_in(name, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.clear_failure(name)
        return FrozenEntry(name, self.entry_dir(name), dict(meta))

    def install_copies(self, entries: Mapping[str, Path]) -> None:
        """Replace each entry `name` by a copy of its folder (entries made
        elsewhere, e.g. by shard jobs), all or none: every copy is made before
        the first is swapped in, and when a swap fails the entries already
        swapped get their old folders back."""
        self.root.mkdir(parents=True, exist_ok=True)
        staged: dict[str, Path] = {}
        swapped: list[tuple[str, Path | None]] = []
        try:
            for name, folder in entries.items():
                staged[name] = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{name}.tmp-"))
                shutil.copytree(folder, staged[name], dirs_exist_ok=True)
                staged[name].chmod(0o755)
            for name, tmp in staged.items():
                swapped.append((name, swap_in(tmp, self.entry_dir(name))))
        except BaseException:
            for name, old in reversed(swapped):
                os.rename(self.entry_dir(name), staged[name])  # the copy goes back to its staging folder
                if old is not None:
                    os.rename(old, self.entry_dir(name))
            for tmp in staged.values():
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        for _name, old in swapped:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)

    def _swap_in(self, name: str, tmp: Path) -> None:
        old = swap_in(tmp, self.entry_dir(name))
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _recover(self, name: str) -> None:
        # A crash between the two renames of swap_in leaves only the old copy.
        olds = sorted(self.root.glob(f".{name}.old-*")) if self.root.is_dir() else []
        if olds:
            os.rename(olds[-1], self.entry_dir(name))

    def save_failure(self, name: str, notebook: Any, info: Mapping[str, Any]) -> Path:
        """Keep a failed run (self-contained notebook + what went wrong) for
        inspection; the freeze entry is not touched."""
        self.failed_dir.mkdir(parents=True, exist_ok=True)
        path = self.failed_dir / f"{name}.ipynb"
        atomic_write(path, notebook_text(notebook))
        atomic_write(self.failed_dir / f"{name}.json", meta_text(dict(info)))
        return path

    def clear_failure(self, name: str) -> None:
        for suffix in (".ipynb", ".json"):
            (self.failed_dir / f"{name}{suffix}").unlink(missing_ok=True)


def discard_entry(root: Path, name: str) -> None:
    """Remove an entry this build wrote (the next build runs the post again)."""
    final = entry_folder(Path(root), name)
    if final.is_dir():
        old = Path(root) / f".{name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(final, old)
        shutil.rmtree(old, ignore_errors=True)


def _cells_with(nb: Any, findings: list[SecretFinding], secrets: Mapping[str, str]) -> list[int]:
    """Indices of the cells whose outputs (or image files) hold a finding."""
    from execblog.execution.redact import Redactor

    files = {f.path.name for f in findings}
    redactor = Redactor(secrets)
    cells = []
    for index, cell in enumerate(nb.cells):
        refs = {file_ref(v) for o in cell.get("outputs", []) for v in (o.get("data") or {}).values()}
        if refs & files or (NOTEBOOK_FILE in files and redactor.json_secrets(cell)):
            cells.append(index)
    return cells
