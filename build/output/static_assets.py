"""The theme's static files: stylesheets and scripts fitted to the pages that
use them, and everything else in theme/static copied as is.

Pages are rendered with placeholders for the stylesheet and script URLs
(`ThemeAssets.urls`); `use(text)` reads what a rendered page holds,
`stylesheets(by_kind)` and `script_url(scripts)` write the assets, and
`fill_page(data, css_url, js_url)` puts their URLs in:

- one stylesheet per page kind (home, post, term, ...): the theme CSS plus the
  code styles (light, and dark under `[data-theme=dark]`, see convert/highlight.py),
  keeping the rules that may apply to at least half the pages of the kind and the
  small ones any of its pages may use (see `purge`), so a reader's cache serves it
  from page to page; a page that needs a large rule beyond those gets a stylesheet
  fitted to it alone. Each sheet has the selectors and custom properties the pages
  that link it may use (see `purge`);
- one script per set of theme scripts a page needs: a file in theme/static/js
  whose first line is `// needs: SELECTORS` is included where one of the
  selectors may match, any other file on every page.

Both are minified and named by a fingerprint of their bytes, so a changed file
gets a new URL and caches never serve an old one.

Libraries (Plotly, Vega, BokehJS) are never part of those: a theme script names one as
the string `execblog-vendor:<file>` and gets its URL there, and the library is
written as it is, fingerprinted, to `assets/vendor/` only when a page's
scripts name it. `<file>` is read from theme/static/vendor/ (generated from
pinned npm packages by tools/vendor_js.py) or, for `PACKAGE_LIBRARIES`, from
the installed PyPI package that wrote the outputs, so the two always match.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import rjsmin

from execblog.config import SiteConfig
from execblog.convert.highlight import code_style
from execblog.errors import BuildError
from execblog.output.purge import (
    html_tokens,
    parsed_stylesheet,
    script_tokens,
    selector_requirements,
    with_ids_from_scripts,
)
from execblog.output.write import SiteWriter
from execblog.pages.plan import SiteUrls

# Placeholders the templates receive as `static.css` / `static.js`: URL-safe, so escaping keeps them as they are.
CSS_SLOT = "execblog-asset-slot-css"
JS_SLOT = "execblog-asset-slot-js"
# A rule this small goes in its page kind's shared stylesheet even when few of its pages need it:
# fitting a page a sheet of its own for it would cost its readers the whole sheet on every visit.
SMALL_RULE = 160  # bytes, minified: a code colour's rule, a figure caption's; not a component's
_CSS_SLOT_BYTES, _JS_SLOT_BYTES = CSS_SLOT.encode(), JS_SLOT.encode()
_NEEDS = re.compile(r"\A\s*//\s*needs:(.*)")
_VENDOR_REF = re.compile(r"execblog-vendor:([\w.-]+)")
# Libraries taken from an installed Python package: file -> (package, path inside it).
PACKAGE_LIBRARIES: dict[str, tuple[str, str]] = {
    "plotly.min.js": ("plotly", "package_data/plotly.min.js"),
    "bokeh.min.js": ("bokeh", "server/static/js/bokeh.min.js"),
}


@dataclass(frozen=True)
class PageUse:
    """What a rendered page holds that the theme's assets care about."""

    tokens: frozenset[str]  # selector tokens present (see purge), the chosen scripts' words included
    scripts: tuple[int, ...]  # indexes into ThemeAssets.scripts


@dataclass(frozen=True)
class Script:
    name: str
    text: str  # minified
    needs: tuple[frozenset[str], ...] | None  # None: every page
    tokens: frozenset[str]


class ThemeAssets:
    def __init__(self, writer: SiteWriter, site_dir: Path, config: SiteConfig, cache_dir: Path | None = None):
        """`cache_dir`: where the parsed stylesheet is kept between builds (none: parsed every time)."""
        static_dir = site_dir / "theme" / "static"
        self.vendor_dir = static_dir / "vendor"
        self.writer = writer
        self.base_path = SiteUrls(config.base_url).base_path
        self.stylesheet = parsed_stylesheet(full_css(static_dir, config), cache_dir)
        self.scripts = [_script(p) for p in sorted((static_dir / "js").glob("*.js"))]
        needed = set(self.stylesheet.tokens)
        for script in self.scripts:
            for need in script.needs or ():
                needed |= need
        self.relevant = frozenset(needed)
        self._written: dict[bytes, str] = {}
        self._script_urls: dict[tuple[int, ...], str] = {}
        self._sizes: dict[int, int] = {}  # a rule's bytes, written alone (see stylesheets)
        for path in sorted(static_dir.rglob("*")):
            rel = path.relative_to(static_dir).as_posix()
            if path.is_file() and not rel.startswith(("css/", "js/", "vendor/")):
                writer.copy_file(rel, path)

    @property
    def urls(self) -> dict[str, str]:
        return {"css": CSS_SLOT, "js": JS_SLOT}

    def use(self, text: str) -> PageUse | None:
        """What page `text` needs; None for a file without asset links (feeds, sitemap, redirects).
        Pure and picklable: it runs in the render workers."""
        if CSS_SLOT not in text and JS_SLOT not in text:
            return None
        tokens = html_tokens(text)
        chosen = tuple(
            i for i, s in enumerate(self.scripts) if s.needs is None or any(need <= tokens for need in s.needs)
        )
        for i in chosen:
            tokens |= self.scripts[i].tokens
        return PageUse(frozenset(with_ids_from_scripts(tokens) & self.relevant), chosen)

    def stylesheets(self, by_kind: dict[str, list[frozenset[str]]]) -> dict[str, dict[frozenset[str], str]]:
        """Page kind -> {a page's tokens: the URL of its stylesheet}, written here. `by_kind`: the
        tokens of each page of the kind (see PageUse).

        A kind's stylesheet holds the rules at least half of its pages need and every small rule
        (SMALL_RULE) any of them needs, so a reader's cache serves it from page to page; a page
        that needs a large rule it lacks (a feature few pages use) gets a sheet fitted to that page
        instead (shared by the pages that need the same rules). A page links one stylesheet, an
        ordered part of the theme's: the cascade is the whole one's. A sheet's rules keep the
        selectors that may match one of the pages that link it."""
        urls: dict[str, dict[frozenset[str], str]] = {}
        for kind, pages in sorted(by_kind.items()):
            alike = Counter(pages)  # a kind's pages have a few distinct token sets
            needs = {tokens: self.stylesheet.used(tokens) for tokens in alike}
            counts: Counter[int] = Counter()
            for tokens, n in alike.items():
                for rule in needs[tokens]:
                    counts[rule] += n
            common = frozenset(
                rule for rule, n in counts.items() if 2 * n >= len(pages) or self._rule_bytes(rule) <= SMALL_RULE
            )
            sheets: dict[frozenset[int], set[str]] = {}  # a sheet's rules -> the tokens of the pages that link it
            for tokens, rules in needs.items():
                sheets.setdefault(common if rules <= common else rules, set()).update(tokens)
            written = {rules: self._stylesheet(rules, frozenset(tokens)) for rules, tokens in sheets.items()}
            urls[kind] = {tokens: written[common if rules <= common else rules] for tokens, rules in needs.items()}
        return urls

    def _rule_bytes(self, rule: int) -> int:
        if rule not in self._sizes:
            self._sizes[rule] = len(minify_css(self.stylesheet.write(frozenset({rule}))))
        return self._sizes[rule]

    def _stylesheet(self, rules: frozenset[int], tokens: frozenset[str]) -> str:
        css = minify_css(self.stylesheet.write(rules, tokens))
        return self._write("css/stylesheet", "css", css.encode("utf-8"))

    def script_url(self, scripts: tuple[int, ...]) -> str:
        """The URL of the script made of theme scripts `scripts` (see PageUse), written here."""
        if scripts not in self._script_urls:
            bundle = "".join(self.scripts[i].text for i in scripts)
            bundle = _VENDOR_REF.sub(lambda m: self._library(m.group(1)), bundle)
            self._script_urls[scripts] = self._write("js/main", "js", bundle.encode("utf-8"))
        return self._script_urls[scripts]

    @staticmethod
    def fill_page(data: bytes, css_url: str, js_url: str) -> bytes:
        """A page's UTF-8 bytes, as rendered, with its stylesheet's URL (see `stylesheets`) and its
        script's (`script_url`) put in. Pure (the URLs, and their files, are made before): it runs
        in the render workers. A page without asset links (`use` None) is written as rendered."""
        # the first occurrence is the <head>'s link; a page's text could quote the placeholder later on
        return data.replace(_CSS_SLOT_BYTES, css_url.encode("utf-8"), 1).replace(
            _JS_SLOT_BYTES, js_url.encode("utf-8"), 1
        )

    def _library(self, name: str) -> str:
        """The URL of a library a theme script names, written once."""
        stem, _, suffix = name.rpartition(".")
        licences = self.vendor_dir / f"{name.split('.')[0]}.LICENSES.txt"
        if licences.is_file():  # beside the library, as its header says
            self.writer.copy_file(f"assets/vendor/{licences.name}", licences)
        return self._write(f"vendor/{stem}", suffix, library_file(self.vendor_dir, name).read_bytes())

    def _write(self, stem: str, suffix: str, data: bytes) -> str:
        if data not in self._written:
            name = f"assets/{stem}.{fingerprint(data)}.{suffix}"
            self.writer.write_bytes(name, data)
            self._written[data] = self.base_path + name
        return self._written[data]


def library_file(vendor_dir: Path, name: str) -> Path:
    """Where library `name` is read from: the installed package that ships it, else theme/static/vendor/."""
    if name in PACKAGE_LIBRARIES:
        package, inside = PACKAGE_LIBRARIES[name]
        spec = importlib.util.find_spec(package)
        roots = list(spec.submodule_search_locations or []) if spec else []
        for root in roots:
            if (Path(root) / inside).is_file():
                return Path(root) / inside
        raise BuildError(
            f"a page shows a chart that needs {name}, which comes from the Python package `{package}`, not installed",
            hint=f"install the pinned version: pip install -r requirements.lock (it lists {package})",
        )
    path = vendor_dir / name
    if not path.is_file():
        raise BuildError(
            f"a theme script names the library {name}, which is not in theme/static/vendor/",
            path=vendor_dir,
            hint="run tools/vendor_js.py after `npm ci`, or fix the script",
        )
    return path


def full_css(static_dir: Path, config: SiteConfig) -> str:
    """The whole theme stylesheet, before fitting: theme/static/css/*.css and the Pygments styles."""
    parts = [p.read_text(encoding="utf-8") for p in sorted((static_dir / "css").glob("*.css"))]
    parts.append(code_style(config.markup.light_style, config.markup.dark_style).css())
    return "\n".join(parts)


def full_js(static_dir: Path) -> str:
    """Every theme script, as one page that needs them all would load them."""
    return "".join(_script(p).text for p in sorted((static_dir / "js").glob("*.js")))


def _script(path: Path) -> Script:
    text = path.read_text(encoding="utf-8")
    match = _NEEDS.match(text)
    # no `needs:` line, or selectors the parser cannot read: the script goes on every page
    needs = selector_requirements(match.group(1).strip()) if match else None
    text = minify_js(text)
    return Script(path.name, text, tuple(needs) if needs is not None else None, frozenset(script_tokens(text)))


# Strings and comments first, so nothing is changed inside a string.
_CSS_PART = re.compile(r"(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')|/\*.*?\*/", re.S)
_CSS_SPACE = re.compile(r"\s+")
_CSS_PUNCT = re.compile(r"\s*([{};,>])\s*")
_CSS_COLON = re.compile(r":\s+")  # after a colon only: `a :hover` differs from `a:hover`


def fingerprint(data: bytes) -> str:
    """Part of the file name: a changed file gets a new URL, so caches never serve an old one."""
    return hashlib.sha256(data).hexdigest()[:10]


def minify_css(css: str) -> str:
    """Comments and the whitespace no token needs out (around `{};,>`, after `:`,
    the last `;` of a block); strings as they are."""
    out, text, start = [], [], 0
    for match in _CSS_PART.finditer(css):
        text.append(css[start : match.start()])
        start = match.end()
        if match.group(1):
            out += [_squeeze("".join(text)), match.group(1)]
            text = []
        else:
            text.append(" ")  # a comment separates tokens as a space does
    text.append(css[start:])
    out.append(_squeeze("".join(text)))
    return "".join(out).strip() + "\n"


def _squeeze(css: str) -> str:
    css = _CSS_PUNCT.sub(r"\1", _CSS_SPACE.sub(" ", css))
    return _CSS_COLON.sub(":", css).replace(";}", "}")


def minify_js(js: str) -> str:
    """Comments and the whitespace no token needs out (rjsmin: strings, regular expressions
    and the line breaks that end a statement are kept as they are)."""
    return rjsmin.jsmin(js).strip() + "\n"
