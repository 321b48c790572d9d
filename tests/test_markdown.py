"""Plain-text links in Markdown become links where Hugo's goldmark makes them, and prose without
one is left alone; the quick check markdown-it runs on every paragraph first (linkify-it's
`pretest`, computed here by parts) answers as linkify-it's own does."""

from __future__ import annotations

import itertools
import re

import pytest
from linkify_it import LinkifyIt

from execblog.convert.markdown import MarkdownRenderer, _Linkify

# Pieces every kind of link is made of, and the characters around them that decide whether it is one.
PIECES = ["http:", "HTTPS:", "//", "ftp:", "mailto:", "www.", ".com", ".jp", ".рф", "localhost", "@", "_", "｜", " "]
PIECES += ["　", "。", "a", ".", ":", "/", "1", ".1.", ">", "\n", "ｗｗｗ.", "xn--p1ai", "(", "K", "ſ"]


def test_the_quick_check_answers_as_linkify_its_own():
    theirs, ours = LinkifyIt(), _Linkify()
    texts = ["".join(p) for n in (1, 2, 3) for p in itertools.product(PIECES, repeat=n)]
    texts += ["メロスは激怒した。", "The quick brown fox. Attention maps.", "see https://example.org/x.", "me@x.org"]
    assert sum(bool(theirs.pretest(t)) for t in texts) > len(texts) // 4  # both answers occur
    assert [ours.pretest(t) for t in texts] == [bool(theirs.pretest(t)) for t in texts]


def test_no_other_character_matches_the_marks_of_schema_names_case_insensitively():
    """The quick check leaves out the schema test for text with no `:` and no `/`."""
    for mark in ":/":
        alike = re.compile(re.escape(mark), re.IGNORECASE)
        assert [c for c in map(chr, range(0x110000)) if alike.fullmatch(c)] == [mark]


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("see https://example.org/a.", '<a href="https://example.org/a">https://example.org/a</a>.'),
        ("日本語の文の中 www.example.com です", '<a href="https://www.example.com">www.example.com</a>'),
        ("write to me@example.org", '<a href="mailto:me@example.org">me@example.org</a>'),
    ],
)
def test_plain_text_links_become_links(text, link):
    assert link in MarkdownRenderer().render(text).html


def test_prose_without_links_stays_text():
    text = "メロスは激怒した。The quick brown fox jumps over the lazy dog. e.g. 3.14 and a_b"
    assert MarkdownRenderer().render(text).html == f"<p>{text}</p>\n"
