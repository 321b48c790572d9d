"""Which model each post gets: the real one, an offline stand-in, or none.

The execution engine calls `resolve_models(post.models, profile, cache_dir)` before running a post and
gives the kernel `resolution.env`. Profiles:

- ``offline``: every declared model with a stand-in recipe (`recipes`, the site's `standins:`) runs on its
  stand-in (built on first use under `cache_dir`, rebuilt only when its recipe changes), fully offline.
  Models shipped in a Python package (`bundled`, the site's `bundled_models:`) are real. Others are real
  only when already in the user's Hugging Face cache, else unavailable.
- ``auto`` (the default): the real model when it is in the user's Hugging Face cache or the hub answers
  about it within `probe_timeout` seconds; otherwise its stand-in; otherwise unavailable.
- ``gpu`` (alias ``real``): real models only; any that cannot be had raise `ModelsUnavailableError`
  listing them.

`missing_models` and `download_models` back `make models` (real downloads through
`huggingface_hub.snapshot_download`; offline they say what is missing and how to get it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from execblog.models import standins
from execblog.models.standins import Recipe

PROFILES = ("offline", "auto", "gpu")
# site_config.yaml's `profiles.<name>.models` says "real" for what this module calls "gpu".
PROFILE_ALIASES = {"real": "gpu"}
DEFAULT_STANDIN_DIR = Path(".cache") / "standins"  # relative to the site directory
PROBE_TIMEOUT = 2.0

# Parameters that keep a post on tiny stand-ins fast on a CPU. The engine applies them above the post's
# own defaults and front matter, below the profile and the command line.
STANDIN_PARAMETERS: dict[str, Any] = {"device": "cpu", "dtype": "float32", "steps": 4, "height": 128, "width": 128}


class ModelsUnavailableError(RuntimeError):
    """Raised when required models cannot be had; `model_ids` lists them, the message says what to do."""

    def __init__(self, model_ids: Iterable[str], message: str):
        self.model_ids = tuple(model_ids)
        super().__init__(message)


@dataclass(frozen=True)
class ModelResolution:
    """What one post's declared models resolve to under a profile."""

    profile: str
    env: dict[str, str] = field(default_factory=dict)  # give these to the kernel
    real: tuple[str, ...] = ()  # the named model itself (bundled ones included)
    stand_ins: tuple[str, ...] = ()  # small random-weight stand-ins: the post needs the banner
    unavailable: tuple[str, ...] = ()  # neither: render the post from its freeze or unexecuted, warn
    bundled: tuple[str, ...] = ()  # subset of `real` that a Python package ships
    reasons: dict[str, str] = field(default_factory=dict)  # model id -> why it resolved as it did
    parameters: dict[str, Any] = field(default_factory=dict)  # suggested overrides (see STANDIN_PARAMETERS)
    key: str = ""  # changes whenever what the post would load changes: part of the freeze key

    @property
    def runnable(self) -> bool:
        return not self.unavailable


# --------------------------------------------------------------------------------------------------
# The user's Hugging Face cache
# --------------------------------------------------------------------------------------------------


def default_hf_cache(environ: Mapping[str, str] | None = None) -> Path:
    """The hub cache that huggingface_hub uses under `environ` (default: this process's environment).

    Its own rules (huggingface_hub.constants): HF_HUB_CACHE, else the legacy HUGGINGFACE_HUB_CACHE, else
    HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; `~` and $VARS expanded.
    A variable set to the empty string counts as unset."""
    env = os.environ if environ is None else environ

    def path(value: str) -> Path:
        # os.path.expanduser then expandvars, as huggingface_hub does, but reading `env`.
        if value == "~" or value.startswith("~/"):
            value = (env.get("HOME") or os.path.expanduser("~")) + value[1:]
        value = re.sub(r"\$(\w+|\{([^}]*)\})", lambda m: env.get(m.group(2) or m.group(1), m.group(0)), value)
        return Path(value)

    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(name):
            return path(env[name])
    if env.get("HF_HOME"):
        return path(env["HF_HOME"]) / "hub"
    return path(env.get("XDG_CACHE_HOME") or "~/.cache") / "huggingface" / "hub"


def cached_snapshot(model_id: str, hf_cache: str | os.PathLike | None = None) -> Path | None:
    """The snapshot of a usable *real* copy of `model_id` in the hub cache, or None.

    Usable: `refs/main` points to a snapshot holding a config and weights (for a diffusers pipeline:
    each component's folder). Stand-ins (they carry a marker file) never count."""
    hub = Path(hf_cache) if hf_cache is not None else default_hf_cache()
    repo = hub / standins.repo_folder_name(model_id)
    try:
        rev = (repo / "refs" / "main").read_text().strip()
    except OSError:
        return None
    snap = repo / "snapshots" / rev
    if not snap.is_dir() or standins.read_marker(snap) is not None:
        return None
    return snap if _looks_complete(snap) else None


_WEIGHTS = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json")


def _has_weights(folder: Path) -> bool:
    return any(next(folder.glob(p), None) is not None for p in _WEIGHTS)


def _looks_complete(snap: Path) -> bool:
    index = snap / "model_index.json"
    if index.is_file():
        try:
            components = json.loads(index.read_text(encoding="utf-8"))
        except ValueError:
            return False
        for name, spec in components.items():
            if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
                continue
            if not (snap / name).is_dir():
                return False
        return True
    return (snap / "config.json").is_file() and _has_weights(snap)


def _bundled_available(model_id: str, bundled: Mapping[str, str]) -> bool:
    module = bundled.get(model_id)
    return module is not None and importlib.util.find_spec(module) is not None


def missing_models(
    model_ids: Iterable[str], *, bundled: Mapping[str, str] | None = None, hf_cache: str | os.PathLike | None = None
) -> list[str]:
    """Declared models that have no usable real copy here (bundled ones never count as missing)."""
    out = []
    for m in dict.fromkeys(model_ids):
        if _bundled_available(m, bundled or {}):
            continue
        if cached_snapshot(m, hf_cache) is None:
            out.append(m)
    return out


# --------------------------------------------------------------------------------------------------
# The hub
# --------------------------------------------------------------------------------------------------


UNREACHABLE_TTL = 300.0  # seconds a failed hub probe is remembered in this process
_UNREACHABLE_UNTIL: dict[str, float] = {}


def _hub_offline_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def probe_hub(
    model_ids: Iterable[str], *, timeout: float = PROBE_TIMEOUT, token: str | None = None, endpoint: str | None = None
) -> dict[str, str]:
    """Ask the hub about each id, all at once, giving up after `timeout` seconds in total.

    Returns id -> "ok", "gated" (exists but needs HF_TOKEN / the license accepted), "missing" or
    "unreachable". Runs in daemon threads so a hanging DNS lookup or socket never holds the build."""
    ids = list(dict.fromkeys(model_ids))
    result = {m: "unreachable" for m in ids}
    if not ids or _hub_offline_env():
        return result
    # A hub that just failed to answer is not asked again for a while: one wait per build, not per post.
    host_key = endpoint or os.environ.get("HF_ENDPOINT") or "default"
    if _UNREACHABLE_UNTIL.get(host_key, 0.0) > time.monotonic():
        return result

    def ask(model_id: str) -> None:
        try:
            from huggingface_hub import HfApi
            from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

            info = HfApi(endpoint=endpoint).model_info(model_id, timeout=timeout, token=token or None)
            if getattr(info, "gated", False):
                # Gated repos show their card to anyone; only a file request tells if this token may load them.
                from huggingface_hub import auth_check

                auth_check(model_id, token=token or None)
            result[model_id] = "ok"
        except GatedRepoError:
            result[model_id] = "gated"
        except RepositoryNotFoundError:
            result[model_id] = "missing"
        except Exception:  # network errors of every kind mean: not reachable now
            result[model_id] = "unreachable"

    threads = [threading.Thread(target=ask, args=(m,), daemon=True) for m in ids]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    answers = {m: result[m] for m in ids}  # a thread still running leaves "unreachable"
    if all(a == "unreachable" for a in answers.values()):
        _UNREACHABLE_UNTIL[host_key] = time.monotonic() + UNREACHABLE_TTL
    return answers


# --------------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------------


def _view_home(cache_dir: Path, links: dict[str, Path]) -> Path | None:
    """An HF_HOME whose hub folder links each model id to the repo folder that serves it.

    Used when one post mixes real cached models with stand-ins: the kernel sees one offline cache."""
    digest = hashlib.sha1(json.dumps({k: str(v) for k, v in sorted(links.items())}).encode()).hexdigest()[:16]
    home = cache_dir / "views" / digest
    hub = home / "hub"
    try:
        hub.mkdir(parents=True, exist_ok=True)
        for model_id, target in links.items():
            link = hub / standins.repo_folder_name(model_id)
            if link.is_symlink() and Path(os.readlink(link)) == target:
                continue
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target, target_is_directory=True)
    except OSError:  # no symlinks on this system
        return None
    return home


def resolve_models(
    model_ids: Iterable[str],
    profile: str = "auto",
    cache_dir: str | os.PathLike = DEFAULT_STANDIN_DIR,
    *,
    recipes: Mapping[str, Recipe] | None = None,
    bundled: Mapping[str, str] | None = None,
    size: str = "tiny",
    hf_cache: str | os.PathLike | None = None,
    token: str | None = None,
    probe_timeout: float = PROBE_TIMEOUT,
    endpoint: str | None = None,
    build: bool = True,
) -> ModelResolution:
    """Decide, for one post's declared `model_ids`, what the kernel loads under `profile`.

    `recipes` (model id -> stand-in recipe) and `bundled` (model id -> module) are the site's;
    `cache_dir` holds the stand-ins (`<cache_dir>/<size>/hub/...`, built on first use when `build`);
    `hf_cache` is the user's hub cache (default: from the environment); `token` defaults to HF_TOKEN.
    Raises ModelsUnavailableError for profile "gpu" when a model cannot be had, ValueError for an
    unknown profile."""
    profile = PROFILE_ALIASES.get(profile, profile)
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)} (or real = gpu)")
    ids = list(dict.fromkeys(model_ids))
    recipes = recipes or {}
    bundled = bundled or {}
    cache_dir = Path(cache_dir).absolute()
    token = token if token is not None else os.environ.get("HF_TOKEN")
    reasons: dict[str, str] = {}
    real: dict[str, Path | None] = {}  # id -> cached snapshot (None: bundled, or downloaded at run time)
    stand: list[str] = []
    unavailable: list[str] = []
    shipped: list[str] = []

    pending = []
    for m in ids:
        if _bundled_available(m, bundled):
            real[m] = None
            shipped.append(m)
            reasons[m] = f"shipped in the Python package {bundled[m]}"
        elif (snap := cached_snapshot(m, hf_cache)) is not None and (profile != "offline" or m not in recipes):
            real[m] = snap
            reasons[m] = "real model from the local Hugging Face cache"
        else:
            pending.append(m)

    if profile == "offline":
        for m in pending:
            if m in recipes:
                stand.append(m)
                reasons[m] = "offline profile: stand-in"
            else:
                unavailable.append(m)
                reasons[m] = "no stand-in recipe and not in the local Hugging Face cache"
    else:
        answers = probe_hub(pending, timeout=probe_timeout, token=token, endpoint=endpoint)
        downloadable = [m for m in pending if answers[m] == "ok"]
        for m in pending:
            if answers[m] == "ok":
                continue
            why = {
                "gated": "gated on the hub: set HF_TOKEN and accept its license",
                "missing": "not found on the hub",
                "unreachable": f"not cached and the hub did not answer within {probe_timeout:g} s",
            }[answers[m]]
            if profile == "auto" and m in recipes:
                stand.append(m)
                reasons[m] = f"{why}: stand-in"
            else:
                unavailable.append(m)
                reasons[m] = why
        if profile == "gpu" and unavailable:
            lines = "\n".join(f"  - {m}: {reasons[m]}" for m in unavailable)
            raise ModelsUnavailableError(
                unavailable,
                "profile gpu uses real models only, and these cannot be had:\n"
                + lines
                + "\nRun `make models` with network access (and HF_TOKEN for gated models) first.",
            )
        for m in downloadable:
            if stand:
                # One kernel cannot be both offline (for the stand-ins) and online (for a download).
                if m in recipes:
                    stand.append(m)
                    reasons[m] = "not cached (run `make models`); the post also needs stand-ins: stand-in"
                else:
                    unavailable.append(m)
                    reasons[m] = "not cached (run `make models`); cannot download beside offline stand-ins"
            else:
                real[m] = None
                reasons[m] = "real model, downloaded from the hub when the post runs"

    env: dict[str, str] = {}
    parameters: dict[str, Any] = {}
    fingerprints: dict[str, str] = {}
    if stand:
        home = cache_dir / size
        if build:
            standins.build_standins([recipes[m] for m in stand], home, size)
        for m in stand:
            fingerprints[m] = standins.fingerprint(recipes[m], size)
        cached_real = {m: s for m, s in real.items() if s is not None}
        if cached_real:
            links = {m: standins.repo_dir(home, m) for m in stand}
            links.update({m: s.parent.parent for m, s in cached_real.items()})
            view = _view_home(cache_dir, links)
            if view is None:  # cannot link: the cached real models run as stand-ins where possible
                for m in list(cached_real):
                    if m in recipes:
                        del real[m]
                        stand.append(m)
                        reasons[m] = "cannot link the cached copy beside stand-ins: stand-in"
                        if build:
                            standins.build_standin(recipes[m], home, size)
                        fingerprints[m] = standins.fingerprint(recipes[m], size)
                    else:
                        del real[m]
                        unavailable.append(m)
                        reasons[m] = "cannot link the cached copy beside stand-ins"
            else:
                home = view
        env = standins.hf_env(home)
        if size == "tiny":
            parameters = dict(STANDIN_PARAMETERS)
    elif profile == "offline":
        env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    if stand:
        env["EXECBLOG_STAND_INS"] = ",".join(stand)  # lets provenance and the post itself tell

    key_data = {
        "real": {m: (s.name if s is not None else "latest") for m, s in sorted(real.items())},
        "stand_ins": dict(sorted(fingerprints.items())),
        "unavailable": sorted(unavailable),
    }
    return ModelResolution(
        profile=profile,
        env=env,
        real=tuple(m for m in ids if m in real),
        stand_ins=tuple(m for m in ids if m in stand),
        unavailable=tuple(m for m in ids if m in unavailable),
        bundled=tuple(shipped),
        reasons=reasons,
        parameters=parameters,
        key=hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest(),
    )


# --------------------------------------------------------------------------------------------------
# Downloads (`make models`)
# --------------------------------------------------------------------------------------------------

# Only what transformers/diffusers load; repos like SD v1-4 also hold multi-GB .ckpt and Flax/TF copies.
_SKIP = [
    "*.ckpt",
    "*.msgpack",
    "*.h5",
    "*.onnx",
    "*.onnx_data",
    "*.ot",
    "*.tflite",
    "*.pb",
    "*.gguf",
    "*.mlmodel",
    "*.mlpackage/*",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.bin.index.json.flax",
]


def download_patterns(files: Iterable[str]) -> tuple[list[str] | None, list[str]]:
    """(allow_patterns, ignore_patterns) for snapshot_download, given the repo's file list.

    PyTorch `.bin` weights are skipped wherever `.safetensors` ones exist (they are the same weights)."""
    files = list(files)
    ignore = list(_SKIP)
    if any(f.endswith(".safetensors") for f in files):
        ignore.append("*.bin")
    return None, ignore


def download_models(
    model_ids: Iterable[str],
    token: str | None = None,
    *,
    bundled: Mapping[str, str] | None = None,
    hf_cache: str | os.PathLike | None = None,
    endpoint: str | None = None,
    probe_timeout: float = 10.0,
) -> dict[str, Path]:
    """Download the declared models into the Hugging Face cache; return id -> snapshot folder.

    Models already cached or bundled are skipped. When the hub cannot be reached (no network, or
    HF_HUB_OFFLINE set), raises ModelsUnavailableError listing what is missing instead of a stack of
    connection errors. Gated models without a usable token are reported the same way, by name."""
    token = token if token is not None else os.environ.get("HF_TOKEN")
    ids = list(dict.fromkeys(model_ids))
    bundled = bundled or {}
    done: dict[str, Path] = {}
    for m in ids:
        if _bundled_available(m, bundled):
            continue
        snap = cached_snapshot(m, hf_cache)
        if snap is not None:
            done[m] = snap
    todo = [m for m in ids if m not in done and not _bundled_available(m, bundled)]
    if not todo:
        return done
    answers = probe_hub(todo, timeout=probe_timeout, token=token, endpoint=endpoint)
    unreachable = [m for m in todo if answers[m] == "unreachable"]
    if unreachable:
        why = "HF_HUB_OFFLINE is set" if _hub_offline_env() else "the Hugging Face hub cannot be reached"
        lines = "\n".join(f"  - {m}" for m in todo)
        raise ModelsUnavailableError(
            todo,
            f"cannot download models: {why}. Missing from the local cache "
            f"({hf_cache or default_hf_cache()}):\n{lines}\n"
            "Run `make models` on a machine with network access (HF_TOKEN set for gated models) and copy its "
            "Hugging Face cache here, or build with PROFILE=offline to use the stand-ins.",
        )
    gated = [m for m in todo if answers[m] == "gated"]
    missing = [m for m in todo if answers[m] == "missing"]
    from huggingface_hub import HfApi, snapshot_download

    cache_dir = Path(hf_cache) if hf_cache is not None else None  # the hub takes a str or a Path
    for m in todo:
        if answers[m] != "ok":
            continue
        files = HfApi(endpoint=endpoint).list_repo_files(m, token=token or None)
        allow, ignore = download_patterns(files)
        path = snapshot_download(
            m, token=token or None, cache_dir=cache_dir, endpoint=endpoint, allow_patterns=allow, ignore_patterns=ignore
        )
        done[m] = Path(path)
    if gated or missing:
        parts = []
        if gated:
            parts.append(
                "gated (set HF_TOKEN to a token whose account accepted the model's license on "
                "huggingface.co): " + ", ".join(gated)
            )
        if missing:
            parts.append("not found on the hub: " + ", ".join(missing))
        raise ModelsUnavailableError(gated + missing, "some models were not downloaded: " + "; ".join(parts))
    return done
