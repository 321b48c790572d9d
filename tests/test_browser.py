"""The generated site in a real browser, the way readers meet it: Debian's
Chromium driven by Playwright, desktop and phone, light and dark.

Every page type of the fixture site (tests/browser_support.py builds it once
per process, notebook post executed, served on 127.0.0.1 under /ml-blog/):
no console errors, no failed or off-site requests, no axe-core violations in
either theme, no horizontal overflow on a phone; then the theme toggle, the
code copy button, the TOC, MathML, notebook outputs and page weight.

All browser tests share one xdist group, so on `pytest -n 2` the site is
built once and one Chromium runs per module while the other worker takes the
rest of the suite.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import unquote

import pytest

from browser_support import (
    DESKTOP,
    PHONE,
    SiteServer,
    axe,
    format_violations,
    open_page,
    session_site,
    wire_weight,
)

pytestmark = pytest.mark.xdist_group("browser")

# Page types of the fixture site, as paths under the base URL.
PAGE_TYPES = {
    "home": "",
    "home-page-2": "page/2/",
    "post-code-math-toc": "posts/code-math/",
    "post-image": "posts/figures/",
    "post-notebook": "posts/notebook/",
    "post-english": "posts/english-notes/",
    "section": "posts/",
    "tags": "tags/",
    "tag-term": "tags/python/",
    "archives": "archives/",
    "search": "search/",
    "search-results": "search/?q=tokenizer",
    "404": "posts/no-such-page/",
}


@pytest.fixture(scope="session")
def blog(tmp_path_factory):
    return session_site("fixture", tmp_path_factory)


@pytest.fixture
def fresh(browser):
    """The browser with no stored theme choice and no open tabs afterwards."""
    yield browser
    for page in browser.pages:
        with contextlib.suppress(Exception):
            page.evaluate("localStorage.clear()")
        page.close()


def settle(page, rel: str) -> None:
    """Wait for what a page fills in after load (search results)."""
    if "?q=" in rel:
        page.wait_for_selector("#searchResults li, #searchStatus.no-results")


# --- every page type ------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_page_type_is_clean_and_accessible(blog, fresh, kind, scheme):
    rel = PAGE_TYPES[kind]
    page, probe = open_page(fresh, blog.url(rel), scheme=scheme, viewport=DESKTOP)
    settle(page, rel)
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    problems = probe.problems(allow_404_page=kind == "404")
    assert not problems, f"{kind} ({scheme}):\n" + "\n".join(problems)
    if kind == "404":
        assert page.locator("h1").first.inner_text() == "404"
    violations = axe(page)
    assert not violations, f"axe on {kind} ({scheme}):\n{format_violations(violations)}"


@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_phone_layout(blog, fresh, kind):
    """390 px wide: nothing wider than the screen, the menu reachable, and
    axe (target sizes included) still clean."""
    rel = PAGE_TYPES[kind]
    page, probe = open_page(fresh, blog.url(rel), scheme="light", viewport=PHONE)
    settle(page, rel)
    overflow = page.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect();
            if (r.width === 0 || r.right <= w + 1) return false;
            // inside a box that scrolls sideways on its own (code, tables) is fine
            for (let p = e.parentElement; p; p = p.parentElement) {
                const s = getComputedStyle(p);
                if (['auto', 'scroll', 'hidden'].includes(s.overflowX)
                    && p.getBoundingClientRect().right <= w + 1) return false;
            }
            return true;
        }).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                    + ' ' + Math.round(e.getBoundingClientRect().right));
        return {scroll: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 5)};
    }""")
    assert overflow["scroll"] <= overflow["width"], f"{kind} scrolls sideways on a phone: {overflow}"
    assert not overflow["wide"], f"{kind}: elements past the right edge: {overflow['wide']}"
    for link in page.locator("#menu a").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            f"menu item off screen: {link.inner_text()}"
        )
    assert not probe.problems(allow_404_page=kind == "404")
    violations = axe(page)
    assert not violations, f"axe on {kind} (phone):\n{format_violations(violations)}"


# --- theme ------------------------------------------------------------------------------
def colours(page) -> dict:
    return page.evaluate("""() => {
        const css = s => getComputedStyle(document.querySelector(s));
        const kw = document.querySelector('.highlight .k, .highlight .kn');
        return {body: css('body').backgroundColor, text: css('body').color,
                code: css('.highlight').backgroundColor, keyword: kw ? getComputedStyle(kw).color : null};
    }""")


def test_theme_follows_system_setting(blog, fresh):
    url = blog.url(PAGE_TYPES["post-code-math-toc"])
    light, _ = open_page(fresh, url, scheme="light")
    dark, _ = open_page(fresh, url, scheme="dark")
    assert light.evaluate("document.documentElement.dataset.theme") == "light"
    assert dark.evaluate("document.documentElement.dataset.theme") == "dark"
    a, b = colours(light), colours(dark)
    assert a["body"] != b["body"] and a["text"] != b["text"]
    # code highlighting has its own dark variant
    assert a["code"] != b["code"] and a["keyword"] and a["keyword"] != b["keyword"]
    # with no stored choice, a change of the system setting is followed live
    light.emulate_media(color_scheme="dark")
    light.wait_for_function("document.documentElement.dataset.theme === 'dark'")


def test_theme_toggle_switches_and_survives_reload(blog, fresh):
    page, probe = open_page(fresh, blog.url(PAGE_TYPES["post-code-math-toc"]), scheme="light")
    before = colours(page)
    toggle = page.locator("#theme-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    # its icon is the theme it switches to: the moon in light, the sun in dark
    assert toggle.locator(".icon-moon").is_visible() and not toggle.locator(".icon-sun").is_visible()
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert toggle.get_attribute("aria-pressed") == "true"
    assert toggle.locator(".icon-sun").is_visible() and not toggle.locator(".icon-moon").is_visible()
    assert colours(page)["body"] != before["body"]
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    # the choice beats the system setting, on other pages too
    other, _ = open_page(fresh, blog.url(""), scheme="light")
    assert other.evaluate("document.documentElement.dataset.theme") == "dark"
    other.emulate_media(color_scheme="light")
    other.wait_for_timeout(50)
    assert other.evaluate("document.documentElement.dataset.theme") == "dark"
    other.locator("#theme-toggle").click()
    other.reload()
    assert other.evaluate("document.documentElement.dataset.theme") == "light"
    assert not probe.problems()


FIRST_PAINT_PROBE = """
(() => {
  window.__seen = {};
  const note = (key) => {
    if (key in window.__seen) return;
    const html = document.documentElement;
    window.__seen[key] = {theme: html ? (html.dataset.theme || null) : null,
                          bg: document.body ? getComputedStyle(document.body).backgroundColor : null};
  };
  // the moment <body> exists (before any of it can paint) ...
  new MutationObserver((_, obs) => { if (document.body) { note('body'); obs.disconnect(); } })
    .observe(document, {childList: true, subtree: true});
  // ... and the first animation frame, which runs right before the first paint
  requestAnimationFrame(() => note('frame'));
})();
"""


@pytest.mark.parametrize("stored,system", [("dark", "light"), ("light", "dark"), (None, "dark")])
def test_no_flash_of_the_wrong_theme(blog, fresh, stored, system):
    url = blog.url(PAGE_TYPES["home"])
    page, _ = open_page(fresh, url, scheme=system)
    page.evaluate("(v) => v ? localStorage.setItem('pref-theme', v) : localStorage.clear()", stored)
    page.add_init_script(FIRST_PAINT_PROBE)
    page.reload()
    page.wait_for_function("window.__seen && 'frame' in window.__seen")
    seen = page.evaluate("window.__seen")
    want = stored or system
    final_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert seen["body"]["theme"] == want, seen
    assert seen["frame"]["theme"] == want, seen
    assert seen["frame"]["bg"] == final_bg, f"first frame painted {seen['frame']['bg']}, page ends {final_bg}"


# --- post features ---------------------------------------------------------------------------
def test_copy_button_copies_the_code(blog, fresh):
    fresh.grant_permissions(["clipboard-read", "clipboard-write"], origin=blog.origin)
    page, probe = open_page(fresh, blog.url(PAGE_TYPES["post-code-math-toc"]))
    block = page.locator(".post-content .highlight").first
    expected = block.locator("code").evaluate("c => c.textContent").rstrip("\n")
    block.hover()
    button = block.locator("button.copy-code")
    assert button.is_visible()
    button.click()
    page.wait_for_function("document.querySelector('.copy-code').textContent === document.body.dataset.copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == expected
    assert "def quantize(w: np.ndarray, bits: int = 8)" in copied and "# 重みを int8 に量子化する" in copied
    assert not probe.problems()


def test_copy_button_visible_without_hover_on_touch_and_keyboard(blog, fresh):
    page, _ = open_page(fresh, blog.url(PAGE_TYPES["post-code-math-toc"]), viewport=PHONE)
    button = page.locator("button.copy-code").first
    # keyboard: a focused button is shown
    button.focus()
    page.wait_for_function("getComputedStyle(document.activeElement).opacity === '1'")
    assert page.evaluate("document.activeElement.classList.contains('copy-code')")
    assert button.evaluate("b => b.getBoundingClientRect().height") >= 24


def test_toc_links_scroll_to_their_headings(blog, fresh):
    page, _ = open_page(fresh, blog.url(PAGE_TYPES["post-code-math-toc"]))
    links = page.locator(".toc a")
    assert links.count() >= 4
    for i in (links.count() - 1, 1):  # まとめ far down the page, then 誤差の式 from the top again
        page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
        target_link = links.nth(i)
        target = target_link.get_attribute("href")
        heading = page.locator(f"[id='{target[1:]}']")
        assert heading.evaluate("h => h.getBoundingClientRect().top") > 300
        target_link.click()
        page.wait_for_function(
            """(id) => { const t = document.getElementById(id).getBoundingClientRect().top;
                         return t >= 0 && t < 160; }""",
            arg=target[1:],
            timeout=5000,
        )
        assert page.evaluate("decodeURIComponent(location.hash)") == target
        # the heading is not hidden under the sticky header
        header_bottom = page.evaluate("document.querySelector('.header').getBoundingClientRect().bottom")
        assert heading.evaluate("h => h.getBoundingClientRect().top") >= header_bottom - 1


def test_headings_get_a_link_to_themselves_shown_on_hover(blog, fresh):
    page, probe = open_page(fresh, blog.url(PAGE_TYPES["post-code-math-toc"]))
    headings = page.locator(".post-content :is(h2, h3)[id]")
    assert headings.count() >= 3
    heading = headings.nth(1)
    link = heading.locator("a.anchor")
    assert unquote(link.get_attribute("href")) == "#" + heading.get_attribute("id")
    assert link.get_attribute("aria-label") == "#" + heading.evaluate("h => h.firstChild.textContent")
    assert link.evaluate("a => getComputedStyle(a).opacity") == "0"
    heading.hover()
    page.wait_for_function("getComputedStyle(document.querySelectorAll('.post-content a.anchor')[1]).opacity === '1'")
    link.click()
    assert page.evaluate("decodeURIComponent(location.hash)") == "#" + heading.get_attribute("id")
    assert not probe.problems()
    # a post without headings in its content gets no such links, nor the script that makes them
    page, _ = open_page(fresh, blog.url(PAGE_TYPES["post-notebook"]))
    assert page.locator(".post-content .highlight button.copy-code").count() >= 1
    assert page.locator("a.anchor").count() == 0


def test_math_renders_as_mathml(blog, fresh):
    page, _ = open_page(fresh, blog.url(PAGE_TYPES["post-code-math-toc"]))
    maths = page.locator(".post-content math")
    assert maths.count() >= 2
    info = page.evaluate("""() => [...document.querySelectorAll('.post-content math')].map(m => ({
        ns: m.namespaceURI, display: getComputedStyle(m).display, block: m.getAttribute('display'),
        w: m.getBoundingClientRect().width, h: m.getBoundingClientRect().height, frac: !!m.querySelector('mfrac')}))""")
    assert all(m["ns"] == "http://www.w3.org/1998/Math/MathML" for m in info)
    # Chromium lays MathML out itself ("math" / "block math" display types)
    assert all("math" in m["display"] for m in info), info
    assert all(m["w"] > 10 and m["h"] > 10 for m in info), info
    block = [m for m in info if m["block"] == "block"]
    assert block and block[0]["frac"], info
    # the fraction is laid out vertically: numerator above denominator
    above = page.evaluate("""() => { const f = document.querySelector('math[display=block] mfrac');
        const [n, d] = f.children; return n.getBoundingClientRect().bottom <= d.getBoundingClientRect().top + 1; }""")
    assert above


def notebook_page(blog, fresh, **kw):
    page, probe = open_page(fresh, blog.url(PAGE_TYPES["post-notebook"]), **kw)
    assert page.locator(".cell-output").count() > 0, "the executed post shows no outputs"
    return page, probe


def test_notebook_outputs_table_and_sized_image(blog, fresh):
    page, probe = notebook_page(blog, fresh)
    table = page.locator(".cell-output table")
    assert table.count() == 1
    assert table.locator("th").first.is_visible()
    assert "query" in table.inner_text()
    images = page.locator(".post-content img")
    assert images.count() >= 1
    for img in images.all():
        width, height = img.get_attribute("width"), img.get_attribute("height")
        assert width and height, f"image without width/height: {img.get_attribute('src')}"
        img.scroll_into_view_if_needed()
        img.evaluate("i => i.decode ? i.decode() : null")
        natural = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
        assert abs(int(width) / int(height) - natural[0] / natural[1]) < 0.02, (width, height, natural)
    assert not probe.problems()


def test_no_layout_shift_from_output_images(blog, fresh):
    page, _ = notebook_page(blog, fresh, scheme="light")
    page.add_init_script("""
        window.__cls = 0;
        new PerformanceObserver(l => {
            for (const e of l.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
        }).observe({type: 'layout-shift', buffered: true});""")
    page.reload(wait_until="load")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__cls") < 0.01


# --- weight and requests -----------------------------------------------------------------------
def test_post_page_weight_and_requests(blog, fresh):
    """A post page, images aside, stays under 60 KB (HTML + CSS + JS) on the
    wire, and here even uncompressed; everything it loads comes from the
    site, nothing render-blocking from elsewhere."""
    from execblog.devtools.weights import page_bytes, page_weights

    weights = page_weights(blog.out)
    assert weights["post"] < 60, weights
    for rel in ("posts/code-math/index.html", "posts/notebook/index.html", "index.html", "search/index.html"):
        assert page_bytes(blog.out, blog.out / rel) < 60 * 1024, rel

    for rel in (PAGE_TYPES["post-notebook"], PAGE_TYPES["post-code-math-toc"]):
        page, probe = open_page(fresh, blog.url(rel))
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        total, sizes = wire_weight(page)
        assert sizes["html"] < sizes["decoded"], "the test server should compress like GitHub Pages"
        assert len(sizes["assets"]) == 2, sizes  # one stylesheet, one script
        assert total < 60 * 1024, sizes
        assert sizes["blocking"] and all(u.startswith(blog.origin + "/") for u in sizes["blocking"]), sizes["blocking"]
        third_party = page.evaluate("""() =>
            [...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]
            .map(e => e.src || e.href).filter(u => u && !u.startsWith(location.origin + '/'))""")
        # <link rel=canonical> and the feed link are absolute on the configured base URL: same origin here
        assert not third_party, third_party
        assert not probe.external and not probe.problems()


# --- fitted stylesheets and scripts change nothing visible -------------------------------------
SCREENSHOT_PAGES = ("", "posts/code-math/", "posts/notebook/", "tags/python/")


def _whole_assets_copy(blog, dest):
    """The built site with every page given the whole theme stylesheet and every
    script, as before assets were fitted to pages."""
    import re
    import shutil

    from execblog.config import load_config
    from execblog.output.static_assets import full_css, full_js, minify_css

    shutil.copytree(blog.out, dest)
    static = blog.source / "theme" / "static"
    (dest / "assets" / "css" / "whole.css").write_text(minify_css(full_css(static, load_config(blog.source))))
    (dest / "assets" / "js" / "whole.js").write_text(full_js(static))
    for page in dest.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        text = re.sub(r'(<link rel="stylesheet" href=")[^"]*"', r'\1/ml-blog/assets/css/whole.css"', text, count=1)
        text = re.sub(r'(<script defer src=")[^"]*"', r'\1/ml-blog/assets/js/whole.js"', text, count=1)
        page.write_text(text, encoding="utf-8")


def _assert_same_look(fresh, ours: str, theirs: str, scheme: str, viewport) -> None:
    """The two pages look the same, pixel for pixel but a few antialiased pixels."""
    from PIL import ImageChops

    mine, problems = _screenshot(fresh, ours, scheme, viewport)
    assert not problems, (ours, problems)
    other, problems = _screenshot(fresh, theirs, scheme, viewport)
    assert not problems, (theirs, problems)
    assert mine.size == other.size, (ours, mine.size, other.size)
    diff = ImageChops.difference(mine, other).convert("L").point(lambda v: 255 if v > 48 else 0)
    changed = diff.histogram()[255]
    assert changed <= 50, (ours, scheme, viewport, changed, diff.getbbox())


def _screenshot(context, url, scheme, viewport):
    import io

    from PIL import Image

    page, probe = open_page(context, url, scheme=scheme, viewport=viewport)
    page.evaluate("""async () => {
        document.documentElement.style.scrollBehavior = 'auto';
        await Promise.all([...document.images].map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }));
        await document.fonts.ready;
        window.scrollTo(0, 0);
    }""")
    page.wait_for_timeout(400)  # the back-to-top link's fade
    shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    problems = probe.problems()
    page.close()
    return shot, problems


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_fitted_assets_look_the_same_as_the_whole_stylesheet(blog, fresh, tmp_path, scheme, viewport):
    """Home, a post with code, math and a TOC, a notebook post with outputs and a
    tag page, pixel for pixel against the same pages given the whole stylesheet
    and every script (only antialiasing noise is tolerated)."""
    whole = tmp_path / "whole"
    _whole_assets_copy(blog, whole)
    with SiteServer(whole, "/ml-blog/") as server:
        for rel in SCREENSHOT_PAGES:
            _assert_same_look(fresh, blog.url(rel), server.base_url + rel, scheme, viewport)


# --- the lean code markup and minified stylesheets change nothing visible --------------------
# Code blocks in light and dark, notebook outputs (streams, widgets, figures, tables), math,
# callouts, the series box and related posts, on both sites.
MARKUP_PAGES = {
    "fixture": ("posts/code-math/", "posts/notebook/"),
    "repo": ("posts/attention-gpt2/", "posts/attention-minilm/", "posts/rinna-stable-diffusion/"),
}
_CODE_BLOCK = re.compile(
    r'(<div class="cell-input">)?(<div class="highlight"><pre tabindex="0"><code class="language-([^"]+)"'
    r' data-lang="[^"]*">)(.*?)</code></pre></div>',
    re.S,
)


def _pygments_copy(site, dest):
    """The built site as Pygments' own markup and stylesheet would show it: each code
    block highlighted again by Pygments' HtmlFormatter, every page given the theme's
    CSS as written plus Pygments' rules for both styles (as the theme used them),
    and every script. Returns how many code blocks it highlighted again."""
    import html
    import shutil

    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    from execblog.config import load_config
    from execblog.output.static_assets import full_js

    markup = load_config(site.source).markup
    shutil.copytree(site.out, dest)
    static = site.source / "theme" / "static"
    css = [p.read_text(encoding="utf-8") for p in sorted((static / "css").glob("*.css"))]
    for style, prefix in ((markup.light_style, ".highlight"), (markup.dark_style, "[data-theme=dark] .highlight")):
        rules = HtmlFormatter(style=style).get_style_defs(prefix).splitlines()
        # Pygments' own wrapper rules (line numbers, a global `pre`) were never part of the theme
        css += [r for r in rules if "linenos" not in r and not r.startswith("pre {")]
    (dest / "assets" / "css" / "whole.css").write_text("\n".join(css), encoding="utf-8")
    (dest / "assets" / "js" / "whole.js").write_text(full_js(static), encoding="utf-8")

    def pygments(m):
        code = html.unescape(re.sub(r"<[^>]+>", "", m.group(4)))
        lang = m.group(3)
        # a notebook's Python cells are lexed as IPython
        lexer = get_lexer_by_name("ipython3" if m.group(1) and lang.startswith("python") else lang)
        lexer.stripnl = lexer.ensurenl = False
        body = highlight(code, lexer, HtmlFormatter(nowrap=True))
        body = body if code.endswith("\n") else body.rstrip("\n")
        return f"{m.group(1) or ''}{m.group(2)}{body}</code></pre></div>"

    blocks = 0
    for page in dest.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        text = re.sub(r'(<link rel="stylesheet" href=")[^"]*"', r'\1/ml-blog/assets/css/whole.css"', text, count=1)
        text = re.sub(r'(<script defer src=")[^"]*"', r'\1/ml-blog/assets/js/whole.js"', text, count=1)
        text, n = _CODE_BLOCK.subn(pygments, text)
        blocks += n
        page.write_text(text, encoding="utf-8")
    return blocks


@pytest.fixture(scope="module")
def repo_site(tmp_path_factory):
    return session_site("repo", tmp_path_factory)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_lean_code_markup_looks_the_same_as_pygments_own(blog, repo_site, fresh, tmp_path, scheme, viewport):
    """Posts with code, notebook outputs, tables, math, callouts, a series box and related
    posts, pixel for pixel against the same pages with Pygments' markup and stylesheet."""
    for name, site in (("fixture", blog), ("repo", repo_site)):
        reference = tmp_path / name
        assert _pygments_copy(site, reference) >= 5
        with SiteServer(reference, "/ml-blog/") as server:
            for rel in MARKUP_PAGES[name]:
                _assert_same_look(fresh, site.url(rel), server.base_url + rel, scheme, viewport)
