"""Offline stand-in models: small (or real-sized) random-weight copies of the models the posts load.

No machine of this project can download `gpt2`, rinna or Stable Diffusion, so each model id the example
posts declare has a *recipe* here that builds a model of the same architecture from a config, with seeded
random weights, plus a complete tokenizer trained on a little text shipped in this module. The result is
written in the Hugging Face hub cache layout::

    HOME/hub/models--gpt2/refs/main                 -> "<revision>"
    HOME/hub/models--gpt2/snapshots/<revision>/...  config, weights, tokenizer files

so a post's unchanged ``from_pretrained("gpt2")`` loads it when the kernel runs with ``HF_HOME=HOME`` and
``HF_HUB_OFFLINE=1``. The revision is the recipe's fingerprint (a hash of the builder version, the configs
and the tokenizer training text), so a stand-in is rebuilt exactly when its recipe changes.

``size="tiny"`` (the default) builds in seconds on a CPU; ``size="real"`` builds the real architectures'
sizes (GPT-2 small, rinna GPT-2 medium, SD v1 UNet/VAE/text encoder/safety checker) for GPU checks.

Command line: ``python -m execblog.models.standins --size tiny|real --out HOME [model ids...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

# Bump when a change to this module changes what gets built: every stand-in is rebuilt once.
BUILDER_VERSION = 1
SIZES = ("tiny", "real")
DEFAULT_SEED = 0
# Written last into every stand-in snapshot: marks it complete and tells it apart from a real download.
MARKER_FILE = "execblog-standin.json"

# --------------------------------------------------------------------------------------------------
# Tokenizer training text. Shipped here (not read from the posts) so a build never depends on the
# working tree and the fingerprint covers it. It holds the posts' own sentences, so their tokens are
# real pieces rather than <unk>.
# --------------------------------------------------------------------------------------------------

EN_TEXT = """\
The quick brown fox jumps over the lazy dog.
a galaxy far from earth
A galaxy far from earth shines above the quiet sea, and the stars turn slowly in the night sky.
Attention lets every token look at the other tokens in the sentence and decide which of them matter.
The model reads the sentence one token at a time, and each layer has several attention heads.
Some heads look at the previous token, some look at the first token, and some follow the meaning.
Large language models are trained on a lot of text to predict the next word.
We visualize the attention map of the last layer as a heatmap with the tokens as labels.
Stable Diffusion turns a text prompt into an image by removing noise step by step.
The text encoder reads the prompt, the UNet predicts the noise, and the VAE decodes the latent image.
A photograph of an astronaut riding a horse on the moon, high quality, detailed, trending on artstation.
An oil painting of a cat, a portrait of a dog, a watercolor of mountains and a river at sunset.
Two giant robots shake hands in front of Mount Fuji in the morning light.
The weather is nice today, so we went for a walk in the park and talked about machine learning.
This post runs for real on any machine: the model weights are shipped in a Python package.
Sentence embeddings map a sentence to a vector, and similar sentences get similar vectors.
She sells sea shells by the sea shore, and the shells she sells are surely sea shells.
How vexingly quick daft zebras jump! Pack my box with five dozen liquor jugs.
Numbers like 1, 2, 3, 10, 42, 100, 2021, 2022 and 2025 appear in dates and versions.
Questions? Answers! Commas, periods; colons: quotes "like this" and 'like that' (and brackets).
The cat sat on the mat. The dog ran after the ball. The bird sang in the tree.
It was the best of times, it was the worst of times, it was the age of wisdom.
Researchers study how the circuits inside a network combine features to produce an answer.
In this blog we try models on Google Colab and write down what we saw, with the code.
"""

# The posts' Japanese prose (including the opening of 走れメロス and the rinna prompt) plus the
# kana and a few everyday sentences, so tokenizing any of the posts' text yields no <unk>.
JA_TEXT = """\
メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。メロスには政治がわからぬ。メロスは、村の牧人である。笛を吹き、羊と遊んで暮して来た。けれども邪悪に対しては、人一倍に敏感であった。
富士山をバックに二大スーパーロボットががっちりと握手
猫の肖像画 油絵
サラリーマン 油絵
先の記事で、LLMのアテンション機構の可視化を実施しました。そこからの続きで別の文について、可視化を試みてみます。
モデルをGPT-2系の日本語モデルに変えて、『走れメロス』の冒頭の文に挑戦してみました。使用したのは以下の文になります。
基本的なコードは先のコードですが、幾つか変わっています。実験はGoogle Colab上で行っています。
トークンIDを対応する単語へ変換
最後の層、最初のAttentionヘッドを取得
左上1/4部分を切り取る。行列サイズの1/2を計算。左上1/4部分を抽出。対応するトークンのリストも切り取る。
ヒートマップを描画。Attention対象。Attention元。左斜め上1/4のAttentionマップ拡大表示。
可視化した結果が以下になります。アテンションマップの隅1/4を拡大しています。
ここから言えることは、恐らく、メロスの単語が辞書にないためだと思いますが、メロスの挙動は不安定です。
その結果、周囲の文脈から何を意味しているか推測している可能性があります。
また、主語「メロス」と「邪」のようなワードに注意が向いているようです。
「邪智暴虐」という表現が特徴的ですから、AIがそのフレーズを重要だととらえている可能性があります。
また、文のイメージがネガティブというのも影響している可能性があります。
また、除にも注意が向いているので、「除かなければならぬ」などの文脈に注意が流れている可能性があります。
最近、あちこちに出てきた、大規模言語モデルの内部の研究が気になった。有料記事であり私も、中身を見ていない。
そのため、この記事のベースであろう、原著論文を辿った。その結果、以下のことが示唆されるようだ。
多段階推論、詩の作成における計画、多言語回路、足し算の一般化、医療診断、エンティティ認識とハルシネーション。
有害な要求の拒否、ジェイルブレイクの分析、連鎖的思考の忠実性、隠れた目標を持つモデルの分析。
ここで、アトリビューショングラフに関心ができた、では、例えばGPT-2でアトリビューショングラフが作れないかと言うのが今回のテーマとなる。
さすがに、モデルは中身が公開されていないし、公開されているとしても、モデル規模が大きすぎ、そもそも、処理が重すぎる。
それで、古典的なモデルであるGPT-2に目を付けた。そのため、以下のようなコードを実行した。
これはリスト形式で各層のAttentionを含む。例えば、最後の層のAttentionを可視化。最初のAttentionヘッドを選択。
このコードによって、以下のように最後の層のAttentionが可視化される。
Rinnaから日本語対応のStable Diffusionが出たのでをGoogle Colab上で使ってみました。
コードとしては以下のような形です。bashのコードはJupyterから投げます。
画像を作成し、以下のような画像になります。
DLLABでIgnite 2021 Fallを受けての最新アップデートとして勉強会が開催されたので受講しました。
時間、セッションテーマ、登壇者、クロージング、各スピーカーより、カスタムテキスト分類、カスタム固有表現認識、会話言語理解。
テキストラベル付けプロジェクトを作成してラベルをエクスポートする。物理的アーキテクチャ。データベーステンプレート。
セッションとしては2セッション、アップデートとになります。
今日は天気が良いので、公園を散歩しながら機械学習の話をしました。
日本語の文章を小さな単位に分けて、それぞれに番号を付けるのがトークナイザーの仕事です。
東京、大阪、京都、横浜、名古屋。春、夏、秋、冬。月曜日から日曜日まで。一、二、三、四、五、六、七、八、九、十、百、千、万。
いろはにほへと ちりぬるを わかよたれそ つねならむ うゐのおくやま けふこえて あさきゆめみし ゑひもせす
あいうえお かきくけこ さしすせそ たちつてと なにぬねの はひふへほ まみむめも やゆよ らりるれろ わをん
がぎぐげご ざじずぜぞ だぢづでど ばびぶべぼ ぱぴぷぺぽ ぁぃぅぇぉ っゃゅょゎ
アイウエオ カキクケコ サシスセソ タチツテト ナニヌネノ ハヒフヘホ マミムメモ ヤユヨ ラリルレロ ワヲン
ガギグゲゴ ザジズゼゾ ダヂヅデド バビブベボ パピプペポ ァィゥェォ ッャュョヮ ヴー
「」『』（）、。・！？ー〜 ０１２３４５６７８９
"""


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
    return dict(zip(bs, (chr(c) for c in cs)))


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
        pre = pre_tokenizers.Sequence([split, byte_level])
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
            for pair in zip(word, word[1:]):
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
TOKENIZER_VOCAB = {"gpt2": 1000, "clip": 1000, "rinna": 800}


def write_gpt2_tokenizer(folder: Path, vocab_size: int = TOKENIZER_VOCAB["gpt2"]) -> int:
    """GPT-2's byte-level BPE files (vocab.json, merges.txt, tokenizer.json, tokenizer_config.json).

    Returns the vocabulary size (`<|endoftext|>` is the last id, as in the real file)."""
    merges = _train_bpe_merges(EN_TEXT, vocab_size - 1, clip=False)
    vocab = _byte_level_vocab(merges, clip=False, specials=["<|endoftext|>"])
    _write_bpe_files(folder, vocab, merges)
    # The real repo also ships tokenizer.json; write the same one the fast tokenizer builds from the pair.
    from transformers import GPT2Tokenizer

    tok = GPT2Tokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))
    tok.backend_tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", {"model_max_length": 1024})
    return len(vocab)


_CLIP_SPECIAL = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
                 "pad_token": "<|endoftext|>"}


def write_clip_tokenizer(folder: Path, vocab_size: int = TOKENIZER_VOCAB["clip"]) -> int:
    """CLIP's BPE files as in the SD v1 `tokenizer/` folder (vocab.json, merges.txt, configs; no tokenizer.json)."""
    merges = _train_bpe_merges(EN_TEXT, vocab_size - 256 - 2, clip=True)
    vocab = _byte_level_vocab(merges, clip=True, specials=["<|startoftext|>", "<|endoftext|>"])
    _write_bpe_files(folder, vocab, merges)
    _write_json(folder / "special_tokens_map.json", _CLIP_SPECIAL)
    _write_json(
        folder / "tokenizer_config.json",
        # model_max_length=77 is what the pipeline pads prompts to; without it prompts pad to 1e30.
        {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": True,
         "add_prefix_space": False, "errors": "replace", **_CLIP_SPECIAL},
    )
    return len(vocab)


# rinna's sentencepiece layout. T5Tokenizer (transformers 5) hard-codes <unk> at id 2, so it sits there.
_SPM_IDS = {"pad": (0, "[PAD]"), "eos": (1, "</s>"), "unk": (2, "<unk>"), "bos": (3, "<s>")}
_SPM_USER = ["[CLS]", "[SEP]", "[MASK]"]
_RINNA_SPECIAL = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "[PAD]",
                  "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}


def train_sentencepiece(text: str, vocab_size: int = TOKENIZER_VOCAB["rinna"]) -> bytes:
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


def write_rinna_tokenizer(folder: Path, vocab_size: int = TOKENIZER_VOCAB["rinna"]) -> int:
    """rinna's T5Tokenizer files: spiece.model + configs, no tokenizer.json (as in the real repos)."""
    import sentencepiece as spm

    model = train_sentencepiece(JA_TEXT + EN_TEXT, vocab_size)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spiece.model").write_bytes(model)
    _write_json(folder / "special_tokens_map.json", _RINNA_SPECIAL)
    _write_json(
        folder / "tokenizer_config.json",
        # extra_ids=0: rinna has no T5 sentinel tokens (T5Tokenizer would add 100 otherwise).
        {"tokenizer_class": "T5Tokenizer", "extra_ids": 0, "additional_special_tokens": [],
         "do_lower_case": True, **_RINNA_SPECIAL},
    )
    return spm.SentencePieceProcessor(model_proto=model).get_piece_size()


# --------------------------------------------------------------------------------------------------
# Model configs by size
# --------------------------------------------------------------------------------------------------


def _gpt2_config(size: str, vocab_size: int, *, bos: int, eos: int, real: dict[str, Any]) -> dict[str, Any]:
    if size == "real":
        return {**real, "bos_token_id": bos, "eos_token_id": eos}
    return {"vocab_size": vocab_size, "n_positions": 256, "n_embd": 64, "n_layer": 2, "n_head": 4,
            "bos_token_id": bos, "eos_token_id": eos}


def _sd_configs(size: str, text_vocab: int, *, bos: int, eos: int, pad: int, real_vocab: int) -> dict[str, Any]:
    """Configs of every SD v1 component. `real` copies SD v1's published architecture."""
    scheduler = {"_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012,
                 "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "set_alpha_to_one": False,
                 "skip_prk_steps": True, "steps_offset": 1}
    ids = {"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad}
    if size == "real":
        text = {"vocab_size": real_vocab, "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                "num_hidden_layers": 12, "max_position_embeddings": 77, "projection_dim": 768,
                "hidden_act": "quick_gelu", **ids}
        unet = {"sample_size": 64, "in_channels": 4, "out_channels": 4, "layers_per_block": 2,
                "block_out_channels": [320, 640, 1280, 1280],
                "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
                "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
                "cross_attention_dim": 768, "attention_head_dim": 8}
        vae = {"sample_size": 512, "in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 2,
               "block_out_channels": [128, 256, 512, 512], "down_block_types": ["DownEncoderBlock2D"] * 4,
               "up_block_types": ["UpDecoderBlock2D"] * 4}
        vision = {"hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16,
                  "num_hidden_layers": 24, "image_size": 224, "patch_size": 14}
        safety = {"projection_dim": 768, "vision_config": vision,
                  "text_config": text}
        crop = 224
    else:
        text = {"vocab_size": text_vocab, "hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4,
                "num_hidden_layers": 2, "max_position_embeddings": 77, "projection_dim": 32,
                "hidden_act": "quick_gelu", **ids}
        # Four VAE blocks keep SD's 8x latent scale; sample_size 16 makes the default image 128 px.
        unet = {"sample_size": 16, "in_channels": 4, "out_channels": 4, "layers_per_block": 1,
                "block_out_channels": [32, 64], "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
                "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"], "cross_attention_dim": 32,
                "attention_head_dim": 8, "norm_num_groups": 32}
        vae = {"sample_size": 128, "in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 1,
               "block_out_channels": [32, 32, 32, 32], "down_block_types": ["DownEncoderBlock2D"] * 4,
               "up_block_types": ["UpDecoderBlock2D"] * 4, "norm_num_groups": 32}
        vision = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
                  "image_size": 224, "patch_size": 32}
        safety = {"projection_dim": 32, "vision_config": vision,
                  "text_config": text}
        crop = 224
    feature_extractor = {"crop_size": {"height": crop, "width": crop}, "size": {"shortest_edge": crop},
                         "do_center_crop": True, "do_normalize": True, "do_resize": True, "do_convert_rgb": True,
                         "image_mean": [0.48145466, 0.4578275, 0.40821073],
                         "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3}
    return {"text_encoder": text, "unet": unet, "vae": vae, "safety_checker": safety,
            "scheduler": scheduler, "feature_extractor": feature_extractor}


# --------------------------------------------------------------------------------------------------
# Recipes
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """How to build one model id's stand-in."""

    model_id: str
    kind: str  # "gpt2" | "sd"
    tokenizer: str  # "gpt2" | "clip" | "rinna"
    description: str
    real_config: dict[str, Any]  # the real model's defining config values (used by size="real")
    # Files (relative to the snapshot) whose absence makes a stand-in incomplete. Tokenizer files are listed
    # one by one because offline a missing one silently yields an empty tokenizer instead of an error.
    required_files: tuple[str, ...]


_GPT2_FILES = ("config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json",
               "tokenizer_config.json")
_RINNA_GPT2_FILES = ("config.json", "model.safetensors", "spiece.model", "tokenizer_config.json",
                     "special_tokens_map.json")
_SD_COMMON = ("model_index.json", "scheduler/scheduler_config.json", "feature_extractor/preprocessor_config.json",
              "text_encoder/config.json", "text_encoder/model.safetensors",
              "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
              "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
              "safety_checker/config.json", "safety_checker/model.safetensors",
              "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json")
# The fp16 variant files, which `from_pretrained(..., variant="fp16")` asks for on CUDA (SD v1-4 ships them;
# rinna's repo is loaded without a variant, as in its own instructions).
_SD_FP16 = ("text_encoder/model.fp16.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
            "vae/diffusion_pytorch_model.fp16.safetensors", "safety_checker/model.fp16.safetensors")

RECIPES: dict[str, Recipe] = {
    r.model_id: r
    for r in (
        Recipe("gpt2", "gpt2", "gpt2", "GPT-2 (GPT2LMHeadModel) with a byte-level BPE tokenizer",
               {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12},
               _GPT2_FILES),
        Recipe("rinna/japanese-gpt2-medium", "gpt2", "rinna",
               "rinna's Japanese GPT-2 medium with a sentencepiece T5Tokenizer",
               {"vocab_size": 32000, "n_positions": 1024, "n_embd": 1024, "n_layer": 24, "n_head": 16},
               _RINNA_GPT2_FILES),
        Recipe("CompVis/stable-diffusion-v1-4", "sd", "clip", "Stable Diffusion v1 with a CLIP tokenizer",
               {"text_vocab_size": 49408},
               _SD_COMMON + _SD_FP16 + ("tokenizer/vocab.json", "tokenizer/merges.txt")),
        Recipe("rinna/japanese-stable-diffusion", "sd", "rinna",
               "Stable Diffusion v1 whose CLIP text encoder reads rinna's sentencepiece (T5Tokenizer) tokens",
               {"text_vocab_size": 32000},
               _SD_COMMON + ("tokenizer/spiece.model",)),
    )
}


def has_recipe(model_id: str) -> bool:
    return model_id in RECIPES


def _recipe(model_id: str) -> Recipe:
    try:
        return RECIPES[model_id]
    except KeyError:
        known = ", ".join(sorted(RECIPES))
        raise KeyError(f"no stand-in recipe for {model_id!r} (stand-ins exist for: {known})") from None


def _check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")


def fingerprint(model_id: str, size: str = "tiny", seed: int = DEFAULT_SEED) -> str:
    """The stand-in's revision: 40 hex digits that change whenever what would be built changes."""
    _check_size(size)
    r = _recipe(model_id)
    # The configs as built (vocabulary sizes left symbolic: they follow from the training text, hashed too).
    if r.kind == "gpt2":
        configs: Any = _gpt2_config(size, -1, bos=-1, eos=-1, real=r.real_config)
    else:
        configs = _sd_configs(size, -1, bos=-1, eos=-1, pad=-1, real_vocab=r.real_config["text_vocab_size"])
    blob = json.dumps(
        {"builder": BUILDER_VERSION, "id": model_id, "size": size, "seed": seed, "kind": r.kind,
         "tokenizer": r.tokenizer, "vocab": TOKENIZER_VOCAB[r.tokenizer], "configs": configs,
         "files": r.required_files, "text": hashlib.sha256((EN_TEXT + JA_TEXT).encode()).hexdigest()},
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


def missing_files(snapshot: str | os.PathLike, model_id: str) -> list[str]:
    """Required files that are absent from a stand-in snapshot (the marker included)."""
    snap = Path(snapshot)
    names = list(_recipe(model_id).required_files) + [MARKER_FILE]
    return [n for n in names if not (snap / n).is_file()]


def is_built(home: str | os.PathLike, model_id: str, size: str = "tiny", seed: int = DEFAULT_SEED) -> bool:
    """True when an up-to-date, complete stand-in of `model_id` is in `home` (cheap: no imports)."""
    snap = snapshot_dir(home, model_id)
    if snap is None or snap.name != fingerprint(model_id, size, seed):
        return False
    return not missing_files(snap, model_id)


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
# Builders
# --------------------------------------------------------------------------------------------------


def _build_gpt2(r: Recipe, out: Path, size: str, seed: int) -> dict[str, Any]:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    if r.tokenizer == "rinna":
        n_vocab = write_rinna_tokenizer(out)
        bos, eos = _SPM_IDS["bos"][0], _SPM_IDS["eos"][0]
    else:
        n_vocab = write_gpt2_tokenizer(out)
        bos = eos = n_vocab - 1
    cfg = _gpt2_config(size, n_vocab, bos=bos, eos=eos, real=r.real_config)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(**cfg)).eval()
    model.save_pretrained(out)
    return {"config": cfg, "tokenizer_vocab": n_vocab,
            "parameters": sum(p.numel() for p in model.parameters())}


def _build_sd(r: Recipe, out: Path, size: str, seed: int) -> dict[str, Any]:
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPTextConfig, CLIPTextModel

    tok_dir = out / "tokenizer"
    if r.tokenizer == "rinna":
        n_vocab = write_rinna_tokenizer(tok_dir)
        from transformers import T5Tokenizer

        tokenizer = T5Tokenizer.from_pretrained(tok_dir)
        bos, eos, pad = _SPM_IDS["bos"][0], _SPM_IDS["eos"][0], _SPM_IDS["pad"][0]
    else:
        n_vocab = write_clip_tokenizer(tok_dir)
        from transformers import CLIPTokenizer

        tokenizer = CLIPTokenizer.from_pretrained(tok_dir)
        bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
        pad = tokenizer.pad_token_id
    cfg = _sd_configs(size, n_vocab, bos=bos, eos=eos, pad=pad, real_vocab=r.real_config["text_vocab_size"])
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(CLIPTextConfig(**cfg["text_encoder"])).eval()
    unet = UNet2DConditionModel(**cfg["unet"]).eval()
    vae = AutoencoderKL(**cfg["vae"]).eval()
    s = cfg["safety_checker"]
    safety = StableDiffusionSafetyChecker(
        CLIPConfig(text_config=s["text_config"], vision_config=s["vision_config"], projection_dim=s["projection_dim"])
    ).eval()
    sched = {k: v for k, v in cfg["scheduler"].items() if not k.startswith("_")}
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=PNDMScheduler(**sched),
        safety_checker=safety, feature_extractor=CLIPImageProcessor(**cfg["feature_extractor"]),
        requires_safety_checker=True,
    )
    pipe.save_pretrained(out, safe_serialization=True)
    if any(".fp16." in f for f in r.required_files):
        pipe.to(torch.float16).save_pretrained(out, safe_serialization=True, variant="fp16")
    # Mirror the real model_index.json: the processor under its stable class name, no IP-adapter slot.
    index = json.loads((out / "model_index.json").read_text(encoding="utf-8"))
    index["feature_extractor"] = ["transformers", "CLIPImageProcessor"]
    index.pop("image_encoder", None)
    _write_json(out / "model_index.json", index)
    # save_pretrained rewrote the tokenizer folder; put back exactly the files the real repo has.
    shutil.rmtree(tok_dir)
    (write_rinna_tokenizer if r.tokenizer == "rinna" else write_clip_tokenizer)(tok_dir)
    params = sum(p.numel() for m in (text_encoder, unet, vae, safety) for p in m.parameters())
    return {"config": cfg, "tokenizer_vocab": n_vocab, "parameters": params}


_BUILDERS: dict[str, Callable[[Recipe, Path, str, int], dict[str, Any]]] = {"gpt2": _build_gpt2, "sd": _build_sd}


def build_standin(model_id: str, home: str | os.PathLike, size: str = "tiny", *, seed: int = DEFAULT_SEED,
                  force: bool = False, verify: bool = True) -> Path:
    """Build (or reuse) the stand-in of `model_id` under `home` (an HF_HOME); return its snapshot folder.

    Reuses an existing build when its fingerprint matches and no required file is missing; otherwise
    builds into a temporary folder, checks it, and moves it into place atomically (refs/main last)."""
    _check_size(size)
    r = _recipe(model_id)
    home = Path(home).absolute()
    rev = fingerprint(model_id, size, seed)
    repo = repo_dir(home, model_id)
    with _lock(home / "hub" / ".locks" / f"{repo.name}.execblog.lock"):
        if not force and is_built(home, model_id, size, seed):
            return repo / "snapshots" / rev
        (repo / "snapshots").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{rev}.", dir=repo / "snapshots"))
        try:
            t0 = time.perf_counter()
            with _quiet():
                info = _BUILDERS[r.kind](r, tmp, size, seed)
            if verify:
                problems = verify_snapshot(tmp, model_id)
                if problems:
                    raise RuntimeError(f"stand-in {model_id} failed its check: " + "; ".join(problems))
            _write_json(tmp / MARKER_FILE, {
                "model_id": model_id, "size": size, "seed": seed, "revision": rev, "builder": BUILDER_VERSION,
                "note": "execblog stand-in: random weights from a config, NOT the real model's weights",
                "tokenizer_vocab": info["tokenizer_vocab"], "parameters": info["parameters"],
                "build_seconds": round(time.perf_counter() - t0, 2),
            })
            final = repo / "snapshots" / rev
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        # Old stand-in revisions are dead weight (real-download snapshots are never touched).
        for old in (repo / "snapshots").iterdir():
            if old.name != rev and not old.name.startswith(".") and read_marker(old) is not None:
                shutil.rmtree(old, ignore_errors=True)
        (repo / "refs").mkdir(exist_ok=True)
        ref_tmp = repo / "refs" / f".main.{os.getpid()}"
        ref_tmp.write_text(rev)
        os.replace(ref_tmp, repo / "refs" / "main")
        return final


def build_standins(model_ids: Iterable[str], home: str | os.PathLike, size: str = "tiny", *,
                   seed: int = DEFAULT_SEED, force: bool = False) -> dict[str, Path]:
    """build_standin for each id; returns id -> snapshot folder."""
    return {m: build_standin(m, home, size, seed=seed, force=force) for m in model_ids}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the libraries' progress bars and advice while building (the build is not a download)."""
    old = {k: os.environ.get(k) for k in ("HF_HUB_DISABLE_PROGRESS_BARS", "TOKENIZERS_PARALLELISM")}
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    try:
        from diffusers.utils import logging as dlog
        from transformers.utils import logging as tlog

        levels = (tlog.get_verbosity(), dlog.get_verbosity(), tlog.is_progress_bar_enabled(),
                  dlog.is_progress_bar_enabled())
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

# What each tokenizer must encode without <unk> and decode back (the posts' own inputs).
SAMPLE_TEXT = {
    "gpt2": "The quick brown fox jumps over the lazy dog.",
    "clip": "a galaxy far from earth",
    "rinna": "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。",
}
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
    if decoded.strip().lower() != sample.strip().lower():
        problems.append(f"tokenizer round trip changes the text: {decoded!r}")
    return problems


def load_tokenizer(snapshot: str | os.PathLike, model_id: str) -> Any:
    """Load a snapshot's tokenizer with the class the posts use."""
    r = _recipe(model_id)
    folder = Path(snapshot) / ("tokenizer" if r.kind == "sd" else "")
    if r.tokenizer == "rinna":
        from transformers import T5Tokenizer as cls
    elif r.tokenizer == "clip":
        from transformers import CLIPTokenizer as cls
    else:
        from transformers import GPT2Tokenizer as cls
    return cls.from_pretrained(str(folder))


def verify_snapshot(snapshot: str | os.PathLike, model_id: str) -> list[str]:
    """Problems with a built snapshot: missing required files, or a tokenizer that does not work."""
    snap = Path(snapshot)
    problems = [f"missing {f}" for f in missing_files(snap, model_id) if f != MARKER_FILE]
    if problems:
        return problems
    try:
        tok = load_tokenizer(snap, model_id)
    except Exception as exc:  # a broken file must be reported, not crash the caller
        return [f"tokenizer does not load: {type(exc).__name__}: {exc}"]
    return tokenizer_problems(tok, SAMPLE_TEXT[_recipe(model_id).tokenizer])


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
        description="Build offline stand-in models (random weights from configs) in the Hugging Face cache layout.",
    )
    p.add_argument("ids", nargs="*", help=f"model ids (default: all: {', '.join(RECIPES)})")
    p.add_argument("--size", choices=SIZES, default="tiny", help="tiny (default, seconds on CPU) or real")
    p.add_argument("--out", required=True, help="folder to use as HF_HOME")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = p.parse_args(argv)
    ids = args.ids or list(RECIPES)
    unknown = [m for m in ids if m not in RECIPES]
    if unknown:
        p.error(f"no stand-in recipe for {', '.join(unknown)} (known: {', '.join(RECIPES)})")
    for m in ids:
        t0 = time.perf_counter()
        fresh = not args.force and is_built(args.out, m, args.size, args.seed)
        snap = build_standin(m, args.out, args.size, seed=args.seed, force=args.force)
        size_mb = sum(f.stat().st_size for f in snap.rglob("*") if f.is_file()) / 1e6
        state = "up to date" if fresh else f"built in {time.perf_counter() - t0:.1f} s"
        print(f"{m}: {state}, {size_mb:.1f} MB ({snap})")
    print("\nTo use them:")
    for k, v in hf_env(args.out).items():
        print(f"  export {k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
