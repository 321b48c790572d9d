"""Model resolution per profile (offline / auto / gpu) and the `make models` helpers, all without network."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from execblog.config import load_config
from execblog.models import standins
from execblog.models.resolve import (
    STANDIN_PARAMETERS,
    ModelResolution,
    ModelsUnavailableError,
    cached_snapshot,
    download_models,
    download_patterns,
    missing_models,
    probe_hub,
    resolve_models,
)

from conftest import ROOT

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
EXAMPLE = load_config(ROOT)  # the example site declares the recipes and bundled models used here
RECIPES = standins.site_recipes(EXAMPLE)
BUNDLED = EXAMPLE.bundled_models


def resolve(*args, **kwargs):
    """resolve_models with the example site's recipes and bundled models."""
    return resolve_models(*args, recipes=RECIPES, bundled=BUNDLED, **kwargs)


pytestmark = pytest.mark.xdist_group("models")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A stand-in cache with the two GPT-2 stand-ins built (seconds)."""
    d = tmp_path_factory.mktemp("standin-cache")
    standins.build_standins([RECIPES["gpt2"], RECIPES["rinna/japanese-gpt2-medium"]], d / "tiny")
    return d


@pytest.fixture
def hf_cache(tmp_path: Path) -> Path:
    """An empty user Hugging Face hub cache (the real one of this machine is never looked at)."""
    hub = tmp_path / "user-hf" / "hub"
    hub.mkdir(parents=True)
    return hub


def fake_real_model(hub: Path, model_id: str, *, diffusers: bool = False) -> Path:
    """A real-looking download in the hub cache layout (what snapshot_download leaves)."""
    repo = hub / ("models--" + model_id.replace("/", "--"))
    snap = repo / "snapshots" / ("a" * 40)
    if diffusers:
        (snap / "unet").mkdir(parents=True)
        (snap / "unet" / "config.json").write_text("{}")
        (snap / "model_index.json").write_text(
            json.dumps({"_class_name": "X", "unet": ["diffusers", "U"], "safety_checker": [None, None]})
        )
    else:
        snap.mkdir(parents=True)
        (snap / "config.json").write_text("{}")
        (snap / "model.safetensors").write_bytes(b"")
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("a" * 40)
    return snap


@pytest.fixture
def hanging_endpoint():
    """A hub endpoint that accepts connections and never answers (the worst case for the probe)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    t.join()
    for c in held:
        c.close()
    server.close()


@pytest.fixture
def closed_endpoint():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: connection refused at once
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------------------------------
# offline
# --------------------------------------------------------------------------------------------------


def test_offline_uses_standins_for_every_recipe(cache_dir: Path, hf_cache: Path) -> None:
    fake_real_model(hf_cache, "gpt2")  # even a real copy is not used: offline means stand-ins
    res = resolve(
        ["gpt2", "rinna/japanese-gpt2-medium", MINILM, "nobody/unknown-model"], "offline", cache_dir, hf_cache=hf_cache
    )
    assert isinstance(res, ModelResolution)
    assert res.stand_ins == ("gpt2", "rinna/japanese-gpt2-medium")
    assert res.real == (MINILM,) and res.bundled == (MINILM,)
    assert res.unavailable == ("nobody/unknown-model",) and not res.runnable
    home = cache_dir / "tiny"
    assert res.env["HF_HOME"] == str(home) and res.env["HF_HUB_CACHE"] == str(home / "hub")
    assert res.env["HF_HUB_OFFLINE"] == "1" and res.env["TRANSFORMERS_OFFLINE"] == "1"
    assert Path(res.env["HF_HOME"]).is_absolute()  # the kernel runs in the post's folder
    assert res.env["EXECBLOG_STAND_INS"] == "gpt2,rinna/japanese-gpt2-medium"
    assert res.parameters == STANDIN_PARAMETERS
    assert set(res.reasons) == {"gpt2", "rinna/japanese-gpt2-medium", MINILM, "nobody/unknown-model"}


def test_offline_builds_standins_on_first_use(tmp_path: Path, hf_cache: Path) -> None:
    cache = tmp_path / "site" / ".cache" / "standins"
    res = resolve(["gpt2"], "offline", cache, hf_cache=hf_cache)
    assert standins.is_built(cache / "tiny", RECIPES["gpt2"])
    again = resolve(["gpt2"], "offline", cache, hf_cache=hf_cache)
    assert again == res  # same decision, same key, nothing rebuilt
    lazy = resolve(["rinna/japanese-gpt2-medium"], "offline", cache, hf_cache=hf_cache, build=False)
    assert lazy.stand_ins == ("rinna/japanese-gpt2-medium",)
    assert not standins.is_built(cache / "tiny", RECIPES["rinna/japanese-gpt2-medium"])


@pytest.mark.unit
def test_offline_bundled_only_post_needs_no_standins(tmp_path: Path, hf_cache: Path) -> None:
    res = resolve([MINILM], "offline", tmp_path / "c", hf_cache=hf_cache)
    assert res.real == (MINILM,) and not res.stand_ins
    assert "HF_HOME" not in res.env and res.env["HF_HUB_OFFLINE"] == "1"
    assert not (tmp_path / "c").exists()  # nothing built
    assert MINILM in BUNDLED


def test_offline_uses_cached_real_copy_when_there_is_no_recipe(cache_dir: Path, hf_cache: Path) -> None:
    snap = fake_real_model(hf_cache, "someone/custom-model")
    res = resolve(["someone/custom-model", "gpt2"], "offline", cache_dir, hf_cache=hf_cache)
    assert res.real == ("someone/custom-model",) and res.stand_ins == ("gpt2",)
    # One offline cache for the kernel: the stand-in and a link to the user's real copy side by side.
    hub = Path(res.env["HF_HUB_CACHE"])
    assert (hub / "models--someone--custom-model").resolve() == snap.parent.parent.resolve()
    assert (hub / "models--gpt2").resolve() == (cache_dir / "tiny" / "hub" / "models--gpt2").resolve()


def test_unknown_profile_is_rejected(cache_dir: Path) -> None:
    with pytest.raises(ValueError, match="offline, auto, gpu"):
        resolve(["gpt2"], "fast", cache_dir)


# --------------------------------------------------------------------------------------------------
# auto
# --------------------------------------------------------------------------------------------------


def test_auto_falls_back_fast_when_hub_hangs(cache_dir: Path, hf_cache: Path, hanging_endpoint: str) -> None:
    t0 = time.monotonic()
    res = resolve(
        ["gpt2", "nobody/unknown-model"],
        "auto",
        cache_dir,
        hf_cache=hf_cache,
        endpoint=hanging_endpoint,
        probe_timeout=1.0,
    )
    assert time.monotonic() - t0 < 3.0  # bounded by the probe timeout, not the socket's
    assert res.stand_ins == ("gpt2",) and res.unavailable == ("nobody/unknown-model",)
    assert res.env["HF_HUB_OFFLINE"] == "1"
    # The next post does not wait again: a silent hub is remembered for a while.
    t0 = time.monotonic()
    again = resolve(
        ["rinna/japanese-gpt2-medium"],
        "auto",
        cache_dir,
        hf_cache=hf_cache,
        endpoint=hanging_endpoint,
        probe_timeout=1.0,
    )
    assert time.monotonic() - t0 < 0.5 and again.stand_ins == ("rinna/japanese-gpt2-medium",)


def test_auto_falls_back_when_hub_refuses(cache_dir: Path, hf_cache: Path, closed_endpoint: str) -> None:
    t0 = time.monotonic()
    res = resolve(["gpt2"], "auto", cache_dir, hf_cache=hf_cache, endpoint=closed_endpoint)
    assert time.monotonic() - t0 < 3.0
    assert res.stand_ins == ("gpt2",)


def test_auto_default_hub_is_bounded(cache_dir: Path, hf_cache: Path) -> None:
    """The real hub: unreachable here and in CI (fails at once), and never waited on for long elsewhere."""
    t0 = time.monotonic()
    res = resolve(["gpt2"], "auto", cache_dir, hf_cache=hf_cache, probe_timeout=2.0)
    assert time.monotonic() - t0 < 4.0
    assert res.real + res.stand_ins == ("gpt2",)


def test_auto_prefers_cached_real_model(cache_dir: Path, hf_cache: Path, closed_endpoint: str) -> None:
    fake_real_model(hf_cache, "gpt2")
    res = resolve(["gpt2"], "auto", cache_dir, hf_cache=hf_cache, endpoint=closed_endpoint)
    assert res.real == ("gpt2",) and not res.stand_ins
    assert res.env == {} and res.parameters == {}  # the user's own environment
    offline = resolve(["gpt2"], "offline", cache_dir, hf_cache=hf_cache)
    assert offline.key != res.key  # a freeze made with the real model is not one made with the stand-in


def test_auto_mixes_cached_real_and_standins(cache_dir: Path, hf_cache: Path, closed_endpoint: str) -> None:
    snap = fake_real_model(hf_cache, "gpt2")
    res = resolve(
        ["gpt2", "rinna/japanese-gpt2-medium"], "auto", cache_dir, hf_cache=hf_cache, endpoint=closed_endpoint
    )
    assert res.real == ("gpt2",) and res.stand_ins == ("rinna/japanese-gpt2-medium",)
    hub = Path(res.env["HF_HUB_CACHE"])
    assert hub.parent == Path(res.env["HF_HOME"]) and res.env["HF_HUB_OFFLINE"] == "1"
    assert (hub / "models--gpt2" / "snapshots" / snap.name / "config.json").is_file()
    assert standins.snapshot_dir(hub.parent, "rinna/japanese-gpt2-medium") is not None


def test_hub_offline_env_skips_the_probe(monkeypatch, hanging_endpoint: str) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    assert probe_hub(["gpt2"], endpoint=hanging_endpoint, timeout=5.0) == {"gpt2": "unreachable"}
    assert time.monotonic() - t0 < 0.5


# --------------------------------------------------------------------------------------------------
# gpu
# --------------------------------------------------------------------------------------------------


def test_gpu_refuses_standins_and_lists_missing(cache_dir: Path, hf_cache: Path, closed_endpoint: str) -> None:
    with pytest.raises(ModelsUnavailableError) as err:
        resolve(
            ["gpt2", MINILM, "rinna/japanese-gpt2-medium"],
            "gpu",
            cache_dir,
            hf_cache=hf_cache,
            endpoint=closed_endpoint,
        )
    assert err.value.model_ids == ("gpt2", "rinna/japanese-gpt2-medium")
    assert "gpt2" in str(err.value) and "make models" in str(err.value)
    with pytest.raises(ModelsUnavailableError):  # the config's name for it
        resolve(["gpt2"], "real", cache_dir, hf_cache=hf_cache, endpoint=closed_endpoint)


def test_gpu_uses_cached_real_models(cache_dir: Path, hf_cache: Path, closed_endpoint: str) -> None:
    fake_real_model(hf_cache, "gpt2")
    fake_real_model(hf_cache, "CompVis/stable-diffusion-v1-4", diffusers=True)
    res = resolve(
        ["gpt2", "CompVis/stable-diffusion-v1-4", MINILM], "gpu", cache_dir, hf_cache=hf_cache, endpoint=closed_endpoint
    )
    assert res.real == ("gpt2", "CompVis/stable-diffusion-v1-4", MINILM) and not res.stand_ins
    assert res.env == {}


# --------------------------------------------------------------------------------------------------
# The user's cache, `make models`
# --------------------------------------------------------------------------------------------------


def test_cache_detection(hf_cache: Path, cache_dir: Path) -> None:
    assert cached_snapshot("gpt2", hf_cache) is None
    snap = fake_real_model(hf_cache, "gpt2")
    assert cached_snapshot("gpt2", hf_cache) == snap
    (snap / "model.safetensors").unlink()  # config without weights: an interrupted download
    assert cached_snapshot("gpt2", hf_cache) is None
    # Stand-ins are never mistaken for real downloads, even when HF_HOME points at them.
    assert cached_snapshot("gpt2", cache_dir / "tiny" / "hub") is None
    assert missing_models(["gpt2", MINILM, "gpt2"], bundled=BUNDLED, hf_cache=cache_dir / "tiny" / "hub") == ["gpt2"]
    sd = fake_real_model(hf_cache, "CompVis/stable-diffusion-v1-4", diffusers=True)
    assert cached_snapshot("CompVis/stable-diffusion-v1-4", hf_cache) == sd
    (sd / "unet" / "config.json").unlink()
    (sd / "unet").rmdir()
    assert cached_snapshot("CompVis/stable-diffusion-v1-4", hf_cache) is None


def test_download_offline_lists_missing_clearly(hf_cache: Path, closed_endpoint: str) -> None:
    fake_real_model(hf_cache, "gpt2")
    t0 = time.monotonic()
    with pytest.raises(ModelsUnavailableError) as err:
        download_models(
            ["gpt2", "rinna/japanese-gpt2-medium", MINILM, "CompVis/stable-diffusion-v1-4"],
            token=None,
            bundled=BUNDLED,
            hf_cache=hf_cache,
            endpoint=closed_endpoint,
            probe_timeout=2.0,
        )
    assert time.monotonic() - t0 < 4.0
    assert err.value.model_ids == ("rinna/japanese-gpt2-medium", "CompVis/stable-diffusion-v1-4")
    msg = str(err.value)
    assert "cannot be reached" in msg and "rinna/japanese-gpt2-medium" in msg and "PROFILE=offline" in msg
    assert "  - gpt2\n" not in msg  # already there


@pytest.mark.unit
def test_download_with_hub_offline_env_says_so(monkeypatch, hf_cache: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelsUnavailableError, match="HF_HUB_OFFLINE is set"):
        download_models(["gpt2"], hf_cache=hf_cache)


def test_download_nothing_to_do(hf_cache: Path, hanging_endpoint: str) -> None:
    snap = fake_real_model(hf_cache, "gpt2")
    t0 = time.monotonic()
    assert download_models(["gpt2", MINILM], bundled=BUNDLED, hf_cache=hf_cache, endpoint=hanging_endpoint) == {
        "gpt2": snap
    }
    assert time.monotonic() - t0 < 0.5  # no network asked


@pytest.mark.unit
def test_download_patterns_skip_duplicates_and_checkpoints() -> None:
    allow, ignore = download_patterns(
        [
            "unet/diffusion_pytorch_model.safetensors",
            "unet/diffusion_pytorch_model.bin",
            "sd-v1-4.ckpt",
            "flax_model.msgpack",
            "model_index.json",
        ]
    )
    assert allow is None
    assert "*.bin" in ignore and "*.ckpt" in ignore and "*.msgpack" in ignore
    _, ignore = download_patterns(["pytorch_model.bin", "spiece.model", "config.json"])
    assert "*.bin" not in ignore  # the only weights there are


def test_make_models_lists_and_explains_offline(tmp_path):
    """`make models` (execblog models): --list prints the declared ids; with no
    network it names what is missing instead of a connection traceback."""
    import subprocess
    import sys

    from conftest import ROOT

    def run(*a, **env):
        return subprocess.run(
            [sys.executable, "-m", "execblog.commands.cli", "models", "-s", str(ROOT), *a],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "HF_HOME": str(tmp_path), **env},
        )

    listed = run("--list")
    assert listed.returncode == 0
    assert {"gpt2", "rinna/japanese-gpt2-medium", "CompVis/stable-diffusion-v1-4"} <= set(listed.stdout.split())
    offline = run(HF_HUB_OFFLINE="1")
    assert offline.returncode == 1
    assert "cannot download models: HF_HUB_OFFLINE is set" in offline.stderr
    assert "  - gpt2" in offline.stderr and "Traceback" not in offline.stderr


# --------------------------------------------------------------------------------------------------
# Where the user's Hugging Face cache is: huggingface_hub's own rules
# --------------------------------------------------------------------------------------------------

HF_ENV_CASES = [
    {},
    {"XDG_CACHE_HOME": "/xdg"},
    {"HF_HOME": "/hf-home", "XDG_CACHE_HOME": "/xdg"},
    {"HF_HUB_CACHE": "/hub-cache", "HF_HOME": "/hf-home", "XDG_CACHE_HOME": "/xdg"},
    {"HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HOME": "/hf-home"},
    {"HF_HUB_CACHE": "/hub-cache", "HUGGINGFACE_HUB_CACHE": "/legacy"},
    {"HF_HOME": "~/hf"},
    {"HF_HOME": "$MY_ROOT/hf", "MY_ROOT": "/data"},
]


def test_hf_cache_follows_huggingface_hub(tmp_path: Path) -> None:
    """The table of environments, answered by huggingface_hub itself in a fresh interpreter."""
    import os
    import subprocess
    import sys

    from execblog.models.resolve import default_hf_cache

    names = {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "MY_ROOT"}
    base = {k: v for k, v in os.environ.items() if k not in names}
    base["HOME"] = str(tmp_path / "home")
    for case in HF_ENV_CASES:
        env = {**base, **case}
        theirs = subprocess.run(
            [sys.executable, "-c", "import huggingface_hub.constants as c; print(c.HF_HUB_CACHE)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        ours = subprocess.run(
            [sys.executable, "-c", "from execblog.models.resolve import default_hf_cache as f; print(f())"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert ours == theirs, case
        assert str(default_hf_cache(env)) == theirs, case  # the same answer for an environment passed in
    home = tmp_path / "home"
    assert default_hf_cache({"HOME": str(home)}) == home / ".cache" / "huggingface" / "hub"
    assert default_hf_cache({"HOME": str(home), "XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/huggingface/hub")
    # Set but empty counts as unset (huggingface_hub would use the current folder).
    assert default_hf_cache({"HOME": str(home), "HF_HUB_CACHE": "", "HF_HOME": "/h"}) == Path("/h/hub")


def test_build_stamp_sees_the_cache_resolution_uses(tmp_path: Path, monkeypatch) -> None:
    """A model appearing in the XDG cache changes the no-op stamp (it used to look in ~/.cache only)."""
    from execblog.incremental import stamp

    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert stamp._model_cache_files() == []
    snap = fake_real_model(tmp_path / "xdg" / "huggingface" / "hub", "gpt2")
    assert stamp._model_cache_files() == [snap.parent.parent / "refs" / "main"]
