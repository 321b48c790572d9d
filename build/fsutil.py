"""Paths that come from data, confined to the folder they belong to.

A path named by a post (front matter `aliases:`, `inputs:`), a bundle, a
freeze entry or a shard artifact is data, not an instruction: before it is
read or written it must be a clean relative path (not absolute, no `..`), and
once symbolic links are resolved it must still lie inside its folder. A link
that stays inside is fine; one that leaves is refused, never followed.
Every refusal is a `BuildError` naming the file, what is wrong and the fix.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from execblog.errors import BuildError


def relative_problem(rel: str) -> str | None:
    """What makes `rel` unfit as a path relative to some folder, or None."""
    if not rel.strip():
        return "is empty"
    if "\0" in rel:
        return "contains a NUL character"
    if rel.startswith(("/", "~", "\\")):
        return "is an absolute path"
    if ".." in PurePosixPath(rel.replace("\\", "/")).parts:
        return "climbs out of its folder with `..`"
    return None


def inside(path: Path, root: Path, what: str, file: Path | None = None, line: int | None = None,
           hint: str = "") -> Path:
    """`path` with its links resolved, after checking that it stays inside `root`."""
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise BuildError(f"{what} {path} is a link that leads out of {root} (to {real})", file or path, line,
                         hint=hint or "copy the file into the folder instead of linking to it")
    return real


def confine(base: Path, rel: str, what: str, file: Path | None = None, line: int | None = None,
            hint: str = "", root: Path | None = None) -> Path:
    """`base / rel`, after checking that `rel` is a clean relative path and that
    the result, links resolved, lies inside `root` (default: `base`)."""
    problem = relative_problem(str(rel))
    if problem:
        raise BuildError(f"{what} `{rel}` {problem}", file or base, line,
                         hint=hint or f"use a path relative to {base}, without `..`")
    path = base / rel
    inside(path, root or base, what, file, line, hint)
    return path
