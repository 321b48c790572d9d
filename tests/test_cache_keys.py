from datetime import date
from pathlib import PurePosixPath

import nbformat
import pytest

from execblog.execution.keys import (
    CodeCell,
    DefaultExpression,
    canonical_json,
    code_cells_of,
    digest_bytes,
    freeze_key,
    parameters_to_inject,
    parse_assignments,
    parse_parameter_defaults,
    resolve_parameters,
)


def _key(**changes):
    base = dict(
        code_cells=[CodeCell("x = 1"), CodeCell("print(x)")],
        parameters={"steps": 3},
        profile="auto",
        kernel="execblog",
        inputs={"data.csv": digest_bytes(b"a,b\n")},
        extra={"allow_errors": False},
    )
    base.update(changes)
    return freeze_key(**base)


def test_canonical_json_is_order_independent_and_typed():
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1})
    assert canonical_json({"d": date(2024, 1, 2)}) == '{"d":"2024-01-02"}'
    assert canonical_json({"p": PurePosixPath("a/b")}) == '{"p":"a/b"}'
    assert canonical_json({"s": {3, 1}}) == '{"s":[1,3]}'
    assert canonical_json("日本") == '"日本"'
    with pytest.raises(TypeError):
        canonical_json(object())


def test_key_is_stable_and_hex():
    assert _key() == _key()
    assert len(_key()) == 64
    assert _key(parameters={"steps": 3}) == _key(parameters=dict(steps=3))


@pytest.mark.parametrize(
    "change",
    [
        {"code_cells": [CodeCell("x = 2"), CodeCell("print(x)")]},
        {"code_cells": [CodeCell("x = 1"), CodeCell("print(x)", ("raises-exception",))]},
        {"parameters": {"steps": 4}},
        {"profile": "gpu"},
        {"kernel": "python3"},
        {"inputs": {"data.csv": digest_bytes(b"a,b\n1,2\n")}},
        {"inputs": {}},
        {"extra": {"allow_errors": True}},
    ],
)
def test_key_changes_with_everything_that_decides_the_result(change):
    assert _key(**change) != _key()


def test_prose_does_not_enter_the_key():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("Intro"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["hide-input", "parameters"]}),
    ]
    before = code_cells_of(nb)
    nb.cells[0].source = "A rewritten intro with more words."
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# A new heading"))
    assert code_cells_of(nb) == before
    # Display-only tags do not count; execution tags do.
    assert before == [CodeCell("x = 1", ("parameters",))]


def test_code_cells_of_joins_split_sources():
    nb = {"cells": [{"cell_type": "code", "source": ["a = 1\n", "b = 2"], "metadata": {}}]}
    assert code_cells_of(nb) == [CodeCell("a = 1\nb = 2")]


def test_parse_parameter_defaults():
    source = 'steps = 20\nname: str = "x"\nlr, wd = 1, 2\ndevice = pick()\nimport os\n'
    defaults = parse_parameter_defaults(source)
    assert defaults["steps"] == 20
    assert defaults["name"] == "x"
    assert defaults["device"] == DefaultExpression("pick()")
    assert "lr" not in defaults  # tuple targets are not simple parameters
    assert parse_parameter_defaults("this is not python (") == {}


def test_parse_assignments_types_values_like_yaml():
    assert parse_assignments("steps=20 device=cpu") == {"steps": 20, "device": "cpu"}
    assert parse_assignments(["flag=true", "lr=1e-3", "xs=[1, 2]", "empty="]) == {
        "flag": True,
        "lr": 1e-3,
        "xs": [1, 2],
        "empty": "",
    }
    assert parse_assignments("title='a b'") == {"title": "a b"}
    with pytest.raises(ValueError, match="name=value"):
        parse_assignments("steps")


def test_the_command_line_reads_parameters_with_the_typed_parser(tmp_path, capsys):
    """`-p` (one per word of make's P='...') gives typed values; a malformed one is a one-line error."""
    from execblog.commands.cli import _parameters, main

    assert _parameters(["steps=20", "lr=1e-3", "title=a b", "xs=[1, 2]"]) == {
        "steps": 20,
        "lr": 1e-3,
        "title": "a b",
        "xs": [1, 2],
    }
    assert main(["status", "-s", str(tmp_path), "-p", "steps=20", "-p", "device"]) == 1
    err = capsys.readouterr().err
    assert "'device' is not of the form name=value" in err and "Traceback" not in err


def test_resolve_parameters_precedence():
    defaults = {"steps": 3, "device": "cpu", "seed": 0}
    resolved = resolve_parameters(
        defaults,
        front_matter={"steps": 5, "title_param": "t"},
        profile={"device": "cuda", "steps": 8, "unrelated": 1},
        cli={"steps": 20},
    )
    assert resolved == {"steps": 20, "device": "cuda", "seed": 0, "title_param": "t"}
    # Profile and command line never invent parameters the post does not declare.
    assert "unrelated" not in resolved


def test_parameters_to_inject_only_changes():
    defaults = {"steps": 3, "device": DefaultExpression("pick()"), "flag": 1}
    resolved = {"steps": 3, "device": "cuda", "flag": True, "extra": "x"}
    assert parameters_to_inject(defaults, resolved) == {"device": "cuda", "flag": True, "extra": "x"}
    assert parameters_to_inject(defaults, dict(defaults)) == {}
