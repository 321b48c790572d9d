"""Tags, categories, pagination and archives: pure functions over post lists."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@functools.lru_cache(maxsize=4096)  # a site asks for the same few tags' slugs thousands of times per build
def urlize(text: str) -> str:
    """A URL path segment the way Hugo's `urlize` makes one: lower case,
    spaces to '-', characters unsafe in paths dropped, other letters kept."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = re.sub(r"\s+", "-", text)
    out = []
    for ch in text:
        if ch.isalnum() or ch in "-_.~" or ord(ch) > 127 and unicodedata.category(ch)[0] in "LNM":
            out.append(ch)
    return "".join(out).strip("-.") or "-"


@dataclass(frozen=True)
class Term(Generic[T]):
    name: str
    slug: str
    items: tuple[T, ...]


def group_terms(items: Sequence[T], terms_of) -> list[Term[T]]:
    """Terms with their items (in the given order), sorted by name like Hugo's
    default taxonomy list. Terms that differ only in case share a page, as in Hugo."""
    by_slug: dict[str, list[T]] = defaultdict(list)
    names: dict[str, str] = {}
    for item in items:
        slugs: set[str] = set()  # an item once per term, however many spellings of it it lists
        for name in dict.fromkeys(terms_of(item)):
            slug = urlize(name)
            if slug not in slugs:
                slugs.add(slug)
                by_slug[slug].append(item)
            names.setdefault(slug, name)
    return sorted(
        (Term(name=names[s], slug=s, items=tuple(v)) for s, v in by_slug.items()),
        key=lambda t: t.name.lower(),
    )


@dataclass(frozen=True)
class Pager(Generic[T]):
    number: int  # 1-based
    total: int
    items: tuple[T, ...]

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.total


def paginate(items: Sequence[T], per_page: int) -> list[Pager[T]]:
    """Pages of `per_page` items; always at least one (an empty list page)."""
    chunks = [tuple(items[i : i + per_page]) for i in range(0, len(items), per_page)] or [()]
    return [Pager(number=i + 1, total=len(chunks), items=c) for i, c in enumerate(chunks)]


def pager_path(base: str, number: int) -> str:
    """Hugo's pager URLs: page 1 is the list itself, then `page/N/`."""
    return base if number == 1 else f"{base}page/{number}/"


@dataclass(frozen=True)
class ArchiveMonth(Generic[T]):
    month: int
    items: tuple[T, ...]


@dataclass(frozen=True)
class ArchiveYear(Generic[T]):
    year: int
    months: tuple[ArchiveMonth[T], ...]

    @property
    def count(self) -> int:
        return sum(len(m.items) for m in self.months)


def archive(items: Sequence[T], date_of) -> list[ArchiveYear[T]]:
    """Items grouped by year, then month, newest first (PaperMod's archives)."""
    years: dict[int, dict[int, list[T]]] = defaultdict(lambda: defaultdict(list))
    for item in sorted(items, key=date_of, reverse=True):
        d = date_of(item)
        years[d.year][d.month].append(item)
    return [
        ArchiveYear(year=y, months=tuple(ArchiveMonth(m, tuple(v)) for m, v in sorted(ms.items(), reverse=True)))
        for y, ms in sorted(years.items(), reverse=True)
    ]
