"""UI strings: CLDR plural forms per language, and the meta line's date layout."""

from __future__ import annotations

import pytest

from execblog.errors import BuildError
from execblog.i18n import Translator, available_languages

from conftest import ROOT


def test_plural_forms_follow_cldr():
    en = Translator(ROOT, "en")
    assert (en("words", 1), en("words", 2), en("reading_time", 1)) == ("1 word", "2 words", "1 min")
    ja = Translator(ROOT, "ja")
    assert (ja("words", 1), ja("words", 92), ja("reading_time", 3)) == ("1 文字", "92 文字", "3 分")


def test_the_plural_rule_read_from_the_locale_is_babels_for_every_locale():
    """The rule comes from the locale's own CLDR data (or its parent's), not Babel's merged data."""
    from babel import Locale, localedata

    from execblog.i18n import _plural_rule

    for name in localedata.locale_identifiers():
        assert _plural_rule(name).rules == Locale.parse(name).plural_form.rules, name


def test_both_languages_have_every_string():
    ja, en = Translator(ROOT, "ja"), Translator(ROOT, "en")
    assert set(ja.table) == set(en.table)
    assert available_languages(ROOT) >= {"ja", "en"}


def test_missing_string_names_the_file():
    with pytest.raises(BuildError) as err:
        Translator(ROOT, "ja")("no_such_key")
    assert err.value.path.name == "ja.yaml" and "no_such_key" in err.value.hint


@pytest.mark.parametrize(
    "layout, expected",
    [
        ("January 2, 2006", "4月 13, 2025"),
        (":date_long", "2025年4月13日"),
    ],
)
@pytest.mark.pipeline
def test_date_layouts_on_the_meta_line(site, layout, expected):
    from lxml import html

    site.config((site.root / "site_config.yaml").read_text() + f'date_format: "{layout}"\n')
    site.post("a.md", "title: A\ndate: 2025-04-13")
    assert site.build() == 0
    meta = html.fromstring(site.read("posts/a/index.html")).cssselect(".post-header .post-meta")[0].text_content()
    assert meta.startswith(expected)
