"""A post's body as HTML: Markdown for plain posts, cells and outputs for notebooks.

    converter = NotebookConverter(markdown_renderer, ConverterOptions(...))  # once per build
    converted = converter.convert(executed_post)                          # -> ConvertedPost

Markdown cells are rendered as ONE document by the same MarkdownRenderer as
plain posts (code cells stand in as placeholders), so heading ids, footnotes
and typography are exactly those of a plain post with the same text. Code
cells are the renderer's highlighted code block with their outputs below.

Outputs: images become files named by content hash (`outputs/<sha256[:16]>.png`,
listed in ConvertedPost.assets) referenced with width, height and lazy
loading, never inline base64. Streams go in <pre> (stderr apart, hidden by
`warnings: false`), `\\r` progress bars keep their final frame, ANSI colours
become spans, long text folds behind a <details> "show more". HTML outputs
(pandas tables) are sanitized by allow-list (sanitize.py), and so are SVG
images, which are published as sanitized copies; LaTeX and Markdown outputs
render like Markdown (math allow-listed, raw HTML omitted or sanitized);
Plotly and Vega/Vega-Lite charts are data for the theme to draw: their JSON
in a <script type="application/json"> (`<`, `>` and `&` escaped, so it can
never end the element), the output's image as the fallback shown until the
chart is drawn (or a note in <noscript>); other interactive outputs (Bokeh)
show their image fallback; ipywidgets are drawn from the widget state the
notebook saved (convert/widgets.py: progress bars, HTML, labels, boxes).

Which mimetype of an output is shown comes from the mimetype table
(notebook/mimetypes.py) in its display priority order: the first whose kind
has a renderer in `RENDERERS` (one function per kind, registered with
`@renderer(kind)`) that accepts it. Cell tags (as in Jupyter Book) are the
vocabulary of notebook/tags.py.

The stand-in banner, the not-executed notice and the provenance block with
its download links are data (`Notice`, `Provenance`, `Download` in records);
the theme's partials render them.

CSS classes (stable; the theme styles them):

    div.cell                       one code cell (+ .cell-injected-parameters for
                                   the parameters papermill injected)
    div.cell-input                 the code (contains the renderer's div.highlight)
    div.cell-output                all outputs of a cell
    pre.output-stream              a stream, with .output-stdout or .output-stderr
    pre.output-text                text/plain results
    pre.output-json                application/json results
    div.output-error               an (allowed) traceback, in a <pre>
    div.output-html                sanitized HTML output (e.g. pandas tables)
    div.output-math                LaTeX output rendered to MathML
    div.output-markdown            Markdown output
    figure.output-image            an image output (<img loading="lazy">)
    p.output-unsupported           an interactive output with no static fallback
    div.output-widget              an ipywidget from its saved state (classes in
                                   convert/widgets.py)
    div.output-chart               a chart the theme draws (+ .output-plotly or
                                   .output-vega; data-mode: vega or vega-lite),
                                   holding script.chart-spec (its JSON) and
                                   div.chart-fallback (image or <noscript> note)
    details.fold                   collapsed content, with .fold-input,
                                   .fold-output, .fold-cell or .fold-more (long
                                   text: the first lines stay visible above it)
    span.ansi-*                    ANSI colours (nbconvert's ansi2html classes,
                                   e.g. ansi-red-fg, ansi-bold)
"""

from __future__ import annotations

import copy
import functools
import hashlib
import html
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from execblog.config import Repository
from execblog.convert.figures import LABEL as FIGURE_LABEL
from execblog.convert.figures import figure_slot, number_figures, reference_line, resolve_references
from execblog.convert.markdown import MarkdownRenderer
from execblog.convert.sanitize import clean_html, clean_svg
from execblog.convert.widgets import render_widget, widget_state
from execblog.errors import BuildError
from execblog.fsutil import atomic_write
from execblog.notebook import tags as T
from execblog.notebook.cell_options import CellOptionError, CellOptions, cell_options
from execblog.notebook.files import (
    FILE_MIMETYPES,
    NOTEBOOK_FILE,
    file_name,
    file_ref,
    inline_files,
    notebook_text,
    output_bytes,
    ref_file,
)
from execblog.notebook.mimetypes import TABLE, Mimetype, MimetypeTable
from execblog.notebook.tags import INTERNAL_CELL_TAGS, cell_tags
from execblog.records import Asset, ConvertedPost, Download, ExecutedPost, Link, Notice, Provenance
from execblog.registry import register

DEFAULT_LABELS: dict[str, str] = {
    "show_code": "Show code",
    "show_output": "Show output",
    "show_cell": "Show cell",
    "show_more": "Show {n} more lines",
    "truncated": "… {n} more lines not shown",
    "interactive": "Interactive output ({mime}) is not shown on this static page.",
    "invalid_output": "This {mime} output could not be read (its data is damaged).",
    "widget": "Interactive widget not shown: {name}.",
    "figure": "Figure {n}",
}

_CR_LEFTOVER = re.compile(r"\r+(?=\n|$)")
_TAG = re.compile(r"<[^>]*>")
_MD_IMG = re.compile(r'<img src="([^"]*)"[^>]*>')  # as markdown_render writes images
_SVG_TAG = re.compile(r"<svg\b[^>]*>", re.S)
_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(px|pt|)\s*$")
_ATTACHMENT = re.compile(r"attachment:([^\s)\"'<>]+)")
_COLAB = "https://colab.research.google.com/github/"


@dataclass(frozen=True)
class ConverterOptions:
    show_stderr: bool = True  # site default; front matter `warnings:` overrides it per post
    sanitize_html: bool = True
    fold_lines: int = 30  # text outputs longer than this fold the rest behind "show more"
    max_output_lines: int = 2000  # beyond this a text output is cut (with a note)
    output_dir: str = "outputs"  # site_path folder for extracted images
    cache_dir: Path | None = None  # downloadable notebooks, images of unfrozen notebooks
    provenance: bool = True
    downloads: bool = True
    labels: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    repository: Repository | None = None  # where the committed freeze is: links to run the notebooks
    freeze_dir: str = "_freeze"  # relative to the site folder


class NotebookConverter:
    """Built once per build: the renderer and nbconvert's pieces (imported when first needed) are
    reused for every post."""

    def __init__(
        self,
        markdown_renderer: MarkdownRenderer,
        options: ConverterOptions | None = None,
        *,
        mimetypes: MimetypeTable = TABLE,
        renderers: Mapping[str, Renderer] | None = None,
    ):
        self.md = markdown_renderer
        self.options = options or ConverterOptions()
        self.mimetypes = mimetypes
        self.renderers = RENDERERS if renderers is None else renderers
        self.labels = {**DEFAULT_LABELS, **self.options.labels}
        self._cache_dir = self.options.cache_dir or Path(tempfile.mkdtemp(prefix="execblog-nb-"))
        self._sizes: dict[Path, tuple[int, int] | None] = {}

    # nbconvert takes half a second to import: only posts with outputs pay for it
    @functools.cached_property
    def _coalesce(self):
        from nbconvert.preprocessors import CoalesceStreamsPreprocessor

        return CoalesceStreamsPreprocessor()

    @staticmethod
    def _ansi2html(text: str) -> str:
        from nbconvert.filters.ansi import ansi2html

        return ansi2html(text)

    # -- API -----------------------------------------------------------------------------------------
    def convert(self, executed: ExecutedPost) -> ConvertedPost:
        converted = self._convert_body(executed)
        body, numbers, problems = number_figures(converted.html, self.labels["figure"])
        warnings = list(converted.warnings)
        post = executed.source
        summary = post.summary
        summary_html = None
        if summary:  # the front matter summary is Markdown too
            summary_html, unknown = resolve_references(self.md.render(summary).html, numbers, self.labels["figure"])
            problems = replace(problems, unknown=tuple(dict.fromkeys(problems.unknown + unknown)))
        for label in problems.unknown:  # Quarto warns and shows ?@label
            line = reference_line(post.text, label)
            where = f"{post.shown_path}:{line}" if line else post.shown_path
            warnings.append(
                f"{where}: @{label} refers to no figure; it shows as ?@{label}. "
                f"Label a figure `{label}` (cell option `#| label: {label}` or `{{#{label}}}` "
                "after a Markdown image) or fix the reference"
            )
        for label in problems.duplicate:
            warnings.append(
                f"{post.shown_path}: two figures are labelled {label}; the second one's number and link "
                "are the first one's. Give each figure its own label"
            )
        return replace(converted, html=body, summary_html=summary_html, warnings=tuple(warnings))

    def _convert_body(self, executed: ExecutedPost) -> ConvertedPost:
        if executed.notebook is None:
            rendered = self.md.render(executed.source.body)
            return ConvertedPost(
                executed=executed,
                html=self._size_bundle_images(rendered.html, executed),
                notices=self._notices(executed),
                headings=rendered.headings,
                has_math=rendered.has_math,
                has_code=rendered.has_code,
            )
        return self._convert_notebook(executed)

    # -- notebooks -------------------------------------------------------------------------------------
    def _convert_notebook(self, executed: ExecutedPost) -> ConvertedPost:
        state = PostState(executed, self._show_stderr(executed))
        parts: list[str] = []
        cells: dict[str, str] = {}
        nb = executed.notebook
        assert nb is not None
        language = _language(nb)
        for index, cell in enumerate(nb.cells):
            tags = cell_tags(cell)
            if T.REMOVE_CELL in tags or tags & INTERNAL_CELL_TAGS:
                continue
            if cell.cell_type == "markdown":
                parts.append(self._attachments(cell, index, state))
            elif cell.cell_type == "raw":
                if index == 0 and cell.source.lstrip().startswith("---"):
                    continue  # jupytext's copy of the front matter
                fmt = cell.metadata.get("format") or cell.metadata.get("raw_mimetype") or ""
                if fmt in ("text/markdown", "markdown"):
                    parts.append(cell.source)
            elif cell.cell_type == "code":
                fragment = self._code_cell(cell, index, tags, language, state)
                if fragment:
                    token = f"EXECBLOGCELL{len(cells):05d}X"
                    cells[token] = fragment
                    parts.append(token)
        rendered = self.md.render("\n\n".join(parts))
        body = rendered.html
        for token, fragment in cells.items():
            if f"<p>{token}</p>\n" in body:
                body = body.replace(f"<p>{token}</p>\n", fragment, 1)
            elif token in body:
                body = body.replace(token, fragment, 1)
            else:  # swallowed by an unclosed Markdown construct: still show it
                body += fragment
        warnings = []
        if state.missing_alt:  # once per post, every cell named: the author fixes them in one go
            where = ", ".join(state.missing_alt)
            warnings.append(
                f"{executed.source.shown_path}: {len(state.missing_alt)} figure output(s) have no alt text "
                f"({where}): screen readers cannot describe them. Add `#| fig-alt: what the figure "
                "shows` at the top of each of these code cells"
            )
        return ConvertedPost(
            executed=executed,
            html=self._size_bundle_images(body, executed),
            warnings=tuple(warnings),
            notices=self._notices(executed),
            provenance=self._provenance(executed, state),
            headings=rendered.headings,
            has_math=rendered.has_math or state.has_math,
            has_code=rendered.has_code or state.has_code,
            assets=tuple(state.assets.values()),
        )

    def _show_stderr(self, executed: ExecutedPost) -> bool:
        value = executed.source.run.warnings
        return self.options.show_stderr if value is None else bool(value)

    def _code_cell(self, cell: Any, index: int, tags: frozenset[str], language: str, state: PostState) -> str:
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        options = self._cell_options(source, index, state)
        state.figure = _CellFigure(options, self._cell_where(source, index, state), index)
        source = options.code
        input_html = ""
        if source.strip() and T.REMOVE_INPUT not in tags:
            code, lang = _split_cell_magic(source, language)
            # as nbconvert and JupyterLab show Python cells: `!pip`, `%magic` are IPython, not errors
            lexer = "ipython3" if lang.startswith("python") else None
            input_html = f'<div class="cell-input">{self.md.highlight_code(code, lang, lexer)}</div>'
            state.has_code = True
        output_html = ""
        if T.REMOVE_OUTPUT not in tags:
            inner = self._outputs(cell, index, tags, state)
            if inner:
                output_html = f'<div class="cell-output">{inner}</div>'
        if not input_html and not output_html:
            return ""
        labels = self.labels
        if T.HIDE_CELL in tags:
            body = _fold(input_html + output_html, "fold-cell", labels["show_cell"])
        else:
            if T.HIDE_INPUT in tags and input_html:
                input_html = _fold(input_html, "fold-input", labels["show_code"])
            if T.HIDE_OUTPUT in tags and output_html:
                output_html = _fold(output_html, "fold-output", labels["show_output"])
            body = input_html + output_html
        classes = "cell"
        if T.INJECTED_PARAMETERS in tags:
            classes += " cell-injected-parameters"
        return f'<div class="{classes}">{body}</div>\n'

    def _cell_options(self, source: str, index: int, state: PostState) -> CellOptions:
        post = state.executed.source
        try:
            options = cell_options(source)
            label = options.get("label")
            if label is not None and not (isinstance(label, str) and re.fullmatch(r"[A-Za-z][\w.:-]*", label)):
                raise CellOptionError(f"cell label {label!r} is not a name", options.lines["label"])
            if isinstance(label, str) and label.startswith("fig-") and not FIGURE_LABEL.fullmatch(label):
                raise CellOptionError(f"figure label {label!r} ends in punctuation", options.lines["label"])
            for key in ("fig-cap", "fig-alt"):
                value = options.get(key)
                if (
                    value is not None
                    and not isinstance(value, str)
                    and not (key == "fig-alt" and isinstance(value, list) and all(isinstance(v, str) for v in value))
                ):
                    raise CellOptionError(f"cell option {key} must be text", options.lines[key])
        except CellOptionError as exc:
            start = _cell_line(post.text, source)
            raise BuildError(
                f"code cell {index + 1}: {exc}",
                post.path,
                line=start + exc.line - 1 if start else None,
                hint="write cell options as `#| key: value` lines (YAML), e.g. "
                "`#| label: fig-heatmap`, `#| fig-cap: The caption`, `#| fig-alt: What it shows`; "
                "a figure label is fig- then letters, digits, _ or -",
            ) from None
        return options

    def _cell_where(self, source: str, index: int, state: PostState) -> str:
        line = _cell_line(state.executed.source.text, source)
        return f"line {line}" if line else f"cell {index + 1}"

    # -- outputs ----------------------------------------------------------------------------------------
    def _outputs(self, cell: Any, index: int, tags: frozenset[str], state: PostState) -> str:
        cell = copy.deepcopy(cell)
        cell, _ = self._coalesce.preprocess_cell(cell, {}, index)  # merge streams, keep final \r frame
        pieces = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                name = output.get("name", "stdout")
                if name == "stderr" and (not state.show_stderr or T.REMOVE_STDERR in tags):
                    continue
                if name == "stdout" and T.REMOVE_STDOUT in tags:
                    continue
                text = _CR_LEFTOVER.sub("", _text(output.get("text", "")).replace("\r\n", "\n"))
                if text:
                    pieces.append(self.text_block(text, f"output-stream output-{name}"))
            elif kind == "error":
                traceback = "\n".join(output.get("traceback") or [])
                traceback = traceback or f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                pieces.append(f'<div class="output-error"><pre>{self._ansi2html(traceback)}</pre></div>')
            elif kind in ("display_data", "execute_result"):
                pieces.append(self._rich(output, state))
        return "".join(p for p in pieces if p)

    def _rich(self, output: Any, state: PostState) -> str:
        """The output's highest-priority mimetype that a renderer accepts; a
        renderer declines (None) when it has nothing to show, e.g. HTML that was
        only a script, and the next mimetype is tried."""
        data = output.get("data") or {}
        metadata = output.get("metadata") or {}
        declined = None
        for mime, row in self.mimetypes.by_priority(data):
            render = self.renderers.get(row.kind)
            if render is None:
                continue
            shown = render(self, RichOutput(mime, row, data[mime], data, metadata), state)
            if shown is not None:
                return shown
            declined = declined or mime
        return self.not_shown(declined) if declined else ""

    def not_shown(self, mime: str) -> str:
        """What stands for an output that needs JavaScript and has no static form."""
        return f'<p class="output-unsupported">{html.escape(self.labels["interactive"].format(mime=mime))}</p>'

    def chart(self, library: str, spec: Any, output: RichOutput, state: PostState, attrs: str = "") -> str:
        """A chart the theme draws from `spec`, over the output's own image while it loads (or without JS).
        A spec that is not a chart (None) or not JSON (a NaN) shows the image alone, or says it is not shown."""
        fallback = ""
        for mime, row in self.mimetypes.by_priority(output.data):
            if row.kind == "image":
                fallback = self.image(RichOutput(mime, row, output.data[mime], output.data, output.metadata), state)
                break
        try:
            data = None if spec is None else json_for_script(spec)
        except ValueError:
            data = None
        if data is None:
            return fallback or self.not_shown(output.mime)
        fallback = fallback or f"<noscript>{self.not_shown(output.mime)}</noscript>"
        return (
            f'<div class="output-chart output-{library}"{attrs}>'
            f'<script type="application/json" class="chart-spec">{data}</script>'
            f'<div class="chart-fallback">{fallback}</div></div>'
        )

    def output_markdown(self, text: str) -> tuple[str, bool]:
        """Markdown (or LaTeX) from an output, and whether it has math. The
        renderer already omits raw HTML and allow-lists math; when the site
        keeps raw HTML for its authors, an output's raw HTML still goes
        through the HTML sanitizer: outputs are data, not the author's markup."""
        rendered = self.md.render(text)
        if self.md.options.unsafe_html and self.options.sanitize_html:
            return clean_html(rendered.html), rendered.has_math
        return rendered.html, rendered.has_math

    def text_block(self, text: str, classes: str) -> str:
        """Text in a <pre>, ANSI colours as spans, long text folded or cut."""
        lines = text.splitlines(keepends=True)
        opts = self.options
        note = ""
        if len(lines) > opts.max_output_lines:
            note = html.escape(self.labels["truncated"].format(n=len(lines) - opts.max_output_lines))
            note = f"\n{note}"
            lines = lines[: opts.max_output_lines]
        # Fold only when it hides enough to be worth a click.
        if len(lines) > opts.fold_lines + 5:
            head, rest = lines[: opts.fold_lines], lines[opts.fold_lines :]
            summary = self.labels["show_more"].format(n=len(rest))
            return (
                f'<pre class="{classes}">{self._ansi2html("".join(head))}</pre>'
                f'<details class="fold fold-more"><summary>{html.escape(summary)}</summary>'
                f'<pre class="{classes}">{self._ansi2html("".join(rest))}{note}</pre></details>'
            )
        return f'<pre class="{classes}">{self._ansi2html("".join(lines))}{note}</pre>'

    def image(self, output: RichOutput, state: PostState) -> str:
        """An image output as a file beside the page (an SVG as its sanitized copy)."""
        mime, value = output.mime, output.value
        name = file_ref(value)
        if name is not None and state.executed.asset_dir is not None:
            source = ref_file(state.executed.asset_dir, name, mime)
            if output.row.sanitize == "svg":
                source = self._clean_svg_file(source.read_bytes())
            site_path = f"{self.options.output_dir}/{name}"
            state.assets[site_path] = Asset(site_path=site_path, source=source)
        else:  # an inline image (notebook not from the freeze): write it out once
            try:
                raw = output_bytes(mime, value)
            except ValueError:  # not base64: a damaged notebook, said where it shows
                text = self.labels["invalid_output"].format(mime=mime)
                return f'<p class="output-unsupported">{html.escape(text)}</p>'
            site_path, source = self._inline_file(mime, raw, state)
        size = _declared_size(output.metadata.get(mime)) or self._size(source, mime)
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        figure = state.figure
        alt, ident, caption = _alt_text(output.data), "", ""
        if figure is not None:  # the cell's options: the first image is the figure, each gets its alt
            nth = figure.images
            figure.images += 1
            given = figure.options.get("fig-alt")
            given = given[nth] if isinstance(given, list) and nth < len(given) else given
            alt = given if isinstance(given, str) and given.strip() else alt
            label = figure.options.get("label")
            cap = figure.options.get("fig-cap")
            if nth == 0 and isinstance(label, str):
                ident = f' id="{html.escape(label)}"'
            if nth == 0 and (cap or isinstance(label, str) and label.startswith("fig-")):
                slot = figure_slot(label) if isinstance(label, str) and label.startswith("fig-") else ""
                text = self.md.render_inline(str(cap or ""))
                caption = f"<figcaption>{slot}{text}</figcaption>"
            if not alt.strip() and figure.where not in state.missing_alt:
                state.missing_alt.append(figure.where)
        return (
            f'<figure class="output-image"{ident}><img src="{html.escape(site_path)}"{dims} '
            f'loading="lazy" decoding="async" alt="{html.escape(alt)}">{caption}</figure>'
        )

    def _inline_file(self, mime: str, raw: bytes, state: PostState) -> tuple[str, Path]:
        """Image bytes from the notebook itself as a file beside the page: (site path, file)."""
        name = file_name(mime, raw)
        if FILE_MIMETYPES[mime].sanitize == "svg":
            source = self._clean_svg_file(raw)
        else:
            source = self._cache_dir / "outputs" / name
            if not source.exists():
                atomic_write(source, raw)
        site_path = f"{self.options.output_dir}/{name}"
        state.assets[site_path] = Asset(site_path=site_path, source=source)
        return site_path, source

    def _attachments(self, cell: Any, index: int, state: PostState) -> str:
        """A Markdown cell's source, its `attachment:NAME` images pointing at files beside
        the page; an attachment that is not a readable image stays as written (a broken image)."""
        attachments = cell.get("attachments")
        source = cell.source
        if not isinstance(attachments, Mapping) or "attachment:" not in source:
            return source
        paths: dict[str, str] = {}
        for name, bundle in attachments.items():
            if not isinstance(bundle, Mapping):
                continue
            for mime, value in bundle.items():
                if mime in FILE_MIMETYPES and isinstance(value, (str, list)):
                    try:
                        paths[str(name)] = self._inline_file(mime, output_bytes(mime, value), state)[0]
                    except ValueError:
                        continue
                    break
        return _ATTACHMENT.sub(lambda m: paths.get(m.group(1), m.group(0)), source)

    def _clean_svg_file(self, raw: bytes) -> Path:
        """The sanitized copy of an SVG output, which is what gets published:
        an SVG runs its script when its own URL is opened. Named by the
        original's hash; the folder names the sanitizer's version, so a
        stricter one never reuses an older copy."""
        path = self._cache_dir / "svg-clean-1" / (hashlib.sha256(raw).hexdigest()[:32] + ".svg")
        if not path.exists():
            atomic_write(path, clean_svg(raw))
        return path

    def _size_bundle_images(self, body: str, executed: ExecutedPost) -> str:
        """Width, height and lazy loading for Markdown images of the post's own
        bundle files, so they reserve their space (no layout shift)."""
        bundle = executed.source.bundle_dir
        if bundle is None or "<img " not in body:
            return body

        def sized(match: re.Match) -> str:
            src = html.unescape(match.group(1))
            path = (bundle / src).resolve()
            if "://" in src or not path.is_relative_to(bundle.resolve()) or not path.is_file():
                return match.group(0)
            size = self._size(path, "image/svg+xml" if path.suffix == ".svg" else "image/*")
            dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
            return f'{match.group(0)[:-1]}{dims} loading="lazy">'

        return _MD_IMG.sub(sized, body)

    def _size(self, path: Path, mime: str) -> tuple[int, int] | None:
        if path not in self._sizes:
            self._sizes[path] = _svg_size(path) if mime == "image/svg+xml" else _raster_size(path)
        return self._sizes[path]

    # -- page furniture: data for the theme's partials --------------------------------------------------
    def _notices(self, executed: ExecutedPost) -> tuple[Notice, ...]:
        notices = []
        if executed.stand_in_models:
            notices.append(Notice("stand-in", models=executed.stand_in_models))
        if executed.notice:
            notices.append(Notice("not-executed", text=executed.notice))
        return tuple(notices)

    def _provenance(self, executed: ExecutedPost, state: PostState) -> Provenance | None:
        prov = executed.provenance
        if self.options.provenance and _saved_outputs(executed):
            source = executed.source
            assert source.notebook is not None  # _saved_outputs checked it
            return Provenance(
                outputs="saved",
                environment=_environment(source.notebook.metadata),
                downloads=self._downloads(executed, state),
                links=self._links(_site_path(source.path, source.bundle_dir)),
            )
        if (
            not self.options.provenance
            or not prov
            or executed.status not in ("executed", "frozen", "stale-frozen", "failed")
        ):
            return None
        executed_at = str(prov["executed_at"]) if prov.get("executed_at") else None
        versions = [f"Python {prov['python']}"] if prov.get("python") else []
        for name in ("torch", "transformers", "diffusers"):
            version = (prov.get("versions") or {}).get(name)
            if version:
                versions.append(f"{name} {version}")
        return Provenance(
            executed_at=executed_at,
            executed_at_text=_time(executed_at) if executed_at else None,
            duration=_duration(float(prov["duration_s"])) if prov.get("duration_s") is not None else None,
            device=_device(prov["device"]) if prov.get("device") else None,
            versions=tuple(versions),
            profile=str(prov["profile"]) if prov.get("profile") else None,
            downloads=self._downloads(executed, state),
            outputs="executed",
            links=self._links(f"{self.options.freeze_dir.strip('/')}/{executed.source.name}/{NOTEBOOK_FILE}"),
        )

    def _links(self, site_path: str) -> tuple[Link, ...]:
        """ "Open in Colab" and "view on GitHub" for a notebook of the site (its path in the
        site folder) on the repository's default branch; none when the site has no repository."""
        repo = self.options.repository
        if repo is None or not repo.url:
            return ()
        path = "/".join(quote(part) for part in [*repo.path.strip("/").split("/"), *site_path.split("/")] if part)
        blob = f"blob/{quote(repo.branch)}/{path}"
        owner_name = repo.url.removeprefix("https://github.com/").strip("/")
        return Link("colab", f"{_COLAB}{owner_name}/{blob}"), Link("github", f"{repo.url.rstrip('/')}/{blob}")

    def _downloads(self, executed: ExecutedPost, state: PostState) -> tuple[Download, ...]:
        if not self.options.downloads:
            return ()
        post = executed.source
        nb = _without_internal_cells(executed.notebook)
        # Named by the content with file references (cheap to hash), so a rebuild with
        # nothing changed neither re-encodes the images nor rewrites the file.
        digest = hashlib.sha256(json.dumps(nb, sort_keys=True, default=str).encode()).hexdigest()[:16]
        folder = self._cache_dir / "downloads" / post.name
        target = folder / digest / f"{post.name}.ipynb"
        if not target.is_file():
            if executed.asset_dir is not None:
                nb = inline_files(nb, executed.asset_dir)
            atomic_write(target, notebook_text(nb).encode("utf-8"))
            for old in folder.iterdir():  # earlier versions of this post's download
                if old.name != digest:
                    shutil.rmtree(old, ignore_errors=True)
        # A bundle file already published under a download's name keeps it (the download yields).
        taken = {r.relative_to(post.bundle_dir).as_posix() for r in post.resources} if post.bundle_dir else set()
        ipynb = _free_name(post.name, ".ipynb", taken)
        state.assets[ipynb] = Asset(site_path=ipynb, source=target)
        downloads = [Download("notebook", ipynb)]
        if post.path.suffix != ".ipynb":  # an .ipynb post's source is the notebook offered already
            source = _free_name(post.name, post.path.suffix, taken | {ipynb})
            state.assets[source] = Asset(site_path=source, source=post.path)
            downloads.append(Download("source", source, post.path.suffix))
        return tuple(downloads)


@dataclass
class PostState:
    """What converting one post's cells collects: its output files, whether it has math or code."""

    executed: ExecutedPost
    show_stderr: bool
    assets: dict[str, Asset] = field(default_factory=dict)
    has_math: bool = False
    has_code: bool = False
    figure: _CellFigure | None = None  # the code cell being converted: its options, where it is
    missing_alt: list[str] = field(default_factory=list)  # cells ("line 12") with an image but no alt text


@dataclass
class _CellFigure:
    options: CellOptions
    where: str  # "line 12" in the post, or "cell 3"
    index: int
    images: int = 0  # image outputs seen so far


# --- output renderers, one per kind of the mimetype table -------------------------------------------
@dataclass(frozen=True)
class RichOutput:
    """One display_data or execute_result output, at the mimetype chosen to show it."""

    mime: str
    row: Mimetype  # the mimetype table's row for `mime`
    value: Any
    data: Mapping[str, Any]  # every representation of the output
    metadata: Mapping[str, Any]

    @property
    def text(self) -> str:
        value = self.value
        return value if isinstance(value, str) else _text(value) if isinstance(value, list) else json.dumps(value)


# Returns the output's HTML, or None to let the next mimetype of the output be tried.
Renderer = Callable[[NotebookConverter, RichOutput, PostState], "str | None"]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str, registry: dict[str, Renderer] = RENDERERS) -> Callable[[Renderer], Renderer]:
    """Register the decorated function as the renderer of a kind of output."""
    return register(kind, registry)


@renderer("widget")
def _render_widget(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    # From the widget state the notebook saved; its text/plain is a stale repr, never shown instead.
    view = output.value
    if not isinstance(view, Mapping) or state.executed.notebook is None:
        return ""
    clean = clean_html if converter.options.sanitize_html else str
    models = widget_state(state.executed.notebook.metadata)
    return render_widget(view.get("model_id"), models, clean, converter.labels["widget"])


@renderer("interactive")
def _render_interactive(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    return converter.not_shown(output.mime)  # no image fallback ranked above it


@renderer("plotly")
def _render_plotly(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    figure = output.value
    if not isinstance(figure, Mapping) or not isinstance(figure.get("data"), list):
        return converter.chart("plotly", None, output, state)  # not a figure
    layout = dict(figure.get("layout") or {})
    if isinstance(layout.get("images"), list):  # a picture behind the plot, fetched by URL: only inline data
        layout["images"] = [i for i in layout["images"] if str((i or {}).get("source", "")).startswith("data:")]
    spec = {"data": figure["data"], "layout": layout}  # the figure's own `config` is not taken: the theme's is
    if isinstance(figure.get("frames"), list):
        spec["frames"] = figure["frames"]
    return converter.chart("plotly", spec, output, state)


@renderer("bokeh")
def _render_bokeh(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    item = bokeh_item(_text(output.data.get("application/javascript", "")))
    if item is not None and converter.options.sanitize_html and bokeh_active_content(item["doc"]):
        item = None  # BokehJS would run its code or markup: the image fallback, or the not-shown note
    return converter.chart("bokeh", item, output, state)


@renderer("loader")
def _render_loader(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    return ""  # a library loader (Bokeh's output_notebook()): the theme loads the library itself


@renderer("vega")
def _render_vega(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    if not isinstance(output.value, Mapping):
        return converter.chart("vega", None, output, state)
    mode = "vega-lite" if output.mime.startswith("application/vnd.vegalite") else "vega"
    return converter.chart("vega", output.value, output, state, f' data-mode="{mode}"')


@renderer("image")
def _render_image(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    return converter.image(output, state)


@renderer("latex")
def _render_latex(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    state.has_math = True
    latex = output.text.strip()
    if not latex.startswith("$"):
        latex = f"$$\n{latex}\n$$"
    return f'<div class="output-math">{converter.output_markdown(latex)[0]}</div>'


@renderer("html")
def _render_html(converter: NotebookConverter, output: RichOutput, state: PostState) -> str | None:
    text = output.text
    if _BOKEH_BANNER in text or _BOKEH_ROOT.fullmatch(text):
        return ""  # output_notebook()'s "Loading BokehJS" banner; show()'s empty root (its chart is the next output)
    clean = clean_html(text) if converter.options.sanitize_html else text
    if not _TAG.sub("", clean).strip() and "<img" not in clean:
        return None  # only a script (e.g. a JS chart) was there: its text form, or say so
    # pandas' empty index corner is no header: a plain cell keeps screen
    # readers from announcing a blank column heading
    clean = clean.replace("<th></th>", "<td></td>")
    return f'<div class="output-html">{clean}</div>'


@renderer("markdown")
def _render_markdown(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    markup, has_math = converter.output_markdown(output.text)
    state.has_math = state.has_math or has_math
    return f'<div class="output-markdown">{markup}</div>'


@renderer("json")
def _render_json(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    pretty = json.dumps(output.value, indent=2, ensure_ascii=False, sort_keys=True)
    return f'<pre class="output-json">{html.escape(pretty)}</pre>'


@renderer("text")
def _render_text(converter: NotebookConverter, output: RichOutput, state: PostState) -> str:
    return converter.text_block(output.text, "output-text")


# --- helpers ---------------------------------------------------------------------------------------
def _cell_line(text: str, source: str) -> int | None:
    """The line of the post where a code cell's source starts (jupytext writes it verbatim)."""
    at = text.find(source) if source.strip() else -1
    return text.count("\n", 0, at) + 1 if at >= 0 else None


_BOKEH_BANNER = 'class="bk-notebook-logo"'
_BOKEH_ROOT = re.compile(r'\s*<div id="[\w-]+" data-root-id="[\w-]+" style="display: contents;"></div>\s*')
_BOKEH_JSON = re.compile(r"\bconst (docs_json|render_items) = ")


# Bokeh models that run code from the document (CustomJS...), render markup from it (Div, HTML
# templates), or fetch from elsewhere (tiles, image URLs, imported style sheets).
_BOKEH_ACTIVE = re.compile(
    r"CustomJS|JSCode|Script|Module|Template|Div|HTML|Markup|TileSource|ImageURL"
    r"|StyleSheet|WMTS|TMS|BBox|Quadkey|Callback"
)


def bokeh_active_content(doc: Any) -> list[str]:
    """The models of a Bokeh document that would put script, markup or requests into the page
    (names, sorted): a HoverTool's tooltips given as an HTML template string count as markup."""
    found: set[str] = set()
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            name = value.get("name")
            if value.get("type") == "object" and isinstance(name, str):
                if _BOKEH_ACTIVE.search(name):
                    found.add(name)
                tooltips = (value.get("attributes") or {}).get("tooltips") if name == "HoverTool" else None
                if isinstance(tooltips, (str, dict)):
                    found.add("HoverTool(tooltips as HTML)")
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return sorted(found)


def bokeh_item(script: str) -> dict[str, Any] | None:
    """What `bokeh.embed.json_item` would give for the figure a notebook's `show()` output embeds
    ({doc, root_id, version}), read from the JSON literals in its script (`const docs_json = {...}`,
    `const render_items = [...]`) without running anything; None when the script holds no document."""
    found: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    for match in _BOKEH_JSON.finditer(script):
        try:
            found.setdefault(match.group(1), decoder.raw_decode(script, match.end())[0])
        except ValueError:
            return None
    docs, items = found.get("docs_json"), found.get("render_items")
    if not (isinstance(docs, dict) and isinstance(items, list) and items and isinstance(items[0], dict)):
        return None
    doc, roots = docs.get(items[0].get("docid")), items[0].get("root_ids")
    if not isinstance(doc, dict) or not isinstance(roots, list) or not roots or not isinstance(roots[0], str):
        return None
    return {"doc": doc, "root_id": roots[0], "version": doc.get("version")}


_SCRIPT_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_for_script(value: Any) -> str:
    """JSON to put inside <script type="application/json">: the same value to JSON.parse, but with no
    `<` (so no `</script>` or `<!--` can end or bend the element), no `>` or `&`."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(_SCRIPT_UNSAFE)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _saved_outputs(executed: ExecutedPost) -> bool:
    """An `execute: false` notebook post shown with the outputs saved in its file."""
    source = executed.source
    return (
        executed.status == "not-executed"
        and not source.execute
        and source.notebook is not None
        and executed.notebook is not None
        and any(cell.get("outputs") for cell in executed.notebook.cells if cell.cell_type == "code")
    )


def _environment(meta: Mapping[str, Any]) -> str | None:
    """Where a notebook's saved outputs were made, when its metadata says (Colab, Kaggle)."""
    if isinstance(meta.get("colab"), Mapping):
        colab = meta["colab"]
        accelerator = str(meta.get("accelerator") or "").upper()
        gpu = str(colab.get("gpuType") or "") if accelerator == "GPU" or colab.get("gpuType") else ""
        detail = " ".join(part for part in (accelerator or ("GPU" if gpu else ""), gpu) if part)
        return f"Google Colab ({detail})" if detail else "Google Colab"
    if isinstance(meta.get("kaggle"), Mapping):
        accelerator = str(meta["kaggle"].get("accelerator") or "")
        return f"Kaggle ({accelerator})" if accelerator and accelerator != "none" else "Kaggle"
    return None


def _site_path(path: Path, bundle_dir: Path | None) -> str:
    """A post file's path inside the site folder (posts/<name>.<ext> or posts/<name>/index.<ext>)."""
    posts = bundle_dir.parent if bundle_dir is not None else path.parent
    return path.relative_to(posts.parent).as_posix()


def _free_name(stem: str, suffix: str, taken: set[str]) -> str:
    name = f"{stem}{suffix}"
    while name in taken:
        stem += "-download"
        name = f"{stem}{suffix}"
    return name


def _language(nb: Any) -> str:
    meta = nb.get("metadata", {})
    return (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get("name") or "python"


_MAGIC_LANGS = {
    "bash": "bash",
    "sh": "bash",
    "script": "bash",
    "html": "html",
    "javascript": "javascript",
    "js": "javascript",
    "latex": "latex",
    "markdown": "markdown",
    "perl": "perl",
    "ruby": "ruby",
    "sql": "sql",
    "writefile": "",
}


def _split_cell_magic(source: str, language: str) -> tuple[str, str]:
    """`%%bash` cells (how jupytext stores ```bash blocks) show as bash code."""
    first, _, rest = source.partition("\n")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic in _MAGIC_LANGS and magic != "writefile":
            return rest, _MAGIC_LANGS[magic]
    return source, language


def _fold(content: str, kind: str, label: str) -> str:
    return f'<details class="fold {kind}"><summary>{html.escape(label)}</summary>{content}</details>'


def _declared_size(meta: Any) -> tuple[int, int] | None:
    if isinstance(meta, Mapping) and meta.get("width") and meta.get("height"):
        try:
            return int(meta["width"]), int(meta["height"])
        except (TypeError, ValueError):
            return None
    return None


_PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _raster_size(path: Path) -> tuple[int, int] | None:
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    # A PNG's size is in its first chunk: Pillow (tens of milliseconds to import) only for the others.
    if head.startswith(_PNG_HEAD) and len(head) == 24:
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        if width and height:
            return width, height
    from PIL import Image

    try:
        with Image.open(path) as image:  # reads the header only
            return image.size
    except (OSError, ValueError):
        return None


def _svg_size(path: Path) -> tuple[int, int] | None:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return None
    tag = _SVG_TAG.search(head)
    if not tag:
        return None
    attrs = dict(re.findall(r'([\w:-]+)\s*=\s*"([^"]*)"', tag.group(0)))
    width, height = _svg_length(attrs.get("width")), _svg_length(attrs.get("height"))
    if width and height:
        return round(width), round(height)
    box = (attrs.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        try:
            return round(float(box[2])), round(float(box[3]))
        except ValueError:
            return None
    return None


def _svg_length(value: str | None) -> float | None:
    match = _LENGTH.match(value or "")
    if not match:
        return None
    number = float(match.group(1))
    return number * 4 / 3 if match.group(2) == "pt" else number


def _alt_text(data: Mapping[str, Any]) -> str:
    plain = _text(data.get("text/plain", "")).strip()
    # Reprs like "<Figure size 640x480 with 1 Axes>" say nothing to a reader.
    return "" if not plain or plain.startswith("<") else plain[:200]


def _without_internal_cells(nb: Any) -> Any:
    import nbformat

    nb = nbformat.from_dict(copy.deepcopy(dict(nb)))
    nb.cells = [c for c in nb.cells if not cell_tags(c) & INTERNAL_CELL_TAGS]
    return nb


def _time(value: str) -> str | None:
    """A recorded time as shown (the runner records UTC), None when it is not one."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _bytes(value: Any) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} TiB"


def _device(device: Mapping[str, Any]) -> str:
    name = str(device.get("name") or "")
    if device.get("kind") == "gpu":
        peak, total = device.get("memory_peak_bytes"), device.get("memory_total_bytes")
        if peak is not None and total:
            return f"{name} (memory peak {_bytes(peak)} of {_bytes(total)})"
        return name
    return f"CPU ({name})" if name else "CPU"
