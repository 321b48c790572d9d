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


def test_an_unknown_code_style_is_named_with_its_line(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\nmarkup:\n  light_style: default\n  dark_style: nope\n"))
    assert err.value.line == 4 and "`nope`" in err.value.message and "github-dark" in err.value.hint


def test_a_yaml_syntax_error_is_named_alike_in_config_ui_strings_and_front_matter(tmp_path):
    """One mapping from a YAML error to a line: where the bracket left open starts
    (PyYAML reports the end of the text), with the fix."""
    from zoneinfo import ZoneInfo

    from execblog.content.read import read_post
    from execblog.i18n import Translator

    broken = "title: T\nmenu: [a, b\n\n"
    with pytest.raises(BuildError) as config:
        load_config(write(tmp_path, broken))
    (tmp_path / "theme" / "i18n").mkdir(parents=True)
    (tmp_path / "theme" / "i18n" / "xx.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(BuildError) as strings:
        Translator(tmp_path, "xx")
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "p.md").write_text("---\n" + broken + "---\nbody\n", encoding="utf-8")
    with pytest.raises(BuildError) as front:
        read_post(tmp_path / "posts" / "p.md", ZoneInfo("UTC"))
    assert (config.value.line, strings.value.line, front.value.line) == (2, 2, 3)  # front matter: after `---`
    for err in (config, strings, front):
        assert err.value.message.startswith("invalid YAML: ") and "quote values" in err.value.hint


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


@pytest.mark.parametrize(
    "entries, line, words",
    [
        ("  tag: tags\n  label: Tags\n", 4, "taxonomy name `Tags` is not a lower-case URL segment"),
        ("  tag: tags\n  keyword: tags\n", 4, "two taxonomies have the plural `tags`"),
        ("  tag: tags\n  post: posts\n", 4, "would use the folder /posts/"),
        ("  archive: archives\n", 3, "would use the folder /archives/"),
    ],
)
def test_bad_taxonomies_name_the_line_and_the_fix(tmp_path, entries, line, words):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\ntaxonomies:\n" + entries))
    assert err.value.line == line and words in err.value.message and err.value.hint


def test_taxonomies_must_be_a_mapping(tmp_path):
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, "title: T\ntaxonomies: [tags]\n"))
    assert err.value.line == 2 and "`taxonomies` must be a mapping" in err.value.message


def _error(tmp_path: Path, text: str) -> BuildError:
    with pytest.raises(BuildError) as err:
        load_config(write(tmp_path, text))
    return err.value


def _recipe_error(tmp_path: Path, text: str) -> BuildError:
    """The kinds are checked where recipes are made (models.standins), with the config's line."""
    from execblog.models.standins import site_recipes

    config = load_config(write(tmp_path, text))
    with pytest.raises(BuildError) as err:
        site_recipes(config)
    assert str(err.value.path).endswith("site_config.yaml")
    return err.value


def test_standin_recipes_are_checked_with_their_line(tmp_path):
    (tmp_path / "corpus.txt").write_text("some text\n", encoding="utf-8")
    config = load_config(
        write(
            tmp_path,
            "title: T\nstandins:\n  org/lm: {recipe: gpt2, corpus: [corpus.txt]}\n"
            "bundled_models:\n  org/emb: emb_pkg\n",
        )
    )
    assert config.standins["org/lm"].recipe == "gpt2" and config.standins["org/lm"].corpus == ("corpus.txt",)
    assert config.bundled_models == {"org/emb": "emb_pkg"}
    err = _recipe_error(tmp_path, "title: T\nstandins:\n  org/lm: {recipe: gpt3}\n")
    assert err.line == 3 and "unknown stand-in recipe `gpt3`" in err.message
    assert "gpt2" in err.message and "stable-diffusion" in err.message
    err = _recipe_error(tmp_path, "title: T\nstandins:\n  org/lm:\n    recipe: gpt2\n    tokenizer: clip\n")
    assert err.line == 4 and "gpt2, sentencepiece" in err.message
    err = _recipe_error(tmp_path, "title: T\nstandins:\n  org/lm: {recipe: gpt2, real: {n_layers: 2}}\n")
    assert "n_layer" in err.message and err.line == 3
    err = _error(tmp_path, "title: T\nstandins:\n  org/lm: {tokenizer: gpt2}\n")
    assert "recipe" in err.message and err.line == 3


def test_standin_corpus_must_be_a_file_inside_the_site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "outside.txt").write_text("text\n", encoding="utf-8")
    err = _error(site, "title: T\nstandins:\n  org/lm:\n    recipe: gpt2\n    corpus:\n      - ../outside.txt\n")
    assert err.line == 6 and "outside the site" in err.message
    (site / "link.txt").symlink_to(tmp_path / "outside.txt")
    err = _error(site, "title: T\nstandins:\n  org/lm:\n    recipe: gpt2\n    corpus: [link.txt]\n")
    assert "outside the site" in err.message
    err = _error(site, "title: T\nstandins:\n  org/lm:\n    recipe: gpt2\n    corpus: [missing.txt]\n")
    assert err.line == 5 and "no file `missing.txt`" in err.message


def test_provenance_packages_default_and_checked(tmp_path):
    config = load_config(write(tmp_path, "title: T\n"))
    assert config.execution.provenance_packages == (
        "torch",
        "transformers",
        "diffusers",
        "numpy",
        "pandas",
        "matplotlib",
    )
    config = load_config(write(tmp_path, "title: T\nexecution:\n  provenance_packages: [sklearn, jax.numpy]\n"))
    assert config.execution.provenance_packages == ("sklearn", "jax.numpy")
    err = _error(tmp_path, "title: T\nexecution:\n  provenance_packages:\n    - torch\n    - scikit-learn\n")
    assert err.line == 5 and "`scikit-learn` is not a module name" in err.message and "sklearn" in err.hint
    err = _error(tmp_path, "title: T\nbundled_models:\n  org/emb: not a module\n")
    assert err.line == 3 and "not a module name" in err.message
