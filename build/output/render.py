"""Stage 4b: render planned pages with the theme's Jinja templates.

One Environment per build (templates compile once). Autoescape is on for
HTML and XML; templates receive computed values and only lay them out.

`render_recorded(page)` also returns which fields of which posts the page's
templates read (every attribute or item a template takes from a `PostView`,
filters such as `map(attribute=...)` included): the incremental build
re-renders a page only when one of those fields, or the page's own context,
changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from execblog.config import SiteConfig
from execblog.errors import BuildError
from execblog.i18n import Translator
from execblog.pages.plan import META_DESCRIPTION_CHARS, Page, PostView, SiteUrls, menu_links, shorten

# (post name, field) pairs a page's templates read from post views
Reads = frozenset[tuple[str, str]]


class _RecordingEnvironment(jinja2.Environment):
    """Jinja's attribute and item lookups, noting each post field read into `reads` (when set)."""

    reads: set[tuple[str, str]] | None = None

    def getattr(self, obj: Any, attribute: str) -> Any:
        if self.reads is not None and isinstance(obj, PostView):
            self.reads.add((obj.name, attribute))
        try:  # Jinja's own first step, here without a second call for each of a page's lookups
            return getattr(obj, attribute)
        except AttributeError:
            return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if self.reads is not None and isinstance(obj, PostView) and isinstance(argument, str):
            self.reads.add((obj.name, argument))
        return super().getitem(obj, argument)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as a plain dict (the template's own over the environment's), not
        Jinja's ChainMap: Jinja copies them into a new context for each page and each include,
        and copying a ChainMap cost a tenth of rendering. The environment's globals are all set
        before the first template loads (PageRenderer.__init__), so the copy misses nothing."""
        return {**self.globals, **(d or {})}


def _rfc822(value: datetime) -> str:
    return format_datetime(value)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


class PageRenderer:
    def __init__(
        self,
        config: SiteConfig,
        translator: Translator,
        theme_dir: Path,
        static_urls: dict[str, str],
        layouts_dir: Path | None = None,
        cache_dir: Path | None = None,
    ):
        """`cache_dir`: where compiled templates are kept between builds (none: compiled every build)."""
        self.theme_dir = theme_dir
        # Hugo's lookup: a site's layouts/<path> wins over the theme's templates/<path>
        # (e.g. layouts/partials/comments.html), so a site changes one partial without forking the theme.
        folders = ([str(layouts_dir)] if layouts_dir is not None else []) + [str(theme_dir / "templates")]
        self.env = _RecordingEnvironment(
            loader=jinja2.FileSystemLoader(folders),
            autoescape=jinja2.select_autoescape(("html", "xml"), default_for_string=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            bytecode_cache=_bytecode_cache(cache_dir) if cache_dir is not None else None,
            # one Environment per build: a template is read once, not checked on disk at each include
            auto_reload=False,
        )
        # JSON-LD with Japanese text as characters, not 6-byte \u escapes, and no spaces after , and :
        self.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}
        self.env.filters["rfc822"] = _rfc822
        self.env.filters["iso"] = _iso
        urls = SiteUrls(config.base_url)
        self.env.globals.update(
            site=config,
            t=translator,
            url=urls.url,
            absurl=urls.absolute,
            static=static_urls,
            menu=menu_links(config, urls),
            site_description=shorten(config.description, META_DESCRIPTION_CHARS, False, "…"),
            build_year=datetime.now(UTC).year,
        )

    def render_recorded(self, page: Page) -> tuple[str, Reads]:
        """The page's text and the post fields its templates read."""
        self.env.reads = set()
        try:
            text = self.render(page)
            return text, frozenset(self.env.reads)
        finally:
            self.env.reads = None

    def render(self, page: Page) -> str:
        try:
            template = self.env.get_template(page.template)
            return template.render(page=page, **page.template_values())
        except jinja2.TemplateSyntaxError as exc:
            raise BuildError(
                f"template error: {exc.message}", exc.filename or page.template, exc.lineno, "fix the template syntax"
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise BuildError(
                f"template not found: {exc.name}",
                self.theme_dir / "templates",
                hint="add the template to theme/templates/",
            ) from None
        except jinja2.UndefinedError as exc:
            line = _template_line(exc)
            raise BuildError(
                f"template error while rendering {page.output}: {exc.message}",
                line[0] if line else self.theme_dir / "templates" / page.template,
                line[1] if line else None,
                "the template uses a value the page does not have",
            ) from None


def _bytecode_cache(cache_dir: Path) -> jinja2.BytecodeCache:
    """Compiled templates by their source (Jinja checks it), in a folder per version of this
    module, whose Environment settings shape the compiled code."""
    key = hashlib.sha256(Path(__file__).read_bytes() + jinja2.__version__.encode()).hexdigest()[:16]
    folder = cache_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    return jinja2.FileSystemBytecodeCache(str(folder))


def _template_line(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template frame of a render error, as (file, line)."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith((".html", ".xml", ".txt")):
            found = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
