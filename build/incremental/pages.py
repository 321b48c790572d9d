"""Incremental rendering: which pages of the last build can be taken as they are.

A page's text is a function of the theme and the site's settings (the cache's
`key`: a change there renders every page), of the page itself and of the post
fields its templates read. The cache keeps, per file the last build rendered:

- the page's *shape*: a digest of the page with every `PostView` in it replaced
  by the post's name (which posts it shows, in which order, on which pager, with
  which counts, dates and neighbours: everything the planner decided);
- the post fields its templates read, recorded while rendering
  (`PageRenderer.render_recorded`), not guessed;
- what it needs of the theme's assets and the URLs it linked, and the digest of
  the bytes written.

A page is reused when its shape is the same and each post it read is unchanged
in the fields it read: the post's view key (pipeline._view_key) is the last
build's, or the last build's view of it compares equal on those fields. So an
edit to one post's prose renders its page, the lists and feeds that show its
summary, the sitemap when its date moved, and nothing that only shows its title.

The cache is kept per output folder (`make serve` and `make publish` write to
different ones) and written only after a build succeeded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from execblog.config import LAYOUTS_DIR, SiteConfig
from execblog.errors import BuildError
from execblog.execution.secret_env import secrets_digest
from execblog.fsutil import atomic_write, files_under, read_cache
from execblog.output.render import Reads
from execblog.output.static_assets import PageUse
from execblog.pages.plan import Page, PostView
from execblog.records import BuildOptions, output_options

_FORMAT = 2  # bump when PageRecord changes

# The fields read of each post, sorted by post: (post, fields), fields sorted.
ReadsByPost = tuple[tuple[str, tuple[str, ...]], ...]

# One tuple object per set of fields read, shared by every post and page that read the same
# fields (a list page reads the same few fields of each post it shows): the cache file stores
# each once, and loads in a fraction of the time of one tuple per (post, field).
_FIELD_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}

# What a long-running process (`serve`) saved last, per cache file: its next build reads no file.
_HELD: dict[Path, dict[str, Any]] = {}


@dataclass(frozen=True)
class PageRecord:
    shape: str
    reads: ReadsByPost  # the post fields its templates read (by_post of the renderer's Reads)
    use: PageUse | None  # what the page needs of the theme's assets (None: it links none)
    css: str  # the stylesheet URL the page linked
    js: str  # the script URL the page linked
    digest: str  # sha256 of the bytes written (the output manifest's)


def by_post(reads: Reads) -> ReadsByPost:
    """The renderer's (post, field) pairs grouped by post."""
    grouped: dict[str, list[str]] = {}
    for post, field in reads:
        grouped.setdefault(post, []).append(field)
    return tuple(
        (post, _FIELD_SETS.setdefault(fields, fields))
        for post, fields in ((post, tuple(sorted(grouped[post]))) for post in sorted(grouped))
    )


def context_key(site_dir: Path, config: SiteConfig, opts: BuildOptions, translations: Path, package: str) -> str:
    """What every page depends on: the package's code, the settings, the build's
    output options, the theme (templates, styles, scripts, strings) and the site's
    layouts, and the year (the footer's copyright)."""
    options = sorted(output_options(opts).items())
    h = hashlib.sha256(repr((_FORMAT, package, config, options, datetime.now(UTC).year)).encode())
    h.update(translations.read_bytes())
    for root in (site_dir / "theme", site_dir / LAYOUTS_DIR):
        for f, st in (files_under(str(root)) or []) if root.is_dir() else []:
            h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def page_shape(page: Page) -> str:
    """A digest of everything the page holds, a post view counting as its name only."""
    parts: list[str] = []
    _shape(page, parts)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


# dataclass type -> a getter of its fields' values (None: not a dataclass); made once per type
_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}


# Types whose repr is their shape, looked up first: most values of a page are these.
_LEAVES = frozenset({str, int, float, bool, type(None), datetime})


def _field_values(kind: type) -> Callable[[Any], tuple[Any, ...]] | None:
    if not dataclasses.is_dataclass(kind):
        return None
    names = [f.name for f in dataclasses.fields(kind)]
    if len(names) == 1:  # attrgetter gives the value itself for one name

        def one(value: Any) -> tuple[Any, ...]:
            return (getattr(value, names[0]),)

        return one
    return attrgetter(*names)


def _shape(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind in _LEAVES:
        out.append(repr(value))
        return
    if kind is PostView:
        out.append("\x00post:" + value.name)
        return
    if kind not in _FIELDS:
        _FIELDS[kind] = _field_values(kind)
    values = _FIELDS[kind]
    if values is not None:
        out.append(kind.__qualname__ + "(")
        for field_value in values(value):
            _shape(field_value, out)
        out.append(")")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for item in value:
            _shape(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for k, v in value.items():
            out.append(repr(k))
            _shape(v, out)
        out.append("}")
    elif isinstance(value, (set, frozenset)):  # iteration order varies between processes
        out.append("{" + ",".join(sorted(map(repr, value))) + "}")
    else:
        out.append(repr(value))


class PageCache:
    """The last build's pages (see the module docstring), and this build's as they are rendered."""

    def __init__(
        self,
        cache_dir: Path,
        out_dir: Path,
        key: str,
        views: dict[str, PostView],
        view_keys: dict[str, str],
        earlier_views: dict[str, tuple[str, PostView]],
        hold: bool = False,
    ):
        """`views`, `view_keys`: this build's posts; `earlier_views`: for posts converted again in this
        build, the view the view cache held before (its key, the view), which may be the last build's.
        `hold`: keep what `save` writes in this process, for its next build (`serve`)."""
        self.path = cache_dir / "pages" / (hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:16] + ".pickle")
        self.key = key
        self.views = views
        self.view_keys = view_keys
        self.earlier_views = earlier_views
        self.pages: dict[str, PageRecord] = {}
        self.previous: dict[str, PageRecord] = {}
        self.previous_keys: dict[str, str] = {}
        self._scan: tuple[bytes, str] | None = None
        held = _HELD.get(self.path) if hold else None
        saved = held if held is not None else read_cache(self.path)
        if isinstance(saved, dict) and saved.get("format") == _FORMAT and saved.get("key") == key:
            self.previous, self.previous_keys, self._scan = saved["pages"], saved["view_keys"], saved["scan"]
        self.hold = hold
        self._same: dict[tuple[str, str], bool] = {}

    def reusable(self, page: Page, shape: str) -> PageRecord | None:
        """The last build's record of `page` when its text would come out the same."""
        record = self.previous.get(page.output)
        if record is None or record.shape != shape:
            return None
        for post, fields in record.reads:
            # most posts are the last build's: one comparison of keys stands for all their fields
            same_view = post in self.views and self.view_keys.get(post) == self.previous_keys.get(post)
            if not same_view and not all(self._unchanged(post, field) for field in fields):
                return None
        return record

    def _unchanged(self, post: str, field: str) -> bool:
        known = self._same.get((post, field))
        if known is None:
            known = self._same[(post, field)] = self._compare(post, field)
        return known

    def _compare(self, post: str, field: str) -> bool:
        if post not in self.views or post not in self.previous_keys:
            return False
        if self.view_keys[post] == self.previous_keys[post]:
            return True  # the view cache gave back the very view the last build rendered
        earlier = self.earlier_views.get(post)
        if earlier is None or earlier[0] != self.previous_keys[post]:
            return False  # the last build's view is gone: anything may have changed
        missing = object()
        try:  # a post's content is read from incremental/bodies, where the earlier view's may be gone
            return getattr(earlier[1], field, missing) == getattr(self.views[post], field, missing)
        except BuildError:
            return False

    def record(self, output: str, record: PageRecord) -> None:
        self.pages[output] = record

    def scan_key(self, secrets: Mapping[str, str]) -> tuple[bytes, str]:
        """What the last site was checked for: the secrets, salted and hashed (never stored as they are)."""
        salt = self._scan[0] if self._scan else os.urandom(16)
        return salt, secrets_digest(secrets, salt)

    def scanned_with(self, scan_key: tuple[bytes, str]) -> bool:
        """Whether the last site was checked for the same secrets, so that only new files need a check."""
        return self._scan == scan_key

    def save(self, scan_key: tuple[bytes, str]) -> None:
        """Record this build's pages, once its site (checked for `scan_key`'s secrets) is in place."""
        data = {"format": _FORMAT, "key": self.key, "pages": self.pages, "view_keys": self.view_keys, "scan": scan_key}
        atomic_write(self.path, lambda f: pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL))
        if self.hold:
            _HELD[self.path] = data
