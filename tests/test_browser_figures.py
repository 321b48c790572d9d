"""Figures, cross-references and callouts in the browser, on the repository's attention posts
(built from the freeze): what a reader sees and follows, with axe and the Nu validator at 0 in both themes."""

from __future__ import annotations

import pytest

from browser_support import axe, format_violations, open_page, session_site, vnu

pytestmark = pytest.mark.xdist_group("browser")
POSTS = ("posts/attention-gpt2/", "posts/attention-minilm/")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return session_site("repo", tmp_path_factory)


def test_the_pages_validate(site):
    errors = vnu([site.out / rel / "index.html" for rel in POSTS])
    assert not errors, [(e.get("lastLine"), e.get("message")) for e in errors]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_captioned_figures_references_and_callouts(site, browser, scheme):
    page, probe = open_page(browser, site.url(POSTS[1]), scheme=scheme)
    figures = page.evaluate("""() => [...document.querySelectorAll('figure[id^="fig-"]')].map(f => ({
        id: f.id, alt: f.querySelector('img').alt, caption: f.querySelector('figcaption').innerText}))""")
    assert [f["id"] for f in figures] == ["fig-minilm-heads", "fig-minilm-patterns", "fig-minilm-it"]
    assert [f["caption"].split(":")[0] for f in figures] == ["図 1", "図 2", "図 3"]
    assert all(len(f["alt"]) > 40 for f in figures)
    # following a reference brings its figure into view, below the sticky header
    link = page.locator('a.xref[href="#fig-minilm-it"]').first
    assert link.inner_text() == "図 3"
    link.click()
    page.wait_for_function("() => location.hash === '#fig-minilm-it'")
    page.wait_for_timeout(600)  # smooth scrolling
    top = page.evaluate("() => document.getElementById('fig-minilm-it').getBoundingClientRect().top")
    header = page.evaluate("() => document.querySelector('.header').getBoundingClientRect().bottom")
    assert header <= top < page.viewport_size["height"] / 2
    violations = axe(page)
    assert not violations, format_violations(violations)
    assert not probe.problems()
    page.close()

    page, probe = open_page(browser, site.url(POSTS[0]), scheme=scheme)
    callout = page.locator(".callout-note")
    assert callout.locator(".callout-title").inner_text() == "注記"
    assert "右上の三角" in callout.inner_text()
    assert page.locator("a.xref").first.inner_text() == "図 1"
    violations = axe(page)
    assert not violations, format_violations(violations)
    assert not probe.problems()
    page.close()
