"""Series: posts that share a term of the `series` taxonomy, read in order.

    series_order(posts)              -> the posts oldest first (reading order)
    series_boxes(posts, term_url)    -> post name -> its SeriesBox per series

A series is front matter `series: [name]` with `series: series` under the
site's `taxonomies:` (as PaperMod sites write it). Parts are ordered by date,
then title, then file name, so the order is stable when two parts share a day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from execblog.hugo.taxonomies import group_terms

SERIES_TAXONOMY = "series"  # the plural PaperMod sites configure


class _Part(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def date(self): ...


P = TypeVar("P", bound=_Part)


@dataclass(frozen=True)
class SeriesBox(Generic[P]):
    """One series as a post shows it: every part, and where this post stands."""

    name: str
    url: str  # the series' term page
    parts: tuple[P, ...]  # reading order
    index: int  # this post's position in `parts`, 0-based

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def total(self) -> int:
        return len(self.parts)

    @property
    def prev(self) -> P | None:
        return self.parts[self.index - 1] if self.index > 0 else None

    @property
    def next(self) -> P | None:
        return self.parts[self.index + 1] if self.index + 1 < len(self.parts) else None


def series_order(posts: Sequence[P]) -> list[P]:
    """Reading order: oldest first, then title, then file name."""
    return sorted(posts, key=lambda p: (p.date.timestamp(), p.title, p.name))


def series_boxes(
    posts: Sequence[P], series_of: Callable[[P], Sequence[str]], term_url: Callable[[str], str]
) -> dict[str, tuple[SeriesBox[P], ...]]:
    """Each post's boxes, one per series it belongs to (series sorted by name)."""
    boxes: dict[str, list[SeriesBox[P]]] = {}
    for term in group_terms(posts, series_of):
        parts = tuple(series_order(term.items))
        for i, part in enumerate(parts):
            boxes.setdefault(part.name, []).append(SeriesBox(term.name, term_url(term.name), parts, i))
    return {name: tuple(found) for name, found in boxes.items()}
