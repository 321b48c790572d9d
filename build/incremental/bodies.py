"""What only the pages showing a post in full read of its view (pages.plan.Body: its content as HTML,
as full-content feeds show it, its summary as feeds show it) and its search record, kept by view key
in a SQLite file beside the other caches.

The build's process holds every post's view while it plans and renders, and every process it forks
(page workers, the index's process, the cache writer) starts from what it holds: at 10,000 posts the
bodies and the records were two thirds of it. So the views it holds have a `StoredBody`, whose
fields are read from the post's row when a template asks for one (a post's page, a feed), in the
process rendering that page; the index's process reads the records one at a time.

    detach(view, key) -> (view, Row)    where the post is converted: the view with a StoredBody
    store = BodyStore.open(path)        the build's store (`BodyStore.current()`), which every StoredBody reads
    store.put(key, row)                 in the build's process as converted posts arrive, then `commit()`
    store.keys()                        the keys held: a cached view whose row is missing is converted again
    store.records(views, keys)          (their search records in URL order, one at a time; their total size)
    store.remove_unused(keys, used)     the rows a build's views do not name, once they are too many

The file is a cache: unreadable or of another format, it is replaced by an empty one, and the views
whose rows it held are converted again.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from execblog.errors import BuildError
from execblog.pages.plan import PostView, with_search_record
from execblog.pages.search import SearchRecord

_FORMAT = 1  # the file's user_version: bump when a table changes
_SCHEMA = (
    "CREATE TABLE bodies (key TEXT PRIMARY KEY, content BLOB NOT NULL, feed BLOB NOT NULL, summary BLOB NOT NULL)",
    "CREATE TABLE records (key TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL)",
)

_SELECT = {column: f"SELECT {column} FROM bodies WHERE key = ?" for column in ("content", "feed", "summary")}

SPARE_ROWS = 64  # rows no view of a build names that it keeps beyond as many as it uses (remove_unused)
_BATCH = 256  # rows written by one transaction, records read by one query (at most 32,766 parameters)

_open: BodyStore | None = None  # the store of the build under way (BodyStore.open)
# Connections a forked process inherited: kept, never closed there (closing one would end the parent's
# transaction's locks or roll it back); the process makes its own.
_inherited: list[sqlite3.Connection] = []


class Row(NamedTuple):
    content: bytes  # UTF-8
    feed: bytes
    summary: bytes
    record: bytes | None  # the pickled SearchRecord; None from a build without search
    size: int  # the record's size (the index's shard count follows the total)


@dataclass(frozen=True)
class StoredBody:
    """A post's content, read from the build's store when asked for (pages.plan.Body)."""

    key: str  # the view's key

    @property
    def content_html(self) -> str:
        return BodyStore.current().text(self.key, "content")

    @property
    def feed_html(self) -> str:
        return BodyStore.current().text(self.key, "feed")

    @property
    def summary_text(self) -> str:
        return BodyStore.current().text(self.key, "summary")


def detach(view: PostView, key: str) -> tuple[PostView, Row]:
    """The view as the build's process holds it, and the row it leaves out (`key`: the view's key)."""
    record = view.search
    row = Row(
        view.content_html.encode(),
        view.feed_html.encode(),
        view.summary_text.encode(),
        pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL) if record is not None else None,
        record.size if record is not None else 0,
    )
    return replace(view, body=StoredBody(key), search=None), row


class BodyStore:
    def __init__(self, path: Path):
        self.path = path
        self._pid = -1
        self._db: sqlite3.Connection | None = None
        self._unsaved = 0  # rows put since the last commit

    @classmethod
    def open(cls, path: Path) -> BodyStore:
        """The store at `path`, made the one every StoredBody reads (in this process and those it forks).
        Each build opens it anew: a long-running process (`serve`) sees the file as it is now."""
        global _open
        if _open is not None:
            _open.close()
        _open = cls(path)
        return _open

    @staticmethod
    def current() -> BodyStore:
        """The store the build under way opened."""
        assert _open is not None, "no BodyStore open"
        return _open

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        elif self._db is not None:
            _inherited.append(self._db)
        self._db = None

    def _connection(self) -> sqlite3.Connection:
        """This process's connection: one made before a fork is never used after it (SQLite's rule)."""
        if self._db is None or self._pid != os.getpid():
            self.close()
            self._pid, self._db = os.getpid(), _connect(self.path)
        return self._db

    @contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, its failures (another build holding the file too long, a full
        disk) a BuildError naming the file."""
        try:
            yield self._connection()
        except sqlite3.Error as exc:
            raise BuildError(
                f"the build's cache of post contents failed: {exc}",
                self.path,
                hint="if another build of this site is running (make serve, make publish), let it finish; "
                "then build again (removing the file is safe: the posts are converted again)",
            ) from None

    def keys(self) -> set[str]:
        with self._using() as db:
            return {key for (key,) in db.execute("SELECT key FROM bodies")}

    def put(self, key: str, row: Row) -> None:
        """Store a row; committed with `commit()`, or with the batch it completes: another build of the
        site (`make serve` beside `make publish`) is never kept waiting for a whole site's rows."""
        with self._using() as db:
            db.execute("INSERT OR REPLACE INTO bodies VALUES (?, ?, ?, ?)", (key, row.content, row.feed, row.summary))
            if row.record is not None:
                db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (key, row.size, row.record))
            self._unsaved += 1
            if self._unsaved >= _BATCH:
                db.commit()
                self._unsaved = 0

    def commit(self) -> None:
        with self._using() as db:
            db.commit()
        self._unsaved = 0

    def text(self, key: str, column: str) -> str:
        """A column of the row of the view with `key` (`column`: content, feed or summary)."""
        with self._using() as db:
            found = db.execute(_SELECT[column], (key,)).fetchone()
        if found is None:
            raise self._missing()
        return found[0].decode()

    def _missing(self) -> BuildError:
        return BuildError(
            "a post's content is missing from the build's cache (removed while the build ran?)",
            self.path,
            hint="build again",
        )

    def records(self, views: Sequence[PostView], keys: Mapping[str, str]) -> tuple[Iterator[SearchRecord], int]:
        """(the search record of each of `views` in URL order, read as iterated, their total size); `keys`:
        each post's view key. A view converted by a build without search gets its record now, kept too."""
        with self._using() as db:
            sizes: dict[str, int] = dict(db.execute("SELECT key, size FROM records"))
            for view in views:
                key = keys[view.name]
                if key not in sizes:
                    record = with_search_record(view).search
                    assert record is not None
                    data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
                    db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (key, record.size, data))
                    sizes[key] = record.size
            db.commit()
        ordered = [keys[view.name] for view in sorted(views, key=lambda view: view.url)]

        def each() -> Iterator[SearchRecord]:
            for start in range(0, len(ordered), _BATCH):  # one query per batch, not per record
                batch = ordered[start : start + _BATCH]
                marks = ", ".join("?" * len(batch))
                with self._using() as db:
                    found = dict(db.execute(f"SELECT key, data FROM records WHERE key IN ({marks})", batch))
                for key in batch:
                    if key not in found:
                        raise self._missing()
                    yield pickle.loads(found.pop(key))

        return each(), sum(sizes[key] for key in ordered)

    def remove_unused(self, keys: Collection[str], used: int) -> None:
        """Remove the rows of `keys`, which the build's views do not name, once there are more of them than
        the `used` rows, and some: up to that many may be another build's of the same site, whose views are
        its own (`make serve` beside `make publish`), and each edit leaves one behind."""
        if len(keys) <= used + SPARE_ROWS:
            return
        with self._using() as db:
            for table in ("bodies", "records"):
                db.executemany(f"DELETE FROM {table} WHERE key = ?", ((key,) for key in keys))
            db.commit()


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to the store, made anew (empty) when the file is unreadable or of another format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connected(path)
    except sqlite3.DatabaseError:  # not a database, or a damaged one: the cache starts again
        for suffix in ("", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return _connected(path)


def _connected(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    try:
        # A cache: a build that stops halfway leaves at worst rows no view names.
        db.execute("PRAGMA synchronous = OFF")
        if db.execute("PRAGMA user_version").fetchone()[0] != _FORMAT:
            _create(db)
        return db
    except BaseException:
        db.close()
        raise


def _create(db: sqlite3.Connection) -> None:
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        db.execute(f'DROP TABLE "{table}"')
    db.execute("PRAGMA page_size = 16384")  # a post's row in one page or two, not a chain of four
    db.execute("VACUUM")  # the page size takes effect
    for statement in _SCHEMA:
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {_FORMAT}")
    db.commit()
