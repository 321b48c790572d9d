"""The theme's static files: the fingerprinted stylesheet (theme CSS + the
Pygments styles for code, light and dark) and script, and everything else in
theme/static copied as is."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from execblog.config import SiteConfig
from execblog.convert.markdown import pygments_css
from execblog.pages.plan import SiteUrls
from execblog.output.write import SiteWriter


def write_static(writer: SiteWriter, site_dir: Path, config: SiteConfig) -> dict[str, str]:
    """Copy theme/static and write the fingerprinted stylesheet and script."""
    static_dir = site_dir / "theme" / "static"
    urls: dict[str, str] = {}
    base_path = SiteUrls(config.base_url).base_path
    css_parts = [p.read_text(encoding="utf-8") for p in sorted((static_dir / "css").glob("*.css"))]
    css_parts.append(pygments_css(config.markup.light_style, config.markup.dark_style))
    css = minify_css("\n".join(css_parts)).encode("utf-8")
    css_name = f"assets/css/stylesheet.{fingerprint(css)}.css"
    writer.write_bytes(css_name, css)
    urls["css"] = base_path + css_name
    js_parts = [p.read_text(encoding="utf-8") for p in sorted((static_dir / "js").glob("*.js"))]
    js = minify_js("\n".join(js_parts)).encode("utf-8")
    js_name = f"assets/js/main.{fingerprint(js)}.js"
    writer.write_bytes(js_name, js)
    urls["js"] = base_path + js_name
    for path in sorted(static_dir.rglob("*")):
        rel = path.relative_to(static_dir).as_posix()
        if path.is_file() and not rel.startswith(("css/", "js/")):
            writer.copy_file(rel, path)
    return urls


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_SPACE = re.compile(r"\s+")
_CSS_PUNCT = re.compile(r"\s*([{};,])\s*")


def fingerprint(data: bytes) -> str:
    """Part of the file name: a changed file gets a new URL, so caches never serve an old one."""
    return hashlib.sha256(data).hexdigest()[:10]


def minify_css(css: str) -> str:
    """Comments and whitespace out; nothing that could change a selector."""
    css = _CSS_COMMENT.sub("", css)
    css = _CSS_SPACE.sub(" ", css)
    return _CSS_PUNCT.sub(r"\1", css).strip() + "\n"


def minify_js(js: str) -> str:
    """Whole-line comments and indentation out (the theme's script has no
    multi-line strings, so lines are kept as they are otherwise)."""
    lines = (line.strip() for line in js.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"
