"""The post views of the last build: what lets a build convert only the posts that changed.

`ViewStore(path).load()` gives {post name: (view key, PostView)} as the last build
left it (empty when the file is missing, unreadable or of another format);
`save(views)` records the views given in an EntryStore (incremental/store.py): a build
that converted one post writes that one view. The views hold neither their content nor
their search records: incremental/bodies.py keeps those. A long-running process (`serve`)
keeps what it loaded or saved in memory (`hold=True`): it reads nothing from disk on
the next build, and writes the files on its first build only (a later process
converts the posts edited since).

The key (pipeline._view_key) covers everything a view is made from, so a view
whose key matches is the view a conversion would make now.
"""

from __future__ import annotations

from pathlib import Path

from execblog.incremental.store import EntryStore
from execblog.pages.plan import PostView

Views = dict[str, tuple[str, PostView]]

# What a long-running process holds, per store file.
_HELD: dict[Path, Views] = {}


class ViewStore:
    def __init__(self, path: Path, hold: bool = False):
        self.path = path
        self.hold = hold
        self.from_memory = False
        self.store = EntryStore(path)

    @property
    def held(self) -> bool:
        """Whether `load` gives what this process holds, without reading the file."""
        return self.path in _HELD

    def load(self) -> Views:
        held = _HELD.get(self.path)
        self.from_memory = held is not None
        if held is not None:
            return dict(held)
        views = self.store.load()
        if self.hold:
            _HELD[self.path] = dict(views)
        return views

    def save(self, views: Views) -> None:
        if self.hold:
            _HELD[self.path] = dict(views)
            if self.from_memory:
                return  # not on disk between a long-running process's rebuilds: it would delay each reload
        self.store.save(views)
