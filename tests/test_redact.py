import base64
import json
from urllib.parse import quote, quote_plus

import nbformat
import pytest

from execblog.execution.redact import (
    Redactor,
    UnredactableSecret,
    encoded_forms,
    normalise,
    scan_for_secrets,
)
from execblog.execution.secret_env import secret_env_values

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


# --- forms that hid a secret from a plain substring search --------------------------------------
def _png(**text) -> bytes:
    """A real PNG from Pillow with compressed (zTXt), international (iTXt) or plain text chunks."""
    import io

    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, (value, kind) in text.items():
        if kind == "iTXt":
            info.add_itxt(key, value, zip=True)
        else:
            info.add_text(key, value, zip=kind == "zTXt")
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _text_chunks(png: bytes) -> dict:
    import io

    from PIL import Image, PngImagePlugin

    image = Image.open(io.BytesIO(png))
    assert isinstance(image, PngImagePlugin.PngImageFile)  # .text: a PNG's tEXt/iTXt chunks
    return dict(image.text)


def test_token_split_by_terminal_codes_is_redacted_keeping_the_codes():
    r = Redactor({"HF_TOKEN": HF})
    text = f"token: {HF[:9]}\x1b[1;31m{HF[9:20]}\x1b]8;;x\x07{HF[20:]}\x1b[0m\n"
    out = r.text(text)
    assert HF not in normalise(out) and out.count("[REDACTED:HF_TOKEN]") == 1
    assert out == "token: [REDACTED:HF_TOKEN]\x1b[1;31m\x1b]8;;x\x07\x1b[0m\n"
    zero_width = HF[:5] + "\u200b" + HF[5:]
    assert r.text(zero_width) == "[REDACTED:HF_TOKEN]\u200b"


def test_token_split_by_tags_or_references_in_html_is_redacted():
    r = Redactor({"HF_TOKEN": HF}, patterns=False)
    page = f'<p>{HF[:7]}<span class="ansi-red-fg">{HF[7:30]}</span><!-- x -->&#{ord(HF[30])};{HF[31:]}</p>'
    out = r.text(page, markup=True)
    assert "[REDACTED:HF_TOKEN]" in out and '<span class="ansi-red-fg"></span>' in out
    assert HF not in normalise(out, markup=True) and HF[7:30] not in out
    assert r.found_in(page, markup=True) == ["HF_TOKEN"] and r.found_in(out, markup=True) == []
    assert r.text("a < b and c > d") == "a < b and c > d"  # a lone "<" is text, not a tag


def test_token_printed_in_halves_across_stream_chunks():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(t[:20], end=''); print(t[20:])")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"first {HF[:20]}"),
        nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
        nbformat.v4.new_output("stream", name="stdout", text=f"{HF[20:]} last\n"),
    ]
    nb.cells = [cell]
    out = Redactor({"HF_TOKEN": HF}, patterns=False).notebook(nb)
    texts = [o.text for o in out.cells[0].outputs]
    assert texts == ["first [REDACTED:HF_TOKEN]", "warning\n", " last\n"]
    assert Redactor({"HF_TOKEN": HF}).text(f"{HF[:20]}\n{HF[20:]}\n") == "[REDACTED:HF_TOKEN]\n\n"  # line-split


@pytest.mark.parametrize("prefix", ["", "x", "xy"])  # the three byte alignments inside base64
def test_base64_of_a_secret_is_redacted_at_every_alignment(prefix):
    r = Redactor({"HF_TOKEN": HF}, patterns=False)
    for encode in (base64.b64encode, base64.urlsafe_b64encode, base64.encodebytes):
        encoded = encode(f"{prefix}{HF}{HF}-and-more".encode()).decode()
        out = r.text(f"blob: {encoded}")
        assert "[REDACTED:HF_TOKEN]" in out
        assert base64.b64encode(HF.encode()).decode()[:12] not in out


def test_hex_and_percent_encodings_are_redacted():
    secret = "pa ss/wörd+123"
    r = Redactor({"DB_PASSWORD": secret})
    for form in (
        secret.encode().hex(),
        secret.encode().hex().upper(),
        quote(secret, safe=""),
        quote(secret, safe="").lower(),
        quote_plus(secret),
        " ".join(f"{b:02x}" for b in secret.encode()),
    ):
        out = r.text(f"url?p={form}&x=1")
        assert out.replace(" ", "") == "url?p=[REDACTED:DB_PASSWORD]&x=1", form  # only the secret's characters go


def test_secret_in_png_text_chunks_is_dropped_from_the_image():
    r = Redactor({"HF_TOKEN": HF})
    for kind in ("zTXt", "iTXt", "tEXt"):
        png = _png(Comment=(f"made with {HF}", kind), Software=("matplotlib", "tEXt"))
        assert HF.encode() not in png or kind == "tEXt"  # compressed: invisible to a byte search
        clean = r.image(png, "image/png")
        assert _text_chunks(clean) == {"Software": "matplotlib"}, kind
    plain = _png(Software=("matplotlib", "tEXt"))
    assert r.image(plain) is plain  # nothing to remove: byte for byte the same


def test_secret_in_jpeg_and_webp_metadata_is_dropped():
    import io

    from PIL import Image

    r = Redactor({"HF_TOKEN": HF})
    exif = Image.Exif()
    exif[0x010E] = f"desc {HF}"  # ImageDescription
    for fmt, extra in (("JPEG", {"comment": f"c {HF}"}), ("WEBP", {"xmp": f"<x>{HF}</x>".encode()})):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), "teal").save(buf, fmt, exif=exif, **extra)
        data = buf.getvalue()
        clean = r.image(data, f"image/{fmt.lower()}")
        assert r.json_secrets({"image/png": base64.b64encode(clean).decode()}) == []
        assert HF.encode() not in clean and Image.open(io.BytesIO(clean)).size == (8, 8), fmt


def test_secret_in_pixel_data_or_an_unknown_format_fails_naming_the_cell():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "GIF", comment=HF.encode())  # GIF blocks are not rewritten
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/gif": base64.b64encode(buf.getvalue()).decode()})
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("intro"), cell]
    with pytest.raises(UnredactableSecret) as info:
        Redactor({"HF_TOKEN": HF}).notebook(nb)
    assert info.value.cell == 1 and info.value.what == "HF_TOKEN" and HF not in str(info.value)


def test_encoded_forms_cover_three_alignments_and_skip_tiny_fragments():
    forms = encoded_forms(HF)
    for prefix in (b"", b"a", b"ab"):
        encoded = base64.b64encode(prefix + HF.encode() + b"zz").decode()
        assert any(f in encoded for f in forms)
    assert all(len(f) >= 8 for f in encoded_forms("abcdef"))


def test_scan_finds_encoded_normalised_and_image_metadata_forms(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "b64.html").write_text(f"<p>{base64.b64encode(b'x' + HF.encode()).decode()}</p>", encoding="utf-8")
    (site / "hex.txt").write_text(HF.encode().hex().upper(), encoding="utf-8")
    (site / "split.html").write_text(f"<pre>{HF[:10]}<span>{HF[10:]}</span></pre>", encoding="utf-8")
    (site / "fig.png").write_bytes(_png(Comment=(HF, "zTXt")))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"{HF[:10]}\x1b[31m{HF[10:]}"),
        nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(_png(C=(HF, "iTXt"))).decode()}),
    ]
    nb.cells = [cell]
    (site / "post.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    (site / "clean.html").write_text("<p>nothing</p>", encoding="utf-8")
    (site / "clean.png").write_bytes(_png(Software=("matplotlib", "tEXt")))
    findings = scan_for_secrets([site], {"HF_TOKEN": HF}, patterns=False)
    assert {f.path.name for f in findings} == {"b64.html", "hex.txt", "split.html", "fig.png", "post.ipynb"}
    assert all(f.what == "HF_TOKEN" and HF not in str(f) for f in findings)
