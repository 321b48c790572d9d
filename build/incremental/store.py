"""A cache file of keyed entries, of which an incremental build changes a few at a time.

`EntryStore(path, context)` keeps {name: (key, value)} in two files: the base (every
entry as some build left it) and a journal beside it (`<name>.journal`: the entries
changed since, None for those removed). A build that changes a few entries rewrites
the journal only: pickling the views of a thousand posts to record one edited post
costs more than the rest of the build. The journal is folded into a new base once it
holds more than an eighth of the entries.

The caller checks every entry's key before using its value, so an entry that is not
the newest (a journal left beside the base that replaced it, after a crash) is a
cache miss, never a wrong result; a journal also names the base it extends and is
ignored beside any other. A file that is missing, damaged, or of another format or
`context` counts as empty. Each file is replaced atomically (fsutil.atomic_write).

A whole file is written by a forked process (`parallel.Background`) while the build goes on;
`finish()` waits for every file under way. Pickling a string keeps its UTF-8 copy inside the
string: written by the build's own process, the posts' text it holds took twice the memory
after the save (~200 MB more at 10,000 posts).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from execblog.fsutil import atomic_write, read_cache
from execblog.parallel import MIN_ITEMS, Background

_FORMAT = 1  # bump when the files' layout changes
_JOURNAL_MIN = 32  # a journal may always hold this many entries before it is folded in

Entry = tuple[Any, Any]  # (key, value)

_WRITING: list[Background] = []  # whole files being written by forked processes


def finish() -> None:
    """Wait until every cache file being written is in place (raises what writing one raised)."""
    while _WRITING:
        _WRITING.pop(0).result()


class EntryStore:
    def __init__(self, path: Path, context: str = ""):
        self.path = path
        self.journal_path = path.with_name(path.name + ".journal")
        self.context = context
        self._base_id: str | None = None
        self._base: dict[str, Entry] = {}
        self._journal: dict[str, Entry | None] = {}

    def load(self) -> dict[str, Entry]:
        base = self._read(self.path)
        if base is None or not isinstance(base.get("id"), str):
            return {}
        self._base_id, self._base = base["id"], base["entries"]
        journal = self._read(self.journal_path)
        if journal is not None and journal.get("base") == self._base_id:
            self._journal = journal["entries"]
        entries = dict(self._base)
        for name, entry in self._journal.items():
            if entry is None:
                entries.pop(name, None)
            else:
                entries[name] = entry
        return entries

    def save(self, entries: Mapping[str, Entry]) -> None:
        """Make `entries` what the next `load` gives."""
        changed: dict[str, Entry | None] = {
            name: entry for name, entry in entries.items() if not _same(self._base.get(name), entry)
        }
        changed.update({name: None for name in self._base if name not in entries})
        if self._base_id is not None and len(changed) <= max(_JOURNAL_MIN, len(entries) // 8):
            if changed.keys() == self._journal.keys() and all(
                entry is None and self._journal[name] is None or entry is not None and _same(self._journal[name], entry)
                for name, entry in changed.items()
            ):
                return  # the journal says it already
            self._write(self.journal_path, {"base": self._base_id, "entries": changed})
            self._journal = changed
            return
        base_id = os.urandom(8).hex()
        self._write(self.path, {"id": base_id, "entries": dict(entries)})
        self._base_id, self._base, self._journal = base_id, dict(entries), {}
        self.journal_path.unlink(missing_ok=True)  # names the base replaced: ignored if left by a crash

    def _read(self, path: Path) -> dict[str, Any] | None:
        found = read_cache(path)
        if (
            not isinstance(found, dict)
            or found.get("format") != _FORMAT
            or found.get("context") != self.context
            or not isinstance(found.get("entries"), dict)
        ):
            return None
        return found

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        data = {"format": _FORMAT, "context": self.context, **data}

        def write() -> None:
            atomic_write(path, lambda f: pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL))

        if len(data["entries"]) < MIN_ITEMS:  # a journal, a small site: not worth a process
            write()
        else:
            _WRITING.append(Background(write))


def _same(old: Entry | None, new: Entry) -> bool:
    """The entry as stored: the same key, and the very value loaded (values are compared by identity)."""
    return old is not None and old[0] == new[0] and old[1] is new[1]
