"""The search page in Chromium over a site built for it: Japanese compounds and single
characters, a prefix while typing, mixed queries, hostile titles and bodies shown as text,
and only the site's own files fetched (the manifest, the query's shards, the results' documents)."""

from __future__ import annotations

import json

import pytest

from browser_support import SiteServer, build, open_page, require_tools

pytestmark = pytest.mark.xdist_group("browser")

CONFIG = """\
title: Search Blog
base_url: https://example.github.io/blog/
language: ja
time_zone: Asia/Tokyo
author: Me
menu:
  - {name: 検索, url: /search/, weight: 20}
"""
HOSTILE = "<img src=x onerror=alert(1)> </script><script>alert(2)</script>"
POSTS = {
    "heatmap.md": ("title: 注意の可視化\ndate: 2025-03-01\ntags: [LLM]", "ヒートマップで GPT-2 アテンションを見る。\n"),
    "scattered.md": ("title: ばらばら\ndate: 2025-03-02", "ヒート と マップ と GPT と 2 と アテンション。\n"),
    "rain.md": ("title: 天気\ndate: 2025-03-03", "東京は雨だった。\n"),
    "english.md": ("title: Tokenization explained\ndate: 2025-03-04", "Tokenizers split text into pieces.\n"),
    "hostile.md": (
        f"title: '{HOSTILE} hostile'\ndate: 2025-03-05",
        f"Before `{HOSTILE}` after, and a raw {HOSTILE.replace('<', '&lt;')} entity form.\n",
    ),
}
# enough other words that the index has several shards
POSTS.update(
    {
        f"filler{i}.md": (f"title: F{i}\ndate: 2025-02-{i % 28 + 1:02}", " ".join(f"w{i}x{j}" for j in range(150)))
        for i in range(60)
    }
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    require_tools()
    from conftest import Site

    root = tmp_path_factory.mktemp("search-site")
    site = Site(root / "src", CONFIG)
    for name, (front, body) in POSTS.items():
        site.post(name, front, body)
    out = root / "public"
    server = SiteServer(out, "/blog/")
    try:
        build(site.root, out, server.base_url, "--no-execute")
        yield server, out
    finally:
        server.close()


def search(browser, server, query: str, typed: bool = False):
    page, probe = open_page(browser, server.base_url + "search/")
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    box = page.locator("#searchInput")
    if typed:
        box.press_sequentially(query, delay=40)
    else:
        box.fill(query)
    page.wait_for_selector("#searchResults li, #searchStatus.no-results")
    page.wait_for_timeout(300)  # a late keystroke's search replaces an earlier one
    results = page.evaluate("""() => [...document.querySelectorAll('#searchResults li')].map(li => ({
        title: li.querySelector('.result-title').innerText, href: li.querySelector('a').getAttribute('href'),
        excerpt: li.querySelector('.result-excerpt').innerHTML,
        elements: [...li.querySelectorAll('*')].map(e => e.tagName.toLowerCase())}))""")
    return page, probe, dialogs, results


def posts(results) -> list[str]:
    return [r["href"].split("/")[3] for r in results]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("ヒートマップ", ["heatmap"]),  # a compound: not the post where ヒート and マップ stand apart
        ("雨", ["rain"]),  # a single kanji inside a longer run
        ("ｱﾃﾝｼｮﾝ", ["heatmap", "scattered"]),  # halfwidth katakana, normalised
    ],
)
def test_japanese_queries(browser, served, query, expected):
    server, _ = served
    page, probe, dialogs, results = search(browser, server, query)
    assert sorted(posts(results)) == sorted(expected)
    assert all("<mark>" in r["excerpt"] for r in results)
    assert not probe.problems() and not dialogs


def test_a_mixed_query_ranks_the_exact_phrase_first(browser, served):
    server, _ = served
    page, probe, dialogs, results = search(browser, server, "GPT-2 アテンション")
    assert posts(results) == ["heatmap", "scattered"]
    assert "<mark>アテンション</mark>" in results[0]["excerpt"]
    assert "2 件" in page.locator("#searchStatus").inner_text()


def test_an_english_prefix_finds_while_typing(browser, served):
    server, _ = served
    page, probe, dialogs, results = search(browser, server, "tokeni", typed=True)
    assert posts(results) == ["english"]
    assert "<mark>Tokenization</mark>" in results[0]["excerpt"] or "<mark>Tokenizers</mark>" in results[0]["excerpt"]
    assert not probe.problems()


def test_hostile_titles_and_bodies_are_shown_as_text(browser, served):
    server, _ = served
    page, probe, dialogs, results = search(browser, server, "onerror")
    assert posts(results) == ["hostile"]
    page.wait_for_timeout(300)
    assert not dialogs
    result = results[0]
    assert result["title"] == f"{HOSTILE} hostile"  # the text as written, no markup from it
    assert set(result["elements"]) <= {"h2", "a", "p", "mark"}, result["elements"]
    assert "&lt;img src=x <mark>onerror</mark>=alert(1)&gt;" in result["excerpt"]
    assert not probe.problems()


def test_a_search_fetches_the_manifest_its_shards_and_its_documents_from_the_site_only(browser, served):
    server, out = served
    page, probe, dialogs, results = search(browser, server, "雨")
    assert not probe.external
    fetched = {r.url.rsplit("/", 1)[1] for r in probe.requests if "/search/data/" in r.url}
    manifest = json.loads((out / "search" / "data" / "index.json").read_text())
    assert "index.json" in fetched and len(manifest["shards"]) >= 4
    shards = fetched & set(manifest["shards"])
    docs = fetched & set(manifest["docs"])
    assert len(shards) == 1 and len(docs) == 1  # one character: one shard; one result: one document file
    assert fetched == {"index.json"} | shards | docs


def test_the_count_is_every_match_and_more_results_come_on_request(browser, served):
    server, _ = served
    page, probe, dialogs, results = search(browser, server, "F1")  # titles F1, F10-F19: a prefix of 11 posts
    assert len(results) == 10 and "11 件" in page.locator("#searchStatus").inner_text()
    more = page.locator("#searchMore")
    assert more.is_visible()
    more.click()
    page.wait_for_function("document.querySelectorAll('#searchResults li').length === 11")
    assert not more.is_visible()
    # the first new result has the focus: a keyboard reader goes on from there
    assert page.evaluate("document.activeElement.closest('li') === document.querySelectorAll('#searchResults li')[10]")
    page.locator("#searchInput").fill("雨")  # a new query starts again at ten
    page.wait_for_function("document.querySelectorAll('#searchResults li').length === 1")
    assert not more.is_visible() and not probe.problems()


def test_no_search_while_an_input_method_composes_and_the_query_is_shown_as_typed(browser, served):
    server, _ = served
    page, probe = open_page(browser, server.base_url + "search/")
    box = page.locator("#searchInput")
    # an IME's unconverted text (きかいg) is not searched; the converted word is, at compositionend
    page.evaluate("""() => { const i = document.getElementById('searchInput'); i.value = 'あめg';
        i.dispatchEvent(new InputEvent('input', {isComposing: true, bubbles: true})); }""")
    page.wait_for_timeout(500)
    assert page.locator("#searchStatus").inner_text() == ""
    page.evaluate("""() => { const i = document.getElementById('searchInput'); i.value = '雨';
        i.dispatchEvent(new CompositionEvent('compositionend', {bubbles: true})); }""")
    page.wait_for_selector("#searchResults li")
    assert posts(
        page.evaluate("[...document.querySelectorAll('#searchResults a')].map(a => ({href: a.getAttribute('href')}))")
    ) == ["rain"]
    box.fill("a$`b")  # `$` patterns in a query are text, not replacement patterns
    page.wait_for_selector("#searchStatus.no-results")
    assert page.locator("#searchStatus").inner_text() == "「a$`b」に該当する記事はありません"
    assert not probe.problems()
