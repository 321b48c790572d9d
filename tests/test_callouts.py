"""Callouts: GitHub's alerts (`> [!NOTE]`), detected by Hugo's rule for its blockquote render hook
(.AlertType, .AlertSign, .AlertTitle) and checked against the Hugo binary."""

from __future__ import annotations

import json
import os
import re
import subprocess
from html import unescape

import pytest
from test_hugo_oracle import _hugo_binary

from execblog.convert.markdown import CALLOUT_TYPES, MarkdownOptions, MarkdownRenderer, alert_of

CASES = {
    "note": "> [!NOTE]\n> Body text.",
    "tip-title": "> [!tip] Custom **title**\n> Body text.",
    "plus": "> [!WARNING]+ Folded open\n> Body text.",
    "minus": "> [!CAUTION]-\n> Body text.",
    "same-line": "> [!IMPORTANT]Body on the marker line\n> and more.",
    "custom": "> [!custom]\n> Body text.",
    "spaced": ">   [!NOTE]\n> Body text.",
    "paragraphs": "> [!NOTE]\n>\n> Second paragraph.",
    "plain": "> A quote that mentions [!NOTE] later.",
    "space-inside": "> [! NOTE]\n> Body text.",
    "strong": "> **[!NOTE]**\n> Body text.",
    "list": "> - [!NOTE] in a list\n> - two",
    "digits": "> [!NOTE2]\n> Body text.",
}

_HOOK = (
    '{{- $t := .AlertTitle -}}<div class="bq" data-info="{{ dict "type" .AlertType "sign" .AlertSign '
    '"title" $t "text" (.Text | plainify | htmlUnescape) | jsonify }}"></div>'
)


def _hugo_alerts(tmp_path) -> dict[str, dict]:
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "layouts" / "_markup").mkdir(parents=True)
    for name, text in CASES.items():
        (site / "content" / f"{name}.md").write_text(f"---\ntitle: {name}\n---\n{text}\n", encoding="utf-8")
    (site / "layouts" / "_markup" / "render-blockquote.html").write_text(_HOOK, encoding="utf-8")
    (site / "layouts" / "single.html").write_text("{{ .Content }}", encoding="utf-8")
    (site / "layouts" / "list.html").write_text("", encoding="utf-8")
    (site / "hugo.toml").write_text(
        'baseURL = "https://example.org/"\ntitle = "t"\n'
        'disableKinds = ["taxonomy", "term", "rss", "sitemap", "robotstxt", "404"]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HUGO_CACHEDIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [_hugo_binary(), "--quiet", "--source", str(site), "--destination", str(site / "public")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = {}
    for name in CASES:
        page = (site / "public" / name / "index.html").read_text(encoding="utf-8")
        info = re.search(r'data-info="([^"]*)"', page)
        assert info, name
        out[name] = json.loads(unescape(info.group(1)))
    return out


def _ours(text: str) -> dict:
    html = MarkdownRenderer(MarkdownOptions()).render(text).html
    m = re.match(r'<div class="callout callout-\w+" data-callout="([^"]*)">\n<p class="callout-title">(.*?)</p>', html)
    body = re.sub(r"<[^>]+>", "", html[m.end() :] if m else html)
    return {"type": m.group(1) if m else "", "title": m.group(2) if m else "", "text": " ".join(body.split())}


@pytest.mark.oracle
def test_alert_detection_matches_hugo(tmp_path):
    hugo = _hugo_alerts(tmp_path)
    for name, text in CASES.items():
        inner = re.sub(r"^> ?", "", text, flags=re.M).lstrip()
        ours = _ours(text)
        found = alert_of(inner)
        assert (found or ("", "", ""))[:2] == (hugo[name]["type"], hugo[name]["sign"]), name
        assert ours["type"] == hugo[name]["type"], name
        if hugo[name]["title"]:  # Hugo leaves the title to the hook; ours is its text, or the type's name
            assert ours["title"] == hugo[name]["title"], name
        assert ours["text"] == " ".join(hugo[name]["text"].split()), name


def test_alert_rule():
    assert alert_of("[!NOTE]\nbody") == ("note", "", "")
    assert alert_of("[!Warning]- Title here\nbody") == ("warning", "-", "Title here")
    assert alert_of("[!NOTE]x") == ("note", "", "x")
    assert alert_of("[! NOTE]") is None and alert_of("text [!NOTE]") is None


def test_callouts_have_translated_titles_and_markdown_bodies():
    md = MarkdownRenderer(MarkdownOptions(callout_titles={k: f"<{k}>" for k in CALLOUT_TYPES}))
    html = md.render("> [!CAUTION]\n> Do **not** run this.\n\n> plain quote\n").html
    assert html.startswith(
        '<div class="callout callout-caution" data-callout="caution">\n'
        '<p class="callout-title">&lt;caution&gt;</p>\n<p>Do <strong>not</strong> run this.</p>\n</div>'
    )
    assert "<blockquote>\n<p>plain quote</p>\n</blockquote>" in html
    nested = md.render("> [!NOTE]\n> > inner quote\n> after\n").html
    assert nested.count("<blockquote>") == 1 and nested.rstrip().endswith("</div>")
