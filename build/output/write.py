"""Stage 5: write the site, atomically.

The new site is assembled in a staging folder beside the output folder; files
whose bytes did not change are hard-linked from the previous site (cheap), the
rest are written. Only when everything succeeded is the staging folder swapped
in, so a failed build never destroys the last good site. An incremental build
(`SiteWriter(in_place=True)`) stages only the files that change and moves them
into the site at the commit: making a thousand folders and links, and removing
the old ones, costs more than the rest of a one-post rebuild.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import uuid
from collections import Counter
from pathlib import Path

from execblog.errors import BuildError
from execblog.fsutil import relative_problem, swap_in

MANIFEST = ".execblog-manifest.json"  # path -> sha256 of what the last build wrote

# Removals of old sites still running, held so that a long-running process (`serve`) reaps them.
_CLEANERS: list[subprocess.Popen] = []


def check_output_folder(out_dir: Path, site_dir: Path, sources: list[Path]) -> None:
    """The output folder is replaced whole by every build: refuse one that is a
    file, holds the site or lies inside its sources (`sources`: posts/, theme/,
    the freeze, the site config), or holds files that no build of ours wrote."""
    shown, out_dir, site_dir = out_dir, out_dir.resolve(), site_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise BuildError(
            f"the output folder {shown} is a file", shown, hint="write the site to a folder of its own, e.g. -d public"
        )
    if out_dir == site_dir or site_dir.is_relative_to(out_dir):
        raise BuildError(
            f"the output folder {out_dir} contains the site folder",
            hint="write the site to a folder of its own, e.g. -d public",
        )
    for source in sources:
        if out_dir.is_relative_to(source.resolve()) or source.resolve().is_relative_to(out_dir):
            raise BuildError(
                f"the output folder {shown} lies inside the site's sources ({source})",
                hint="write the site to a folder of its own, e.g. -d public",
            )
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    manifest = _read_manifest(out_dir)
    foreign = sorted(_foreign_files(out_dir, set(manifest or ())))
    if manifest is None or foreign:
        listed = ", ".join(foreign[:8]) + (f" and {len(foreign) - 8} more" if len(foreign) > 8 else "")
        raise BuildError(
            f"the output folder {out_dir} holds files that no build wrote"
            + (f": {listed}" if manifest is not None else ""),
            hint="every build replaces the output folder whole: move those files out of it, or put "
            "files the site should publish (e.g. CNAME) in theme/static/",
        )


def _read_manifest(out_dir: Path) -> dict[str, str] | None:
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _foreign_files(out_dir: Path, written: set[str]) -> set[str]:
    """Top-level names (`x`, or `x/` for a folder) under which lies a file the
    manifest does not list; links and other non-folders count as files."""
    written = written | {MANIFEST}
    found: set[str] = set()
    # plain strings and one scandir per folder: this runs before every build, no-op ones included
    stack = [""]
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(out_dir, here) if here else out_dir))
        except OSError:  # as os.walk: a folder that cannot be listed is passed over
            continue
        for entry in entries:
            rel = here + entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append(rel + "/")
            elif rel not in written:
                top, sep, _ = rel.partition("/")
                found.add(top + sep)
    return found


def _checked(rel: str) -> str:
    """The last gate: nothing is written outside the output folder."""
    rel = rel.lstrip("/")
    problem = relative_problem(rel)
    if problem:
        raise BuildError(
            f"refusing to write `{rel}`: the path {problem}", hint="check the post's `aliases:` and bundle file names"
        )
    return rel


class SiteWriter:
    """The site being written. By default it is assembled whole in the stage and swapped in
    at `commit`. With `in_place` (an incremental build: most files stay as they are), the stage
    holds only the files whose bytes change and `commit` moves them into the output folder,
    removes what the site no longer has, then writes the manifest: nothing of the last site
    changes before `commit`, and a commit cut short (a crash) leaves every file it did not reach
    as the last build wrote it, listed by a manifest that the next build trusts only for those
    (see `_commit_in_place`). `in_place` falls back to the whole swap when the output folder
    holds no site of ours."""

    def __init__(self, out_dir: Path, in_place: bool = False):
        self.out_dir = out_dir.resolve()
        self.stage = self.out_dir.parent / f".{self.out_dir.name}.staging-{uuid.uuid4().hex[:8]}"
        self.previous: dict[str, str] = _read_manifest(self.out_dir) or {}
        self.in_place = in_place and bool(self.previous)
        self.written: dict[str, str] = {}
        self.fresh: set[str] = set()  # files whose bytes this build wrote (the rest are the last site's)
        self.reused = 0
        self.stage.mkdir(parents=True)
        self._folders: set[str] = {str(self.stage)}
        # The sites replaced by earlier builds are deleted by a separate process
        # (a thread would be copied into the forked workers) that outlives this
        # build: removing thousands of folders takes longer than an incremental
        # build on some file systems. A removal cut short is finished by a later build.
        trash = sorted(str(t) for t in self.out_dir.parent.glob(self._trash_name("*").name))
        self.cleaner = (
            subprocess.Popen(
                ["rm", "-rf", "--", *trash],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl+C on the build does not stop it half-way
            )
            if trash
            else None
        )
        _CLEANERS[:] = [c for c in _CLEANERS if c.poll() is None] + ([self.cleaner] if self.cleaner else [])

    def write_bytes(self, rel: str, data: bytes) -> None:
        rel = _checked(rel)
        digest = hashlib.sha256(data).hexdigest()
        if not self._taken(rel, digest):
            self.record(rel, digest, self.put(rel, data, digest))

    def write_text(self, rel: str, text: str) -> None:
        self.write_bytes(rel, text.encode("utf-8"))

    def claim(self, rels: list[str]) -> set[str]:
        """Of the paths `rels` (checked as every written path is), those that no file has yet and
        that occur once: forked workers may `put` them, the parent then `record`s each."""
        checked = [_checked(rel) for rel in rels]
        once = {rel for rel, n in Counter(checked).items() if n == 1}
        return {rel for rel in once if rel not in self.written}

    def put(self, rel: str, data: bytes, digest: str) -> bool:
        """The file part of write_bytes, for a checked `rel` (in a render worker: a claimed one):
        True when the last site's file is taken instead of writing `data`. Bookkeeping is `record`'s."""
        if self._take_previous(rel, digest):
            return True
        target = os.path.join(self.stage, rel)
        self._folder(os.path.dirname(target))
        with open(target, "wb") as f:
            f.write(data)
        return False

    def place(self, rel: str, data: bytes) -> tuple[str, bool]:
        """write_bytes' file part for a process of its own (the search index job): (digest, linked),
        which the parent then gives `adopt`."""
        digest = hashlib.sha256(data).hexdigest()
        return digest, self.put(_checked(rel), data, digest)

    def adopt(self, rel: str, digest: str, linked: bool) -> None:
        """Record a file another process `place`d, refusing a path another file of this build took."""
        if not self._taken(rel, digest):
            self.record(rel, digest, linked)

    def _taken(self, rel: str, digest: str) -> bool:
        """Whether this build wrote `rel` with `digest` already; another file there is an error."""
        if rel not in self.written:
            return False
        if self.written[rel] != digest:
            raise BuildError(
                f"two different pages or files would be written to {rel}",
                hint="an `aliases:` entry or a bundle file uses a URL that another page has",
            )
        return True

    def record(self, rel: str, digest: str, linked: bool) -> None:
        """Note a file `put` placed (`linked`: the last site's file was taken as it is)."""
        self.written[rel] = digest
        if linked:
            self.reused += 1
        else:
            self.fresh.add(rel)

    def copy_file(self, rel: str, source: Path) -> None:
        data = source.read_bytes()
        self.write_bytes(rel, data)

    def reuse(self, rel: str, digest: str) -> bool:
        """Take the last site's file `rel` as it is, when the last build wrote it with `digest`
        (the incremental build knows the page would come out the same); False when it cannot."""
        rel = _checked(rel)
        if rel in self.written or not self._take_previous(rel, digest):
            return False
        self.record(rel, digest, True)
        return True

    def _take_previous(self, rel: str, digest: str) -> bool:
        """Whether the last site's file `rel` has `digest` and is kept (hard-linked into a whole stage)."""
        if self.previous.get(rel) != digest:
            return False
        # plain strings and one lstat: this runs for every unchanged page of an incremental build
        old = os.path.join(self.out_dir, rel)
        try:
            if not stat.S_ISREG(os.lstat(old).st_mode):  # a link is never taken as the last site's file
                return False
            if not self.in_place:
                target = os.path.join(self.stage, rel)
                self._folder(os.path.dirname(target))
                os.link(old, target, follow_symlinks=False)
        except OSError:
            return False
        return True

    def _folder(self, folder: str) -> None:
        """Make a folder of the stage once (a site has a folder per page)."""
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)

    def commit(self) -> None:
        """Put the new site in place. The whole swap leaves the previous site as
        `.<out>.old-*`, removed in the background by the next build (`cleaner`, not waited for)."""
        if self.in_place:
            self._commit_in_place()
            return
        (self.stage / MANIFEST).write_text(json.dumps(self.written, sort_keys=True, indent=0), encoding="utf-8")
        swap_in(self.stage, self.out_dir)  # the old site is left for the next build's cleaner

    def _commit_in_place(self) -> None:
        """First a manifest that lists every file the site may hold during the commit (so none
        is taken for a stranger's), with no digest for those about to change (so none is reused
        before it is written again); then the removals and the moves; then the real manifest.
        Each manifest is written in the stage and renamed in: never half a file. The stage is first
        renamed to what the next build's cleaner removes, so a commit cut short leaves nothing else."""
        trash = self._trash_name()
        os.rename(self.stage, trash)
        self.stage = trash
        gone = sorted(set(self.previous) - set(self.written))
        during = {**self.previous, **{rel: "" for rel in self.fresh}}
        self._put_manifest(during)
        for rel in gone:
            path = os.path.join(self.out_dir, rel)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            _prune(os.path.dirname(path), self.out_dir)
        made: set[str] = set()
        for rel in sorted(self.fresh):
            target = os.path.join(self.out_dir, rel)
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            os.replace(os.path.join(self.stage, rel), target)
        self._put_manifest(self.written)
        # The stage holds empty folders now; removing folders is slow on some file systems:
        # it is left, with the old sites, to the next build's cleaner.

    def _trash_name(self, tag: str = "") -> Path:
        """What a build leaves for the next one to remove (swap_in names the replaced site so)."""
        return self.out_dir.parent / f".{self.out_dir.name}.old-{tag or uuid.uuid4().hex[:8]}"

    def _put_manifest(self, manifest: dict[str, str]) -> None:
        staged = self.stage / MANIFEST
        staged.write_text(json.dumps(manifest, sort_keys=True, indent=0), encoding="utf-8")
        os.replace(staged, self.out_dir / MANIFEST)

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


def _prune(folder: str, root: str | Path) -> None:
    """Remove `folder` and its parents up to `root` (excluded) while they are empty."""
    root = os.fspath(root)
    while folder != root and folder.startswith(root + os.sep):
        try:
            os.rmdir(folder)
        except FileNotFoundError:
            pass
        except OSError:  # not empty: the parents are not empty either
            return
        folder = os.path.dirname(folder)


class Spool:
    """Bytes a process holds until it needs them again, in an unnamed file of its own in `folder`: the
    system's file cache holds them, not the process's memory. A render worker's pages until their asset
    URLs are known (parallel.two_stage_map's first pass to its second: ~80 MB a worker at 10,000 posts),
    the index's term shards until the last record is in. A forked process makes its own file on its
    first `put`; `close()` ends this process's (the file is gone with its last descriptor)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._pid = -1
        self._fd = -1
        self._end = 0

    def put(self, data: bytes) -> tuple[int, int]:
        """Where `data` is held: (offset, length)."""
        if self._pid != os.getpid():  # a descriptor inherited from the parent is left to it
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.folder, prefix=".spool-")
            os.unlink(name)
            self._pid, self._fd, self._end = os.getpid(), fd, 0
        offset = self._end
        view = memoryview(data)
        while view:
            view = view[os.pwrite(self._fd, view, self._end) :]
            self._end = offset + len(data) - len(view)
        return offset, len(data)

    def get(self, where: tuple[int, int]) -> bytes:
        offset, length = where
        return os.pread(self._fd, length, offset)

    def close(self) -> None:
        if self._pid == os.getpid():
            os.close(self._fd)
            self._pid = -1
