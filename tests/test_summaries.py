"""Unit tests of execblog.hugo.summaries. The inputs are the content HTML goldmark
produces for small posts (with the renderer's `<p><!--more--></p>` where Hugo
has its internal divider paragraph); every expected summary, `.Truncated`,
kind and `.ContentWithoutSummary` was printed by Hugo 0.168.0 for those posts
(`.Summary`, `.Truncated`, `.Markup.Render.Summary.Type`,
`.ContentWithoutSummary`)."""

from __future__ import annotations

import pytest

from execblog.hugo.summaries import SUMMARY_DIVIDER, Summary, summarize, trim_short_html


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def p(text: str) -> str:
    return f"<p>{text}</p>\n"


MORE = p(SUMMARY_DIVIDER)


def test_divider_constant():
    assert SUMMARY_DIVIDER == "<!--more-->"


@pytest.mark.parametrize(
    ("html", "is_cjk", "summary", "truncated", "rest"),
    [
        pytest.param(p(words(80)), False, f"<p>{words(80)}</p>", False, "", id="one-long-paragraph-is-not-truncated"),
        pytest.param(
            p(words(80)) + "<ul>\n<li>item</li>\n</ul>\n",
            False,
            f"<p>{words(80)}</p>",
            True,
            "<ul>\n<li>item</li>\n</ul>",
            id="list-after-summary",
        ),
        pytest.param(
            p(words(35) + ".") + p(words(34, "v") + ".") + p(words(6, "u") + ".") + p("Last paragraph."),
            False,
            f"<p>{words(35)}.</p>\n<p>{words(34, 'v')}.</p>\n<p>{words(6, 'u')}.</p>",
            True,
            "<p>Last paragraph.</p>",
            id="whole-paragraphs-up-to-70",
        ),
        # Hugo leaves out each chunk's last character: the lone "a" is not counted.
        pytest.param(
            p(words(69) + " a") + p("next paragraph"),
            False,
            f"<p>{words(69)} a</p>\n<p>next paragraph</p>",
            False,
            "",
            id="last-character-not-counted",
        ),
        # The heading's first word shares a token with `id="..."`, which is skipped.
        pytest.param(
            f'<h2 id="h">{words(70, "h")}</h2>\n' + p("short para") + p("next"),
            False,
            f'<h2 id="h">{words(70, "h")}</h2>\n<p>short para</p>',
            True,
            "<p>next</p>",
            id="heading-attribute-token",
        ),
        pytest.param(
            p("あ" * 70) + p("end") + p("more"),
            True,
            f"<p>{'あ' * 70}</p>\n<p>end</p>",
            True,
            "<p>more</p>",
            id="cjk-70-characters",
        ),
        pytest.param(
            p("あ" * 71) + p("end") + p("more"),
            True,
            f"<p>{'あ' * 71}</p>",
            True,
            "<p>end</p>\n<p>more</p>",
            id="cjk-71-characters",
        ),
        # Entities count one per character in CJK mode (39 here, not 17).
        pytest.param(
            p(words(43)) + p("日本語の&quot;引用符&quot;と&rsquo;シングル&rsquo;も。") + p("next"),
            True,
            f"<p>{words(43)}</p>\n<p>日本語の&quot;引用符&quot;と&rsquo;シングル&rsquo;も。</p>",
            True,
            "<p>next</p>",
            id="cjk-entities-count-raw",
        ),
        # Outside CJK mode an unspaced Japanese paragraph is one word.
        pytest.param(
            p("あ" * 200) + p("end"), False, f"<p>{'あ' * 200}</p>\n<p>end</p>", False, "", id="japanese-not-cjk-mode"
        ),
    ],
)
def test_auto_summary(html: str, is_cjk: bool, summary: str, truncated: bool, rest: str):
    result = summarize(html, is_cjk=is_cjk)
    assert result.summary == Summary(html=summary, truncated=truncated, kind="auto")
    assert result.content_without_summary == rest
    assert result.content == html  # untouched, trailing newline included


@pytest.mark.parametrize(
    ("html", "summary", "truncated", "content", "rest"),
    [
        pytest.param(
            p("Intro paragraph.") + MORE + p("Rest of the post."),
            "<p>Intro paragraph.</p>",
            True,
            "<p>Intro paragraph.</p>\n<p>Rest of the post.</p>",
            "<p>Rest of the post.</p>",
            id="manual",
        ),
        # The renderer splits the paragraph at the divider, as Hugo does.
        pytest.param(
            p("The divider sits in the middle") + MORE + p("of this paragraph.") + p("Another."),
            "<p>The divider sits in the middle</p>",
            True,
            "<p>The divider sits in the middle</p>\n<p>of this paragraph.</p>\n<p>Another.</p>",
            "<p>of this paragraph.</p>\n<p>Another.</p>",
            id="inline-divider",
        ),
        pytest.param(p("All of it.") + MORE, "<p>All of it.</p>", False, "<p>All of it.</p>", "", id="divider-at-end"),
        pytest.param(
            '<pre tabindex="0"><code>code \n\n<!--more-->\n\nin code\n</code></pre>' + p("after para") + p("more"),
            '<pre tabindex="0"><code>code \n\n\n\nin code\n</code></pre><p>after para</p>',
            True,
            '<pre tabindex="0"><code>code \n\n\nin code\n</code></pre><p>after para</p>\n<p>more</p>',
            "<p>more</p>",
            id="divider-inside-code",
        ),
        pytest.param(
            "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n" + MORE + p("c") + "<ul>\n<li>d</li>\n</ul>\n" + p("fin"),
            "<ul>\n<li>a</li>\n<li>b</li>\n</ul>",
            True,
            "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>c</p>\n<ul>\n<li>d</li>\n</ul>\n<p>fin</p>",
            "<p>c</p>\n<ul>\n<li>d</li>\n</ul>\n<p>fin</p>",
            id="divider-after-list",
        ),
    ],
)
def test_manual_summary(html: str, summary: str, truncated: bool, content: str, rest: str):
    result = summarize(html, is_cjk=False)
    assert result.summary == Summary(html=summary, truncated=truncated, kind="manual")
    assert result.content == content
    assert result.content_without_summary == rest


def test_manual_wins_over_front_matter():
    result = summarize(p("intro") + MORE + p("rest"), is_cjk=False, front_matter_summary_html=p("FM sum"))
    assert result.summary == Summary(html="<p>intro</p>", truncated=True, kind="manual")


def test_empty_manual_summary_falls_back_to_front_matter():
    # The divider opens the post: the (empty) manual summary keeps .Truncated.
    result = summarize(MORE + p("rest"), is_cjk=False, front_matter_summary_html=p("FM sum"))
    assert result.summary == Summary(html="FM sum", truncated=True, kind="frontmatter")
    assert (result.content, result.content_without_summary) == ("<p>rest</p>", "<p>rest</p>")
    bare = summarize(MORE + p("body text"), is_cjk=False)
    assert bare.summary == Summary(html="", truncated=True, kind="frontmatter")


def test_front_matter_summary():
    body = p(words(80)) + p("more")
    result = summarize(body, is_cjk=False, front_matter_summary_html=p("FM <em>sum</em>"))
    assert result.summary == Summary(html="FM <em>sum</em>", truncated=False, kind="frontmatter")
    assert result.content == result.content_without_summary == body
    two = summarize(p(words(80)), is_cjk=False, front_matter_summary_html="<p>para one</p>\n<p>para two</p>\n")
    assert two.summary.html == "<p>para one</p>\n<p>para two</p>\n"  # not unwrapped, not trimmed


def test_empty_page():
    assert summarize("", is_cjk=False).summary == Summary(html="", truncated=False, kind="frontmatter")


def test_summary_length_setting():
    html = p(words(10)) + p(words(10, "v")) + p("end")
    assert summarize(html, is_cjk=False, summary_length=10).summary.html == f"<p>{words(10)}</p>"
    assert (
        summarize(html, is_cjk=False, summary_length=11).summary.html == f"<p>{words(10)}</p>\n<p>{words(10, 'v')}</p>"
    )


@pytest.mark.parametrize(
    ("html", "trimmed"),
    [
        ("<p>spaced</p>\n", "spaced"),
        ("  <p>A <strong>b</strong></p>\n", "A <strong>b</strong>"),
        ("<p>one</p>\n<p>two</p>\n", "<p>one</p>\n<p>two</p>\n"),
        ("<ul>\n<li>x</li>\n</ul>\n", "<ul>\n<li>x</li>\n</ul>\n"),
        ("", ""),
    ],
)
def test_trim_short_html(html: str, trimmed: str):
    assert trim_short_html(html) == trimmed
