"""Front matter is validated once, at read time, into typed records (records.ExecutionFrontMatter):
every key execblog interprets names the file, the line and the fix when it is wrong; keys are
case-insensitive as in Hugo."""

from zoneinfo import ZoneInfo

import pytest

from execblog.content.read import declared_inputs, read_post
from execblog.errors import BuildError

UTC = ZoneInfo("UTC")
HEAD = "title: A\ndate: 2025-01-01\n"


def test_execution_keys_become_a_typed_record(site):
    path = site.post(
        "a.md",
        HEAD
        + """
models: gpt2
parameters: {steps: 20, prompt: a cat}
inputs: data.csv
timeout: 1800
cell_timeout: off
requires: gpu
allow_errors: true
warnings: false
""",
    )
    run = read_post(path, UTC).run
    assert run.models == ("gpt2",)  # one id, not the models g, p, t, 2
    assert run.parameters == {"steps": 20, "prompt": "a cat"}
    assert run.inputs == ("data.csv",)
    assert (run.timeout, run.cell_timeout) == (1800.0, 0.0)  # 0: no limit
    assert run.gpu and run.allow_errors and run.warnings is False


def test_defaults_when_the_keys_are_absent_or_empty(site):
    run = read_post(site.post("a.md", HEAD + "models:\ntimeout:\n"), UTC).run
    assert run.models == () and run.timeout is None and run.cell_timeout is None  # None: the site's limit
    assert run.parameters == {} and not run.gpu and not run.allow_errors and run.warnings is None


@pytest.mark.parametrize(
    "key, words, fix",
    [
        ("timeout: soon", "`timeout` must be a number of seconds, not 'soon'", "timeout: 1800"),
        ("cell_timeout: -5", "`cell_timeout` must not be negative", "off for no limit"),
        ("models: {gpt2: 1}", "`models` must be a list", "models: [one, two]"),
        ("models: ['']", "empty model id", "models: [gpt2]"),
        ("requires: cuda", "`requires[0]` must be one of gpu, not 'cuda'", "requires: gpu"),
        ("allow_errors: sometimes", "`allow_errors` must be true or false", "allow_errors: true"),
        ("parameters: [1, 2]", "`parameters` must be a mapping", "parameters:"),
        ("parameters: {not a name: 1}", "`not a name` is not a Python name", "parameters: {steps: 20}"),
        ("inputs: ../secret.txt", "the input `../secret.txt`", "inside the post's folder"),
        ("comments: maybe", "`comments` must be true or false", "comments: false"),
        ("iscjklanguage: yes please", "`iscjklanguage` must be true or false", "iscjklanguage: true"),
        ("Jupyter: {kernelspec: {name: x}}", "write `Jupyter` as `jupyter`", "lower case"),
    ],
)
def test_a_bad_value_names_the_file_the_line_and_the_fix(site, key, words, fix):
    path = site.post("bad.md", HEAD + "tags: [x]\n" + key)
    with pytest.raises(BuildError) as err:
        read_post(path, UTC)
    assert (err.value.path, err.value.line) == (path, 5)  # ---, title, date, tags, then the key
    assert words in err.value.message
    assert fix in err.value.hint


def test_hugo_keys_are_case_insensitive(site):
    path = site.post(
        "a.md",
        """
        TITLE: Upper
        Date: 2025-02-03
        iscjklanguage: true
        DRAFT: true
        Slug: other
        Summary: short
        ALIASES: [/old/]
        Models: [gpt2]
        ALLOW_ERRORS: true
    """,
    )
    post = read_post(path, UTC)
    assert (post.title, post.date.day, post.is_cjk, post.draft, post.slug) == ("Upper", 3, True, True, "other")
    assert post.summary == "short" and post.aliases == ("/old/",)
    assert post.run.models == ("gpt2",) and post.run.allow_errors


@pytest.mark.parametrize(
    "keys, message",
    [
        ("isCJKLanguage: true\niscjklanguage: false", "`isCJKLanguage` and `iscjklanguage` are the same key"),
        ("timeout: 1\ntimeout: 2", "`timeout` is written twice"),
    ],
)
def test_two_spellings_of_one_key_are_an_error(site, keys, message):
    path = site.post("a.md", HEAD + keys)
    with pytest.raises(BuildError) as err:
        read_post(path, UTC)
    assert err.value.line == 5 and message in err.value.message and "keep one" in err.value.hint


def test_comments_can_be_turned_off_per_post(site):
    assert read_post(site.post("a.md", HEAD), UTC).comments is True
    assert read_post(site.post("b.md", HEAD + "Comments: false\n"), UTC).comments is False


def test_unknown_keys_stay_for_templates(site):
    post = read_post(site.post("a.md", HEAD + "myWidget: {color: red}\n"), UTC)
    assert post.params["myWidget"] == {"color": "red"}


def test_a_single_input_is_one_declared_input(site):
    path = site.post("b/index.md", HEAD + "inputs: data.csv\n")
    (path.parent / "data.csv").write_text("1,2\n")
    post = read_post(path, UTC)
    assert [(entry, [f.name for f in files]) for entry, files in declared_inputs(post)] == [("data.csv", ["data.csv"])]


def test_a_value_yaml_parses_but_cannot_build_is_an_error_with_its_line(site):
    path = site.post("bad.md", HEAD + "? [a, b]\n: c")  # a sequence as a mapping key
    with pytest.raises(BuildError) as err:
        read_post(path, UTC)
    assert err.value.path == path and err.value.line is not None and "invalid YAML" in err.value.message


@pytest.mark.parametrize("title", ["a\\", 'say "hi"\\n', "two\nlines", "メロス: 走れ"])
def test_make_new_writes_front_matter_that_reads_back_any_title(site, title):
    from execblog.commands.new import new_post

    post = read_post(new_post(site.root, title), UTC)
    assert post.title == title
