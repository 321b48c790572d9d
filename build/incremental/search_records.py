"""Each post's search record as the last build made it, kept apart from the post views.

The views cache (incremental/views.py) writes views without their records: a build
plans and renders from the views and never needs the records, which are 40% of
their bytes (a one-post rebuild loads the views of every post). The process that
assembles the search index (pipeline, `index_files`) calls
`SearchRecordStore(path).records(views, keys, known)`: each view's own record when
it has one (converted in this build), else the stored one made from the same view
(its view key), else one made now; `save()` then stores them for the next build, in
an EntryStore (a build that converted one post writes one entry).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from execblog.incremental.store import EntryStore
from execblog.pages.plan import PostView, with_search_record
from execblog.pages.search import SearchRecord


class SearchRecordStore:
    def __init__(self, path: Path):
        self.store = EntryStore(path)
        self._entries: dict[str, tuple[str, SearchRecord]] = {}

    def records(self, views: Sequence[PostView], keys: Mapping[str, str], known: Collection[str]) -> list[SearchRecord]:
        """The record of each of `views` (`keys`: each post's view key); `save` then keeps them and
        the records of the other posts in `known` (drafts a publish leaves out), for a later build."""
        saved = self.store.load()
        entries = self._entries = {name: entry for name, entry in saved.items() if name in known}
        found = []
        for view in views:
            entry = saved.get(view.name)
            if view.search is None and entry is not None and entry[0] == keys[view.name]:
                entries[view.name] = entry  # the same entry: nothing to write for it
            else:
                record = view.search or with_search_record(view).search
                assert record is not None
                entries[view.name] = (keys[view.name], record)
            found.append(entries[view.name][1])
        return found

    def save(self) -> None:
        """Store what `records` gave. Called once the index is assembled: pickling 10,000 records
        takes memory of its own, not to be added to the assembly's."""
        self.store.save(self._entries)
