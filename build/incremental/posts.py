"""The posts as the last build read them, keyed by their files' stat: reading a
thousand posts (YAML front matter, validation) is skipped for the files that
did not change.

`PostReadCache(path, context).read(files, settings, readers)` gives for each file
the `SourcePost` the last build read from it when the file's stat (and, for a
bundle, the stat of every file in its folder: the post's resources), the read
settings, the reader and `context` (the package's code) are the same; the other
files are read (content.readers.read_files). Errors are never cached: a post
with bad front matter is read, and reported, every time. `save()` records what
this build read, in an EntryStore (incremental/store.py: a build that read one
post again writes that one). A long-running process (`serve`) keeps it in memory
(`hold=True`) and writes the file on its first build only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from execblog.content.readers import BUNDLE_INDEX, PostReader, ReadSettings, read_files
from execblog.incremental.store import EntryStore
from execblog.records import SourcePost

_FORMAT = 3  # bump when an entry's layout changes

Entries = dict[str, tuple[tuple, SourcePost]]

_HELD: dict[Path, Entries] = {}


def _stat(path: Path | str) -> tuple:
    lst = os.lstat(path)
    st = os.stat(path) if stat.S_ISLNK(lst.st_mode) else lst  # one call for a file that is no link
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, lst.st_mode, lst.st_mtime_ns)


def file_stamp(path: Path) -> tuple:
    """What says a post file is as it was: its stat, and a bundle folder's every file and folder."""
    stamp: list = [_stat(path)]
    if path.stem == BUNDLE_INDEX:
        for folder, dirs, files in os.walk(path.parent):  # links to folders are listed, not followed
            dirs.sort()
            for name in sorted(dirs + files):
                entry = os.path.join(folder, name)
                try:
                    stamp.append((entry, _stat(entry)))
                except OSError:  # a dangling link: its lstat still says what it is
                    stamp.append((entry, os.lstat(entry).st_mode))
    return tuple(stamp)


class PostReadCache:
    def __init__(self, path: Path, context: str, hold: bool = False):
        self.path = path
        self.context = context
        self.hold = hold
        self.current: Entries = {}
        self.store = EntryStore(path, f"{_FORMAT}:{context}")
        saved = _HELD.get(path)
        self.from_memory = saved is not None
        if saved is None:
            saved = self.store.load()
        self.saved = saved
        self.changed = False
        self.read_again: set[str] = set()  # names of the posts read from their files (edited, or new)

    def read(self, files: list[Path], settings: ReadSettings, readers: Mapping[str, PostReader]) -> list[SourcePost]:
        """The posts in `files` (content.readers.ReadFiles): the last build's where a file is as it
        was, the others read by their readers (on every core, when many: content.readers.read_files)."""
        said = repr(settings)  # the same for every post of a build
        stamps = {}
        misses = []
        for path in files:
            reader = readers[path.suffix]
            stamps[path] = (file_stamp(path), said, reader.__module__, reader.__qualname__)
            hit = self.saved.get(str(path))
            if hit is None or hit[0] != stamps[path]:
                misses.append(path)
        fresh = dict(zip(misses, read_files(misses, settings, readers), strict=True))
        if fresh:
            self.changed = True
            self.read_again.update(post.name for post in fresh.values())
        posts = [fresh[path] if path in fresh else self.saved[str(path)][1] for path in files]
        self.current = {str(path): (stamps[path], post) for path, post in zip(files, posts, strict=True)}
        return posts

    def save(self) -> None:
        """Keep what this build read (posts it no longer has are dropped)."""
        if self.hold:
            _HELD[self.path] = dict(self.current)
        if (self.hold and self.from_memory) or (not self.changed and self.current.keys() == self.saved.keys()):
            return
        self.store.save(self.current)
