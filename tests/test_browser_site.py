"""Whole-site checks on both sites the browser tests build: the fixture site
and the repository's own posts (built from the freeze, as `make publish`
would without executing): crawl every link, validate every HTML file with
the Nu validator, load every page in Chromium, axe every real post, and
search in Japanese and English with the site's own index."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from browser_support import (
    DESKTOP,
    EN_POST,
    EN_WORD,
    JA_POST,
    JA_WORD,
    NO_SUCH_WORD,
    PHONE,
    Probe,
    axe,
    crawl,
    format_violations,
    open_page,
    session_site,
    vnu,
    wire_weight,
)

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="session")
def sites(tmp_path_factory):
    return {name: session_site(name, tmp_path_factory) for name in ("fixture", "repo")}


@pytest.fixture(scope="session")
def crawled(sites):
    return {name: crawl(site.base_url) for name, site in sites.items()}


@pytest.fixture
def tab(browser):
    yield browser
    for page in browser.pages:
        page.close()


# --- links and markup ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fixture", "repo"])
def test_crawl_every_internal_link_and_image_resolves(sites, crawled, name):
    site, result = sites[name], crawled[name]
    assert not result.broken, "\n".join(result.broken)
    assert not result.missing_fragments, "\n".join(result.missing_fragments)
    # the crawl reached every HTML file the build wrote (nothing orphaned but the 404 page)
    reached = {unquote(url[len(site.base_url) :]) for url in result.pages}
    written = {p.relative_to(site.out).as_posix().removesuffix("index.html") for p in site.html_files()}
    assert not written - reached, f"pages no link leads to: {written - reached}"
    # every post and every output image was linked from somewhere
    assert {f"posts/{p.parent.name}/" for p in site.out.glob("posts/*/index.html")} - {"posts/page/"} <= reached
    images = {u for u in result.resources if u.endswith((".png", ".jpg", ".jpeg", ".svg", ".webp", ".gif"))}
    on_disk = {site.url(p.relative_to(site.out).as_posix()) for p in site.out.glob("posts/**/*.png")}
    assert on_disk <= images, on_disk - images


@pytest.mark.parametrize("name", ["fixture", "repo"])
def test_links_stay_under_the_base_path(sites, crawled, name):
    """Canonical, feed and og: URLs are absolute on the configured base URL;
    nothing links to the site root outside /ml-blog/."""
    site, result = sites[name], crawled[name]
    from lxml import html as lhtml

    for url, text in result.pages.items():
        doc = lhtml.fromstring(text)
        for href in doc.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
            assert href.startswith(site.base_url), (url, href)
        for src in doc.xpath("//script/@src | //link[@rel='stylesheet']/@href"):
            assert src.startswith("/ml-blog/"), (url, src)


def test_html_validates(sites):
    """The Nu validator (vnu-jar, one JVM) over every HTML file of both sites,
    notebook outputs and pandas tables included: no errors."""
    files = [p for site in sites.values() for p in site.html_files()]
    assert len(files) > 20
    errors = vnu(files)
    report = "\n".join(
        f"{m.get('url', '').rsplit('public/', 1)[-1]}:{m.get('lastLine')}: {m.get('message')}"
        f"\n    {m.get('extract', '').strip()[:160]}"
        for m in errors[:40]
    )
    assert not errors, f"{len(errors)} Nu validator errors:\n{report}"


# --- every page in the browser -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["fixture", "repo"])
def test_every_page_loads_without_errors(sites, crawled, tab, name):
    """Each HTML page the crawl reached, in Chromium: no console errors or
    warnings, no failed request, no request to anything but the site."""
    site = sites[name]
    page = tab.new_page()
    bad = []
    for url in sorted(crawled[name].pages):
        probe = Probe(site.origin).attach(page)
        page.goto(url, wait_until="load")
        problems = probe.problems(allow_404_page=url.endswith("404.html"))
        if problems:
            bad.append(f"{url}: {problems}")
        page.close()
        page = tab.new_page()
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_on_every_real_post(sites, tab, scheme):
    """The repository's posts as they are (code, outputs, tables): no axe violations."""
    site = sites["repo"]
    posts = sorted(site.out.glob("posts/*/index.html"))
    posts = [p for p in posts if p.parent.name != "page"]
    assert posts
    report = []
    for path in posts:
        rel = path.relative_to(site.out).as_posix().removesuffix("index.html")
        page, probe = open_page(tab, site.url(rel), scheme=scheme)
        violations = axe(page)
        if violations:
            report.append(f"--- {rel} ({scheme})\n{format_violations(violations)}")
        page.close()
    assert not report, "\n".join(report)


# --- search --------------------------------------------------------------------------------
def search(tab, site, query: str, viewport=DESKTOP, scheme="light"):
    page, probe = open_page(tab, site.url("search/"), viewport=viewport, scheme=scheme)
    page.locator("#searchInput").fill(query)
    page.wait_for_selector("#searchResults li, #searchStatus.no-results")
    results = page.evaluate("""() => [...document.querySelectorAll('#searchResults li')].map(li => ({
        title: li.querySelector('.result-title').innerText, href: li.querySelector('a').getAttribute('href'),
        date: (li.querySelector('.result-date') || {}).innerText || '',
        excerpt: li.querySelector('.result-excerpt').innerHTML}))""")
    return page, probe, results


@pytest.mark.parametrize(
    "query,post",
    [
        (JA_WORD, JA_POST),
        (EN_WORD, EN_POST),
        ("ヒートマップ", "notebook"),
        ("matplotlib", "notebook"),
        ("Tokenizer", EN_POST),
    ],
)
def test_search_finds_the_right_post_first(sites, tab, query, post):
    site = sites["fixture"]
    page, probe, results = search(tab, site, query)
    assert results, f"no results for {query}"
    first = results[0]
    assert first["href"] == f"/ml-blog/posts/{post}/", results
    assert first["title"] and first["date"].endswith("2025"), first
    assert "<mark>" in first["excerpt"], first
    status = page.locator("#searchStatus").inner_text()
    assert str(len(results)) in status
    # the query is in the address, so a result list can be shared and reloaded
    assert "q=" in page.url
    page.locator("#searchResults li a").first.click()
    page.wait_for_url(f"**/posts/{post}/")
    assert not probe.problems()


@pytest.mark.parametrize("query", ["メロス", "邪智暴虐"])
def test_search_meros_post_in_the_repository(sites, tab, query):
    site = sites["repo"]
    page, probe, results = search(tab, site, query)
    assert results and results[0]["href"] == "/ml-blog/posts/attention-melos/", results
    assert "メロス" in results[0]["title"]
    assert not probe.problems()


def test_search_with_no_match_says_so(sites, tab):
    site = sites["fixture"]
    page, probe, results = search(tab, site, NO_SUCH_WORD)
    assert results == []
    status = page.locator("#searchStatus")
    assert status.is_visible()
    assert NO_SUCH_WORD in status.inner_text() and "該当する記事はありません" in status.inner_text()
    violations = axe(page)
    assert not violations, format_violations(violations)
    assert not probe.problems()


def test_header_search_box_goes_to_results(sites, tab):
    site = sites["fixture"]
    page, probe = open_page(tab, site.url("posts/code-math/"))
    box = page.locator("header #header-q")
    assert box.is_visible()
    box.fill(EN_WORD)
    box.press("Enter")
    page.wait_for_url("**/search/?q=*")
    page.wait_for_selector("#searchResults li")
    assert page.locator("#searchInput").input_value() == EN_WORD
    assert page.locator("#searchResults li a").first.get_attribute("href") == f"/ml-blog/posts/{EN_POST}/"
    assert not probe.problems()


def test_search_on_a_phone_in_dark_mode(sites, tab):
    site = sites["fixture"]
    page, probe, results = search(tab, site, JA_WORD, viewport=PHONE, scheme="dark")
    assert results and results[0]["href"] == f"/ml-blog/posts/{JA_POST}/"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    violations = axe(page)
    assert not violations, format_violations(violations)
    # one search fetches a little of the index, from the site itself
    fetched = sum(
        r.response().headers.get("content-length", 0) and int(r.response().headers["content-length"])
        for r in probe.requests
        if "/search/data/" in r.url and r.response()
    )
    assert 0 < fetched < 100 * 1024, fetched
    assert not probe.external


def test_every_real_post_is_light_on_the_wire(sites, tab):
    """Every post of both sites: HTML + CSS + JS under 60 KB as served
    (gzip, like GitHub Pages), images aside; nothing from another host."""
    heavy = []
    for site in sites.values():
        for path in sorted(site.out.glob("posts/*/index.html")):
            rel = path.relative_to(site.out).as_posix().removesuffix("index.html")
            page, probe = open_page(tab, site.url(rel))
            total, sizes = wire_weight(page)
            if total >= 60 * 1024:
                heavy.append(f"{site.name}/{rel}: {total / 1024:.1f} KB {sizes}")
            assert not probe.external, probe.external
            page.close()
    assert not heavy, "\n".join(heavy)
