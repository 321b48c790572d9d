"""Browser-test plumbing: Debian's Chromium through Playwright, a local server
for a built site, build helpers, axe-core, the Nu validator and a link crawler.

Shared by tests/test_browser*.py and tools/screenshots.py. Nothing here is
downloaded: Chromium is /usr/bin/chromium (apt), axe-core and vnu-jar come
from node_modules (npm ci), the Japanese font from fonts-noto-cjk.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.error import HTTPError
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import urlopen

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# The closed network makes Chromium stall on its background services without these.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def missing_tools() -> list[str]:
    """What the browser tests need and this machine lacks (`make install` brings it)."""
    missing = []
    if not Path(CHROMIUM).is_file():
        missing.append("chromium (apt-get install chromium)")
    if not AXE_JS.is_file() or not VNU_JAR.is_file():
        missing.append("axe-core / vnu-jar (npm ci)")
    if not shutil.which("java"):
        missing.append("java (apt-get install default-jre-headless)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    return missing


def require_tools() -> None:
    """Fail, naming what is missing: `make test` installs all of it first."""
    import pytest

    missing = missing_tools()
    if missing:
        pytest.fail("browser test tools missing: " + ", ".join(missing) + " (run `make install`)")


# --- building ------------------------------------------------------------------------
def build(
    site_dir: Path, out_dir: Path, base_url: str, *flags: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`execblog build` in a subprocess (the installed package, or PYTHONPATH's)."""
    cmd = [
        sys.executable,
        "-m",
        "execblog.commands.cli",
        "build",
        "-s",
        str(site_dir),
        "-d",
        str(out_dir),
        "--base-url",
        base_url,
        *flags,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"build of {site_dir} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


# --- serving -------------------------------------------------------------------------
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".xml", ".svg", ".txt")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built folder under a base path, like GitHub Pages: text
    gzip-compressed for clients that accept it, a missing file answered 404
    with the site's 404.html."""

    prefix = "/"
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".xml": "application/xml",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
    }

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def translate_path(self, path: str) -> str:
        clean = urlsplit(path).path
        if not clean.startswith(self.prefix):
            return os.path.join(self.directory, ".outside-base-path")
        return super().translate_path("/" + clean[len(self.prefix) :])

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if not path.exists() or (path.is_dir() and not (path / "index.html").is_file()):
            return self._not_found()
        if path.is_dir() and urlsplit(self.path).path.endswith("/"):
            path = path / "index.html"
        if path.is_file() and path.suffix in COMPRESSIBLE and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(path.read_bytes(), compresslevel=6)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
            return io.BytesIO(body)
        return super().send_head()

    def _not_found(self):
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class SiteServer:
    """A threaded http.server on 127.0.0.1:<free port> serving `directory`
    under `prefix` (e.g. "/blog/"). The folder may be filled after start."""

    def __init__(self, directory: Path, prefix: str = "/"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"prefix": prefix})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(self.directory))
        )
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.base_url = self.origin + prefix
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- the browser ---------------------------------------------------------------------
@contextmanager
def chromium(user_data_dir: Path, **options) -> Iterator:
    """A persistent Chromium context launched the only way that works offline here."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
            device_scale_factor=1,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            **options,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium per test module (registered for every module in conftest.py)."""
    require_tools()
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@dataclass
class Probe:
    """What went wrong while a page loaded: console errors, uncaught
    exceptions, failed or 4xx/5xx requests, requests leaving the site."""

    origin: str
    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    requests: list = field(default_factory=list)

    def attach(self, page) -> Probe:
        page.on(
            "console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        page.on("request", self._request)
        return self

    def _request(self, request) -> None:
        self.requests.append(request)
        if urlsplit(request.url).scheme in ("http", "https", "ws", "wss") and not request.url.startswith(
            self.origin + "/"
        ):
            self.external.append(request.url)

    def _response(self, response) -> None:
        if response.status >= 400:
            kind = "document" if response.request.resource_type == "document" else "resource"
            self.failed.append(f"{response.status} {kind} {response.url}")

    def _request_failed(self, request) -> None:
        # A navigation that replaces a pending one aborts it: not a failure of the site.
        if request.failure and "ERR_ABORTED" in request.failure and request.resource_type == "document":
            return
        self.failed.append(f"{request.failure} {request.url}")

    def problems(self, allow_404_page: bool = False) -> list[str]:
        """Everything that went wrong; with `allow_404_page`, the page itself
        answering 404 (and Chromium's console line about it) is expected."""
        failed, console = self.failed, self.console
        if allow_404_page:
            failed = [f for f in failed if not f.startswith("404 document ")]
            if not any(f.startswith("404 ") for f in failed):
                console = [c for c in console if "status of 404" not in c]
        return console + failed + [f"external request: {u}" for u in self.external]


def open_page(context, url: str, *, scheme: str = "light", viewport: dict | None = None, wait: str = "load"):
    """A new tab with a probe attached, colour scheme and viewport set, at `url`."""
    page = context.new_page()
    probe = Probe(urlsplit(url).scheme + "://" + urlsplit(url).netloc).attach(page)
    page.emulate_media(color_scheme=scheme)
    if viewport:
        page.set_viewport_size(viewport)
    page.goto(url, wait_until=wait)
    return page, probe


def axe(
    page, tags: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
) -> list[dict]:
    """axe-core's violations on the page as it is now (injected from node_modules)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,
                                      html: n.html.slice(0, 200)}))}));
    }""",
        list(tags),
    )
    return result


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for n in v["nodes"][:6]:
            lines.append(f"    {n['target']}: {(n['summary'] or '').splitlines()[-1] if n['summary'] else ''}")
            lines.append(f"      {n['html']}")
    return "\n".join(lines)


def vnu(files: list[Path]) -> list[dict]:
    """The Nu HTML checker's errors for `files` (one JVM for all of them)."""
    if not files:
        return []
    proc = subprocess.run(
        [
            "java",
            "-Xss8m",
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            "--exit-zero-always",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stderr.strip() or proc.stdout.strip()
    if not out:
        return []
    return [m for m in json.loads(out).get("messages", []) if m.get("type") in ("error", "non-document-error")]


WIRE_BYTES = """() => {
    // bytes on the wire (gzip, as GitHub Pages serves them) of the page, its CSS and its JS
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource').filter(r => ['link', 'script', 'css'].includes(r.initiatorType)
        && /\\.(css|js)(\\?|$)/.test(r.name));
    return {html: nav.encodedBodySize, decoded: nav.decodedBodySize,
            assets: res.map(r => [r.name, r.encodedBodySize, r.decodedBodySize]),
            blocking: performance.getEntriesByType('resource')
                .filter(r => r.renderBlockingStatus === 'blocking').map(r => r.name)};
}"""


def wire_weight(page) -> tuple[int, dict]:
    sizes = page.evaluate(WIRE_BYTES)
    return sizes["html"] + sum(enc for _, enc, _ in sizes["assets"]), sizes


# --- crawling ------------------------------------------------------------------------
LINK_XPATH = (
    "//a/@href | //link/@href | //img/@src | //script/@src | //source/@src | //iframe/@src | "
    "//img/@srcset | //source/@srcset | //video/@poster | //form/@action | "
    # what a link preview fetches: the social card must be served too
    "//meta[@property='og:image']/@content | //meta[@name='twitter:image']/@content"
)


@dataclass
class CrawlResult:
    pages: dict[str, str] = field(default_factory=dict)  # url -> html of every internal HTML page reached
    resources: dict[str, int] = field(default_factory=dict)  # url -> status of everything else linked
    broken: list[str] = field(default_factory=list)  # "status url (linked from page)"
    external: list[str] = field(default_factory=list)  # links to other hosts (allowed as <a>, listed)
    missing_fragments: list[str] = field(default_factory=list)


def _fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urlopen(url, timeout=15) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), b""


def crawl(base_url: str, start: tuple[str, ...] = ("", "404.html", "sitemap.xml", "index.xml")) -> CrawlResult:
    """Follow every internal link from the home page (and the 404 page, the
    sitemap and the feed) over HTTP; check that each page, image, stylesheet
    and script answers 200 and that each #fragment names an element."""
    from lxml import etree
    from lxml import html as lhtml

    res = CrawlResult()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    queue = [urljoin(base_url, s) for s in start]
    seen = set(queue)
    linked_from: dict[str, str] = {u: "(start)" for u in queue}
    fragments: list[tuple[str, str, str]] = []  # (page url, fragment, linked from)
    ids: dict[str, set[str]] = {}
    with ThreadPoolExecutor(8) as pool:
        while queue:
            batch, queue = queue, []
            for url, (status, ctype, body) in zip(batch, pool.map(_fetch, batch), strict=True):
                if status != 200 and not url.endswith("404.html"):
                    res.broken.append(f"{status} {url} (linked from {linked_from.get(url)})")
                    continue
                if "html" not in ctype and not url.endswith(".xml"):
                    res.resources[url] = status
                    continue
                refs: list[str] = []
                if url.endswith(".xml"):
                    tree = etree.fromstring(body)
                    refs = [
                        e.text.strip()
                        for e in tree.iter()
                        if isinstance(e.tag, str)
                        and e.tag.rsplit("}", 1)[-1] in ("loc", "link")
                        and e.text
                        and e.text.strip()
                    ]
                    res.resources[url] = status
                else:
                    text = body.decode("utf-8")
                    res.pages[url] = text
                    doc = lhtml.fromstring(body)
                    ids[url] = set(doc.xpath("//@id")) | set(doc.xpath("//a/@name"))
                    for value in doc.xpath(LINK_XPATH):
                        if value.attrname == "srcset":
                            refs += [part.strip().split()[0] for part in value.split(",") if part.strip()]
                        else:
                            refs.append(value)
                for ref in refs:
                    if ref.startswith(("mailto:", "tel:", "javascript:", "data:")):
                        continue
                    target = urljoin(url, ref)
                    bare, frag = urldefrag(target)
                    if not bare.startswith(origin + "/"):
                        if urlsplit(bare).scheme in ("http", "https"):
                            res.external.append(f"{target} (on {url})")
                        continue
                    if not bare.startswith(base_url):
                        res.broken.append(f"outside base path: {target} (on {url})")
                        continue
                    if frag:
                        fragments.append((bare, unquote(frag), url))
                    if bare not in seen:
                        seen.add(bare)
                        linked_from[bare] = url
                        queue.append(bare)
    for page_url, frag, source in fragments:
        if page_url in ids and frag not in ids[page_url] and frag != "top":
            res.missing_fragments.append(f"#{frag} on {page_url} (linked from {source})")
    return res


# --- the sites under test ----------------------------------------------------------------
# A fixture site whose posts cover every feature a page can show (code, math,
# TOC, tables, bundle images, a notebook with a pandas table and a heatmap,
# three list pages), and the repository's own site as readers get it.
FIXTURE_CONFIG = """\
title: ML Blog
description: 機械学習の実験ノート
base_url: https://example.github.io/ml-blog/
language: ja
time_zone: Asia/Tokyo
author: Me
date_format: "January 2, 2006"
summary_length: 70
paginate: 3
home_info:
  title: ML Blog
  content: 機械学習の実験ノート
menu:
  - {name: アーカイブ, url: /archives/, weight: 10}
  - {name: 検索, url: /search/, weight: 20}
  - {name: タグ, url: /tags/, weight: 30}
markup:
  math: true
  light_style: default
  dark_style: github-dark
"""

# Words the search tests look for: each appears in exactly one post.
JA_WORD, JA_POST = "量子化誤差", "code-math"
EN_WORD, EN_POST = "tokenizer", "english-notes"
NO_SUCH_WORD = "xyzzyplugh"

FIXTURE_POSTS: dict[str, tuple[str, str]] = {
    "code-math.md": (
        """
        title: コードと数式:量子化の実験
        date: 2025-04-20T10:00:00+09:00
        tags: [Python, 数式]
        toc: true
    """,
        """
        量子化のメモです。重みを8ビットにしたときの量子化誤差を測ります。[図の記事](../figures/)も参照してください。

        ## 準備

        次のコードで重みを量子化します[^1]。

        ```python
        import numpy as np

        # 重みを int8 に量子化する(対称量子化)
        def quantize(w: np.ndarray, bits: int = 8) -> np.ndarray:
            scale = np.abs(w).max() / (2 ** (bits - 1) - 1)  # スケール
            return np.round(w / scale).astype(np.int8), scale
        very_long_line = "この行はとても長いので横スクロールが必要になるはずです。" * 4 + "end of the very long line of code"
        ```

        ## 誤差の式

        誤差は $e = w - \\hat{w}$ で、平均二乗誤差は次のとおりです。

        $$\\mathrm{MSE} = \\frac{1}{n} \\sum_{i=1}^{n} (w_i - \\hat{w}_i)^2$$

        ### 結果の表

        | ビット数 | MSE | 備考 |
        |---:|---:|---|
        | 8 | 0.0012 | ほぼ劣化なし |
        | 4 | 0.0210 | `group_size=128` |

        > 量子化は推論を速くしますが、精度とのトレードオフがあります。

        ## まとめ

        - 8ビットでは誤差が小さい
        - 4ビットでは工夫が必要
          - グループごとのスケール

        とても長い URL の例: https://example.com/a/very/long/path/that/should/wrap/on/a/phone/screen/without/overflowing/the/page/at/all

        ## 参考

        以下はページを長くするための段落です。目次のリンクで見出しまでスクロールできることを確かめます。

        量子化は重みや活性化を少ないビット数で表す手法です。メモリを節約し、推論を速くします。精度との兼ね合いを見ながらビット数を選びます。

        量子化は重みや活性化を少ないビット数で表す手法です。メモリを節約し、推論を速くします。精度との兼ね合いを見ながらビット数を選びます。

        量子化は重みや活性化を少ないビット数で表す手法です。メモリを節約し、推論を速くします。精度との兼ね合いを見ながらビット数を選びます。

        量子化は重みや活性化を少ないビット数で表す手法です。メモリを節約し、推論を速くします。精度との兼ね合いを見ながらビット数を選びます。

        量子化は重みや活性化を少ないビット数で表す手法です。メモリを節約し、推論を速くします。精度との兼ね合いを見ながらビット数を選びます。

        量子化は重みや活性化を少ないビット数で表す手法です。メモリを節約し、推論を速くします。精度との兼ね合いを見ながらビット数を選びます。

        [^1]: NumPy だけで書いています。
    """,  # noqa: E501 (the long code line is what the horizontal-scroll tests need)
    ),
    "figures/index.md": (
        """
        title: 図のある記事
        date: 2025-04-18
        tags: [可視化]
    """,
        """
        バンドルに入れた画像を表示します。

        ![ヒートマップの例](heatmap.png)

        画像の下の段落です。
    """,
    ),
    "english-notes.md": (
        """
        title: Notes on a byte-level tokenizer
        date: 2025-04-16
        tags: [NLP, Python]
    """,
        """
        A short English post: how a byte-level BPE tokenizer splits Japanese text into pieces.

        Inline code such as `tokenizer.encode("メロス")` and a [link to the math post](../code-math/#誤差の式).

        ```python
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained("gpt2")  # the GPT-2 vocabulary
        print(tok.tokenize("hello world"))
        ```
    """,
    ),
    "notebook.md": (
        """
        title: ノートブックの出力:表とヒートマップ
        date: 2025-04-14
        tags: [可視化, pandas]
        jupyter:
          jupytext:
            text_representation:
              extension: .md
              format_name: markdown
          kernelspec:
            display_name: execblog (Python 3)
            language: python
            name: execblog
    """,
        """
        ノートブックとして実行される記事です。pandas の表と matplotlib のヒートマップを出力します。

        ```python
        import numpy as np
        import pandas as pd
        import matplotlib.pyplot as plt

        rng = np.random.default_rng(0)
        scores = rng.random((6, 6))
        df = pd.DataFrame(scores[:4, :3], columns=["query", "key", "value"], index=list("abcd")).round(3)
        df
        ```

        ```python
        fig, ax = plt.subplots(figsize=(4, 3.2), dpi=100)
        im = ax.imshow(scores, cmap="viridis")
        fig.colorbar(im, ax=ax)
        ax.set_title("attention")
        plt.show()
        ```

        ```python
        print("done")
        ```
    """,
    ),
    **{
        f"note-{i}.md": (
            f"""
        title: 短いメモ {i}
        date: 2025-04-0{i}
        tags: [メモ]
    """,
            f"""
        {i} 番目の短いメモです。リストの2ページ目と3ページ目を作るための記事です。
    """,
        )
        for i in range(1, 5)
    },
}


def heatmap_png(path: Path, size: tuple[int, int] = (480, 360)) -> None:
    """A small gradient PNG standing in for a figure in a page bundle."""
    from PIL import Image

    w, h = size
    img = Image.new("RGB", size)
    img.putdata([(int(255 * x / w), int(255 * y / h), 160) for y in range(h) for x in range(w)])
    img.save(path, optimize=True)


def make_fixture_site(root: Path):
    """The fixture site's sources in `root` (theme copied by conftest's Site)."""
    from conftest import Site

    site = Site(root, FIXTURE_CONFIG)
    for name, (front, body) in FIXTURE_POSTS.items():
        site.post(name, front, body)
    heatmap_png(root / "posts" / "figures" / "heatmap.png")
    return site


def copy_repo_site(dest: Path) -> Path:
    """The repository's own site (config, posts, theme, freeze) copied to `dest`,
    so building it writes nothing into the working tree."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "site_config.yaml", dest / "site_config.yaml")
    for name in ("posts", "theme", "_freeze"):
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
            )
    return dest


@dataclass
class BuiltSite:
    name: str
    source: Path
    out: Path
    server: SiteServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def origin(self) -> str:
        return self.server.origin

    def url(self, rel: str = "") -> str:
        return self.server.base_url + rel

    def html_files(self) -> list[Path]:
        return sorted(self.out.rglob("*.html"))


_BUILT: dict[str, BuiltSite] = {}


def built_site(name: str, tmp_root: Path) -> BuiltSite:
    """Build and serve a site once per process: "fixture" (executes its
    notebook post) or "repo" (the repository's posts, from the freeze only).
    Served under /ml-blog/ like a GitHub project page, so links that forget
    the base path break."""
    if name in _BUILT:
        return _BUILT[name]
    src, out = tmp_root / f"{name}-src", tmp_root / f"{name}-public"
    server = SiteServer(out, "/ml-blog/")
    try:
        if name == "fixture":
            make_fixture_site(src)
            build(src, out, server.base_url)
        elif name == "repo":
            copy_repo_site(src)
            build(src, out, server.base_url, "--no-execute")
        else:
            raise ValueError(name)
    except BaseException:
        server.close()
        raise
    _BUILT[name] = BuiltSite(name, src, out, server)
    return _BUILT[name]


def session_site(name: str, tmp_path_factory) -> BuiltSite:
    """`built_site(name)` under the test session's base folder, the tools checked first."""
    require_tools()
    root = tmp_path_factory.getbasetemp() / "browser-sites"
    root.mkdir(exist_ok=True)
    return built_site(name, root)
