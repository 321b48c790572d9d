"""Offline stand-in models: small (or real-sized) random-weight copies of the models the posts load.

Where a model cannot be downloaded, a *recipe* builds a model of the same architecture from a config,
with seeded random weights, plus a complete tokenizer trained on a little text (package data under
models/corpus/, or the site's own file). A recipe is a *kind* (`gpt2`: a GPT-2 causal LM; `stable-diffusion`:
an SD v1 pipeline; more from packages through the entry-point group ``execblog.standins``) plus the
parameters of one model id: tokenizer, corpus, vocabulary size, real-size architecture, fp16 files. The
engine knows no model ids: a site declares its recipes under ``standins:`` in site_config.yaml
(`site_recipes`). The result is written in the Hugging Face hub cache layout::

    HOME/hub/models--gpt2/refs/main                 -> "<revision>"
    HOME/hub/models--gpt2/snapshots/<revision>/...  config, weights, tokenizer files

so a post's unchanged ``from_pretrained("gpt2")`` loads it when the kernel runs with ``HF_HOME=HOME`` and
``HF_HUB_OFFLINE=1``. The revision is the recipe's fingerprint (a hash of the builder version, the configs
and the tokenizer training text), so a stand-in is rebuilt exactly when its recipe changes.

``size="tiny"`` (the default) builds in seconds on a CPU; ``size="real"`` builds the real architectures'
sizes (e.g. GPT-2 small or medium, SD v1 UNet/VAE/text encoder/safety checker) for GPU checks.

Command line: ``python -m execblog.models.standins [-s SITE] --size tiny|real --out HOME [model ids...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execblog.fsutil import atomic_write, swap_in

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# Bump when a change to this module changes what gets built: every stand-in is rebuilt once.
BUILDER_VERSION = 1
SIZES = ("tiny", "real")
DEFAULT_SEED = 0
# Written last into every stand-in snapshot: marks it complete and tells it apart from a real download.
MARKER_FILE = "execblog-standin.json"

# --------------------------------------------------------------------------------------------------
# Tokenizer training text. The built-in corpora ship as package data (models/corpus/<name>.txt), so a
# build never depends on the working tree and the fingerprint covers them. They hold the example posts'
# own sentences (English; Japanese with the kana), so those posts' tokens are real pieces rather than
# <unk>. A site's recipe may name its own corpus files instead.
# --------------------------------------------------------------------------------------------------

BUILTIN_CORPORA = ("en", "ja")


@functools.cache
def builtin_corpus(name: str) -> str:
    """The text of a built-in corpus (`en`, `ja`)."""
    if name not in BUILTIN_CORPORA:
        raise ValueError(f"no built-in corpus {name!r} (built-in: {', '.join(BUILTIN_CORPORA)})")
    return resources.files("execblog.models").joinpath("corpus", f"{name}.txt").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------------


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (the base alphabet of byte-level BPE)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


# CLIP's pre-tokenization regex (what CLIPTokenizer splits on before the byte-level BPE).
_CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def _train_bpe_merges(text: str, vocab_size: int, *, clip: bool) -> list[tuple[str, str]]:
    """Learn byte-level BPE merges on `text` (GPT-2 style, or CLIP style with `</w>` word ends).

    The words come from the same normalizer and pre-tokenizer the runtime tokenizer uses; the merge loop is
    our own because the `tokenizers` trainer breaks ties between equally frequent pairs differently from
    run to run, and a stand-in must be byte-identical on every build."""
    from collections import Counter

    from tokenizers import Regex, normalizers, pre_tokenizers

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=not clip)
    if clip:
        norm = normalizers.Sequence(
            [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
        )
        split = pre_tokenizers.Split(Regex(_CLIP_PATTERN), behavior="removed", invert=True)
        pre: pre_tokenizers.PreTokenizer = pre_tokenizers.Sequence([split, byte_level])
    else:
        norm, pre = None, byte_level
    words: Counter[tuple[str, ...]] = Counter()
    for line in text.splitlines():
        line = norm.normalize_str(line) if norm else line
        for piece, _ in pre.pre_tokenize_str(line):
            symbols = list(piece)
            if clip:
                symbols[-1] += "</w>"
            words[tuple(symbols)] += 1
    alphabet = len(_bytes_to_unicode())
    merges: list[tuple[str, str]] = []
    while alphabet + len(merges) < vocab_size:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, n in words.items():
            for pair in itertools.pairwise(word):
                pairs[pair] += n
        if not pairs:
            break
        # Most frequent pair; ties go to the smallest pair, so the result never depends on hash order.
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        joined = best[0] + best[1]
        new_words: Counter[tuple[str, ...]] = Counter()
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] += n
        words = new_words
    return merges


def _byte_level_vocab(merges: list[tuple[str, str]], *, clip: bool, specials: list[str]) -> dict[str, int]:
    """Vocabulary in the real files' order: byte alphabet (plus `</w>` forms for CLIP), merges, specials."""
    alphabet = list(_bytes_to_unicode().values())
    tokens = alphabet + ([a + "</w>" for a in alphabet] if clip else [])
    vocab: dict[str, int] = {}
    for t in tokens + [a + b for a, b in merges] + specials:
        vocab.setdefault(t, len(vocab))
    return vocab


def _write_bpe_files(folder: Path, vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# Target vocabulary sizes of the trained tokenizers (real models have 32k-50k; the model's embedding
# keeps the real size with size="real", the tokenizer stays small: only the architecture matters there).
TOKENIZER_VOCAB = {"gpt2": 1000, "clip": 1000, "sentencepiece": 800}
# The built-in corpora each tokenizer trains on unless a recipe names its own.
DEFAULT_CORPUS = {"gpt2": ("en",), "clip": ("en",), "sentencepiece": ("ja", "en")}


def write_gpt2_tokenizer(folder: Path, vocab_size: int = TOKENIZER_VOCAB["gpt2"], text: str | None = None) -> int:
    """GPT-2's byte-level BPE files (vocab.json, merges.txt, tokenizer.json, tokenizer_config.json).

    Trained on `text` (default: the built-in English corpus). Returns the vocabulary size
    (`<|endoftext|>` is the last id, as in the real file)."""
    text = builtin_corpus("en") if text is None else text
    merges = _train_bpe_merges(text, vocab_size - 1, clip=False)
    vocab = _byte_level_vocab(merges, clip=False, specials=["<|endoftext|>"])
    _write_bpe_files(folder, vocab, merges)
    # The real repo also ships tokenizer.json; write the same one the fast tokenizer builds from the pair.
    from transformers import GPT2Tokenizer

    tok = GPT2Tokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))
    tok.backend_tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", {"model_max_length": 1024})
    return len(vocab)


_CLIP_SPECIAL = {
    "bos_token": "<|startoftext|>",
    "eos_token": "<|endoftext|>",
    "unk_token": "<|endoftext|>",
    "pad_token": "<|endoftext|>",
}


def write_clip_tokenizer(folder: Path, vocab_size: int = TOKENIZER_VOCAB["clip"], text: str | None = None) -> int:
    """CLIP's BPE files as in the SD v1 `tokenizer/` folder (vocab.json, merges.txt, configs; no tokenizer.json)."""
    text = builtin_corpus("en") if text is None else text
    merges = _train_bpe_merges(text, vocab_size - 256 - 2, clip=True)
    vocab = _byte_level_vocab(merges, clip=True, specials=["<|startoftext|>", "<|endoftext|>"])
    _write_bpe_files(folder, vocab, merges)
    _write_json(folder / "special_tokens_map.json", _CLIP_SPECIAL)
    _write_json(
        folder / "tokenizer_config.json",
        # model_max_length=77 is what the pipeline pads prompts to; without it prompts pad to 1e30.
        {
            "tokenizer_class": "CLIPTokenizer",
            "model_max_length": 77,
            "do_lower_case": True,
            "add_prefix_space": False,
            "errors": "replace",
            **_CLIP_SPECIAL,
        },
    )
    return len(vocab)


# rinna's sentencepiece layout. T5Tokenizer (transformers 5) hard-codes <unk> at id 2, so it sits there.
_SPM_IDS = {"pad": (0, "[PAD]"), "eos": (1, "</s>"), "unk": (2, "<unk>"), "bos": (3, "<s>")}
_SPM_USER = ["[CLS]", "[SEP]", "[MASK]"]
_RINNA_SPECIAL = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}


def train_sentencepiece(text: str, vocab_size: int = TOKENIZER_VOCAB["sentencepiece"]) -> bytes:
    """A unigram sentencepiece model trained on `text` (deterministic: one thread, fixed input order)."""
    import io

    import sentencepiece as spm

    buf = io.BytesIO()
    kw: dict[str, Any] = {}
    for name, (i, piece) in _SPM_IDS.items():
        kw[f"{name}_id"] = i
        kw[f"{name}_piece"] = piece
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([line for line in text.splitlines() if line.strip()]),
        model_writer=buf,
        model_type="unigram",
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # a small corpus may not fill the requested vocabulary
        character_coverage=1.0,  # every character of the training text gets a piece: no <unk> on it
        max_sentencepiece_length=4,  # short pieces, like a corpus-trained model, not memorized sentences
        user_defined_symbols=_SPM_USER,
        num_threads=1,
        minloglevel=2,
        **kw,
    )
    return buf.getvalue()


def write_sentencepiece_tokenizer(
    folder: Path, vocab_size: int = TOKENIZER_VOCAB["sentencepiece"], text: str | None = None
) -> int:
    """rinna's T5Tokenizer files: spiece.model + configs, no tokenizer.json (as in the real repos).

    Trained on `text` (default: the built-in Japanese and English corpora)."""
    import sentencepiece as spm

    text = builtin_corpus("ja") + builtin_corpus("en") if text is None else text
    model = train_sentencepiece(text, vocab_size)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spiece.model").write_bytes(model)
    _write_json(folder / "special_tokens_map.json", _RINNA_SPECIAL)
    _write_json(
        folder / "tokenizer_config.json",
        # extra_ids=0: rinna has no T5 sentinel tokens (T5Tokenizer would add 100 otherwise).
        {
            "tokenizer_class": "T5Tokenizer",
            "extra_ids": 0,
            "additional_special_tokens": [],
            "do_lower_case": True,
            **_RINNA_SPECIAL,
        },
    )
    return spm.SentencePieceProcessor(model_proto=model).get_piece_size()


# --------------------------------------------------------------------------------------------------
# Model configs by size
# --------------------------------------------------------------------------------------------------


def _gpt2_config(size: str, vocab_size: int, *, bos: int, eos: int, real: dict[str, Any]) -> dict[str, Any]:
    if size == "real":
        return {**real, "bos_token_id": bos, "eos_token_id": eos}
    return {
        "vocab_size": vocab_size,
        "n_positions": 256,
        "n_embd": 64,
        "n_layer": 2,
        "n_head": 4,
        "bos_token_id": bos,
        "eos_token_id": eos,
    }


def _sd_configs(size: str, text_vocab: int, *, bos: int, eos: int, pad: int, real_vocab: int) -> dict[str, Any]:
    """Configs of every SD v1 component. `real` copies SD v1's published architecture."""
    scheduler = {
        "_class_name": "PNDMScheduler",
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "num_train_timesteps": 1000,
        "set_alpha_to_one": False,
        "skip_prk_steps": True,
        "steps_offset": 1,
    }
    ids = {"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad}
    if size == "real":
        text = {
            "vocab_size": real_vocab,
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_attention_heads": 12,
            "num_hidden_layers": 12,
            "max_position_embeddings": 77,
            "projection_dim": 768,
            "hidden_act": "quick_gelu",
            **ids,
        }
        unet = {
            "sample_size": 64,
            "in_channels": 4,
            "out_channels": 4,
            "layers_per_block": 2,
            "block_out_channels": [320, 640, 1280, 1280],
            "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
            "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
            "cross_attention_dim": 768,
            "attention_head_dim": 8,
        }
        vae = {
            "sample_size": 512,
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 4,
            "layers_per_block": 2,
            "block_out_channels": [128, 256, 512, 512],
            "down_block_types": ["DownEncoderBlock2D"] * 4,
            "up_block_types": ["UpDecoderBlock2D"] * 4,
        }
        vision = {
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_attention_heads": 16,
            "num_hidden_layers": 24,
            "image_size": 224,
            "patch_size": 14,
        }
        safety = {"projection_dim": 768, "vision_config": vision, "text_config": text}
        crop = 224
    else:
        text = {
            "vocab_size": text_vocab,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "max_position_embeddings": 77,
            "projection_dim": 32,
            "hidden_act": "quick_gelu",
            **ids,
        }
        # Four VAE blocks keep SD's 8x latent scale; sample_size 16 makes the default image 128 px.
        unet = {
            "sample_size": 16,
            "in_channels": 4,
            "out_channels": 4,
            "layers_per_block": 1,
            "block_out_channels": [32, 64],
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
            "cross_attention_dim": 32,
            "attention_head_dim": 8,
            "norm_num_groups": 32,
        }
        vae = {
            "sample_size": 128,
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 4,
            "layers_per_block": 1,
            "block_out_channels": [32, 32, 32, 32],
            "down_block_types": ["DownEncoderBlock2D"] * 4,
            "up_block_types": ["UpDecoderBlock2D"] * 4,
            "norm_num_groups": 32,
        }
        vision = {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "image_size": 224,
            "patch_size": 32,
        }
        safety = {"projection_dim": 32, "vision_config": vision, "text_config": text}
        crop = 224
    feature_extractor = {
        "crop_size": {"height": crop, "width": crop},
        "size": {"shortest_edge": crop},
        "do_center_crop": True,
        "do_normalize": True,
        "do_resize": True,
        "do_convert_rgb": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3,
    }
    return {
        "text_encoder": text,
        "unet": unet,
        "vae": vae,
        "safety_checker": safety,
        "scheduler": scheduler,
        "feature_extractor": feature_extractor,
    }


# --------------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------------


def write_tokenizer(r: Recipe, folder: Path) -> int:
    """Write the recipe's tokenizer files into `folder`, trained on its corpus; return the vocabulary size."""
    writer = {
        "gpt2": write_gpt2_tokenizer,
        "clip": write_clip_tokenizer,
        "sentencepiece": write_sentencepiece_tokenizer,
    }[r.tokenizer]
    return writer(folder, r.vocab_size, corpus_text(r))


def _build_gpt2(r: Recipe, out: Path, size: str, seed: int) -> dict[str, Any]:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    n_vocab = write_tokenizer(r, out)
    if r.tokenizer == "sentencepiece":
        bos, eos = _SPM_IDS["bos"][0], _SPM_IDS["eos"][0]
    else:
        bos = eos = n_vocab - 1
    cfg = _gpt2_config(size, n_vocab, bos=bos, eos=eos, real=r.real_config)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(**cfg)).eval()
    model.save_pretrained(out)
    return {"config": cfg, "tokenizer_vocab": n_vocab, "parameters": sum(p.numel() for p in model.parameters())}


def _build_sd(r: Recipe, out: Path, size: str, seed: int) -> dict[str, Any]:
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPTextConfig, CLIPTextModel

    tok_dir = out / "tokenizer"
    n_vocab = write_tokenizer(r, tok_dir)
    if r.tokenizer == "sentencepiece":
        from transformers import T5Tokenizer

        tokenizer = T5Tokenizer.from_pretrained(tok_dir)
        bos, eos, pad = _SPM_IDS["bos"][0], _SPM_IDS["eos"][0], _SPM_IDS["pad"][0]
    else:
        from transformers import CLIPTokenizer

        tokenizer = CLIPTokenizer.from_pretrained(tok_dir)
        bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
        pad = tokenizer.pad_token_id
    cfg = _sd_configs(size, n_vocab, bos=bos, eos=eos, pad=pad, real_vocab=r.real_config["text_vocab_size"])
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(CLIPTextConfig(**cfg["text_encoder"])).eval()
    # diffusers types these names, under TYPE_CHECKING, as its placeholders for a missing torch
    # (utils/dummy_pt_objects), which lack torch.nn.Module's and DiffusionPipeline's methods.
    unet = UNet2DConditionModel(**cfg["unet"]).eval()  # type: ignore[attr-defined]
    vae = AutoencoderKL(**cfg["vae"]).eval()  # type: ignore[attr-defined]
    s = cfg["safety_checker"]
    safety = StableDiffusionSafetyChecker(
        CLIPConfig(text_config=s["text_config"], vision_config=s["vision_config"], projection_dim=s["projection_dim"])
    ).eval()
    sched = {k: v for k, v in cfg["scheduler"].items() if not k.startswith("_")}
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=PNDMScheduler(**sched),
        safety_checker=safety,
        feature_extractor=CLIPImageProcessor(**cfg["feature_extractor"]),
        requires_safety_checker=True,
    )
    pipe.save_pretrained(out, safe_serialization=True)  # type: ignore[attr-defined]  # placeholder type, above
    if r.fp16_variant:
        pipe.to(torch.float16).save_pretrained(  # type: ignore[attr-defined]
            out, safe_serialization=True, variant="fp16"
        )
    # Mirror the real model_index.json: the processor under its stable class name, no IP-adapter slot.
    index = json.loads((out / "model_index.json").read_text(encoding="utf-8"))
    index["feature_extractor"] = ["transformers", "CLIPImageProcessor"]
    index.pop("image_encoder", None)
    _write_json(out / "model_index.json", index)
    # save_pretrained rewrote the tokenizer folder; put back exactly the files the real repo has.
    shutil.rmtree(tok_dir)
    write_tokenizer(r, tok_dir)
    params = sum(p.numel() for m in (text_encoder, unet, vae, safety) for p in m.parameters())
    return {"config": cfg, "tokenizer_vocab": n_vocab, "parameters": params}


_GPT2_FILES = ("config.json", "model.safetensors")
_SD_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    "feature_extractor/preprocessor_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "safety_checker/config.json",
    "safety_checker/model.safetensors",
)
# The fp16 variant files, which `from_pretrained(..., variant="fp16")` asks for on CUDA (SD v1-4 ships them;
# rinna's repo is loaded without a variant, as in its own instructions).
_SD_FP16 = (
    "text_encoder/model.fp16.safetensors",
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "vae/diffusion_pytorch_model.fp16.safetensors",
    "safety_checker/model.fp16.safetensors",
)
# Each tokenizer's files, listed one by one: offline a missing one silently yields an empty tokenizer.
_TOKENIZER_FILES = {
    "gpt2": ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"),
    "clip": ("tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"),
    "sentencepiece": ("spiece.model", "tokenizer_config.json", "special_tokens_map.json"),
}


def _gpt2_files(r: Recipe) -> tuple[str, ...]:
    return _GPT2_FILES + _TOKENIZER_FILES[r.tokenizer]


def _sd_files(r: Recipe) -> tuple[str, ...]:
    # The tokenizer's configs, the fp16 files, then its vocabulary (the order is hashed into the revision).
    configs = ("tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json")
    vocab = tuple(f"tokenizer/{f}" for f in _TOKENIZER_FILES[r.tokenizer] if f"tokenizer/{f}" not in configs)
    return _SD_FILES + configs + (_SD_FP16 if r.fp16_variant else ()) + vocab


# --------------------------------------------------------------------------------------------------
# Recipes: a kind (how to build a family of models) plus a site's parameters for one model id
# --------------------------------------------------------------------------------------------------

ENTRY_POINT_GROUP = "execblog.standins"


@dataclass(frozen=True)
class Kind:
    """A family of stand-ins that recipes name (`recipe:` in site_config.yaml).

    A package adds one by exposing a `Kind` in the entry-point group `execblog.standins` (the entry
    point's name is the kind's name)."""

    name: str
    description: str
    tokenizers: tuple[str, ...]  # the ones it can build with; the first is the default
    real_defaults: dict[str, Any]  # the real architecture's defining values (size "real"); a recipe overrides
    build: Callable[
        [Recipe, Path, str, int], dict[str, Any]
    ]  # writes the snapshot; config, tokenizer_vocab, parameters
    required_files: Callable[[Recipe], tuple[str, ...]]  # relative to the snapshot, for completeness checks
    configs: Callable[[Recipe, str], Any]  # the configs as built at a size (hashed into the revision)
    tokenizer_folder: str = ""  # where the tokenizer lives inside the snapshot


BUILTIN_KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "gpt2",
            "a GPT-2 causal LM (GPT2LMHeadModel), e.g. gpt2 or rinna/japanese-gpt2-medium",
            ("gpt2", "sentencepiece"),
            {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12},
            _build_gpt2,
            _gpt2_files,
            # Vocabulary sizes left symbolic: they follow from the training text, hashed too.
            lambda r, size: _gpt2_config(size, -1, bos=-1, eos=-1, real=r.real_config),
        ),
        Kind(
            "stable-diffusion",
            "a Stable Diffusion v1 pipeline (UNet, VAE, CLIP text encoder, safety checker)",
            ("clip", "sentencepiece"),
            {"text_vocab_size": 49408},
            _build_sd,
            _sd_files,
            lambda r, size: _sd_configs(size, -1, bos=-1, eos=-1, pad=-1, real_vocab=r.real_config["text_vocab_size"]),
            tokenizer_folder="tokenizer",
        ),
    )
}


@functools.cache
def kinds() -> dict[str, Kind]:
    """The built-in kinds plus those installed packages register (a built-in name cannot be replaced)."""
    from importlib.metadata import entry_points

    found = dict(BUILTIN_KINDS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        kind = ep.load()
        if not isinstance(kind, Kind) or kind.name != ep.name:
            raise ValueError(
                f"entry point {ep.value!r} ({ENTRY_POINT_GROUP}) must be an execblog Kind named {ep.name!r}"
            )
        found[ep.name] = kind
    return found


@dataclass(frozen=True)
class Recipe:
    """How to build one model id's stand-in (made by `make_recipe`, usually from site_config.yaml)."""

    model_id: str
    kind: str  # a key of kinds()
    tokenizer: str  # "gpt2" | "clip" | "sentencepiece"
    vocab_size: int  # the trained tokenizer's target size
    corpus: tuple[str | Path, ...]  # training text: built-in corpus names and/or files
    real_config: dict[str, Any] = field(default_factory=dict)  # the real model's defining values (size "real")
    fp16_variant: bool = False  # also write the *.fp16.safetensors files

    @property
    def spec(self) -> Kind:
        return kinds()[self.kind]

    @property
    def required_files(self) -> tuple[str, ...]:
        return self.spec.required_files(self)

    @property
    def description(self) -> str:
        return f"{self.spec.description}; {self.tokenizer} tokenizer"


def make_recipe(
    model_id: str,
    kind: str,
    *,
    tokenizer: str = "",
    vocab_size: int = 0,
    corpus: Iterable[str | Path] = (),
    real: dict[str, Any] | None = None,
    fp16_variant: bool = False,
) -> Recipe:
    """A checked recipe; ValueError says what is wrong and what is allowed. Empty values take the kind's
    defaults; a `str` corpus entry names a built-in corpus, a `Path` names a file."""
    known = kinds()
    if kind not in known:
        raise ValueError(
            f"unknown stand-in recipe `{kind}` for {model_id}: use one of {', '.join(sorted(known))}"
            f" (or install a package that adds one under the entry-point group {ENTRY_POINT_GROUP})"
        )
    spec = known[kind]
    tokenizer = tokenizer or spec.tokenizers[0]
    if tokenizer not in spec.tokenizers:
        raise ValueError(f"recipe `{kind}` builds with the tokenizers {', '.join(spec.tokenizers)}, not `{tokenizer}`")
    if vocab_size < 0 or 0 < vocab_size < MIN_TOKENIZER_SIZE:
        raise ValueError(f"vocab_size must be at least {MIN_TOKENIZER_SIZE}, not {vocab_size}")
    unknown = sorted(set(real or {}) - set(spec.real_defaults))
    if unknown:
        raise ValueError(
            f"recipe `{kind}` has no real-size value `{unknown[0]}`: it takes " + ", ".join(sorted(spec.real_defaults))
        )
    for key, value in (real or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"real.{key} must be a positive whole number, not {value!r}")
    corpus = tuple(corpus) or DEFAULT_CORPUS[tokenizer]
    for c in corpus:
        if isinstance(c, str) and c not in BUILTIN_CORPORA:
            raise ValueError(f"no built-in corpus `{c}` (built-in: {', '.join(BUILTIN_CORPORA)})")
    return Recipe(
        model_id,
        kind,
        tokenizer,
        vocab_size or TOKENIZER_VOCAB[tokenizer],
        corpus,
        {**spec.real_defaults, **(real or {})},
        fp16_variant,
    )


def site_recipes(config: Any) -> dict[str, Recipe]:
    """The recipes a site declares under `standins:` (config: a validated execblog SiteConfig).

    Corpus files are relative to the site (the config loader has checked they exist inside it). A
    recipe the kinds reject (unknown kind, a tokenizer or size it does not take) stops the build
    naming its line in site_config.yaml."""
    from execblog.errors import BuildError

    recipes = {}
    for model_id, entry in config.standins.items():
        try:
            recipes[model_id] = make_recipe(
                model_id,
                entry.recipe,
                tokenizer=entry.tokenizer,
                vocab_size=entry.vocab_size,
                corpus=[Path(config.site_dir, c).resolve() for c in entry.corpus],
                real=entry.real,
                fp16_variant=entry.fp16_variant,
            )
        except ValueError as exc:
            raise BuildError(
                f"standins.{model_id}: {exc}",
                Path(config.site_dir, "site_config.yaml"),
                entry.line,
                'see README, "Profiles and models"',
            ) from None
    return recipes


def corpus_text(r: Recipe) -> str:
    """The recipe's tokenizer training text: its corpora in order, each ending in a newline."""
    parts = [builtin_corpus(c) if isinstance(c, str) else Path(c).read_text(encoding="utf-8") for c in r.corpus]
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


def sample_text(r: Recipe) -> str:
    """What the built tokenizer must encode without <unk> and decode back: its corpus's first line."""
    return next((line.strip() for line in corpus_text(r).splitlines() if line.strip()), "")


def _check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")


# The names these had when the example's stand-in runs were frozen: hashing the old names keeps those
# revisions, and so the freeze keys, unchanged.
_FINGERPRINT_NAMES = {"stable-diffusion": "sd", "sentencepiece": "rinna"}


def fingerprint(r: Recipe, size: str = "tiny", seed: int = DEFAULT_SEED) -> str:
    """The stand-in's revision: 40 hex digits that change whenever what would be built changes."""
    _check_size(size)
    custom = "".join(Path(c).read_text(encoding="utf-8") for c in r.corpus if not isinstance(c, str))
    text = "".join(builtin_corpus(c) for c in BUILTIN_CORPORA) + custom
    blob = json.dumps(
        {
            "builder": BUILDER_VERSION,
            "id": r.model_id,
            "size": size,
            "seed": seed,
            "kind": _FINGERPRINT_NAMES.get(r.kind, r.kind),
            "tokenizer": _FINGERPRINT_NAMES.get(r.tokenizer, r.tokenizer),
            "vocab": r.vocab_size,
            "configs": r.spec.configs(r, size),
            "files": r.required_files,
            "text": hashlib.sha256(text.encode()).hexdigest(),
        },
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()


# --------------------------------------------------------------------------------------------------
# Hub cache layout
# --------------------------------------------------------------------------------------------------


def repo_folder_name(model_id: str) -> str:
    """`org/name` -> `models--org--name`, the hub cache's folder name."""
    return "models--" + model_id.replace("/", "--")


def repo_dir(home: str | os.PathLike, model_id: str) -> Path:
    return Path(home) / "hub" / repo_folder_name(model_id)


def snapshot_dir(home: str | os.PathLike, model_id: str) -> Path | None:
    """The snapshot `refs/main` points to, or None."""
    repo = repo_dir(home, model_id)
    try:
        rev = (repo / "refs" / "main").read_text().strip()
    except OSError:
        return None
    snap = repo / "snapshots" / rev
    return snap if snap.is_dir() else None


def read_marker(snapshot: str | os.PathLike) -> dict[str, Any] | None:
    """The stand-in marker of a snapshot (None for a real download or an unfinished build)."""
    try:
        return json.loads((Path(snapshot) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def missing_files(snapshot: str | os.PathLike, r: Recipe) -> list[str]:
    """Required files that are absent from a stand-in snapshot (the marker included)."""
    snap = Path(snapshot)
    names = list(r.required_files) + [MARKER_FILE]
    return [n for n in names if not (snap / n).is_file()]


def is_built(home: str | os.PathLike, r: Recipe, size: str = "tiny", seed: int = DEFAULT_SEED) -> bool:
    """True when an up-to-date, complete stand-in of the recipe is in `home` (cheap: no imports)."""
    snap = snapshot_dir(home, r.model_id)
    if snap is None or snap.name != fingerprint(r, size, seed):
        return False
    return not missing_files(snap, r)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Serialize builds of one repo across processes (posts may resolve models in parallel)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            import fcntl
        except ImportError:  # not POSIX: builds are still atomic, just not serialized
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------


def build_standin(
    r: Recipe,
    home: str | os.PathLike,
    size: str = "tiny",
    *,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    verify: bool = True,
) -> Path:
    """Build (or reuse) the stand-in of a recipe under `home` (an HF_HOME); return its snapshot folder.

    Reuses an existing build when its fingerprint matches and no required file is missing; otherwise
    builds into a temporary folder, checks it, and moves it into place atomically (refs/main last)."""
    _check_size(size)
    model_id = r.model_id
    home = Path(home).absolute()
    rev = fingerprint(r, size, seed)
    repo = repo_dir(home, model_id)
    with _lock(home / "hub" / ".locks" / f"{repo.name}.execblog.lock"):
        if not force and is_built(home, r, size, seed):
            return repo / "snapshots" / rev
        (repo / "snapshots").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{rev}.", dir=repo / "snapshots"))
        try:
            t0 = time.perf_counter()
            with _quiet():
                info = r.spec.build(r, tmp, size, seed)
            if verify:
                problems = verify_snapshot(tmp, r)
                if problems:
                    raise RuntimeError(f"stand-in {model_id} failed its check: " + "; ".join(problems))
            _write_json(
                tmp / MARKER_FILE,
                {
                    "model_id": model_id,
                    "size": size,
                    "seed": seed,
                    "revision": rev,
                    "builder": BUILDER_VERSION,
                    "note": "execblog stand-in: random weights from a config, NOT the real model's weights",
                    "tokenizer_vocab": info["tokenizer_vocab"],
                    "parameters": info["parameters"],
                    "build_seconds": round(time.perf_counter() - t0, 2),
                },
            )
            final = repo / "snapshots" / rev
            old = swap_in(tmp, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        # Old stand-in revisions are dead weight (real-download snapshots are never touched).
        for old in (repo / "snapshots").iterdir():
            if old.name != rev and not old.name.startswith(".") and read_marker(old) is not None:
                shutil.rmtree(old, ignore_errors=True)
        atomic_write(repo / "refs" / "main", rev)
        return final


def build_standins(
    recipes: Iterable[Recipe],
    home: str | os.PathLike,
    size: str = "tiny",
    *,
    seed: int = DEFAULT_SEED,
    force: bool = False,
) -> dict[str, Path]:
    """build_standin for each recipe; returns model id -> snapshot folder."""
    return {r.model_id: build_standin(r, home, size, seed=seed, force=force) for r in recipes}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the libraries' progress bars and advice while building (the build is not a download)."""
    old = {k: os.environ.get(k) for k in ("HF_HUB_DISABLE_PROGRESS_BARS", "TOKENIZERS_PARALLELISM")}
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    try:
        from diffusers.utils import logging as dlog
        from transformers.utils import logging as tlog

        levels = (
            tlog.get_verbosity(),
            dlog.get_verbosity(),
            tlog.is_progress_bar_enabled(),
            dlog.is_progress_bar_enabled(),
        )
        tlog.set_verbosity_error()
        dlog.set_verbosity_error()
        tlog.disable_progress_bar()
        dlog.disable_progress_bar()
    except ImportError:
        levels = None
    try:
        yield
    finally:
        if levels:
            tlog.set_verbosity(levels[0])
            dlog.set_verbosity(levels[1])
            if levels[2]:
                tlog.enable_progress_bar()
            if levels[3]:
                dlog.enable_progress_bar()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------

# Fewer tokens than this means the tokenizer was built without its vocabulary file.
MIN_TOKENIZER_SIZE = 300


def tokenizer_problems(tokenizer: Any, sample: str) -> list[str]:
    """Why `tokenizer` is unusable, or []: near-empty vocabulary, <unk> on `sample`, or a lossy round trip.

    Offline, a tokenizer whose vocabulary file is missing loads *without an error* as an empty shell that
    maps everything to <unk>; this is the check that catches it."""
    problems = []
    n = len(tokenizer)
    if n < MIN_TOKENIZER_SIZE:
        problems.append(f"tokenizer has only {n} tokens (a vocabulary file is missing)")
    ids = tokenizer(sample, add_special_tokens=False)["input_ids"]
    unk = tokenizer.unk_token_id
    # GPT-2 and CLIP use <|endoftext|> as unk; it never comes out of plain text, so the test holds.
    if not ids or (unk is not None and unk in ids):
        problems.append(f"tokenizer maps {sample!r} to unknown tokens")
    decoded = tokenizer.decode(ids, skip_special_tokens=True)
    # Spacing and case aside: CLIP lower-cases and detaches punctuation ("dog ." for "dog.").
    if "".join(decoded.split()).lower() != "".join(sample.split()).lower():
        problems.append(f"tokenizer round trip changes the text: {decoded!r}")
    return problems


def load_tokenizer(snapshot: str | os.PathLike, r: Recipe) -> Any:
    """Load a snapshot's tokenizer with the class the posts use."""
    folder = Path(snapshot) / r.spec.tokenizer_folder
    cls: type[PreTrainedTokenizerBase]  # whichever branch imports it
    if r.tokenizer == "sentencepiece":
        from transformers import T5Tokenizer as cls
    elif r.tokenizer == "clip":
        from transformers import CLIPTokenizer as cls
    else:
        from transformers import GPT2Tokenizer as cls
    return cls.from_pretrained(str(folder))


def verify_snapshot(snapshot: str | os.PathLike, r: Recipe) -> list[str]:
    """Problems with a built snapshot: missing required files, or a tokenizer that does not work."""
    snap = Path(snapshot)
    problems = [f"missing {f}" for f in missing_files(snap, r) if f != MARKER_FILE]
    if problems:
        return problems
    try:
        tok = load_tokenizer(snap, r)
    except Exception as exc:  # a broken file must be reported, not crash the caller
        return [f"tokenizer does not load: {type(exc).__name__}: {exc}"]
    return tokenizer_problems(tok, sample_text(r))


def hf_env(home: str | os.PathLike) -> dict[str, str]:
    """Environment that makes `from_pretrained(model_id)` load the stand-ins in `home`, offline."""
    home = Path(home).absolute()
    return {
        "HF_HOME": str(home),
        # Set explicitly: an HF_HUB_CACHE inherited from the user would win over HF_HOME.
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m execblog.models.standins",
        description="Build a site's offline stand-in models (random weights from configs, its `standins:` "
        "recipes) in the Hugging Face cache layout.",
    )
    p.add_argument("ids", nargs="*", help="model ids (default: every id the site has a recipe for)")
    p.add_argument("-s", "--site", type=Path, default=Path("."), help="the site folder (default: .)")
    p.add_argument("--size", choices=SIZES, default="tiny", help="tiny (default, seconds on CPU) or real")
    p.add_argument("--out", required=True, help="folder to use as HF_HOME")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = p.parse_args(argv)
    from execblog.config import load_config
    from execblog.errors import BuildError

    try:
        recipes = site_recipes(load_config(args.site.resolve()))
    except BuildError as exc:
        p.error(exc.format())
    ids = args.ids or list(recipes)
    unknown = [m for m in ids if m not in recipes]
    if unknown:
        p.error(
            f"no stand-in recipe for {', '.join(unknown)} (the site has recipes for: "
            f"{', '.join(recipes) or 'none'}); add one under `standins:` in site_config.yaml"
        )
    for m in ids:
        t0 = time.perf_counter()
        fresh = not args.force and is_built(args.out, recipes[m], args.size, args.seed)
        snap = build_standin(recipes[m], args.out, args.size, seed=args.seed, force=args.force)
        size_mb = sum(f.stat().st_size for f in snap.rglob("*") if f.is_file()) / 1e6
        state = "up to date" if fresh else f"built in {time.perf_counter() - t0:.1f} s"
        print(f"{m}: {state}, {size_mb:.1f} MB ({snap})")
    print("\nTo use them:")
    for k, v in hf_env(args.out).items():
        print(f"  export {k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
