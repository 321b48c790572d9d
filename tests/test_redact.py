import json

import nbformat

from execblog.redact import Redactor, scan_for_secrets, secret_env_values

HF = "hf_" + "Qw9" * 12
GHP = "ghp_" + "a1B2" * 9


def test_secret_env_values_by_name():
    env = {
        "HF_TOKEN": HF,
        "MY_API_KEY": "k-123456789",
        "DB_PASSWORD": "hunter22",
        "AWS_SECRET_ACCESS_KEY": "abc/def+ghi",
        "CUSTOM": "custom-value-1",
        "PATH": "/usr/bin",
        "SOME_TOKEN_FLAG": "true",  # common values are never treated as secrets
        "SHORT_KEY": "abc",
    }
    found = secret_env_values(env, extra_names=["CUSTOM"])
    assert set(found) == {"HF_TOKEN", "MY_API_KEY", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "CUSTOM"}


def test_text_redaction_values_shapes_and_home():
    r = Redactor({"HF_TOKEN": HF, "DB_PASSWORD": "hunter22"}, home="/home/ann")
    text = f"t={HF} p=hunter22 g={GHP} aws=AKIAABCDEFGHIJKLMNOP at /home/ann/data and /home/anna"
    out = r.text(text)
    assert HF not in out and "hunter22" not in out and GHP not in out and "AKIA" not in out
    assert "[REDACTED:HF_TOKEN]" in out and "[REDACTED:github-token]" in out
    assert "~/data" in out
    assert "/home/anna" in out  # only whole path components
    assert r.found_in(text) and not r.found_in(out)


def test_token_shapes_do_not_match_ordinary_words():
    r = Redactor()
    text = "task-list-item-checkbox-2024-extra sk-short hf_x github_pat_ AKIA"
    assert r.text(text) == text
    assert r.text("key sk-proj-abcdefghij0123456789XYZ end") == "key [REDACTED:api-key] end"


def test_notebook_redaction_walks_everything_but_image_data():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f'token = "{HF}"')
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"value {HF}\n"),
        nbformat.v4.new_output("error", ename="E", evalue=f"bad {HF}", traceback=[f"line {HF}"]),
        nbformat.v4.new_output("display_data", data={"image/png": "aGZfQUFB", "text/html": f"<b>{HF}</b>"}),
    ]
    nb.cells = [cell]
    out = Redactor({"HF_TOKEN": HF}).notebook(nb)
    assert HF not in json.dumps(out)
    assert out.cells[0].outputs[2].data["image/png"] == "aGZfQUFB"
    assert isinstance(out, nbformat.NotebookNode)
    assert HF in json.dumps(nb)  # the input is not modified


def test_split_lines_are_joined_before_matching():
    r = Redactor({"T": "secret-value-123"})
    # nbformat joins a list of strings with nothing between: a secret may span items,
    # and each item keeps its place.
    assert r.json(["start secret-", "value-123 end\n"]) == ["start [REDACTED:T]", " end\n"]
    lines = ["line one\n", "secret-value-123\n", "end"]
    assert r.json(lines) == ["line one\n", "[REDACTED:T]\n", "end"]


def test_scan_for_secrets_finds_raw_and_escaped_forms(tmp_path):
    secret = 'pa"ss<word>-123'
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "a.html").write_text("<p>ok</p>\n<p>pa&quot;ss&lt;word&gt;-123</p>", encoding="utf-8")
    (tmp_path / "site" / "b.json").write_text(json.dumps({"v": secret}), encoding="utf-8")
    (tmp_path / "site" / "c.txt").write_text(f"\n\n{GHP}\n", encoding="utf-8")
    (tmp_path / "site" / "clean.txt").write_text("nothing here", encoding="utf-8")
    findings = scan_for_secrets([tmp_path / "site"], {"DB_PASSWORD": secret})
    where = {(f.path.name, f.what) for f in findings}
    assert ("a.html", "DB_PASSWORD") in where
    assert ("b.json", "DB_PASSWORD") in where
    assert ("c.txt", "a github-token-shaped string") in where
    assert all(f.path.name != "clean.txt" for f in findings)
    assert next(f for f in findings if f.path.name == "c.txt").line == 3
    assert all(secret not in str(f) for f in findings)
    assert scan_for_secrets([tmp_path / "site" / "clean.txt"], {"DB_PASSWORD": secret}) == []
