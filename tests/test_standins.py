"""Offline stand-in models: built from configs, complete tokenizers, loadable by the posts' own code.

Also runs every executable example post end to end through Papermill on the stand-ins, as the offline
profile does. Everything here works without network access; the whole file takes well under 3 minutes
on 2 cores (a kernel start that imports torch costs several seconds, so posts run two at a time).
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from execblog.config import load_config
from execblog.models import standins
from execblog.models.resolve import resolve_models

ROOT = Path(__file__).resolve().parent.parent
POSTS = ROOT / "posts"
MELOS = (
    "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。メロスには政治がわからぬ。"
    "メロスは、村の牧人である。笛を吹き、羊と遊んで暮して来た。けれども邪悪に対しては、人一倍に敏感であった。"
)
EXAMPLE = load_config(ROOT)  # the example site's `standins:` recipes
RECIPES = standins.site_recipes(EXAMPLE)
ALL_IDS = list(RECIPES)

pytestmark = pytest.mark.xdist_group("standins")


def _shared_dir(tmp_path_factory) -> Path:
    """A folder every pytest-xdist worker of this run sees, so the costly fixtures run once per run
    (xdist_group alone does not keep this module's tests on one worker)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    home = _shared_dir(tmp_path_factory) / "execblog-standins" / "tiny"
    standins.build_standins(RECIPES.values(), home, "tiny")  # locked and reused: built by one worker only
    return home


def built(home: Path, model_id: str) -> Path:
    """The snapshot of a stand-in that is built under `home`."""
    snap = standins.snapshot_dir(home, model_id)
    assert snap is not None, f"{model_id} is not built"
    return snap


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != standins.MARKER_FILE  # the marker records the build time
    }


# --------------------------------------------------------------------------------------------------
# Layout, fingerprints, rebuilds
# --------------------------------------------------------------------------------------------------


def test_hub_cache_layout(home: Path) -> None:
    for model_id in ALL_IDS:
        repo = home / "hub" / ("models--" + model_id.replace("/", "--"))
        rev = (repo / "refs" / "main").read_text()
        assert re.fullmatch(r"[0-9a-f]{40}", rev)
        assert rev == standins.fingerprint(RECIPES[model_id], "tiny")
        snap = repo / "snapshots" / rev
        assert standins.snapshot_dir(home, model_id) == snap
        assert standins.missing_files(snap, RECIPES[model_id]) == []
        marker = standins.read_marker(snap)
        assert marker is not None
        assert marker["model_id"] == model_id and marker["size"] == "tiny" and "random" in marker["note"]
        # Tiny means tiny: the whole SD pipeline stays around 10 MB, GPT-2 under 1 MB.
        total = sum(p.stat().st_size for p in snap.rglob("*") if p.is_file())
        assert total < 20e6
        assert not list(snap.rglob("*.bin")) and not list(snap.rglob("*.pt"))  # safetensors only, no pickle


def test_fingerprint_depends_on_size_seed_and_version(monkeypatch) -> None:
    gpt2 = RECIPES["gpt2"]
    fp = standins.fingerprint(gpt2, "tiny")
    assert fp == standins.fingerprint(gpt2, "tiny")
    assert fp != standins.fingerprint(gpt2, "real")
    assert fp != standins.fingerprint(gpt2, "tiny", seed=1)
    assert fp != standins.fingerprint(RECIPES["rinna/japanese-gpt2-medium"], "tiny")
    monkeypatch.setattr(standins, "BUILDER_VERSION", standins.BUILDER_VERSION + 1)
    assert standins.fingerprint(gpt2, "tiny") != fp
    with pytest.raises(ValueError):
        standins.fingerprint(gpt2, "huge")


def test_example_revisions_are_stable() -> None:
    """Moving the recipes into site_config.yaml and the corpus into data files changed nothing that is
    built: the committed freeze's stand-in runs keep their keys."""
    assert {m: standins.fingerprint(r, "tiny") for m, r in RECIPES.items()} == {
        "gpt2": "f0026260f9e527d822211460ab8517fd0906f0a8",
        "rinna/japanese-gpt2-medium": "0be2d9bffaf5074f0321d3c16904c71bbc3ca98f",
        "CompVis/stable-diffusion-v1-4": "020beb2b0e39102d90b14c36479a7d617b9025c1",
        "rinna/japanese-stable-diffusion": "57cf251b4f866b5be7fcb8b4167a8eb1b6bfab8f",
    }


def test_reused_when_current_rebuilt_when_recipe_changes(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "h"
    snap = standins.build_standin(RECIPES["gpt2"], home)
    stamp = (snap / "model.safetensors").stat().st_mtime_ns
    assert standins.build_standin(RECIPES["gpt2"], home) == snap
    assert (snap / "model.safetensors").stat().st_mtime_ns == stamp  # not rebuilt

    monkeypatch.setattr(standins, "BUILDER_VERSION", standins.BUILDER_VERSION + 1)
    assert not standins.is_built(home, RECIPES["gpt2"])
    new = standins.build_standin(RECIPES["gpt2"], home)
    assert new != snap and new.is_dir()
    assert not snap.exists()  # the outdated stand-in revision is removed
    assert (home / "hub" / "models--gpt2" / "refs" / "main").read_text() == new.name


def test_builds_are_deterministic(tmp_path: Path, home: Path) -> None:
    """Same recipe, same bytes: weights are seeded and the tokenizers' training breaks ties by order."""
    for model_id in ("gpt2", "rinna/japanese-gpt2-medium"):
        again = standins.build_standin(RECIPES[model_id], tmp_path / "again")
        assert _tree_digest(again) == _tree_digest(built(home, model_id))
    a, b = tmp_path / "clip-a", tmp_path / "clip-b"
    standins.write_clip_tokenizer(a)
    standins.write_clip_tokenizer(b)
    assert _tree_digest(a) == _tree_digest(b)


def test_real_size_configs_match_the_real_architectures() -> None:
    """size="real" must reproduce the real models' sizes (checked on the meta device: no memory, no time)."""
    import torch
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, GPT2Config, GPT2LMHeadModel

    def n_params(module) -> float:
        return sum(p.numel() for p in module.parameters()) / 1e6

    gpt2 = standins._gpt2_config("real", 1000, bos=0, eos=0, real=RECIPES["gpt2"].real_config)
    rinna = standins._gpt2_config("real", 800, bos=3, eos=1, real=RECIPES["rinna/japanese-gpt2-medium"].real_config)
    sd = standins._sd_configs("real", 1000, bos=0, eos=1, pad=1, real_vocab=49408)
    with torch.device("meta"):
        assert 120 < n_params(GPT2LMHeadModel(GPT2Config(**gpt2))) < 130  # GPT-2 small: 124M
        assert 330 < n_params(GPT2LMHeadModel(GPT2Config(**rinna))) < 370  # GPT-2 medium: ~336M + 32k vocab
        assert 120 < n_params(CLIPTextModel(CLIPTextConfig(**sd["text_encoder"]))) < 125  # CLIP ViT-L/14 text
        assert 855 < n_params(UNet2DConditionModel(**sd["unet"])) < 865  # SD v1 UNet: 860M
    assert sd["vae"]["block_out_channels"] == [128, 256, 512, 512]
    tiny = standins._sd_configs("tiny", 1000, bos=0, eos=1, pad=1, real_vocab=49408)
    # Tiny keeps SD's 8x latent scale (4 VAE blocks) so pipeline code paths are the real ones.
    assert len(tiny["vae"]["block_out_channels"]) == 4


# --------------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------------


def test_tokenizers_are_complete_and_real_looking(home: Path) -> None:
    for model_id in ALL_IDS:
        snap = built(home, model_id)
        tok = standins.load_tokenizer(snap, RECIPES[model_id])
        assert standins.tokenizer_problems(tok, standins.sample_text(RECIPES[model_id])) == []
        assert len(tok) >= standins.MIN_TOKENIZER_SIZE
    gpt2 = standins.load_tokenizer(built(home, "gpt2"), RECIPES["gpt2"])
    assert gpt2.tokenize("The quick brown fox")[1] == "Ġquick"  # byte-level BPE, whole words
    assert gpt2.convert_tokens_to_ids("<|endoftext|>") == len(gpt2) - 1  # last id, as in the real vocab
    clip = standins.load_tokenizer(
        built(home, "CompVis/stable-diffusion-v1-4"), RECIPES["CompVis/stable-diffusion-v1-4"]
    )
    assert clip.model_max_length == 77
    assert clip.tokenize("a galaxy far from earth") == ["a</w>", "galaxy</w>", "far</w>", "from</w>", "earth</w>"]
    # The real repos' file sets: rinna ships spiece.model without tokenizer.json (so protobuf is needed).
    rinna = built(home, "rinna/japanese-gpt2-medium")
    assert (rinna / "spiece.model").is_file() and not (rinna / "tokenizer.json").exists()


def test_missing_tokenizer_file_is_detected_and_repaired(tmp_path: Path, home: Path) -> None:
    """Offline, a tokenizer without its vocabulary file loads *silently* as an empty shell; catch it."""
    from transformers import T5Tokenizer

    model_id = "rinna/japanese-gpt2-medium"
    local = tmp_path / "home"
    shutil.copytree(
        home / "hub" / "models--rinna--japanese-gpt2-medium", local / "hub" / "models--rinna--japanese-gpt2-medium"
    )
    snap = built(local, model_id)
    (snap / "spiece.model").unlink()

    broken = T5Tokenizer.from_pretrained(str(snap))  # no error...
    problems = standins.tokenizer_problems(broken, MELOS)
    assert any("only" in p and "tokens" in p for p in problems)  # ...but nearly empty
    assert any("unknown" in p for p in problems)
    recipe = RECIPES[model_id]
    assert standins.verify_snapshot(snap, recipe) == ["missing spiece.model"]
    assert not standins.is_built(local, recipe)

    standins.build_standin(recipe, local)  # the next resolution rebuilds it
    assert standins.is_built(local, recipe)
    assert standins.verify_snapshot(built(local, model_id), recipe) == []


def test_cli_reports_up_to_date(home: Path, capsys) -> None:
    assert standins.main(["-s", str(ROOT), "--size", "tiny", "--out", str(home), "gpt2"]) == 0
    out = capsys.readouterr().out
    assert "gpt2: up to date" in out and "HF_HUB_OFFLINE=1" in out
    with pytest.raises(SystemExit):
        standins.main(["-s", str(ROOT), "--out", str(home), "nobody/nothing"])


# --------------------------------------------------------------------------------------------------
# The posts' own loading code, offline, against the stand-ins
# --------------------------------------------------------------------------------------------------

LOADING_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import torch
    from transformers import GPT2Model, GPT2Tokenizer, GPT2LMHeadModel, T5Tokenizer
    from diffusers import LMSDiscreteScheduler, StableDiffusionPipeline

    melos = sys.argv[1]
    out = {}
    # Post 1
    tokenizer = GPT2Tokenizer.from_pretrained("gpt2")
    model = GPT2Model.from_pretrained("gpt2", attn_implementation="eager")
    tokens = tokenizer("The quick brown fox jumps over the lazy dog.", return_tensors="pt")
    with torch.no_grad():
        attentions = model(**tokens, output_attentions=True).attentions
    out["gpt2"] = {"layers": len(attentions), "shape": list(attentions[-1].shape), "n_layer": model.config.n_layer,
                   "n_head": model.config.n_head, "tokens": tokenizer.convert_ids_to_tokens(tokens["input_ids"][0])}
    # Post 2
    tokenizer = T5Tokenizer.from_pretrained("rinna/japanese-gpt2-medium")
    model = GPT2LMHeadModel.from_pretrained("rinna/japanese-gpt2-medium", attn_implementation="eager")
    tokens = tokenizer(melos, return_tensors="pt")
    ids = tokens["input_ids"][0].tolist()
    with torch.no_grad():
        attentions = model(**tokens, output_attentions=True).attentions
    out["rinna"] = {"vocab": len(tokenizer), "ids": ids, "unk": tokenizer.unk_token_id,
                    "decoded": tokenizer.decode(ids, skip_special_tokens=True),
                    "tokens": tokenizer.convert_ids_to_tokens(ids), "shape": list(attentions[-1].shape)}
    # Post 3 (fp32 on CPU)
    pipe = StableDiffusionPipeline.from_pretrained("CompVis/stable-diffusion-v1-4", dtype=torch.float32)
    image = pipe("a galaxy far from earth", num_inference_steps=2,
                 generator=torch.Generator("cpu").manual_seed(0)).images[0]
    out["sd"] = {"size": list(image.size), "mode": image.mode, "extrema": [list(e) for e in image.getextrema()]}
    # The fp16 variant the post asks for on CUDA exists too
    pipe16 = StableDiffusionPipeline.from_pretrained("CompVis/stable-diffusion-v1-4", variant="fp16",
                                                     dtype=torch.float16)
    out["sd_fp16"] = str(pipe16.unet.dtype)
    # Post 4: rinna's pipeline = StableDiffusionPipeline + T5Tokenizer settings
    tok = T5Tokenizer.from_pretrained("rinna/japanese-stable-diffusion", subfolder="tokenizer")
    tok.do_lower_case = True
    tok.model_max_length = 77
    sched = LMSDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                 num_train_timesteps=1000, steps_offset=1)
    pipe = StableDiffusionPipeline.from_pretrained("rinna/japanese-stable-diffusion", tokenizer=tok,
                                                   scheduler=sched, dtype=torch.float32)
    image = pipe("富士山をバックに二大スーパーロボットががっちりと握手", num_inference_steps=2, height=64,
                 width=64).images[0]
    prompt_ids = tok("富士山をバックに二大スーパーロボットががっちりと握手")["input_ids"]
    out["rinna_sd"] = {"size": list(image.size), "prompt_unk": tok.unk_token_id in prompt_ids,
                       "tokenizer_class": type(pipe.tokenizer).__name__}
    print("RESULT " + json.dumps(out, ensure_ascii=False))
    """
)


def test_posts_loading_code_works_offline(home: Path, tmp_path: Path) -> None:
    env = {**os.environ, **standins.hf_env(home)}
    # Another HF cache in the environment must not matter; the network is off by HF_HUB_OFFLINE.
    env.pop("HF_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-c", LOADING_SCRIPT, MELOS],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])

    g = out["gpt2"]
    assert g["layers"] == g["n_layer"]
    assert g["shape"] == [1, g["n_head"], 10, 10]  # (batch, heads, tokens, tokens)
    assert g["tokens"][:3] == ["The", "Ġquick", "Ġbrown"]

    r = out["rinna"]
    assert r["vocab"] >= standins.MIN_TOKENIZER_SIZE
    assert r["unk"] not in r["ids"]
    assert r["decoded"] == MELOS  # round trip
    assert r["tokens"][-1] == "</s>" and len(r["ids"]) > 20
    assert r["shape"][-1] == len(r["ids"])

    assert out["sd"]["size"] == [128, 128] and out["sd"]["mode"] == "RGB"
    assert any(lo != hi for lo, hi in out["sd"]["extrema"])  # an image, not a flat fill
    assert out["sd_fp16"] == "torch.float16"
    assert out["rinna_sd"] == {"size": [64, 64], "prompt_unk": False, "tokenizer_class": "T5Tokenizer"}


# --------------------------------------------------------------------------------------------------
# The example posts, read with jupytext and run end to end with Papermill
# --------------------------------------------------------------------------------------------------

EXECUTABLE = {
    "attention-gpt2": "gpt2",
    "attention-melos": "rinna/japanese-gpt2-medium",
    "stable-diffusion": "CompVis/stable-diffusion-v1-4",
    "rinna-stable-diffusion": "rinna/japanese-stable-diffusion",
    "attention-minilm": "sentence-transformers/all-MiniLM-L6-v2",
}


def _front_matter(path: Path) -> dict:
    import yaml

    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


def test_posts_front_matter_and_cells() -> None:
    import jupytext

    names = sorted(p.stem for p in POSTS.glob("*.md"))
    assert set(EXECUTABLE) | {"ignite-2021-fall"} <= set(names)
    for name, model_id in EXECUTABLE.items():
        path = POSTS / f"{name}.md"
        fm = _front_matter(path)
        assert fm["author"] == "Me" and fm["title"] and fm["date"] and fm["tags"]
        assert fm["models"] == [model_id]
        assert fm["jupyter"]["kernelspec"]["name"] == "execblog"
        nb = jupytext.read(path)
        code = [c for c in nb.cells if c.cell_type == "code"]
        parameter_cells = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(parameter_cells) == 1, name
        source = "\n".join(c.source for c in code)
        assert "import japanize_matplotlib" not in source and "use_auth_token" not in source
        assert ')["sample"]' not in source  # today's diffusers returns .images
        run = [c for c in code if "skip-execution" not in c.metadata.get("tags", [])]
        run_source = "\n".join(c.source for c in run)
        for ui in ("notebook_login()", "pip install", "google.colab", "import gradio", "japanese_stable_diffusion"):
            assert ui not in run_source, (name, ui)  # shown on the page, never run
        if "Attention対象" in source or "層" in source:
            assert "matplotlib_fontja" in run_source
    for name in ("stable-diffusion", "rinna-stable-diffusion"):
        nb = jupytext.read(POSTS / f"{name}.md")
        params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        for p in ("prompt", "steps", "seed", "device", "dtype", "height", "width"):
            assert re.search(rf"^{p} = ", params, re.M), (name, p)
        skipped = "\n".join(c.source for c in nb.cells if "skip-execution" in c.metadata.get("tags", []))
        assert "notebook_login()" in skipped
        assert 'os.environ.get("HF_TOKEN")' in "\n".join(c.source for c in nb.cells)
    for name in ("attention-gpt2", "attention-melos"):
        params = next(
            c.source for c in jupytext.read(POSTS / f"{name}.md").cells if "parameters" in c.metadata.get("tags", [])
        )
        for p in ("layer", "head", "device"):
            assert re.search(rf"^{p} = ", params, re.M), (name, p)

    ignite = POSTS / "ignite-2021-fall.md"
    fm = _front_matter(ignite)
    assert "jupyter" not in fm and fm["author"] == "Me" and str(fm["date"]) == "2021-12-17"
    body = ignite.read_text(encoding="utf-8")
    assert "| 13:10 - 13:40 | Azure AI アップデート | 小川 航平 Cloud Solution Architect |" in body
    assert "\n  - Azure Cognitive Search\n    - Semantic Search\n" in body


@pytest.fixture(scope="session")
def kernel_env(tmp_path_factory) -> dict[str, str]:
    """A Jupyter data dir holding the `execblog` kernelspec (the engine's, else a plain ipykernel one)."""
    prefix = tmp_path_factory.mktemp("jupyter")
    try:
        from execblog.execution.kernel import install_kernelspec

        install_kernelspec(prefix, "execblog")
    except ImportError:
        from ipykernel.kernelspec import install

        install(prefix=str(prefix), kernel_name="execblog", display_name="execblog (test)")
    return {"JUPYTER_PATH": str(prefix / "share" / "jupyter")}


@pytest.fixture(scope="session")
def executed(home: Path, kernel_env: dict[str, str], tmp_path_factory) -> dict[str, dict]:
    """Each executable post run by Papermill with the offline profile's models and parameters.

    Runs once per test run: the first worker runs the posts (two at a time) and records the results;
    any other worker waits on the lock and reads them."""
    import jupytext
    import nbformat
    from filelock import FileLock

    work = _shared_dir(tmp_path_factory) / "execblog-posts"
    cache_dir = home.parent  # resolve_models keeps stand-ins in <cache_dir>/<size>

    def run(name: str) -> dict:
        fm = _front_matter(POSTS / f"{name}.md")
        res = resolve_models(
            fm["models"],
            "offline",
            cache_dir,
            recipes=RECIPES,
            bundled=EXAMPLE.bundled_models,
            hf_cache=work / "no-hf-cache",
        )
        nb = jupytext.read(POSTS / f"{name}.md")
        src, dst, cwd = work / f"{name}.ipynb", work / f"{name}.out.ipynb", work / name
        cwd.mkdir(parents=True)
        nbformat.write(nb, src)
        params = {**res.parameters, "seed": 0}
        env = {**os.environ, **kernel_env, **res.env}
        env.pop("HF_TOKEN", None)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "papermill",
                str(src),
                str(dst),
                "-k",
                "execblog",
                "--cwd",
                str(cwd),
                "-y",
                json.dumps(params),
                "--no-progress-bar",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return {"returncode": proc.returncode, "stderr": proc.stderr[-4000:]}

    work.mkdir(parents=True, exist_ok=True)
    summary = work / "summary.json"
    with FileLock(str(work / ".lock")):
        if not summary.is_file():
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                results = dict(zip(EXECUTABLE, pool.map(run, EXECUTABLE), strict=True))
            summary.write_text(json.dumps(results), encoding="utf-8")
    results = json.loads(summary.read_text(encoding="utf-8"))
    out = {}
    for name, r in results.items():
        dst = work / f"{name}.out.ipynb"
        fm = _front_matter(POSTS / f"{name}.md")
        out[name] = {
            **r,
            "nb": nbformat.read(dst, 4) if dst.exists() else None,
            "cwd": work / name,
            "resolution": resolve_models(
                fm["models"],
                "offline",
                cache_dir,
                recipes=RECIPES,
                bundled=EXAMPLE.bundled_models,
                hf_cache=work / "none",
            ),
        }
    return out


def _outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _pngs(nb) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in _outputs(nb) if "image/png" in o.get("data", {})]


def _stream_text(nb) -> str:
    return "".join(o.get("text", "") for o in _outputs(nb) if o["output_type"] == "stream")


@pytest.mark.parametrize("name", list(EXECUTABLE))
def test_post_runs_end_to_end_offline(executed: dict, name: str) -> None:
    from PIL import Image

    run = executed[name]
    assert run["returncode"] == 0, run["stderr"]
    nb = run["nb"]
    assert not [o for o in _outputs(nb) if o["output_type"] == "error"]
    text = _stream_text(nb)
    assert "Glyph" not in text and "missing from font" not in text  # no tofu in any figure
    pngs = _pngs(nb)
    assert pngs, f"{name} drew nothing"
    for data in pngs:
        img = Image.open(io.BytesIO(data))
        assert img.width >= 64 and img.height >= 64
    # Skipped cells stayed unexecuted.
    for c in nb.cells:
        if "skip-execution" in c.metadata.get("tags", []):
            assert c.get("execution_count") is None and not c.get("outputs")
    res = run["resolution"]
    if name == "attention-minilm":
        assert res.stand_ins == () and res.real == ("sentence-transformers/all-MiniLM-L6-v2",)
        assert "HF_HOME" not in res.env
    else:
        assert res.stand_ins == (EXECUTABLE[name],) and res.env["HF_HUB_OFFLINE"] == "1"


def test_attention_posts_draw_japanese_labels(executed: dict) -> None:
    for name, labels in {
        "attention-gpt2": ("Attention対象", "GPT-2のAttentionマップ"),
        "attention-melos": ("Attention対象", "左斜め上1/4のAttentionマップ拡大表示"),
    }.items():
        nb = executed[name]["nb"]
        plot = next(c for c in nb.cells if c.cell_type == "code" and "sns.heatmap" in c.source)
        assert all(label in plot.source for label in labels)
        assert any("image/png" in o.get("data", {}) for o in plot.outputs)
        # The tick labels are tokenizer pieces (Ġ / ▁), which need the fallback font: no warning above.
        assert "DejaVu Sans" in "\n".join(c.source for c in nb.cells)


def test_sd_posts_save_their_images(executed: dict) -> None:
    from PIL import Image

    for name, filename in {
        "stable-diffusion": "galaxy_far_from_earth.png",
        "rinna-stable-diffusion": "output.png",
    }.items():
        saved = executed[name]["cwd"] / filename
        assert saved.is_file()
        assert Image.open(saved).size == (128, 128)  # the offline profile's small size
        assert len(_pngs(executed[name]["nb"])) == 1  # and shown on the page


def test_minilm_post_shows_real_attention(executed: dict) -> None:
    nb = executed["attention-minilm"]["nb"]
    assert len(_pngs(nb)) == 3  # one layer's heads, the pattern summary, "it" -> "animal"
    html = "".join(o["data"].get("text/html", "") for o in _outputs(nb) if "data" in o)
    assert "animal" in html  # the trained model's coreference heads make the table
    assert "6 層 × 12 ヘッド" in _stream_text(nb)


# --------------------------------------------------------------------------------------------------
# A site's own recipes: a new model id, its own corpus, a model without a recipe
# --------------------------------------------------------------------------------------------------

# A word the built-in corpus never saw: trained on the site's corpus it is one token, else many pieces.
RARE_WORD = "Quetzalcoatl"
SITE_CONFIG = """\
title: Own models
base_url: https://blog.example.org/
language: en
standins:
  acme/tiny-lm: {recipe: gpt2, corpus: [corpus/acme.txt]}
execution:
  provenance_packages: [torch, transformers, tokenizers]
default_profile: offline
profiles:
  offline:
    models: offline
"""
KERNEL_FRONT = """\
jupyter:
  kernelspec: {display_name: execblog, language: python, name: execblog}"""


def _own_site(site) -> None:
    site.config(SITE_CONFIG)
    (site.root / "corpus").mkdir()
    (site.root / "corpus" / "acme.txt").write_text(
        f"{RARE_WORD} flies over the pyramid at dawn.\n" * 40 + "The acme model writes short notes.\n", encoding="utf-8"
    )


def test_site_recipe_for_a_new_model_builds_from_its_corpus(tmp_path: Path, site) -> None:
    _own_site(site)
    recipe = standins.site_recipes(load_config(site.root))["acme/tiny-lm"]
    assert recipe.kind == "gpt2" and recipe.tokenizer == "gpt2"
    assert standins.sample_text(recipe) == f"{RARE_WORD} flies over the pyramid at dawn."
    snap = standins.build_standin(recipe, tmp_path / "home")
    assert standins.verify_snapshot(snap, recipe) == []
    tok = standins.load_tokenizer(snap, recipe)
    assert tok.tokenize(RARE_WORD) == [RARE_WORD]  # learned from the site's corpus file
    example = standins.load_tokenizer(standins.build_standin(RECIPES["gpt2"], tmp_path / "home"), RECIPES["gpt2"])
    assert len(example.tokenize(RARE_WORD)) > 1  # the built-in corpus does not have it
    # Editing the corpus is a new recipe revision: the stand-in is rebuilt.
    before = standins.fingerprint(recipe)
    (site.root / "corpus" / "acme.txt").write_text("Something else entirely.\n" * 50, encoding="utf-8")
    assert standins.fingerprint(recipe) != before and not standins.is_built(tmp_path / "home", recipe)


def test_site_recipe_runs_end_to_end_offline(site, monkeypatch) -> None:
    """A post declaring a model only the site knows runs offline on its stand-in: banner, outputs, and
    the provenance lists the site's packages (tokenizers) and not the default ones it left out (numpy)."""
    from execblog.execution.kernel import install_kernelspec

    install_kernelspec()
    monkeypatch.setenv("HF_HUB_CACHE", str(site.root / "empty-user-cache"))  # no real copy anywhere
    _own_site(site)
    site.post(
        "acme.md",
        f"""
        title: Acme
        date: 2024-01-01
        models: [acme/tiny-lm]
        {textwrap.indent(KERNEL_FRONT, "        ").strip()}
        """,
        f"""
        ```python
        from transformers import GPT2LMHeadModel, GPT2TokenizerFast
        tok = GPT2TokenizerFast.from_pretrained("acme/tiny-lm")
        model = GPT2LMHeadModel.from_pretrained("acme/tiny-lm")
        print("pieces:", tok.tokenize("{RARE_WORD}"), "layers:", model.config.n_layer)
        ```
        """,
    )
    assert site.build() == 0
    page = site.read("posts/acme/index.html")
    assert f"pieces: [&#39;{RARE_WORD}&#39;] layers: 2" in page or f"pieces: ['{RARE_WORD}'] layers: 2" in page
    assert "acme/tiny-lm" in page and "stand-in" in page.lower()  # the banner names it
    meta = json.loads((site.root / "_freeze" / "acme" / "meta.json").read_text(encoding="utf-8"))
    assert meta["stand_in_models"] == ["acme/tiny-lm"]
    versions = meta["provenance"]["versions"]
    assert {"torch", "transformers", "tokenizers"} <= set(versions) and "numpy" not in versions


def test_model_without_recipe_offline_is_a_clear_error(site, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(site.root / "empty-user-cache"))
    _own_site(site)
    site.post(
        "other.md",
        f"""
        title: Other
        date: 2024-01-01
        models: [acme/tiny-lm, nobody/unknown-model]
        {textwrap.indent(KERNEL_FRONT, "        ").strip()}
        """,
        "```python\nprint(1)\n```\n",
    )
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "posts/other.md:4" in err  # the `models:` line
    assert "`nobody/unknown-model`" in err and "acme/tiny-lm`" not in err
    assert "standins:" in err and "site_config.yaml" in err and "make models" in err
    assert "Traceback" not in err
    assert not (site.root / "_freeze" / "other").exists() and not site.out.exists()


def test_a_package_adds_a_recipe_kind(tmp_path: Path, monkeypatch) -> None:
    """Kinds beyond the built-in ones come from the entry-point group `execblog.standins`."""
    (tmp_path / "acme_kinds.py").write_text(
        textwrap.dedent("""
        from dataclasses import replace
        from execblog.models.standins import BUILTIN_KINDS
        SMALL_LM = replace(BUILTIN_KINDS["gpt2"], name="small-lm", description="a packaged GPT-2 kind")
        """),
        encoding="utf-8",
    )
    dist = tmp_path / "acme_kinds-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kinds\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[execblog.standins]\nsmall-lm = acme_kinds:SMALL_LM\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    standins.kinds.cache_clear()
    try:
        assert {"gpt2", "stable-diffusion", "small-lm"} <= set(standins.kinds())
        recipe = standins.make_recipe("acme/packaged", "small-lm")
        assert recipe.description.startswith("a packaged GPT-2 kind")
        assert recipe.required_files == RECIPES["gpt2"].required_files
    finally:
        monkeypatch.undo()  # the package is gone again
        standins.kinds.cache_clear()
    with pytest.raises(ValueError, match="unknown stand-in recipe `small-lm`.*execblog.standins"):
        standins.make_recipe("acme/packaged", "small-lm")
