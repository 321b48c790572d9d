"""Interactive notebook outputs in a real browser, offline: the example Plotly
post (from the committed freeze) and a Vega-Lite chart a kernel displays
(the mimebundle Altair writes), built and served like the rest of the site.

Each chart is drawn (SVG nodes), a Plotly heatmap answers a hover with its
label, nothing is requested off-site, the console stays clean and axe finds
nothing, in light and dark; the charts follow the theme toggle; a post
without charts loads no chart library.
"""

from __future__ import annotations

import re
import shutil

import pytest

from browser_support import (
    DESKTOP,
    PHONE,
    SiteServer,
    axe,
    build,
    copy_repo_site,
    format_violations,
    open_page,
    require_tools,
)

pytestmark = pytest.mark.xdist_group("browser")

EXAMPLE = "attention-minilm-interactive"
PLAIN = "ignite-2021-fall"  # a post with no charts
VEGA_POST = """---
title: "Vega-Lite chart"
date: 2024-05-01
tags: [charts]
jupyter:
  kernelspec:
    display_name: Python (execblog)
    language: python
    name: execblog
---

Accuracy by model size, as Altair would display it.

```python
from IPython.display import display

rows = [{"size": s, "accuracy": a} for s, a in [("small", 0.71), ("base", 0.78), ("large", 0.83)]]
spec = {
    "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
    "description": "Accuracy by model size",
    "data": {"values": rows},
    "mark": {"type": "bar", "tooltip": True},
    "encoding": {"x": {"field": "size", "type": "nominal", "sort": None},
                 "y": {"field": "accuracy", "type": "quantitative"}},
}
display({"application/vnd.vegalite.v6+json": spec, "text/plain": "alt.Chart(...)"}, raw=True)
```
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_tools()
    root = tmp_path_factory.mktemp("interactive")
    src = copy_repo_site(root / "src")
    for post in (src / "posts").iterdir():
        if post.stem not in (EXAMPLE, PLAIN):
            shutil.rmtree(post) if post.is_dir() else post.unlink()
    (src / "posts" / "vega-chart.md").write_text(VEGA_POST, encoding="utf-8")
    out = root / "public"
    server = SiteServer(out, "/ml-blog/")
    try:
        build(src, out, server.base_url)  # runs the Vega post; the example comes from the freeze
        yield server, out
    finally:
        server.close()


def charts_drawn(page) -> list[dict]:
    """Scroll each chart into view (they load when near the screen) and wait until all are drawn."""
    count = page.locator(".output-chart").count()
    for i in range(count):
        page.locator(".output-chart").nth(i).scroll_into_view_if_needed()
    page.wait_for_function(f"document.querySelectorAll('.output-chart.chart-drawn').length === {count}", timeout=30_000)
    return page.evaluate("""() => [...document.querySelectorAll('.output-chart')].map(c => ({
        kind: c.classList.contains('output-plotly') ? 'plotly' : 'vega',
        svg: c.querySelectorAll('.chart-view svg').length,
        marks: c.querySelectorAll('.chart-view svg path, .chart-view svg rect, .chart-view svg image').length,
        fallbackShown: c.querySelector('.chart-fallback').offsetHeight > 0,
        width: c.querySelector('.chart-view').getBoundingClientRect().width,
    }))""")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("post", [EXAMPLE, "vega-chart"])
def test_charts_draw_offline_clean_and_accessible(site, browser, post, scheme):
    server, _ = site
    page, probe = open_page(browser, server.base_url + f"posts/{post}/", scheme=scheme, viewport=DESKTOP)
    charts = charts_drawn(page)
    assert charts and {c["kind"] for c in charts} == {"plotly" if post == EXAMPLE else "vega"}
    for chart in charts:
        assert chart["svg"] >= 1 and chart["marks"] > 0, chart
        assert not chart["fallbackShown"], chart
    page.wait_for_load_state("networkidle")
    assert not probe.problems(), probe.problems()
    assert not probe.external
    violations = axe(page)
    assert not violations, f"axe on {post} ({scheme}):\n{format_violations(violations)}"
    page.close()


def test_plotly_heatmap_answers_hover_with_its_label(site, browser):
    server, _ = site
    page, probe = open_page(browser, server.base_url + f"posts/{EXAMPLE}/")
    charts_drawn(page)
    heatmap = page.locator(".output-plotly .nsewdrag").first
    heatmap.scroll_into_view_if_needed()
    box = heatmap.bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.move(box["x"] + box["width"] * 0.03, box["y"] + box["height"] * 0.5, steps=5)
    label = page.locator(".output-plotly .hoverlayer .hovertext").first
    label.wait_for(state="visible")
    text = label.text_content() or ""
    # "<position>:<token> → <position>:<token>", the weight, the head: the post's hovertemplate
    assert re.search(r"\d+:\S+ → \d+:\S+", text) and re.search(r"重み 0\.\d{3}", text), text
    assert not probe.problems()
    page.close()


def test_charts_follow_the_theme_toggle(site, browser):
    server, _ = site
    page, probe = open_page(browser, server.base_url + f"posts/{EXAMPLE}/", scheme="light")
    charts_drawn(page)

    def tick_colour():
        return page.evaluate("getComputedStyle(document.querySelector('.output-plotly .xtick text')).fill")

    light = tick_colour()
    page.locator("#theme-toggle").click()
    page.wait_for_function(f"getComputedStyle(document.querySelector('.output-plotly .xtick text')).fill !== {light!r}")
    body = page.evaluate("getComputedStyle(document.body).color")
    assert tick_colour() == body  # axis labels in the dark theme's text colour
    assert not probe.problems()
    page.close()


@pytest.mark.parametrize("post", [EXAMPLE, "vega-chart"])
def test_charts_fit_a_phone(site, browser, post):
    server, _ = site
    page, probe = open_page(browser, server.base_url + f"posts/{post}/", viewport=PHONE)
    charts = charts_drawn(page)
    assert all(0 < c["width"] <= PHONE["width"] for c in charts), charts
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not probe.problems()
    page.close()


def test_only_chart_pages_load_a_chart_library(site, browser):
    server, out = site
    for post, library in ((EXAMPLE, "plotly.min."), ("vega-chart", "vega."), (PLAIN, None)):
        page, probe = open_page(browser, server.base_url + f"posts/{post}/")
        if library:
            charts_drawn(page)
        page.wait_for_load_state("networkidle")
        vendor = [r.url.rsplit("/", 1)[-1] for r in probe.requests if "/assets/vendor/" in r.url]
        if library:
            assert len(vendor) == 1 and vendor[0].startswith(library), vendor
        else:
            assert not vendor
        assert not probe.external and not probe.problems()
        page.close()
    assert len(list((out / "assets" / "vendor").glob("plotly.min.*.js"))) == 1
