"""Stage 5: write the site, atomically.

The new site is assembled in a staging folder beside the output folder; files
whose bytes did not change are hard-linked from the previous site (cheap), the
rest are written. Only when everything succeeded is the staging folder swapped
in, so a failed build never destroys the last good site.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import uuid
from collections import Counter
from pathlib import Path

from execblog.errors import BuildError
from execblog.fsutil import relative_problem, swap_in

MANIFEST = ".execblog-manifest.json"  # path -> sha256 of what the last build wrote


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
    for folder, dirs, files in os.walk(out_dir):  # links to folders are listed, not followed
        here = Path(folder).relative_to(out_dir)
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            rel = (here / name).as_posix()
            if rel not in written:
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
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir.resolve()
        self.stage = self.out_dir.parent / f".{self.out_dir.name}.staging-{uuid.uuid4().hex[:8]}"
        self.previous: dict[str, str] = _read_manifest(self.out_dir) or {}
        self.written: dict[str, str] = {}
        self.fresh: set[str] = set()  # files whose bytes this build wrote (the rest are links to the last site's)
        self.reused = 0
        self.stage.mkdir(parents=True)
        self._folders: set[str] = {str(self.stage)}
        # The site replaced by the last build is deleted while this one works
        # (removing thousands of folders is slow on some file systems), by a
        # separate process: a thread would be copied into the forked workers.
        trash = sorted(str(t) for t in self.out_dir.parent.glob(f".{self.out_dir.name}.old-*"))
        self._cleaner = subprocess.Popen(["rm", "-rf", "--", *trash]) if trash else None

    def write_bytes(self, rel: str, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        self._place(rel, digest, lambda target: target.write_bytes(data))

    def write_text(self, rel: str, text: str) -> None:
        self.write_bytes(rel, text.encode("utf-8"))

    def claim(self, rels: list[str]) -> set[str]:
        """Of the paths `rels` (checked as every written path is), those that no file has yet and
        that occur once: forked workers may `put` them, the parent then `record`s each."""
        checked = [_checked(rel) for rel in rels]
        once = {rel for rel, n in Counter(checked).items() if n == 1}
        return {rel for rel in once if rel not in self.written}

    def put(self, rel: str, data: bytes, digest: str) -> bool:
        """In a worker: the file part of write_bytes for a claimed `rel`; True when the last
        site's file was taken (hard-linked) instead of writing `data`."""
        return self._put(rel, digest, lambda target: target.write_bytes(data))

    def record(self, rel: str, digest: str, linked: bool) -> None:
        """Note a file a worker put (see `claim`)."""
        self.written[rel] = digest
        if linked:
            self.reused += 1
        else:
            self.fresh.add(rel)

    def copy_file(self, rel: str, source: Path) -> None:
        data = source.read_bytes()
        self.write_bytes(rel, data)

    def _place(self, rel: str, digest: str, write) -> None:
        rel = _checked(rel)
        if rel in self.written:
            if self.written[rel] != digest:
                raise BuildError(
                    f"two different pages or files would be written to {rel}",
                    hint="an `aliases:` entry or a bundle file uses a URL that another page has",
                )
            return
        self.record(rel, digest, self._put(rel, digest, write))

    def _put(self, rel: str, digest: str, write) -> bool:
        target = self.stage / rel
        self._folder(str(target.parent))
        old = self.out_dir / rel
        if self.previous.get(rel) == digest and old.is_file() and not old.is_symlink():
            try:
                os.link(old, target, follow_symlinks=False)
                return True
            except OSError:
                pass
        write(target)
        return False

    def reuse(self, rel: str, digest: str) -> bool:
        """Take the last site's file `rel` as it is, when the last build wrote it with `digest`
        (the incremental build knows the page would come out the same); False when it cannot."""
        rel = _checked(rel)
        if rel in self.written or self.previous.get(rel) != digest:
            return False
        # plain strings and one lstat: this runs for every unchanged page of an incremental build
        old = os.path.join(self.out_dir, rel)
        target = os.path.join(self.stage, rel)
        try:
            if not stat.S_ISREG(os.lstat(old).st_mode):  # a link is never taken as the last site's file
                return False
            self._folder(os.path.dirname(target))
            os.link(old, target, follow_symlinks=False)
        except OSError:
            return False
        self.reused += 1
        self.written[rel] = digest
        return True

    def _folder(self, folder: str) -> None:
        """Make a folder of the stage once (a site has a folder per page)."""
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)

    def adopt_tree(self, rel_dir: str) -> None:
        """Record files that a tool (e.g. the search indexer) wrote into the stage."""
        root = self.stage / rel_dir
        for path in root.rglob("*"):
            if path.is_file():
                rel = path.relative_to(self.stage).as_posix()
                self.written[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
                self.fresh.add(rel)

    def commit(self) -> None:
        """Swap the staged site in. The previous one is left as `.<out>.old-*`
        and removed in the background by the next build."""
        (self.stage / MANIFEST).write_text(json.dumps(self.written, sort_keys=True, indent=0), encoding="utf-8")
        swap_in(self.stage, self.out_dir)  # the old site is left for the next build's cleaner
        self._wait_cleaner()

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)
        self._wait_cleaner()

    def _wait_cleaner(self) -> None:
        if self._cleaner is not None:
            self._cleaner.wait()
