"""The output mimetypes execblog knows: ONE table that the freeze, redaction and
conversion all derive from, so they cannot disagree about a mimetype.

Each row (`Mimetype`) says what an output stored under that key is:

* `kind`: which renderer shows it. convert/notebook.py registers one renderer
  per kind (image, latex, html, markdown, json, text, plotly, vega,
  interactive, widget); a
  row whose kind has no renderer is frozen and redacted but never shown.
* `extension`, `base64`: an output with an extension is an image the freeze
  stores as a file `<sha256[:16]><extension>` (notebook/files.py); `base64`
  when nbformat holds it base64-encoded (binary) rather than as text.
* `sanitize`: how its content is made safe where it becomes markup:
  "escape" (shown as text), "html" or "svg" (the allow-list sanitizer,
  convert/sanitize.py), "markdown" (the Markdown renderer: raw HTML omitted or
  sanitized, math allow-listed), or None where it never becomes markup (a
  raster image, published as a file behind <img>; a format that is not shown).
* `redact`: how the redactor reads it (execution/redact.py): "text";
  "markup" (tags and character references normalised away before scanning);
  "binary-image" (base64 image data: metadata blocks holding a secret dropped).
* `prefix`: the row stands for every mimetype that starts with `name`
  (versioned formats: application/vnd.plotly.v1+json, ...vegalite.v5+json).

Display priority is the order of the table, highest first, as nbconvert's
`display_data_priority`: an output shows its highest-priority mimetype whose
kind has a renderer (a renderer may decline, e.g. HTML that is only a script,
and the next one is tried). So a widget (its text/plain is a stale repr) hides
everything; a chart the theme can draw (Plotly, Vega) wins over its image,
which its renderer keeps as the fallback; an image wins over an interactive
format the theme cannot draw; and those win over their text forms.

A new output mimetype is one row here; a new kind also needs one renderer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

Sanitize = Literal["escape", "html", "svg", "markdown"]
Redact = Literal["text", "markup", "binary-image"]


@dataclass(frozen=True)
class Mimetype:
    name: str
    kind: str
    extension: str | None = None  # an image stored as a file in the freeze
    base64: bool = False  # nbformat holds it base64-encoded (binary data)
    sanitize: Sanitize | None = None
    redact: Redact = "text"
    prefix: bool = False

    def matches(self, mime: str) -> bool:
        return mime.startswith(self.name) if self.prefix else mime == self.name


def _image(name: str, extension: str) -> Mimetype:
    return Mimetype(name, "image", extension, base64=True, redact="binary-image")


def _interactive(name: str, prefix: bool = True) -> Mimetype:
    # Needs JavaScript: a static page shows its image fallback (ranked above) or says it is not shown.
    return Mimetype(name, "interactive", prefix=prefix)


# Highest display priority first.
MIMETYPES: tuple[Mimetype, ...] = (
    Mimetype("application/vnd.jupyter.widget-view+json", "widget"),
    # Charts the theme draws from their data, with the output's image (if any) shown until then.
    Mimetype("application/vnd.plotly", "plotly", prefix=True),
    Mimetype("application/vnd.vega", "vega", prefix=True),  # Vega and Vega-Lite (Altair)
    # Bokeh's show(): the document JSON is read out of its script (never run) and drawn by BokehJS.
    Mimetype("application/vnd.bokehjs_exec", "bokeh", prefix=True),
    Mimetype("application/vnd.bokehjs_load", "loader", prefix=True),  # output_notebook(): loads BokehJS, no content
    Mimetype("text/latex", "latex", sanitize="markdown"),
    Mimetype("image/svg+xml", "image", ".svg", sanitize="svg", redact="markup"),
    _image("image/png", ".png"),
    _image("image/jpeg", ".jpg"),
    _image("image/gif", ".gif"),
    _image("image/webp", ".webp"),
    _image("image/bmp", ".bmp"),
    _interactive("application/vnd.bokehjs"),
    _interactive("application/vnd.holoviews"),
    _interactive("application/javascript", prefix=False),
    Mimetype("text/html", "html", sanitize="html", redact="markup"),
    Mimetype("text/markdown", "markdown", sanitize="markdown", redact="markup"),
    Mimetype("application/json", "json", sanitize="escape"),
    Mimetype("text/plain", "text", sanitize="escape"),
    # Not shown (no renderer: Jupyter shows it as HTML's poorer twin), but markup to the redactor.
    Mimetype("application/xhtml+xml", "xhtml", redact="markup"),
)


class MimetypeTable:
    """Lookups over the rows; everything else reads the table through these."""

    def __init__(self, rows: Iterable[Mimetype] = MIMETYPES):
        self.rows = tuple(rows)
        names = [row.name for row in self.rows]
        for row in self.rows:
            if names.count(row.name) > 1:
                raise ValueError(f"{row.name}: one row per mimetype")
            if row.prefix and row.redact != "text":
                raise ValueError(f"{row.name}: a prefix row is redacted as text (the redactor matches exact keys)")
            if row.base64 and row.extension is None:
                raise ValueError(f"{row.name}: binary data is stored as a file: give its extension")
        self._exact = {row.name: row for row in self.rows if not row.prefix}
        self._rank = {row: rank for rank, row in enumerate(self.rows)}

    def lookup(self, mime: str) -> Mimetype | None:
        """The row for an output key: its exact row, else the first prefix row that matches."""
        row = self._exact.get(mime)
        if row is not None:
            return row
        return next((r for r in self.rows if r.prefix and r.matches(mime)), None)

    def by_priority(self, mimes: Iterable[str]) -> Iterator[tuple[str, Mimetype]]:
        """The known mimetypes among `mimes` (an output's data keys), highest display priority first."""
        known = [(mime, row) for mime in mimes if (row := self.lookup(mime)) is not None]
        yield from sorted(known, key=lambda pair: self._rank[pair[1]])

    def files(self) -> Mapping[str, Mimetype]:
        """Mimetype -> row, for the outputs the freeze stores as files."""
        return {row.name: row for row in self.rows if row.extension and not row.prefix}

    def redacted_as(self, mode: Redact) -> frozenset[str]:
        return frozenset(row.name for row in self.rows if row.redact == mode and not row.prefix)


TABLE = MimetypeTable()
