"""Highlighted code shows what Pygments' own HTML and stylesheet show: the same text,
and every character in the same colour and font in the light and the dark scheme,
with fewer spans and classes."""

from __future__ import annotations

import html
import re

import pytest
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from execblog.convert.highlight import _first_characters, code_style, lexed
from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer

SAMPLES = {
    "python": '''import os, sys
from typing import Any  # a comment
@dataclass
class Point(Base):
    """Docstring."""
    def area(self, r: float = 2.5e-3) -> float:
        s = f"{r!r:>10} and {{braces}}" + 'single' + b"\\x00\\n"
        return [x ** 2 for x in range(10) if x is not None and True] or print(len(s), self)
raise ValueError(r"raw\\d+") from None
''',
    "ipython3": "%matplotlib inline\n!pip install x\nimport numpy as np\nnp.zeros((2, 3))?\n",
    "bash": "for f in *.md; do echo \"$f\" | grep -c 'x' > /dev/null 2>&1; done\nexport A=1 # note\n",
    "javascript": "const a = {b: [1, 2.5, 'c', `t${x}`], re: /a+b/g};\n"
    "async function f() { return await a?.b ?? null; }\n",
    "json": '{"a": [1, true, null, "s\\"q"], "b": {"c": -1.5e3}}\n',
    "diff": "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old line\n+new line\n context\n",
    "html": "<!DOCTYPE html>\n<p class=\"x\" data-y='1'>a &amp; b<!-- c --></p>\n",
    "c": '#include <stdio.h>\nint main(void) { char *s = "x\\n"; return 0x1F; } /* c */\n',
}
STYLE_PAIRS = [("default", "github-dark"), ("friendly", "github-dark"), ("monokai", "solarized-light")]
DARK = "[data-theme=dark] .highlight"
_RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
_PIECE = re.compile(r'<span class="([^"]*)">([^<]*)</span>|([^<]+)')
INHERITED = {"color", "font-weight", "font-style"}


def _rules(css: str) -> dict[str, dict[str, str]]:
    """selector -> declarations, normalised (#666 and #666666 are one colour)."""
    found: dict[str, dict[str, str]] = {}
    for selector, body in _RULE.findall(re.sub(r"/\*.*?\*/", "", css)):
        decls = (d.split(":", 1) for d in body.split(";") if ":" in d)
        found.setdefault(" ".join(selector.split()), {}).update(
            {name.strip(): _colour(value.strip()) for name, value in decls}
        )
    return found


def _colour(value: str) -> str:
    return re.sub(r"#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])\b", r"#\1\1\2\2\3\3", value).lower()


def _looks(markup: str, css: str, dark: bool) -> list[tuple[str, frozenset]]:
    """Each character with the CSS properties it shows, by the cascade: the block's
    inherited properties, then the span's light rules, then its dark ones."""
    rules = _rules(css)
    block = {k: v for k, v in rules.get(".highlight", {}).items() if k in INHERITED}
    if dark:
        block |= {k: v for k, v in rules.get(DARK, {}).items() if k in INHERITED}
    out = []
    for cls, inside, outside in _PIECE.findall(markup):
        look = dict(block)
        for name in cls.split():
            look |= rules.get(f".highlight .{name}", {})
        if dark:
            for name in cls.split():
                look |= rules.get(f"{DARK} .{name}", {})
        for ch in html.unescape(inside or outside):
            out.append((ch, frozenset(look.items())))
    return out


def _pygments(code: str, lang: str, light: str, dark: str) -> tuple[str, str]:
    """Pygments' own markup and stylesheet, dark rules under [data-theme=dark]."""
    lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    markup = highlight(code, lexer, HtmlFormatter(nowrap=True))
    css = HtmlFormatter(style=light).get_style_defs(".highlight") + "\n"
    css += HtmlFormatter(style=dark).get_style_defs(DARK)
    return markup, css


@pytest.mark.parametrize(("light", "dark"), STYLE_PAIRS)
@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_every_character_looks_as_with_pygments_own_markup(lang, light, dark):
    code = SAMPLES[lang]
    style = code_style(light, dark)
    ours = style.html(code, get_lexer_by_name(lang, stripnl=False, ensurenl=False))
    theirs, their_css = _pygments(code, lang, light, dark)
    for scheme_dark in (False, True):
        mine = _looks(ours, style.css(), scheme_dark)
        reference = _looks(theirs, their_css, scheme_dark)
        assert "".join(ch for ch, _ in mine) == code
        assert len(mine) == len(reference)
        for i, ((ch, look), (_, want)) in enumerate(zip(mine, reference, strict=True)):
            if ch == "\n":  # a line break shows nothing
                continue
            if ch.isspace():  # a blank shows no colour: only a background, border or underline
                look = frozenset(p for p in look if p[0] != "color")
                want = frozenset(p for p in want if p[0] != "color")
            assert look == want, (lang, "dark" if scheme_dark else "light", i, code[max(0, i - 10) : i + 10])
    assert ours.count("<span") < theirs.count("<span")


def test_plain_tokens_get_no_span_and_alike_tokens_share_a_class():
    style = code_style("default", "github-dark")
    out = style.html('x = foo(1, "a")\n', get_lexer_by_name("python", stripnl=False, ensurenl=False))
    # names and punctuation look like the code around them in both styles; strings are `s` whatever their quotes
    assert out == 'x <span class="o">=</span> foo(<span class="m">1</span>, <span class="s">&#34;a&#34;</span>)\n'
    css = style.css()
    assert ".highlight .s {" in css and ".highlight .s2" not in css and ".highlight .n " not in css


def test_a_code_block_keeps_its_text_for_copying_and_word_counts():
    md = MarkdownRenderer(MarkdownOptions(code_styles=("default", "github-dark")))
    out = md.render("```python\nprint('it''s <b> & \"q\"')\n```\n").html
    assert out.startswith('<div class="highlight"><pre tabindex="0"><code class="language-python" data-lang="python">')
    assert '</span>(<span class="s">' in out and "&#39;it&#39;&#39;s &lt;b&gt; &amp; &#34;q&#34;&#39;" in out
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert text == "print('it''s <b> & \"q\"')\n"


def test_a_block_a_past_conversion_highlighted_is_taken_from_it_and_a_changed_one_is_not(tmp_path):
    """What lets a build converting one edited post skip making a lexer for code that did not change."""
    from execblog.incremental.highlights import HighlightMemo

    r = MarkdownRenderer(MarkdownOptions())
    text = "```python\nx = 1\n```\n\n```python\ny = 2\n```\n"
    with r.reusing({}) as first:
        fresh = r.render(text).html
    assert len(first) == 2
    memo = HighlightMemo(tmp_path / "memo", "site options")
    memo.save("posts/a", first, {})
    earlier = memo.load("posts/a")
    assert earlier == first and HighlightMemo(tmp_path / "memo", "other options").load("posts/a") == {}
    # the same markup, taken from the memo: marked to tell it apart
    marked = {key: value.replace("<span", '<span data-memo=""', 1) for key, value in earlier.items()}
    with r.reusing(marked) as again:
        reused = r.render(text).html
    assert reused.count("data-memo") == 2 and reused.replace(' data-memo=""', "") == fresh
    with r.reusing(marked) as now:
        edited = r.render(text.replace("y = 2", "y = 3")).html
    assert edited.count("data-memo") == 1 and "3" in edited
    # what the post's file is rewritten with holds only the blocks it has now
    assert again.keys() == first.keys() and len(now) == 2 and len(now.keys() & first.keys()) == 1


# Lexers Pygments lexes rule by rule (python, ipython3, bash, javascript, ...), some whose rules
# refer back to groups or use case-insensitive classes, and some that lex their own way (c, json).
LEXED = sorted(SAMPLES) + ["yaml", "rust", "ruby", "sql", "toml", "markdown", "latex", "rst", "php", "fortran"]


def _texts() -> list[str]:
    # every sample in every language: text a lexer does not expect takes its error and line-reset paths
    return list(SAMPLES.values()) + ["".join(SAMPLES.values()), "", "\n", "x", "'open\n\"also", "\t\x00é漢 ſ K"]


@pytest.mark.parametrize("lang", LEXED)
def test_code_is_split_into_the_tokens_pygments_gives(lang):
    lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    for text in _texts():
        assert list(lexed(lexer, text)) == list(lexer.get_tokens(text)), (lang, text[:40])


@pytest.mark.parametrize("lang", [lang for lang in LEXED if lang not in ("c", "json")])
def test_a_rule_is_left_out_only_where_it_cannot_match(lang):
    """Wherever a rule of any state matches, the character there is one it is tried at."""
    lexer = get_lexer_by_name(lang)
    for rules in lexer._tokens.values():
        for rexmatch, _action, _new_state in rules:
            first = _first_characters(rexmatch)
            for text in _texts():
                for pos, ch in enumerate(text):
                    if ord(ch) < 128 and ord(ch) not in first:
                        assert not rexmatch(text, pos), (lang, rexmatch.__self__.pattern, text[pos : pos + 20])


def test_most_rules_are_left_out_at_a_character_of_python():
    """Else the comparisons above would compare Pygments with itself."""
    lexer = get_lexer_by_name("python", stripnl=False, ensurenl=False)
    root = lexer._tokens["root"]
    tried = [sum(ord(ch) in _first_characters(rexmatch) for rexmatch, *_ in root) for ch in "x =1('#"]
    assert max(tried) < len(root) / 3, tried
