"""The post views of the last build, in one file: what lets a build convert only the posts that changed.

`ViewStore(path).load()` gives {post name: (view key, PostView)} as the last build
left it (empty when the file is missing, unreadable or of another format);
`save(views)` replaces the file whole and atomically. One file read in one call
costs a fraction of a file per post (a thousand opens, a thousand unpicklings of
the same classes). A long-running process (`serve`) keeps what it loaded or saved
in memory (`hold=True`): it reads nothing from disk on the next build, and writes
the file on its first build only (a later process converts the posts edited since).

The key (pipeline._view_key) covers everything a view is made from, so a view
whose key matches is the view a conversion would make now.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from execblog.fsutil import atomic_write
from execblog.pages.plan import PostView

_FORMAT = 1  # bump when the file's layout changes

Views = dict[str, tuple[str, PostView]]

# What a long-running process holds, per store file.
_HELD: dict[Path, Views] = {}


class ViewStore:
    def __init__(self, path: Path, hold: bool = False):
        self.path = path
        self.hold = hold
        self.from_memory = False

    def load(self) -> Views:
        held = _HELD.get(self.path)
        self.from_memory = held is not None
        if held is not None:
            return dict(held)
        try:
            saved = pickle.loads(self.path.read_bytes())
            views = saved["views"] if saved.get("format") == _FORMAT else {}
        except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError, pickle.UnpicklingError):
            views = {}
        if self.hold:
            _HELD[self.path] = dict(views)
        return views

    def save(self, views: Views) -> None:
        if self.hold:
            _HELD[self.path] = dict(views)
            if self.from_memory:
                return  # not on disk between a long-running process's rebuilds: it would delay each reload
        atomic_write(
            self.path, lambda f: pickle.dump({"format": _FORMAT, "views": views}, f, protocol=pickle.HIGHEST_PROTOCOL)
        )
