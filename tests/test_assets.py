"""Stylesheets and scripts fitted to the pages: the selector test (output.purge),
and on a built site, that every rule a page's DOM matches is still served to it
and that scripts go only where they act."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import cssselect
import tinycss2
from lxml import html as lhtml

from execblog.config import load_config
from execblog.execution.progress import Progress
from execblog.output.purge import (
    Stylesheet,
    fold_calc,
    html_tokens,
    script_tokens,
    selector_requirements,
    with_ids_from_scripts,
)
from execblog.output.static_assets import SMALL_RULE, full_css, minify_css, minify_js
from execblog.parallel import parallel_map


# --- what a selector requires, what a page holds ------------------------------------------------
def test_selector_requirements():
    assert selector_requirements("[data-theme=dark] .highlight .k") == [
        frozenset({"attr:data-theme", "class:highlight", "class:k"})
    ]
    # :not() and pseudo-classes only narrow a match; :is() requires what its alternatives share
    assert selector_requirements(".post-content :not(pre) > code") == [frozenset({"class:post-content", "tag:code"})]
    assert selector_requirements(".a:hover .b::before, #x") == [frozenset({"class:a", "class:b"}), frozenset({"id:x"})]
    assert selector_requirements("thead :is(th.c, td.c)") == [frozenset({"tag:thead", "class:c"})]
    assert selector_requirements("*, ::before") == [frozenset(), frozenset()]
    # an id on a named element: that element must carry one (a page's title h1 and a figure's id are not an h1[id])
    assert selector_requirements(".c h2[id], figure#f") == [
        frozenset({"class:c", "tag:h2", "attr:id", "id-on:h2"}),
        frozenset({"tag:figure", "id:f", "id-on:figure"}),
    ]
    assert selector_requirements("a:unknown-thing(") is None  # unreadable: the rule is kept


def test_html_tokens_reads_markup_not_text_or_comments():
    page = (
        '<html><head><script type="application/ld+json">{"x": "hidden-word"}</script>'
        '<script>document.documentElement.dataset.themeName = "dark"</script></head>'
        '<body class="list  x&amp;y"><p id="top" data-k="a>b" title=\'<em class="q">\'>a &lt;b class="no"&gt;</p>'
        '<!-- <div class="commented"> --><table><tr><td>1</td></tr></table></body></html>'
    )
    found = html_tokens(page)
    assert {
        "tag:p",
        "class:list",
        "class:x&y",
        "id:top",
        "attr:data-k",
        "attr:title",
        "tag:table",
        "tag:td",
        "tag:tbody",
        "attr:data-theme-name",
        "id-on:p",
    } <= found
    assert not {"class:no", "class:commented", "class:q", "tag:em", "tag:div", "class:hidden-word"} & found
    assert "id-on:table" not in found


def test_a_script_that_sets_ids_may_set_one_on_any_element():
    page = html_tokens("<h1>Title</h1><p id='x'>text</p>")
    assert "id-on:h1" not in page and "id-on:p" in page
    script = script_tokens('document.querySelector(".title").id = "t";')
    assert "id-on:h1" in with_ids_from_scripts(page | script)
    assert "id-on:h1" not in with_ids_from_scripts(page | script_tokens('document.body.className = "x";'))


def test_fit_keeps_matching_rules_in_order_and_drops_empty_media():
    sheet = Stylesheet("""
        :root { --c: red }
        .a { color: red }  .b { color: blue }  .a .c { color: green }
        @media (max-width: 10px) { .b { color: black } }
        @media print { .a { color: gray } }
        @font-face { font-family: X; src: url(x.woff2) }
        .weird:unknown-thing( { color: pink }
    """)
    css = sheet.write(sheet.used({"class:a", "tag:html"}))
    assert "color: blue" not in css and "color: black" not in css and "(max-width" not in css
    assert css.index("--c") < css.index("color: red") < css.index("@media print") < css.index("@font-face")
    assert ".a .c" not in css  # needs .c too
    assert ".a .c" in sheet.write(sheet.used({"class:a", "class:c"}))


def test_custom_properties_are_sent_where_something_reads_them():
    sheet = Stylesheet("""
        :root { --a: red; --b: var(--c); --c: blue; --d: green; --e: 1px !important; color-scheme: light }
        .x { color: var(--a) }  .y { color: var(--b) }  .only-vars { --f: 1 }
        .dark { --a: white; --c: black; --d: gray }
    """)
    fit = lambda tokens: sheet.write(sheet.used(tokens), tokens)  # noqa: E731
    css = fit({"tag:html", "class:x"})
    assert css.startswith(":root{--a:red;color-scheme:light}") and not {"--b", "--c", "--d", "--e"} & set(
        css.split(":")
    )
    # read by a property that is read, by a script, by the page's own style
    script = script_tokens('getComputedStyle(document.body).getPropertyValue("--d")')
    css = fit(html_tokens('<p class="y only-vars" style="margin: var(--e)">') | script)
    assert "--b:var(--c);--c:blue;--d:green;--e:1px!important" in css and "--a" not in css and "--f" not in css
    # a script that builds the names may read any of them
    anyone = html_tokens("<p>") | script_tokens('el.style.getPropertyValue("--" + name)')
    assert fit(anyone) == sheet.write(sheet.used(anyone)) and "--e: 1px !important" in fit(anyone)


def test_a_constant_custom_property_is_written_as_its_value():
    sheet = Stylesheet("""
        :root { --gap: 24px; --w: 720px; --c: red; --pad: 2px; --big: 9px }
        .dark { --c: blue }
        .main { max-width: calc(var(--w) + var(--gap) * 2); color: var(--c); padding: var(--pad) }
        .side { width: var(--w, 100%) }  .big { margin: var(--big) }
    """)
    fit = lambda tokens: sheet.write(sheet.used(tokens), tokens)  # noqa: E731
    # a value set once on the root is the value everywhere; --c changes in .dark, --w is read with a fallback
    css = fit({"tag:html", "class:main", "class:side"})
    assert css == (
        ":root{--w:720px;--c:red}\n.main{max-width: calc(var(--w) + 24px * 2); color: var(--c); padding: 2px}\n"
        ".side{width: var(--w, 100%)}\n"
    )
    # a calc() of pixels alone is its result where that is a length (not negative, as many decimals as written)
    sheet2 = Stylesheet(
        ":root { --gap: 24px }  .a { padding: calc((var(--gap) - 4px) / 2) calc(var(--gap) - 30px) }"
        "  .b { width: calc(var(--gap) / 7); margin: calc(var(--gap)+1px) }"
    )
    tokens = {"tag:html", "class:a", "class:b"}
    assert sheet2.write(sheet2.used(tokens), tokens) == (
        ".a{padding: 10px calc(24px - 30px)}\n.b{width: calc(24px / 7); margin: calc(24px+1px)}\n"
    )
    # a page that sets one (a style, as a post's SVG may), or a script that names it, keeps it as it is
    page = html_tokens('<p class="big"><svg><style>:root { --big: 1px }</style></svg></p>')
    assert fit(page) == ":root{--big:9px}\n.big{margin: var(--big)}\n"
    script = {"tag:html", "class:big"} | script_tokens('document.body.style.setProperty("--big", "1px");')
    assert fit(script) == ":root{--big:9px}\n.big{margin: var(--big)}\n"


def test_a_rule_keeps_the_selectors_its_pages_may_match():
    sheet = Stylesheet("""
        .a, .b > p, :is(.c, .d) { color: red }
        .e::-moz-selection, .a::selection { color: blue }
        .b, .e { color: green }
    """)
    used = sheet.used({"class:a"})
    assert sheet.write(used, {"class:a", "tag:p", "class:c"}) == (
        ".a,:is(.c, .d){color: red}\n.e::-moz-selection, .a::selection{color: blue}\n"
    )
    # without the pages' tokens (one rule's size), and for pages that may match all: the rule as written
    assert sheet.write(used) == sheet.write(used, sheet.tokens)
    assert sheet.write(used).startswith(".a, .b > p, :is(.c, .d){")


# --- on a built site ------------------------------------------------------------------------
POST = """\
Some prose with `inline code` and a [link](https://example.org/).

```python
import math
def area(r: float) -> float:
    return math.pi * r ** 2  # a comment
```

| a | b |
|---|---|
| 1 | 2 |

## A heading

$$e^{i\\pi} + 1 = 0$$
"""


def _assets(public: Path, page: Path) -> tuple[str, str]:
    doc = lhtml.fromstring(page.read_bytes())
    (href,) = doc.xpath("//link[@rel='stylesheet']/@href")
    (src,) = doc.xpath("//script[@src]/@src")
    base = urlsplit(href).path.split("/assets/")[0] + "/"
    read = lambda url: (public / urlsplit(url).path[len(base) :]).read_text(encoding="utf-8")  # noqa: E731
    return read(href), read(src)


def _selectors(css: str) -> list[tuple[str, frozenset[str]]]:
    """(selector, its declarations) for each selector of each top-level rule of `css`."""
    found = []
    for rule in tinycss2.parse_stylesheet(css, True, True):
        if rule.type == "qualified-rule":
            parts: list[list] = [[]]
            for token in rule.prelude:
                parts.append([]) if token.type == "literal" and token.value == "," else parts[-1].append(token)
            declarations = frozenset(
                f"{d.lower_name}:{tinycss2.serialize(d.value).strip()}{'!important' if d.important else ''}"
                for d in tinycss2.parse_blocks_contents(rule.content, True, True)
            )
            found += [(tinycss2.serialize(p).strip(), declarations) for p in parts]
    return found


def test_minify_css_keeps_what_a_browser_reads():
    css = """/* note */ .a > .b , .c :not(p) { color : red ;
      content: "x: y, z ; } /* kept */" ; font-family: "Segoe UI", serif; }
    @media (hover: none) { .d{ margin: 0 auto; } }"""
    assert minify_css(css) == (
        '.a>.b,.c :not(p){color :red;content:"x: y, z ; } /* kept */";font-family:"Segoe UI",serif}'
        "@media (hover:none){.d{margin:0 auto}}\n"
    )


def test_minify_js_keeps_what_a_browser_runs():
    js = """// needs: .x
    var a = b / c / d; // division, then a regular expression and strings that hold comment marks
    var re = /\\/\\/ not a comment/g, s = "// kept", t = `a  /* b */`; /* a comment */
    function f() {
      return
        1;  // the line break ends the return
    }
    """
    assert (
        minify_js(js)
        == 'var a=b/c/d;var re=/\\/\\/ not a comment/g,s="// kept",t=`a  /* b */`;function f(){return\n1;}\n'
    )


def test_each_page_gets_every_rule_its_dom_matches(site):
    site.post("code.md", "title: Code\ndate: 2025-04-12\ntags: [Python]", POST)
    site.post("prose.md", "title: Prose\ndate: 2025-04-13\ntags: [Notes]", "Only words here.\n")
    assert site.build() == 0
    public = site.out
    full = Stylesheet(full_css(site.root / "theme" / "static", load_config(site.root)))
    whole = minify_css(full.write(full.used(full.tokens | {"tag:html"})))  # every rule, written as served
    roots = dict(d.split(":", 1) for s, ds in _selectors(whole) if s == ":root" for d in ds if d.startswith("--"))
    sizes = {}
    for rel in (
        "index.html",
        "posts/code/index.html",
        "posts/prose/index.html",
        "tags/python/index.html",
        "tags/index.html",
        "archives/index.html",
        "search/index.html",
        "404.html",
    ):
        page = public / rel
        css, _ = _assets(public, page)
        sizes[rel] = len(css)
        served = _selectors(css)
        read = set(re.findall(r"var\((--[\w-]+)", css))
        declared = set(re.findall(r"(--[\w-]+):", css))
        doc = lhtml.fromstring(page.read_bytes())
        for selector, declarations in _selectors(whole):
            (parsed,) = cssselect.parse(selector)
            if parsed.pseudo_element:
                continue
            try:
                matched = doc.xpath(cssselect.HTMLTranslator().selector_to_xpath(parsed))
            except cssselect.ExpressionError:  # :hover and the like: nothing to match statically
                continue
            # a custom property nothing on the page reads may be left out; one set on the root alone
            # may be written as its value
            constant = lambda m, sent=declared: m[0] if m[1] in sent else roots.get(m[1], m[0])  # noqa: E731
            wanted = {
                fold_calc(re.sub(r"var\((--[\w-]+)\)", constant, d))
                for d in declarations
                if not d.startswith("--") or d.split(":")[0] in read
            }
            if matched:
                assert any(s == selector and wanted <= d for s, d in served), (
                    f"{rel}: `{selector}` matches {matched[0].tag} but was dropped"
                )
    code_css, code_js = _assets(public, public / "posts/code/index.html")
    home_css, home_js = _assets(public, public / "index.html")
    _, search_js = _assets(public, public / "search/index.html")
    # rules for the token classes the code uses, light and dark; none on the home page
    assert ".highlight .k{" in code_css and "[data-theme=dark] .highlight .k{" in code_css
    assert ".highlight .kn" not in code_css  # `import` looks like any keyword: it shares `.k`
    assert ".highlight .kt" not in code_css  # no such token in the post
    assert ".highlight" not in home_css and "copy-code" not in home_css
    assert "theme-toggle" in home_css and "[data-theme=dark]" in home_css
    # the search script only on the search page, the copy buttons only where there is code
    assert "parseQuery" in search_js and "parseQuery" not in home_js and "parseQuery" not in code_js
    assert "copy-code" in code_js and "copy-code" not in home_js
    # heading links only where the content has a heading (every post has its title's h1)
    _, prose_js = _assets(public, public / "posts/prose/index.html")
    assert '"anchor"' in code_js and '"anchor"' not in prose_js and "copy-code" not in prose_js
    assert "theme-toggle" in home_js and "theme-toggle" in code_js
    # one stylesheet per page kind: posts share theirs (the reader's cache serves it)
    assert _assets(public, public / "posts/prose/index.html")[0] == code_css
    assert max(sizes.values()) < len(whole) * 0.7, sizes


def test_changed_theme_css_gets_a_new_url(site):
    site.post("a.md", "title: A\ndate: 2025-04-12")
    assert site.build() == 0
    before = lhtml.fromstring(site.read("index.html")).xpath("//link[@rel='stylesheet']/@href")[0]
    assert (site.out / "assets" / "css" / before.rsplit("/", 1)[1]).is_file()
    css = site.root / "theme" / "static" / "css" / "main.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.logo a { letter-spacing: 1px; }\n", encoding="utf-8")
    assert site.build() == 0
    after = lhtml.fromstring(site.read("index.html")).xpath("//link[@rel='stylesheet']/@href")[0]
    assert after != before and "letter-spacing:1px" in _assets(site.out, site.out / "index.html")[0]


# --- progress of long steps -------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_counts_show_on_a_terminal_only(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    tty = _Terminal()
    progress = Progress(tty)
    parallel_map(lambda x: x, list(range(5)), lambda n: progress.count("writing pages", n, 5))
    progress.stop()
    assert "writing pages 5/5" in tty.getvalue() and tty.getvalue().endswith("\r\x1b[K")
    log = io.StringIO()
    Progress(log).count("writing pages", 5, 5)
    assert log.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    ci = _Terminal()
    Progress(ci).count("writing pages", 5, 5)
    assert ci.getvalue() == ""


def test_parallel_map_reports_each_result_in_order():
    seen: list[int] = []
    assert parallel_map(lambda x: x * 2, list(range(100)), seen.append) == [x * 2 for x in range(100)]
    assert seen == list(range(1, 101))


def test_a_post_needing_large_rules_most_posts_do_not_gets_a_sheet_of_its_own(site):
    # a site's own component: one rule larger than SMALL_RULE, one smaller
    big = ".feature-box{" + ";".join(f"padding-left:{i}px" for i in range(40)) + "}"
    small = ".feature-note{color:red}"
    assert len(big) > SMALL_RULE > len(small)
    (site.root / "theme" / "static" / "css" / "zz-site.css").write_text(big + "\n" + small + "\n")
    for i in range(3):
        site.post(f"prose{i}.md", f"title: Prose {i}\ndate: 2025-04-1{i}", "Only words here.\n")
    site.post("note.md", "title: Note\ndate: 2025-04-14", "## A note {.feature-note}\n\nText.\n")
    body = "## A box {.feature-box}\n\n## A note {.feature-note}\n\nText.\n"
    site.post("box.md", "title: Box\ndate: 2025-04-15", body)
    assert site.build() == 0
    prose = {_assets(site.out, site.out / f"posts/{name}/index.html")[0] for name in ("prose0", "prose1", "note")}
    (box_css, _) = _assets(site.out, site.out / "posts/box/index.html")
    # the kind's sheet: what most posts need, and the small rules of the others (cheaper than a sheet)
    assert len(prose) == 1 and ".feature-box{" not in next(iter(prose)) and ".feature-note{" in next(iter(prose))
    assert ".feature-box{" in box_css and box_css not in prose  # a large rule one post needs: its own sheet
    # a small rule only pages with a sheet of their own need is not in the kind's
    site.post("note.md", "title: Note\ndate: 2025-04-14", "Text.\n")
    assert site.build() == 0
    prose_css, box_css = (_assets(site.out, site.out / f"posts/{name}/index.html")[0] for name in ("note", "box"))
    assert ".feature-note{" not in prose_css and ".feature-note{" in box_css
    # once most posts have the box, the kind's sheet has its rule and every post links it
    for i in range(3):
        site.post(f"more{i}.md", f"title: More {i}\ndate: 2025-04-2{i}", body)
    assert site.build() == 0
    sheets = {_assets(site.out, page)[0] for page in (site.out / "posts").glob("*/index.html")}
    assert len(sheets) == 1 and ".feature-box{" in next(iter(sheets))
