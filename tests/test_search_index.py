"""The search index: tokenizer, per-post records and assembly (pure functions, no build)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from execblog.output.search_index import DATA_DIR, MANIFEST, search_files
from execblog.output.write import Spool
from execblog.pages.search import (
    BODY_BASE,
    DIGITS,
    TAGS_BASE,
    encode_positions,
    normalize,
    search_record,
    slot,
    tokens,
    visible_html,
)


def terms(text: str) -> list[str]:
    return [t for t, _ in tokens(normalize(text))]


def test_normalisation_folds_width_and_case():
    assert normalize("Ｔｏｋｅｎｉｚｅｒ ＧＰＴ") == "tokenizer gpt"
    assert normalize("ｱﾃﾝｼｮﾝ") == "アテンション"  # halfwidth katakana
    assert normalize("Straße") == "straße"


def test_latin_and_digit_runs_are_words_and_punctuation_and_emoji_separate():
    assert terms("GPT-2's attention😀maps, 3.14") == ["gpt", "2", "s", "attention", "maps", "3", "14"]
    assert terms("café naïve") == ["café", "naïve"]
    assert terms("snake_case") == ["snake", "case"]
    assert terms("!!! 😀 ---") == []


def test_cjk_runs_are_bigrams_with_positions_and_the_last_character_alone():
    assert tokens("走れメロス") == [("走れ", 0), ("れメ", 1), ("メロ", 2), ("ロス", 3), ("ス", 4)]
    assert tokens("雨") == [("雨", 0)]
    # the prolonged sound mark belongs to the word; Japanese punctuation separates
    assert terms("ヒートマップ。") == ["ヒー", "ート", "トマ", "マッ", "ップ", "プ"]


def test_mixed_scripts_take_consecutive_positions():
    assert tokens(normalize("GPT-2 アテンション")) == [
        ("gpt", 0),
        ("2", 1),
        ("アテ", 2),
        ("テン", 3),
        ("ンシ", 4),
        ("ショ", 5),
        ("ョン", 6),
        ("ン", 7),
    ]
    assert terms("GPT2のモデル") == ["gpt2", "のモ", "モデ", "デル", "ル"]


def decode_positions(text: str) -> list[int]:
    """search.js's decodePositions, in Python."""
    out, at, n, shift = [], 0, 0, 0
    for ch in text:
        d = DIGITS.index(ch)
        n += (d & 31) << shift
        if d >= 32:
            shift += 5
            continue
        at += n
        out.append(at)
        n = shift = 0
    return out


def _postings(record) -> dict[str, list[int]]:
    """term -> absolute positions, read back from the record's fragments."""
    out = {}
    for fragment in record.parts():
        values = fragment.split(" ")
        for term, positions in zip(values[::2], values[1::2], strict=True):
            out[term] = decode_positions(positions)
    return out


def test_positions_are_short_text():
    positions = [0, 1, 2, 31, 32, 1000, 1031, 2000, 70000]
    encoded = encode_positions(positions)
    assert decode_positions(encoded) == positions
    assert encoded.startswith("011") and len(encode_positions([5, 6, 7])) == 3
    assert set(encoded) <= set(DIGITS) and not set(encoded) & set(' "\\')


def test_a_record_places_title_tags_and_body_in_their_own_ranges():
    record = search_record("/p/a/", "Attention 入門", "2025-01-02", ("LLM", "機械学習"), "The  attention\nmap.")
    found = _postings(record)
    assert found["attention"] == [0, BODY_BASE + 1]
    assert found["入門"] == [1] and found["門"] == [2]
    assert found["llm"] == [TAGS_BASE] and found["機械"][0] > TAGS_BASE + 1  # a gap between two tags
    assert record.text == "The attention map." and record.length == 3


def test_code_cell_fold_labels_are_not_text():
    html = '<details class="fold fold-input"><summary>Show code</summary><pre>print(1)</pre></details>'
    assert "Show code" not in visible_html(html) and "print(1)" in visible_html(html)


def test_words_in_neighbouring_blocks_stay_apart_in_the_search_text():
    from execblog.hugo.text_metrics import strip_html

    html = "<table><tr><td>alpha</td><td>beta</td></tr></table><ul><li>one</li><li>two</li></ul>"
    html += "<h2>Head</h2><p>x<em>y</em></p>"
    assert strip_html(visible_html(html)).split() == ["alpha", "beta", "one", "two", "Head", "xy"]
    assert strip_html(html).split() == ["alphabetaonetwoHeadxy"]  # word counts keep Hugo's joins


def assembled(records):
    """The index files of `records`, given as a build gives them: in URL order, read once, one at a
    time, with their total size."""
    ordered = sorted(records, key=lambda r: r.url)
    return search_files(iter(ordered), sum(r.size for r in ordered), Spool(Path(tempfile.gettempdir())))


def _records(posts: dict[str, str]):
    return [search_record(f"/posts/{name}/", name.title(), "2025", (), body) for name, body in posts.items()]


POSTS = {f"p{i:03}": f"post {i} アテンション number{i % 7} メロス{i}" * (1 + i % 5) for i in range(60)}


def test_shards_that_wait_in_the_spool_come_out_the_same(monkeypatch):
    """At 10,000 posts the term shards' text waits in a file until the last record is in."""
    from execblog.output import search_index

    records = _records(POSTS)
    whole = dict(assembled(records))
    monkeypatch.setattr(search_index, "_FLUSH_CHARS", 100)
    assert dict(assembled(records)) == whole


def test_an_edit_changes_the_manifest_and_only_the_files_that_hold_what_changed():
    posts = {f"p{i:03}": " ".join(f"w{i}x{j} 語{j % 50}" for j in range(40)) for i in range(300)}
    before = dict(assembled(_records(posts)))
    after = dict(assembled(_records({**posts, "p010": posts["p010"] + " 新しい段落"})))
    shards = len(json.loads(after[MANIFEST])["shards"])
    assert shards > 4
    changed = {k.removeprefix(DATA_DIR).split("-")[0] for k in before.keys() ^ after.keys()}
    new_terms = ["新し", "しい", "い段", "段落", "落"]
    assert changed == {"d1"} | {f"t{slot(t) % shards}" for t in new_terms}  # post 10 is in documents 8-15
    assert before[MANIFEST] != after[MANIFEST]


def test_edit_remove_and_rename_give_what_a_full_build_gives():
    cached = {name: r for name, r in zip(POSTS, _records(POSTS), strict=True)}
    edited = {**POSTS, "p003": "completely different text 走れ"}
    del edited["p020"]
    edited["renamed"] = edited.pop("p030")
    incremental = [cached[n] if n in POSTS and POSTS[n] == edited[n] else _records({n: edited[n]})[0] for n in edited]
    assert dict(assembled(incremental)) == dict(assembled(_records(edited)))


def test_the_manifest_lists_every_file_and_the_documents_are_in_url_order():
    written = list(assembled(_records(POSTS)))
    assert written[-1][0] == MANIFEST  # last: the files it names exist when it does
    files = dict(written)
    manifest = json.loads(files[MANIFEST])
    listed = {DATA_DIR + n for n in manifest["shards"] + manifest["docs"]} | {MANIFEST}
    assert listed == set(files)
    assert len(manifest["length"]) == len(POSTS)
    urls = [d[0] for name in manifest["docs"] for d in json.loads(files[DATA_DIR + name])]
    assert urls == sorted(f"/posts/{n}/" for n in POSTS)
    # a term shard: "doc term positions ..." strings; every body here says "post"
    entries = [e.split(" ") for name in manifest["shards"] for e in json.loads(files[DATA_DIR + name])]
    holding = {int(e[0]) for e in entries if "post" in e[1::2]}
    assert holding == set(range(len(POSTS)))


def test_an_empty_site_has_an_empty_index():
    manifest = json.loads(dict(assembled([]))[MANIFEST])
    assert manifest["docs"] == [] and manifest["length"] == []
