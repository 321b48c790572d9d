"""Unit tests of execblog.hugo.text_metrics. Every expected value below was printed
by Hugo 0.168.0 (`plainify`, `.Plain`, `.WordCount`, `.FuzzyWordCount`,
`.ReadingTime`) for the same input."""

from __future__ import annotations

import pytest

from execblog.hugo.text_metrics import (
    contains_cjk,
    fuzzy_word_count,
    go_fields,
    go_is_space,
    is_cjk_page,
    reading_time,
    strip_html,
    text_metrics,
    word_count,
)


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        ("<p>Hello <b>w</b></p>\n<p>x</p>\n", "Hello w\nx\n"),
        ("<p>a</p>\n\n\n<p>b</p>", "a\nb\n"),
        ("<p>1</p><p>2</p>", "1\n2\n"),
        (" <p> lead</p> ", " lead\n"),
        ("<p>a  \t b</p>", "a b\n"),
        ("a<br>b<br />c", "a\nb\nc"),
        ("x</p>", "x\n"),
        # Entities are left as written.
        ("&amp; &lt;x&gt;", "&amp; &lt;x&gt;"),
        ('&#160;<a href="#x">&#x21a9;&#xfe0e;</a>', "&#160;&#x21a9;&#xfe0e;"),
        # No tag at all: returned untouched, whitespace included.
        ("no tags\n\n  x", "no tags\n\n  x"),
        ("a < b", "a < b"),
        ("I <3 you", "I <3 you"),
        # Quoted attribute values may hold '>'.
        ('<div title="1>2">t</div>', "t"),
        ('<img src="a.png" alt="x > y">after', "after"),
        ("<a href=x>l</a>", "l"),
        ("<a:b c>t</a:b>", "t"),
        ("<!-- c -->x", "x"),
        ("<script>var x=1</script>y", "y"),
        ("<SCRIPT>x</SCRIPT >v", "v"),
        ("<style>p{}</style>k", "k"),
        ("<textarea>t</textarea>z", "tz"),
        ("<title>T</title>u", "Tu"),
        # Go's quirks: input that ends inside the first tag is kept as is;
        # a malformed tag or an unterminated comment or quote drops the rest.
        ("a<b", "a<b"),
        ("x</p", "x</p"),
        ("q<!--", "q<!--"),
        ("<p>t</p><a", "t\n"),
        ('<a "x">q</a> rest', ""),
        ("<a =x>y</a>z", ""),
        ("<!-- unterminated", ""),
        ('<a href="x>y', ""),
        ("<p>\u3000全角\u3000</p>", "\u3000全角\u3000"),
    ],
)
def test_strip_html_matches_hugo_plainify(html: str, plain: str):
    assert strip_html(html) == plain


def test_go_spaces():
    assert go_is_space("\u3000") and go_is_space("\xa0") and go_is_space("\u2009")
    assert not go_is_space("\u200b") and not go_is_space("\x1c")
    assert go_fields(" a\u3000b\xa0c\u200bd \n") == ["a", "b", "c\u200bd"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("日本", True),
        ("ひらがな", True),
        ("カタカナ", True),
        ("한국어", True),
        ("々", True),
        ("ー。、「」", False),
        ("English only", False),
        ("\u3000", False),
        ("Ünïcödé 😀", False),
    ],
)
def test_contains_cjk(text: str, expected: bool):
    assert contains_cjk(text) is expected


def test_is_cjk_page():
    # Front matter wins; else the site switch plus CJK anywhere in the file.
    assert is_cjk_page("---\ntitle: x\n---\nEnglish", True, False) is True
    assert is_cjk_page("---\ntitle: x\n---\n日本語", False, True) is False
    assert is_cjk_page("---\ntitle: 日本\n---\nEnglish body", None, True) is True
    assert is_cjk_page("---\ntitle: x\n---\n日本語", None, False) is False
    assert is_cjk_page("---\ntitle: x\n---\nEnglish", None, True) is False


def test_word_count_modes():
    plain = "Hello &ldquo;world&rdquo; &ndash; it&rsquo;s&hellip; a test. 日本語の文章です。\nSecond para &amp; more.\n"
    assert word_count(plain, is_cjk=False) == 11
    # CJK mode: ASCII chunks count 1, others one per character (entities too).
    assert word_count("日本&quot;語", is_cjk=True) == 9
    assert word_count("&ldquo;日本語&rdquo; and it&rsquo;s", is_cjk=True) == 19
    assert word_count("", is_cjk=True) == 0


@pytest.mark.parametrize(
    ("words", "fuzzy"),
    [
        (0, 0),
        (5, 100),
        (99, 100),
        (100, 100),
        (101, 200),
        (108, 200),
        (212, 300),
        (500, 500),
        (1532, 1600),
        (1980, 2000),
    ],
)
def test_fuzzy_word_count(words: int, fuzzy: int):
    assert fuzzy_word_count(words) == fuzzy


@pytest.mark.parametrize(
    ("words", "is_cjk", "minutes"),
    # 212 and 500 words a minute, rounded up (not the 213/501 of older Hugo).
    [
        (0, False, 0),
        (1, False, 1),
        (108, False, 1),
        (212, False, 1),
        (213, False, 2),
        (424, False, 2),
        (425, False, 3),
        (637, False, 4),
        (1532, False, 8),
        (0, True, 0),
        (168, True, 1),
        (500, True, 1),
        (501, True, 2),
        (1000, True, 2),
        (1001, True, 3),
        (1980, True, 4),
    ],
)
def test_reading_time(words: int, is_cjk: bool, minutes: int):
    assert reading_time(words, is_cjk) == minutes


def test_text_metrics_of_rendered_content():
    html = (
        "<p>Hello &ldquo;world&rdquo; &ndash; it&rsquo;s&hellip; a test. 日本語の文章です。</p>\n"
        "<p>Second <!-- raw HTML omitted -->para<!-- raw HTML omitted --> &amp; more.</p>\n"
    )
    m = text_metrics(html, is_cjk=False)
    assert (
        m.plain
        == "Hello &ldquo;world&rdquo; &ndash; it&rsquo;s&hellip; a test. 日本語の文章です。\nSecond para &amp; more.\n"
    )
    assert (m.word_count, m.fuzzy_word_count, m.reading_time) == (11, 100, 1)
    empty = text_metrics("", is_cjk=True)
    assert (empty.plain, empty.word_count, empty.fuzzy_word_count, empty.reading_time) == ("", 0, 0, 0)


_FRAGMENTS = [
    "<p>",
    "</p>",
    "<br>",
    "<br />",
    '<a href="x>y">',
    "</a>",
    "<span class=k>",
    "</span>",
    "<code>",
    "text ",
    "全角",
    " ",
    "\n",
    "<",
    ">",
    "</",
    "<!--",
    "-->",
    "<script>",
    "</script>",
    "<Title>",
    "</TITLE >",
    "<scripts>",
    "<a:b c>",
    "<ab=x>",
    '<a "q">',
    "<a =x>",
    "<x-y z='1>2'>",
    "<a-",
    "<3",
    "&amp;",
    '"',
    "'",
    "=",
    "<img alt=x/>",
    "<textarea>",
    "</textarea>",
    "<style>",
    "</style>",
    "<pre\n class='x'\n>",
    "<a\tb>",
    "</>",
]


def test_strip_html_one_pass_agrees_with_the_tag_scan():
    """The one-regex pass is only a faster way to the scan's result: on inputs mixing
    well-formed tags with every case the scan handles, both give the same text."""
    import random

    from execblog.hugo.text_metrics import _scan_tags, _strip_tags

    rnd = random.Random(7)
    for _ in range(20000):
        s = "".join(rnd.choice(_FRAGMENTS) for _ in range(rnd.randint(1, 12)))
        assert _strip_tags(s) == _scan_tags(s), s
