"""Figure numbers and cross-references (`@fig-label`), resolved once a post's HTML is whole.

Figures come from two places: code cells with a `label: fig-...` cell option
(convert/notebook.py) and Markdown images written the Quarto way,
`![caption](image.png){#fig-label fig-alt="..."}` (convert/markdown.py). Both
put `figure_slot(label)` where the number goes in the caption and
`reference(label)` where the prose says `@fig-label`; a notebook's Markdown and
its cells are rendered apart, so numbers are only known at the end:

    html, numbers, problems = number_figures(html, "Figure {n}")

numbers figures in document order (the order their slots appear), fills every
slot and reference, and reports what could not be resolved. As in Quarto, an
unknown reference is not fatal: it shows as `?@fig-label` and the build warns.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

LABEL = re.compile(r"fig-[A-Za-z0-9_]+(?:[-.:][A-Za-z0-9_]+)*")  # Quarto's: no trailing punctuation
# Marks private to one post's conversion; \x02 and \x03 never survive Markdown
# rendering of an author's text as they are (see strip_marks).
_SLOT = re.compile("\x02F:([^\x02\x03]*)\x03")
_REF = re.compile("\x02R:([^\x02\x03]*)\x03")


def figure_slot(label: str) -> str:
    """Where a figure's number goes (inside its caption)."""
    return f"\x02F:{label}\x03"


def reference(label: str) -> str:
    """Where `@label` was written."""
    return f"\x02R:{label}\x03"


def strip_marks(text: str) -> str:
    """An author's text with the two mark characters removed (they are not printable anyway)."""
    return text.replace("\x02", "").replace("\x03", "")


@dataclass(frozen=True)
class FigureProblems:
    unknown: tuple[str, ...] = ()  # labels referenced but never defined
    duplicate: tuple[str, ...] = ()  # labels defined twice (the first one keeps the number)


def number_figures(text: str, number_format: str) -> tuple[str, dict[str, int], FigureProblems]:
    """Fill figure numbers and references; `number_format` holds `{n}` ("図 {n}")."""
    numbers: dict[str, int] = {}
    duplicate: list[str] = []
    for match in _SLOT.finditer(text):
        label = match.group(1)
        if label in numbers:
            duplicate.append(label)
        else:
            numbers[label] = len(numbers) + 1

    def slot(match: re.Match) -> str:
        name = html_lib.escape(number_format.format(n=numbers[match.group(1)]))
        return f'<span class="figure-number">{name}:</span> '

    text = _SLOT.sub(slot, text)
    text, unknown = resolve_references(text, numbers, number_format)
    return text, numbers, FigureProblems(unknown=unknown, duplicate=tuple(dict.fromkeys(duplicate)))


def resolve_references(text: str, numbers: dict[str, int], number_format: str) -> tuple[str, tuple[str, ...]]:
    """References as links to their figures; an unknown one as Quarto shows it, `?@label`."""
    unknown: list[str] = []

    def ref(match: re.Match) -> str:
        label = match.group(1)
        safe = html_lib.escape(label)
        if label not in numbers:
            unknown.append(label)
            return f'<strong class="xref-unknown">?@{safe}</strong>'
        name = html_lib.escape(number_format.format(n=numbers[label]))
        return f'<a class="xref" href="#{safe}">{name}</a>'

    return _REF.sub(ref, text), tuple(dict.fromkeys(unknown))


def reference_line(source: str, label: str, first_line: int = 1) -> int | None:
    """The line of `source` (numbered from first_line) where `@label` is first written."""
    match = re.search(r"(?<![\w@])@" + re.escape(label) + r"(?![\w-])", source)
    return first_line + source.count("\n", 0, match.start()) if match else None
