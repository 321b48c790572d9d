"""theme/static/js/search.js against the Python side, in Node: the same terms and slots for
a table of strings, escaped excerpts, and queries answered from an index the build
assembled (ranking, CJK contiguity, prefixes, phrases first)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_search_index import assembled

from execblog.output.search_index import FORMAT
from execblog.pages.search import SLOTS, encode_positions, normalize, search_record, slot, tokens

SEARCH_JS = Path(__file__).resolve().parents[1] / "theme" / "static" / "js" / "search.js"

# Node runs search.js as a CommonJS module (it exports its functions when `module` exists).
RUNNER = """
const s = require(process.argv[1]);
const fs = require("fs"), path = require("path");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const out = {};
out.tokens = input.strings.map(t => s.tokens(s.normalize(t)).map(x => [x[0], x[1]]));
out.normalized = input.strings.map(t => s.normalize(t));
out.format = s.FORMAT;
out.slots = input.terms.map(t => s.slotOf(t, input.slots));
out.decoded = (input.encoded || []).map(e => s.decodePositions(e));
out.excerpts = input.excerpts.map(([text, q]) => s.excerpt(text, s.parseQuery(q)));
(async () => {
  if (input.dir) {
    const read = name => JSON.parse(fs.readFileSync(path.join(input.dir, name), "utf8"));
    const m = read("index.json");
    const file = async (name, shard) => shard ? s.shardTerms(read(name)) : read(name);
    out.results = [];
    out.totals = [];
    for (const q of input.queries) {
      const found = await s.find(q, m, file, input.limit);
      out.results.push(found.items);
      out.totals.push(found.total);
    }
  }
  process.stdout.write(JSON.stringify(out));
})();
"""

STRINGS = [
    "GPT-2 アテンション",
    "ｱﾃﾝｼｮﾝ ﾋｰﾄﾏｯﾌﾟ",
    "Ｔｏｋｅｎｉｚｅｒ ＡＢＣ１２３",
    "走れメロス。邪智暴虐の王",
    "café naïve Straße İstanbul ǅemal",
    "emoji😀between🎉words 👍🏽",
    "snake_case kebab-case dot.case 3.14",
    "①②③ ㈱ ㌔ ﬁ ½",
    "한국어 텍스트 Ελληνικά Кириллица",
    "々〆〇 ゝゞ ヽヾ ー・",
    "𠮷野家 𩸽",
    "tab\tnew\nline\u3000ideographic space",
    "<img src=x onerror=alert(1)></script>",
    "ΟΔΟΣ οδοσήμανση İSTANBUL İstanbul",
    "\U00031350\U00032000 CJK extensions H and J",
]


def run_node(payload: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed (Debian: apt install nodejs; `make install` installs it)")
    proc = subprocess.run(
        [node, "-e", RUNNER, str(SEARCH_JS)], input=json.dumps(payload), capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_python_and_javascript_normalise_and_tokenize_alike():
    terms = sorted({t for s in STRINGS for t, _ in tokens(normalize(s))})
    positions = [[0], [3, 4, 5], [2000, 2031, 2032, 3100, 70000, 10**7]]
    encoded = [encode_positions(p) for p in positions]
    out = run_node({"strings": STRINGS, "terms": terms, "slots": SLOTS, "excerpts": [], "encoded": encoded})
    assert out["decoded"] == positions
    assert out["normalized"] == [normalize(s) for s in STRINGS]
    assert out["tokens"] == [[[t, p] for t, p in tokens(normalize(s))] for s in STRINGS]
    assert out["slots"] == [slot(t) for t in terms]


def test_excerpts_are_escaped_text_with_the_hits_marked():
    hostile = "前書き <img src=x onerror=alert(1)> と </script><script>alert(2)</script> 本文のアテンション"
    out = run_node(
        {
            "strings": [],
            "terms": [],
            "slots": SLOTS,
            "excerpts": [[hostile, "onerror"], [hostile, "アテンション"], ["ＧＰＴ-2 is here", "gpt-2"]],
        }
    )
    onerror, attention, wide = out["excerpts"]
    assert onerror == (
        "前書き &#60;img src=x <mark>onerror</mark>=alert(1)&#62; と &#60;/script&#62;&#60;script&#62;"
        "alert(2)&#60;/script&#62; 本文のアテンション"
    )
    assert attention.endswith("本文の<mark>アテンション</mark>")
    assert wide == "<mark>ＧＰＴ</mark>-<mark>2</mark> is here"  # marked as written, found as normalised


def test_queries_on_an_assembled_index(tmp_path):
    posts = {
        "melos": ("走れメロス", ("文学",), "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬ。"),
        "heatmap": ("可視化", ("LLM",), "ヒートマップでアテンションを見る。GPT-2 アテンションの重み。"),
        "scattered": ("Notes", (), "GPT GPT GPT 2 2 アテンション アテンション マップ ヒート"),
        "english": ("Tokenization explained", (), "Tokenizers split text. The quick brown fox."),
        "rain": ("天気", (), "東京は雨だった。"),
        "title-only": ("Attention is all you need", (), "A paper."),
    }
    for i in range(30):  # filler, so that the shards are many and idf means something
        posts[f"filler{i}"] = (f"Filler {i}", (), f"ordinary prose number {i} 日本語の文章 {i}")
    records = [search_record(f"/posts/{n}/", title, "2025", tags, body) for n, (title, tags, body) in posts.items()]
    for rel, data in assembled(records):
        path = tmp_path / rel.removeprefix("search/data/")
        path.write_bytes(data)
    queries = ["ヒートマップ", "走れメロス", "邪智", "雨", "GPT-2 アテンション", "tokeni", "attention", "マップヒート"]
    queries.append("xyzzy")
    payload = {"strings": [], "terms": [], "slots": SLOTS, "excerpts": [], "dir": str(tmp_path), "queries": queries}
    out = run_node(payload)
    found = {q: [r["url"].split("/")[2] for r in rs] for q, rs in zip(queries, out["results"], strict=True)}
    assert found["ヒートマップ"] == ["heatmap"]  # the scattered ヒート and マップ are not the word
    assert found["走れメロス"] == ["melos"]
    assert found["邪智"] == ["melos"]
    assert found["雨"] == ["rain"]  # one character inside a longer run
    assert found["GPT-2 アテンション"][0] == "heatmap" and "scattered" in found["GPT-2 アテンション"]
    assert found["tokeni"] == ["english"]  # the last word, still being typed, is a prefix
    assert found["attention"][0] == "title-only"  # a title hit outweighs a body hit
    assert found["マップヒート"] == [] and found["xyzzy"] == []
    first = out["results"][0][0]
    assert first["title"] == "可視化" and "<mark>ヒートマップ</mark>" in first["excerpt"]


def test_the_count_is_every_match_and_a_larger_limit_shows_more(tmp_path):
    records = [search_record(f"/posts/p{i:02d}/", f"Post {i}", "2025", (), f"common word {i}") for i in range(25)]
    records.append(search_record("/posts/other/", "Other", "2025", (), "nothing shared"))
    for rel, data in assembled(records):
        (tmp_path / rel.removeprefix("search/data/")).write_bytes(data)
    base = {"strings": [], "terms": [], "slots": SLOTS, "excerpts": [], "dir": str(tmp_path), "queries": ["common"]}
    first = run_node(base)
    assert first["format"] == FORMAT  # the script reads the index the build writes
    assert first["totals"] == [25] and len(first["results"][0]) == 10  # "25 件", ten shown
    more = run_node({**base, "limit": 20})
    assert more["totals"] == [25] and len(more["results"][0]) == 20
    assert [r["url"] for r in more["results"][0][:10]] == [r["url"] for r in first["results"][0]]


def test_hits_are_marked_where_normalisation_joins_or_splits_characters():
    cases = [
        ("前に ﾃﾞｨﾌｭｰｼﾞｮﾝ の話", "ディフュージョン"),  # halfwidth kana with sound marks: one character each
        ("かけ\u3099る", "がる"),  # a decomposed voiced mark, as some editors save it
        ("ΟΔΟΣ closed", "οδοσ"),  # a final sigma
        ("about ½ of it", "1"),  # one character that normalises to three
    ]
    base = {"strings": [], "terms": [], "slots": SLOTS}
    out = run_node({**base, "excerpts": [list(case) for case in cases]})
    assert out["excerpts"] == [
        "前に <mark>ﾃﾞｨﾌｭｰｼﾞｮﾝ</mark> の話",
        "かけ\u3099る",  # がる is not there: け + ゙ is げ
        "<mark>ΟΔΟΣ</mark> closed",
        "about <mark>½</mark> of it",
    ]
    out = run_node({**base, "excerpts": [["かけ\u3099る", "げる"]]})
    assert out["excerpts"] == ["か<mark>け\u3099る</mark>"]
