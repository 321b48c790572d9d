"""No script from Markdown, math, heading attributes or notebook outputs unless
the site sets `markup.unsafe_html`: unit tests per entry point, a site built
from hostile posts and a really executed notebook with hostile outputs, and
Chromium loading every page and every SVG file of that site."""

from __future__ import annotations

import re

import nbformat
import pytest
from latex2mathml.converter import convert as latex2mathml_convert
from lxml import etree
from lxml import html as lhtml

from execblog.convert.markdown import MarkdownOptions, MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.convert.sanitize import clean_html, clean_svg, heading_attribute_allowed, safe_url
from execblog.execution.freeze import FreezeStore
from execblog.records import ExecutedPost

from browser_support import SiteServer
from browser_support import build as build_site
from conftest import Site
from conftest_exec import read_post

SCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.I)


def render(text: str, **options) -> str:
    return MarkdownRenderer(MarkdownOptions(**options)).render(text).html


def fragment_problems(markup: str) -> list[str]:
    """Script elements, on* attributes and script URLs in an HTML fragment,
    as a browser's HTML parser sees it."""
    problems = []
    root = lhtml.fragment_fromstring(markup, create_parent="div")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag in ("script", "iframe", "object", "embed", "foreignobject"):
            problems.append(f"<{tag}>")
        for name, value in el.attrib.items():
            name = name.rsplit("}", 1)[-1].lower()
            if name.startswith("on"):
                problems.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "formaction") and SCRIPT_URL.match(value):
                problems.append(f"{tag}[{name}={value}]")
    return problems


# --- math --------------------------------------------------------------------------------------------
def test_text_in_math_is_text_not_markup():
    out = render("$\\text{<script>alert(1)</script>}$ and $$\\text{<img src=x onerror=alert(1)>}$$")
    assert fragment_problems(out) == []
    assert "<mtext>&lt;script&gt;alert(1)&lt;/script&gt;</mtext>" in out
    assert "<mtext>&lt;img&#x000A0;src=x&#x000A0;onerror=alert(1)&gt;</mtext>" in out


def test_math_links_keep_only_safe_urls():
    out = render(
        "$\\href{javascript:alert(1)}{a}$ $\\href{&#106;avascript:alert(1)}{b}$ $\\href{https://ok.example/}{c}$"
    )
    assert "javascript:alert" not in out.replace("&amp;#106;avascript", "")  # escaped, shown as text only
    assert fragment_problems(out) == []
    assert 'href="https://ok.example/"' in out


@pytest.mark.parametrize(
    "tex",
    [
        r"\frac{1}{2}",
        r"\text{abc}",
        r"\sum_{i=0}^{n} x_i^2",
        r"\sqrt[3]{x} + \mathbb{R}^n",
        r"\begin{pmatrix}1&2\\3&4\end{pmatrix}",
        r"\left( \frac{a}{b} \right) \,\quad",
        r"\color{red}{x} \hat{y}",
        r"\operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}",
        r"\mathrm{d}x < \infty",
    ],
)
@pytest.mark.parametrize("display", [False, True])
def test_legitimate_math_is_the_converters_mathml_unchanged(tex, display):
    out = render(f"$${tex}$$" if display else f"${tex}$")
    expected = latex2mathml_convert(tex, display="block" if display else "inline")
    assert expected in out


def test_malformed_math_shows_its_source_escaped():
    out = render("$\\frac{<b>$")
    assert fragment_problems(out) == [] and "<b>" not in out


# --- headings -----------------------------------------------------------------------------------------
def test_heading_attribute_block_keeps_only_id_class_and_data():
    out = render(
        '## Hi {autofocus=1 tabindex=0 onfocus="alert(1)"}\n\n'
        '## T {#custom .note data-x=1 style="color:red" ONCLICK=x href="javascript:x"}\n'
    )
    assert '<h2 id="hi">Hi</h2>' in out
    assert '<h2 id="custom" class="note" data-x="1">T</h2>' in out
    assert fragment_problems(out) == []


def test_heading_attribute_names():
    assert all(map(heading_attribute_allowed, ["id", "class", "data-x", "DATA-Y"]))
    assert not any(map(heading_attribute_allowed, ["onfocus", "autofocus", "style", "href", "data-", "tabindex"]))


# --- Markdown links and raw HTML ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "markdown",
    [
        "[a](javascript:alert(1))",
        "[a](JaVaScRiPt:alert(1))",
        "[a](&#106;avascript:alert(1))",
        "[a](vbscript:msgbox(1))",
        "[a](data:text/html,%3Cscript%3Ealert(1)%3C/script%3E)",
        "<javascript:alert(1)>",
        "![i](javascript:alert(1))",
        "[a]\n\n[a]: javascript:alert(1)",
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "Text <b onclick=alert(1)>x</b>.",
    ],
)
def test_markdown_never_yields_script_with_raw_html_off(markdown):
    assert fragment_problems(render(markdown)) == []


def test_author_raw_html_is_kept_when_the_site_allows_it():
    assert '<b onclick="go()">x</b>' in render('Text <b onclick="go()">x</b>.', unsafe_html=True)


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://x.org/", True),
        ("/posts/a/", True),
        ("#top", True),
        ("a/b.png", True),
        ("mailto:a@b.c", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("\x01javascript:x", False),
        ("vbscript:x", False),
        ("data:text/html,<script>", False),
        ("data:image/svg+xml,<svg onload=alert(1)>", False),
        ("file:///etc/passwd", False),
    ],
)
def test_safe_url(url, ok):
    assert safe_url(url) is ok


def test_safe_url_allows_raster_data_only_for_images():
    assert safe_url("data:image/png;base64,AAAA", image=True) and not safe_url("data:image/png;base64,AAAA")
    assert not safe_url("data:image/svg+xml;base64,AAAA", image=True)


# --- SVG files ----------------------------------------------------------------------------------------
HOSTILE_SVG = """<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="data:text/xml,x"?>
<!DOCTYPE svg [<!ENTITY x "<script>alert(9)</script>">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="20" height="10" onload="alert('onload')">
  <script>alert('svg')</script>
  <script xlink:href="data:text/javascript,alert(2)"/>
  <rect width="20" height="10" fill="red" onclick="alert(3)"/>
  <a href="javascript:alert(4)"><text>click</text></a>
  <a xlink:href=" javascript:alert(5)"><text>click</text></a>
  <animate attributeName="href" values="javascript:alert(6)"/>
  <set attributeName="onmouseover" to="alert(7)"/>
  <foreignObject width="10" height="10"><body xmlns="http://www.w3.org/1999/xhtml"><script>alert(8)</script></body></foreignObject>
  <text>&x;</text>
  <iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:alert(10)"/>
  <image href="data:image/svg+xml,%3Csvg onload='alert(11)'/%3E" width="1" height="1"/>
</svg>
"""

# The shape of a matplotlib figure: styles in CDATA, <use> references, an embedded raster.
MATPLOTLIB_LIKE = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="460.8pt" height="345.6pt" viewBox="0 0 460.8 345.6" xmlns="http://www.w3.org/2000/svg" version="1.1">
 <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>
 <defs>
  <style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>
  <path id="m1" d="M 0 0 L 0 3.5" style="stroke: #000000; stroke-width: 0.8"/>
 </defs>
 <g id="figure_1">
  <path d="M 0 345.6 L 460.8 345.6 z" style="fill: #ffffff"/>
  <use xlink:href="#m1" x="57.6" y="307.584" style="stroke: #000000"/>
  <image xlink:href="data:image/png;base64,iVBORw0KGgo=" x="1" y="2" width="3" height="4"/>
  <text x="1" y="2" style="font-size: 10px">a &amp; b &lt; c</text>
 </g>
</svg>
"""  # noqa: E501 (a real matplotlib SVG header, kept verbatim)


def test_svg_file_keeps_only_svg_elements_and_attributes():
    out = clean_svg(HOSTILE_SVG.encode())
    assert fragment_problems(out.decode()) == []
    assert b"alert" not in out and b"<rect" in out and b"click" in out
    etree.fromstring(out)  # still a well-formed XML document


def test_svg_file_legitimate_drawing_survives():
    out = clean_svg(MATPLOTLIB_LIKE.encode())
    root = etree.fromstring(out)
    ns = {"s": "http://www.w3.org/2000/svg", "x": "http://www.w3.org/1999/xlink"}
    assert root.get("viewBox") == "0 0 460.8 345.6" and root.get("width") == "460.8pt"
    assert root.xpath("//s:use/@x:href", namespaces=ns) == ["#m1"]
    assert root.xpath("//s:image/@x:href", namespaces=ns) == ["data:image/png;base64,iVBORw0KGgo="]
    assert root.xpath("//s:style/text()", namespaces=ns) == ["*{stroke-linejoin: round; stroke-linecap: butt}"]
    assert root.xpath("//s:text/text()", namespaces=ns) == ["a & b < c"]
    assert len(root.xpath("//s:path", namespaces=ns)) == 2


@pytest.mark.parametrize("data", [b"not xml", b"<html><script>alert(1)</script></html>", b""])
def test_svg_file_that_is_not_svg_becomes_an_empty_image(data):
    assert clean_svg(data) == b'<svg xmlns="http://www.w3.org/2000/svg"/>\n'


def test_html_output_cleaner_keeps_tables_and_mathml():
    out = clean_html(
        '<table class="dataframe" border="1"><tr><td onclick="x()">1</td></tr></table>'
        '<math><mi mathvariant="normal">x</mi><mtext><script>alert(1)</script></mtext></math>'
        '<a href="javascript:alert(1)">a</a>'
    )
    assert fragment_problems(out) == []
    assert '<table class="dataframe" border="1">' in out and '<mi mathvariant="normal">x</mi>' in out


# --- notebook outputs ------------------------------------------------------------------------------------
HEADER = """---
title: T
date: 2024-01-01
summary: "Sum $\\\\text{<script>alert('summary')</script>}$"
jupyter:
  kernelspec:
    display_name: Python 3
    language: python
    name: python3
---

Body
"""

HOSTILE_OUTPUTS = {
    "text/markdown": (
        '$\\text{<script>alert("md")</script>}$\n\n## M {autofocus=1 tabindex=0 onfocus="alert(1)"}\n\n'
        '<img src=x onerror="alert(2)"> [l](javascript:alert(3))'
    ),
    "text/latex": '\\text{<script>alert("latex")</script>} \\href{javascript:alert(4)}{x}',
    "text/html": '<b onclick="alert(5)">b</b><script>alert("html")</script><a href="javascript:alert(6)">a</a>',
}


def _outputs_notebook(svg: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={mime: text}) for mime, text in HOSTILE_OUTPUTS.items()]
    cell.outputs.append(nbformat.v4.new_output("display_data", data={"image/svg+xml": svg}))
    nb.cells = [nbformat.v4.new_markdown_cell("Cell $\\text{<script>alert('cell')</script>}$"), cell]
    return nb


@pytest.mark.parametrize("unsafe_html", [False, True])
@pytest.mark.parametrize("frozen", [False, True])
def test_notebook_outputs_never_carry_script(tmp_path, unsafe_html, frozen):
    path = tmp_path / "post.md"
    path.write_text(HEADER, encoding="utf-8")
    converter = NotebookConverter(
        MarkdownRenderer(MarkdownOptions(unsafe_html=unsafe_html)), ConverterOptions(cache_dir=tmp_path / "cache")
    )
    nb, extra = _outputs_notebook(HOSTILE_SVG), {}
    if frozen:
        entry = FreezeStore(tmp_path / "_freeze", tmp_path / "failed").save("post", nb, {"key": "k"})
        nb, extra = entry.notebook(), {"asset_dir": entry.folder}
    converted = converter.convert(ExecutedPost(source=read_post(path), notebook=nb, status="executed", **extra))
    for markup in (converted.html, converted.summary_html):
        assert fragment_problems(markup) == [], markup
        assert "<script" not in markup
    # the legitimate parts are still there
    assert converted.html.count("<math") >= 3 and "<b>b</b>" in converted.html and converted.has_math
    (svg,) = [a for a in converted.assets if a.site_path.endswith(".svg")]
    published = svg.source.read_bytes()
    assert b"alert" not in published and b"<rect" in published


def test_author_raw_html_in_a_notebook_cell_follows_unsafe_html(tmp_path):
    path = tmp_path / "post.md"
    path.write_text(HEADER, encoding="utf-8")
    nb = _outputs_notebook(MATPLOTLIB_LIKE)
    nb.cells[0].source = 'Author <b onclick="go()">x</b>'
    for unsafe, kept in ((False, False), (True, True)):
        converter = NotebookConverter(
            MarkdownRenderer(MarkdownOptions(unsafe_html=unsafe)), ConverterOptions(cache_dir=tmp_path / "cache")
        )
        html = converter.convert(ExecutedPost(source=read_post(path), notebook=nb, status="executed")).html
        assert ('<b onclick="go()">x</b>' in html) is kept
        assert "<script" not in html  # outputs stay sanitized either way


# --- a whole hostile site --------------------------------------------------------------------------------
HOSTILE_MD = r"""Inline $\text{<script>alert('math')</script>}$ and $\href{javascript:alert('href')}{click}$.

$$\text{<img src=x onerror=alert('display')>}$$

## Hi {autofocus=1 tabindex=0 onfocus="alert('heading')"}

[link](javascript:alert('link')) [v](vbscript:msgbox(1)) [d](data:text/html,%3Cscript%3Ealert(1)%3C/script%3E)

<script>alert('raw')</script>

<img src=x onerror="alert('raw-img')">

Legitimate: $\frac{1}{2} + \sum_{i=0}^{n} x_i$ and $\text{abc}$.
"""

NOTEBOOK_FRONT = """\
title: Hostile outputs
date: 2025-01-02
tags: [x]
jupyter:
  jupytext:
    text_representation:
      extension: .md
      format_name: markdown
  kernelspec:
    display_name: Python 3
    language: python
    name: python3
"""

NOTEBOOK_BODY = '''\
Markdown cell $\\text{<script>alert('cell')</script>}$.

```python
from IPython.display import HTML, SVG, Latex, Markdown, display

display(Markdown("$\\\\text{<script>alert('md')</script>}$\\n\\n## Out {autofocus=1 tabindex=0 onfocus=\\"alert('md-h')\\"}"))
display(Latex(r"\\text{<script>alert('latex')</script>}"))
display(HTML("<b onclick=\\"alert('html')\\">bold</b><script>alert('html2')</script>"))
display(SVG("""<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10" onload="alert('svg-onload')">
<script>alert('svg')</script><rect width="20" height="10" fill="teal"/></svg>"""))
```
'''  # noqa: E501 (a notebook cell line, kept verbatim)


def make_hostile_site(root) -> Site:
    site = Site(root)
    site.post(
        "hostile.md",
        """
        title: "<script>alert('title')</script>"
        date: 2025-01-01
        description: "<img src=x onerror=alert('description')>"
        summary: "Summary $\\\\text{<script>alert('summary')</script>}$"
        tags: ["<script>alert('tag')</script>"]
        cover:
          image: cover.png
          alt: "\\"><script>alert('alt')</script>"
          caption: "<script>alert('caption')</script>"
    """,
        HOSTILE_MD,
    )
    site.post("outputs.md", NOTEBOOK_FRONT, NOTEBOOK_BODY)
    return site


def page_problems(markup: str) -> list[str]:
    """What content put into a built page: on* attributes, script elements or
    script URLs in the body, and in the head scripts that mention alert or
    JSON-LD data that could close its element."""
    doc = lhtml.fromstring(markup)
    problems = fragment_problems(lhtml.tostring(doc.body, encoding="unicode"))
    for script in doc.iter("script"):
        text = script.text or ""
        if script.get("type") == "application/ld+json":
            if "<" in text:  # data: tojson must escape what could close the element
                problems.append(f"unescaped JSON-LD: {text[:60]}")
        elif "alert" in text:
            problems.append(f"script: {text[:60]}")
    return problems


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    server = SiteServer(root / "public", "/blog/")
    site = make_hostile_site(root / "site")
    build_site(site.root, root / "public", server.base_url, "--no-search")
    yield root / "public", server
    server.close()


@pytest.mark.pipeline
def test_hostile_site_builds_without_script_from_content(hostile_site):
    out, _ = hostile_site
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        assert page_problems(page.read_text(encoding="utf-8")) == [], page
    post = (out / "posts/hostile/index.html").read_text(encoding="utf-8")
    assert '<h2 id="hi">Hi</h2>' in post and "&lt;script&gt;alert(&#x27;math&#x27;)" not in post
    assert "<mtext>&lt;script&gt;alert('math')&lt;/script&gt;</mtext>" in post
    assert latex2mathml_convert(r"\text{abc}") in post
    outputs = (out / "posts/outputs/index.html").read_text(encoding="utf-8")
    assert "<b>bold</b>" in outputs and outputs.count("<math") >= 3
    svgs = sorted(out.rglob("*.svg"))
    assert [p for p in svgs if "outputs" in p.parts], "the SVG output was published"
    for svg in svgs:
        data = svg.read_bytes()
        assert b"<script" not in data and b"onload" not in data, svg


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_no_dialog_fires_on_any_page_or_svg_of_the_hostile_site(hostile_site, browser):
    out, server = hostile_site
    targets = [p.relative_to(out).as_posix() for p in sorted(out.rglob("*.html")) + sorted(out.rglob("*.svg"))]
    assert any(t.endswith(".svg") and "outputs/" in t for t in targets)
    dialogs: list[str] = []
    for rel in targets:
        page = browser.new_page()
        page.on("dialog", lambda d, rel=rel: (dialogs.append(f"{rel}: {d.message}"), d.dismiss()))
        page.goto(server.base_url + rel, wait_until="load")
        # Give focus handlers their chance, as a reader tabbing through would.
        found = page.evaluate("""() => {
            document.querySelectorAll('[tabindex], a, h1, h2, h3').forEach(e => e.focus && e.focus());
            const bad = [];
            for (const e of document.querySelectorAll('*')) {
                for (const a of e.attributes) if (a.name.startsWith('on')) bad.push(e.tagName + '[' + a.name + ']');
                if (e.tagName.toLowerCase() === 'script' && e.closest('main, svg, math')) bad.push('script in content');
                if (e.tagName.toLowerCase() === 'script' && e.type !== 'application/ld+json'
                    && (e.textContent || '').includes('alert')) bad.push('alert script');
                if ((e.tagName.toLowerCase() === 'a') && e.href && /^(javascript|vbscript|data):/i.test(e.href))
                    bad.push('script link ' + e.href);
            }
            return bad;
        }""")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
        page.close()
        assert found == [], f"{rel}: {found}"
    assert dialogs == []
