from pathlib import Path

import pytest

from execblog.config import load_config
from execblog.errors import BuildError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "site_config.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_and_nested_values(tmp_path):
    config = load_config(write(tmp_path, "title: T\nmarkup:\n  unsafe_html: true\nshow:\n  word_count: false\n"))
    assert config.title == "T"
    assert config.markup.unsafe_html is True
    assert config.show.word_count is False and config.show.reading_time is True
    assert config.summary_length == 70 and config.has_cjk_language is False


def test_unknown_key_names_line_and_suggests(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\n\nsumary_length: 50\n"))
    assert err.value.line == 3
    assert "unknown key `sumary_length`" in err.value.message
    assert "summary_length" in err.value.hint


def test_nested_unknown_key_is_dotted(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\nshow:\n  wordcount: false\n"))
    assert "show.wordcount" in err.value.message and err.value.line == 3
    assert "word_count" in err.value.hint


def test_wrong_type_is_reported_with_line(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\npaginate: ten\n"))
    assert err.value.line == 2 and "whole number" in err.value.message


def test_bad_time_zone_and_base_url(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\ntime_zone: Mars/Olympus\n"))
    assert err.value.line == 2 and "time zone" in err.value.message
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\nbase_url: example.org\n"))
    assert "base_url" in err.value.message


def test_invalid_yaml_and_missing_title(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\nmenu: [a, b\n"))
    assert "invalid YAML" in err.value.message and err.value.line is not None
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "language: ja\n"))
    assert "title" in err.value.message


def test_repository_config_is_valid():
    from conftest import ROOT

    config = load_config(ROOT)
    assert config.language == "ja" and config.date_format == "January 2, 2006" and config.author == "Me"
    assert config.has_cjk_language is False


def test_taxonomies_default_to_tags_and_categories_and_can_be_replaced(tmp_path):
    assert load_config(write(tmp_path, "title: T\n")).taxonomies == {"tag": "tags", "category": "categories"}
    config = load_config(write(tmp_path, "title: T\ntaxonomies:\n  tag: tags\n  series: series\n"))
    assert config.taxonomies == {"tag": "tags", "series": "series"}  # as in Hugo: the map replaces the default
    assert load_config(write(tmp_path, "title: T\ntaxonomies: {}\n")).taxonomies == {}


@pytest.mark.parametrize("entries, line, words", [
    ("  tag: tags\n  label: Tags\n", 4, "taxonomy name `Tags` is not a lower-case URL segment"),
    ("  tag: tags\n  keyword: tags\n", 4, "two taxonomies have the plural `tags`"),
    ("  tag: tags\n  post: posts\n", 4, "would use the folder /posts/"),
    ("  archive: archives\n", 3, "would use the folder /archives/"),
])
def test_bad_taxonomies_name_the_line_and_the_fix(tmp_path, entries, line, words):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\ntaxonomies:\n" + entries))
    assert err.value.line == line and words in err.value.message and err.value.hint


def test_taxonomies_must_be_a_mapping(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\ntaxonomies: [tags]\n"))
    assert err.value.line == 2 and "`taxonomies` must be a mapping" in err.value.message
