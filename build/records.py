"""The data types that cross stage boundaries.

    content.read_posts()              -> SourcePost      (a post as read)
    execution.execute_posts()         -> ExecutedPost    (a post with its executed notebook)
    convert.NotebookConverter.convert -> ConvertedPost   (the post body as HTML + its assets)
    pages.plan_site()                 -> Page objects ready to render

Each stage takes the previous stage's type and never reaches back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Cover:
    image: str
    alt: str = ""
    caption: str = ""


@dataclass(frozen=True)
class ExecutionFrontMatter:
    """The front matter keys the execution stage interprets, validated at read
    time (content/read.py); nothing outside content/ reads them from `params`.
    A list key given one value (`models: gpt2`) is a list of that one value."""

    models: tuple[str, ...] = ()  # model ids the post loads (models.resolve)
    parameters: dict[str, Any] = field(default_factory=dict)  # over the `parameters` cell's defaults
    inputs: tuple[str, ...] = ()  # paths or globs relative to the post's folder, checked to stay inside it
    timeout: float | None = None  # seconds for the whole post; None: the site's; 0: no limit
    cell_timeout: float | None = None  # seconds per cell; None: the site's; 0: no limit
    requires: tuple[Literal["gpu"], ...] = ()
    allow_errors: bool = False  # show tracebacks instead of failing
    warnings: bool | None = None  # show stderr outputs; None: the site's `execution.warnings`

    @property
    def gpu(self) -> bool:
        return "gpu" in self.requires


@dataclass(frozen=True)
class SourcePost:
    """A post as read from `posts/`: validated front matter plus the raw text."""

    path: Path  # the post file (posts/<name>.<ext> or posts/<name>/index.<ext>)
    name: str  # file stem, or the bundle folder's name
    text: str  # the file as Markdown with front matter (a notebook's: made from it), for errors and metrics
    body_start: int  # where `body` starts in `text`
    body_line: int  # 1-based line of `text` where `body` starts
    title: str
    date: datetime  # always time-zone aware (site time_zone applied when absent)
    lastmod: datetime | None
    draft: bool
    terms: dict[str, tuple[str, ...]]  # taxonomy (plural, e.g. "tags") -> the post's terms, for each one configured
    authors: tuple[str, ...]
    summary: str | None  # front matter summary (Markdown)
    description: str | None
    slug: str
    cover: Cover | None
    toc: bool | None  # None = follow the site setting
    hidden_in_list: bool
    aliases: tuple[str, ...]
    is_cjk: bool | None  # front matter isCJKLanguage; None = follow the site setting
    # Execution-related front matter (the execute stage interprets these).
    executable: bool  # front matter has Jupytext `jupyter.kernelspec`
    execute: bool  # front matter `execute` (default True)
    params: dict[str, Any]  # every front matter key as written, for templates (Hugo's .Params)
    run: ExecutionFrontMatter = field(default_factory=ExecutionFrontMatter)
    comments: bool = True  # front matter `comments: false` leaves the post without the comment thread
    bundle_dir: Path | None = None  # set for page bundles
    resources: tuple[Path, ...] = ()  # sibling files of a page bundle
    # The notebook as read (front matter cell removed, saved outputs kept) for the notebook
    # formats (.ipynb, .py, .Rmd, MyST); None: Jupytext reads `text` as Markdown.
    notebook: Any | None = None

    @property
    def body(self) -> str:
        """Markdown after the front matter: a part of `text`, not a copy held beside it (the posts
        a build reads, caches and passes between processes are half the size)."""
        return self.text[self.body_start :]

    @property
    def source_dir(self) -> Path:
        return self.path.parent

    @property
    def shown_path(self) -> str:
        """The path from the site folder (posts/x.md), for messages that outlive this machine's paths."""
        root = self.bundle_dir.parent if self.bundle_dir is not None else self.path.parent
        return (Path(root.name) / self.path.relative_to(root)).as_posix()


ExecutionStatus = Literal[
    "plain",  # not executable: Markdown only
    "executed",  # run in this build
    "frozen",  # rendered from the freeze (key unchanged)
    "stale-frozen",  # could not run here; last good frozen output shown
    "not-executed",  # execute: false, or no output available: code shown without outputs
    "failed",  # run failed (the build fails unless --keep-going)
]


@dataclass(frozen=True)
class ExecutedPost:
    """A post with its notebook: executed, restored from the freeze, or not run."""

    source: SourcePost
    status: ExecutionStatus
    notebook: Any | None = None  # nbformat.NotebookNode; None for plain posts
    # Files extracted from outputs (content-hash names) -> bytes location.
    asset_dir: Path | None = None
    provenance: dict[str, Any] | None = None
    stand_in_models: tuple[str, ...] = ()  # model ids served by offline stand-ins
    notice: str | None = None  # shown on the page (e.g. why it was not executed)


@dataclass(frozen=True)
class Asset:
    """A file published beside the page (bundle resource or extracted output)."""

    site_path: str  # path relative to the post's output folder
    source: Path


@dataclass(frozen=True)
class Notice:
    """A note above a post's content (theme: partials/notices.html)."""

    kind: Literal["stand-in", "not-executed"]
    models: tuple[str, ...] = ()  # stand-in: the model ids whose outputs a stand-in made
    text: str = ""  # not-executed: why, as the execute stage put it


@dataclass(frozen=True)
class Download:
    """A file of the post offered for download, beside its page."""

    kind: Literal["notebook", "source"]  # the theme labels it with its string `nb_<kind>`
    href: str  # relative to the page
    suffix: str = ".ipynb"  # the file's extension, shown in the label


@dataclass(frozen=True)
class Link:
    """Where a reader can run or read the post's notebook (theme: its string `nb_link_<kind>`)."""

    kind: Literal["colab", "github"]
    href: str  # absolute


@dataclass(frozen=True)
class Provenance:
    """How and where a post's outputs were made (theme: partials/provenance.html).
    Values are display text; None leaves the row out."""

    executed_at: str | None = None  # as recorded (ISO 8601)
    executed_at_text: str | None = None  # e.g. "2024-05-06 07:08 UTC"; None when executed_at is not a date
    duration: str | None = None  # e.g. "1 min 16 s"
    device: str | None = None  # e.g. "NVIDIA H200 (memory peak 3.0 GiB of 140.0 GiB)"
    versions: tuple[str, ...] = ()  # e.g. ("Python 3.11.7", "torch 2.3.0")
    profile: str | None = None
    downloads: tuple[Download, ...] = ()
    outputs: Literal["executed", "saved"] | None = None  # run by the build, or as saved in the notebook
    environment: str | None = None  # where saved outputs were made, when the notebook says (e.g. Google Colab)
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Heading:
    """A heading of the post's content, for its table of contents."""

    level: int
    id: str
    text: str


@dataclass(frozen=True)
class ConvertedPost:
    """The post body as HTML, ready for metrics and templates."""

    executed: ExecutedPost
    html: str  # the author's content: what Hugo's counts and summaries are computed over
    headings: tuple[Heading, ...] = ()
    summary_html: str | None = None  # front matter `summary`, rendered; None when absent
    notices: tuple[Notice, ...] = ()  # stand-in banner, not-executed notice: shown above the content
    provenance: Provenance | None = None  # how and where the post ran: shown below the content
    has_math: bool = False
    has_code: bool = False
    assets: tuple[Asset, ...] = ()
    warnings: tuple[str, ...] = ()  # `path[:line]: what and the fix`, printed by every build that shows the post


# Field metadata of a build option that cannot change what a build writes.
OUTPUT_NEUTRAL = {"affects_output": False}


@dataclass(frozen=True)
class BuildOptions:
    """What one build is asked to do (the command line, `serve`, the dev tools).

    Every field is part of the no-op stamp (incremental/stamp.py: a build with
    other options is a different build) unless its metadata is OUTPUT_NEUTRAL,
    so a new option is covered unless it says it cannot change the output."""

    site_dir: Path = field(metadata=OUTPUT_NEUTRAL)  # the stamp is kept in it
    out_dir: Path
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    search_index: bool = True
    live_reload_script: str | None = None  # injected by `serve`
    quiet: bool = field(default=False, metadata=OUTPUT_NEUTRAL)
    # a process that builds again and again (`serve`): keeps the post views in memory between builds
    resident: bool = field(default=False, metadata=OUTPUT_NEUTRAL)
    # `serve`: kernels kept ready for the posts edited last, their setup run ahead (execution/warm.py); 0 = none
    warm_kernels: int = field(default=0, metadata=OUTPUT_NEUTRAL)
    # Execution
    execute: bool = True  # False: render executable posts from the freeze only
    profile: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # `-p`, typed by execution.keys.parse_assignments
    only_posts: frozenset[str] = frozenset()
    force: bool = False
    # A build with failures is stamped only when it succeeds, and then it wrote what it would have.
    keep_going: bool = field(default=False, metadata=OUTPUT_NEUTRAL)
    jobs: int | None = field(default=None, metadata=OUTPUT_NEUTRAL)
    shard: tuple[int, int] | None = None


def output_options(opts: BuildOptions) -> dict[str, Any]:
    """The options that can change what a build writes: name -> value."""
    return {f.name: getattr(opts, f.name) for f in fields(opts) if f.metadata.get("affects_output", True)}
