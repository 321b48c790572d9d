"""Paths that come from data, confined to the folder they belong to.

A path named by a post (front matter `aliases:`, `inputs:`), a bundle, a
freeze entry or a shard artifact is data, not an instruction: before it is
read or written it must be a clean relative path (not absolute, no `..`), and
once symbolic links are resolved it must still lie inside its folder. A link
that stays inside is fine; one that leaves is refused, never followed.
Every refusal is a `BuildError` naming the file, what is wrong and the fix.

Writes that others may read at the same moment (forked workers, a dev server,
the next build after a crash) go through the two helpers here, the only ones:

    atomic_write(path, data)   a reader sees the old file or the new, never part of one
    swap_in(new, final)        a folder built beside `final` takes its place (two renames)
"""

from __future__ import annotations

import gc
import os
import pickle
import stat
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from execblog.errors import BuildError


def relative_problem(rel: str) -> str | None:
    """What makes `rel` unfit as a path relative to some folder, or None."""
    if not rel.strip():
        return "is empty"
    if "\0" in rel:
        return "contains a NUL character"
    if rel.startswith(("/", "~", "\\")):
        return "is an absolute path"
    if ".." in rel.replace("\\", "/").split("/"):
        return "climbs out of its folder with `..`"
    return None


def inside(
    path: Path, root: Path, what: str, file: Path | None = None, line: int | None = None, hint: str = ""
) -> Path:
    """`path` with its links resolved, after checking that it stays inside `root`."""
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise BuildError(
            f"{what} {path} is a link that leads out of {root} (to {real})",
            file or path,
            line,
            hint=hint or "copy the file into the folder instead of linking to it",
        )
    return real


def confine(
    base: Path,
    rel: str,
    what: str,
    file: Path | None = None,
    line: int | None = None,
    hint: str = "",
    root: Path | None = None,
) -> Path:
    """`base / rel`, after checking that `rel` is a clean relative path and that
    the result, links resolved, lies inside `root` (default: `base`)."""
    problem = relative_problem(str(rel))
    if problem:
        raise BuildError(
            f"{what} `{rel}` {problem}", file or base, line, hint=hint or f"use a path relative to {base}, without `..`"
        )
    path = base / rel
    inside(path, root or base, what, file, line, hint)
    return path


def files_under(root: str | os.PathLike[str]) -> list[tuple[str, os.stat_result]] | None:
    """The files at `root` (itself when a file, else every file under it; a link to a file
    counts, a link to a folder is not entered) with their stat, sorted by path; None when it
    is missing. Plain strings and scandir: a no-op build's time is mostly such walks, and a
    full build's final scan lists a whole site."""
    root = os.fspath(root)
    try:
        st = os.stat(root)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode):
        return [(root, st)]
    if not stat.S_ISDIR(st.st_mode):
        return None
    found: list[tuple[str, os.stat_result]] = []
    pending = [root]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    found.append((entry.path, entry.stat()))
            except OSError:  # gone since it was listed, or a dangling link
                continue
    found.sort(key=lambda item: item[0])
    return found


def atomic_write(path: Path, data: bytes | str | Callable[[BinaryIO], object], mode: int = 0o644) -> None:
    """Replace `path` by `data` (text is written as UTF-8; a function is called with the
    open file, e.g. to pickle a big cache without holding its bytes): written to a
    temporary file beside it, then renamed over it. Parent folders are made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, mode)  # mkstemp makes it private; caches and the freeze are shared, Jupyter may be another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def swap_in(new: Path, final: Path) -> Path | None:
    """Put the folder `new` (made beside `final`, on the same file system) in
    `final`'s place. The folder it replaces is renamed to `.<name>.old-<random>`
    beside it and returned for the caller to delete (None when there was none):
    a crash between the two renames leaves that old copy, never half a folder;
    a failed second rename puts it back."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(final, old)
    try:
        os.rename(new, final)
    except BaseException:
        if old is not None:
            os.rename(old, final)
        raise
    return old


def read_cache(path: Path) -> Any | None:
    """What a build cache file holds, or None when it is missing or cannot be read back
    (damaged, written by another version of the code): a cache is never trusted, only used."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # Unpickling makes hundreds of thousands of objects: the cyclic collector would walk
    # the growing heap again and again, to find no garbage.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - any way a foreign or damaged pickle fails is "no cache"
        return None
    finally:
        if enabled:
            gc.enable()
