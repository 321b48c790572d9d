"""output/render.py: pages rendered with the theme's Jinja templates: the typed
context as variables, the site globals, escaping, and errors that name the template."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from execblog.config import parse_config_text
from execblog.errors import BuildError
from execblog.i18n import Translator
from execblog.output.render import PageRenderer
from execblog.pages.plan import Page, TitleContext

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class NoteContext:
    title: str
    items: tuple[str, ...]


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    """A theme with the project's strings and only the templates a test writes."""
    shutil.copytree(ROOT / "theme" / "i18n", tmp_path / "theme" / "i18n")
    (tmp_path / "theme" / "templates").mkdir()
    return tmp_path / "theme"


def renderer(theme: Path, **templates: str) -> PageRenderer:
    for name, text in templates.items():
        (theme / "templates" / name.replace("_", ".")).write_text(text, encoding="utf-8")
    config = parse_config_text("title: My <Blog>\nbase_url: https://ex.org/b/\nlanguage: en\n", theme.parent)
    return PageRenderer(config, Translator(theme.parent, "en"), theme, {"css": "/b/s.css"})


def test_context_fields_and_globals_reach_the_template(theme):
    r = renderer(
        theme,
        note_html="{{ title }}|{{ items | join(',') }}|{{ page.output }}|{{ site.title }}|"
        "{{ t('posts') }}|{{ url('tags/x/') }}|{{ absurl('a b/') }}|{{ static.css }}",
    )
    page = Page("note", "note.html", "note/index.html", NoteContext("T", ("a", "b")))
    assert r.render(page) == "T|a,b|note/index.html|My &lt;Blog&gt;|Posts|/b/tags/x/|https://ex.org/b/a%20b/|/b/s.css"


def test_html_and_xml_are_escaped_by_default(theme):
    r = renderer(theme, x_html="<h1>{{ title }}</h1>", x_xml="<title>{{ title }}</title>")
    context = TitleContext('<script>alert("x")</script> & co')
    assert (
        r.render(Page("x", "x.html", "x.html", context))
        == "<h1>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</h1>"
    )
    assert r.render(Page("x", "x.xml", "x.xml", context)).startswith("<title>&lt;script&gt;")


def test_a_missing_template_names_the_folder_and_the_fix(theme):
    with pytest.raises(BuildError) as err:
        renderer(theme).render(Page("x", "missing.html", "x.html", TitleContext("T")))
    assert "template not found: missing.html" in err.value.message
    assert err.value.path == theme / "templates" and "theme/templates" in err.value.hint


def test_a_syntax_error_names_the_template_and_line(theme):
    with pytest.raises(BuildError) as err:
        renderer(theme, bad_html="<p>\n{{ title }}\n{% endfor %}\n</p>\n").render(
            Page("x", "bad.html", "x.html", TitleContext("T"))
        )
    assert "template error" in err.value.message and "endfor" in err.value.message and err.value.line == 3
    assert str(err.value.path).endswith("bad.html") and err.value.hint


def test_a_value_the_page_lacks_names_the_template_line(theme):
    r = renderer(theme, uses_html="<p>{{ title }}</p>\n<p>{{ subtitle.text }}</p>\n")
    with pytest.raises(BuildError) as err:
        r.render(Page("x", "uses.html", "x/index.html", TitleContext("T")))
    assert "while rendering x/index.html" in err.value.message and "subtitle" in err.value.message
    assert str(err.value.path).endswith("uses.html") and err.value.line == 2
