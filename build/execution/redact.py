"""Secret redaction for everything a run produces, and the final leak scan.

Before a notebook is frozen, saved as a failed run, or shown in an error
message, every string in it goes through a `Redactor`:

* the values of secret environment variables (a name containing TOKEN, KEY,
  SECRET or PASSWORD, plus a configurable list) become `[REDACTED:NAME]`;
* well-known token shapes (Hugging Face `hf_`, GitHub `ghp_`/`github_pat_`,
  OpenAI-style `sk-`, AWS `AKIA`, Slack `xox?-`, Google `AIza`) become
  `[REDACTED:kind]`, whether or not they came from the environment;
* the home directory becomes `~` (it names the machine's user).

`scan_for_secrets()` is the last line of defence: it reads the built site and
the freeze as bytes and reports any secret value or token shape still there.
Findings never include the secret itself.

Everything here is pure except `scan_for_secrets`, which only reads files.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "[REDACTED:{}]"
SECRET_NAME_PARTS = ("TOKEN", "KEY", "SECRET", "PASSWORD")
# Short or common values would turn every "true" in an output into a marker.
MIN_SECRET_LENGTH = 6
_NOT_SECRET_VALUES = frozenset({"true", "false", "none", "null", "enabled", "disabled"})

# (kind, pattern). Boundaries keep ordinary words ("task-list-…") from matching.
TOKEN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("hf-token", r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}"),
    ("github-token", r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,}"),
    ("github-token", r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}"),
    ("api-key", r"(?<![A-Za-z0-9_-])sk-(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}"),
    ("aws-key", r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])"),
    ("slack-token", r"(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,}"),
    ("google-api-key", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}"),
)
_TOKEN_RE = [(kind, re.compile(p)) for kind, p in TOKEN_PATTERNS]
# The literal each shape starts with: a file is searched with a pattern only
# when one of its literals occurs (a fast substring test), which keeps the
# final scan of a thousand-page site well under a second.
_ANCHORS: tuple[tuple[bytes, ...], ...] = (
    (b"hf_",), (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"), (b"github_pat_",), (b"sk-",), (b"AKIA", b"ASIA"),
    (b"xox",), (b"AIza",),
)
_TOKEN_RE_BYTES = [(kind, re.compile(p.encode()), anchors)
                   for (kind, p), anchors in zip(TOKEN_PATTERNS, _ANCHORS, strict=True)]

# Notebook keys whose string values are base64 image data: redacting inside
# them could only corrupt the image (the final scan still reads the files).
_BINARY_MIMETYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})


def is_secret_name(name: str, extra_names: Iterable[str] = ()) -> bool:
    upper = name.upper()
    return any(part in upper for part in SECRET_NAME_PARTS) or name in set(extra_names)


def secret_env_values(environ: Mapping[str, str], extra_names: Iterable[str] = ()) -> dict[str, str]:
    """The secret variables of an environment: name -> value."""
    extra = set(extra_names)
    return {
        name: value
        for name, value in environ.items()
        if is_secret_name(name, extra)
        and len(value.strip()) >= MIN_SECRET_LENGTH
        and value.strip().lower() not in _NOT_SECRET_VALUES
    }


class Redactor:
    """Replaces secrets in text and in notebook-shaped JSON."""

    def __init__(
        self, secrets: Mapping[str, str] | None = None, home: str | None = None, *, patterns: bool = True
    ):
        self.secrets = dict(secrets or {})  # name -> value
        self.home = home
        self.patterns = patterns
        # Longest values first: one secret may contain another.
        self._pairs = sorted(
            ((v, n) for n, v in self.secrets.items() if v), key=lambda p: len(p[0]), reverse=True
        )
        home = (home or "").rstrip("/")
        # Only whole path components: "/home/ann" must not eat "/home/anna".
        self._home_re = re.compile(re.escape(home) + r"(?![\w.-])") if len(home) > 1 else None

    def text(self, value: str) -> str:
        for secret, name in self._pairs:
            if secret in value:
                value = value.replace(secret, MARKER.format(name))
        if self.patterns:
            for kind, pattern in _TOKEN_RE:
                value = pattern.sub(MARKER.format(kind), value)
        if self._home_re is not None:
            value = self._home_re.sub("~", value)
        return value

    def json(self, value: Any, _key: str | None = None) -> Any:
        """A copy of a JSON-like value (dicts, lists, strings) with every string
        redacted; dict subclasses such as nbformat's NotebookNode are kept."""
        if isinstance(value, str):
            return value if _key in _BINARY_MIMETYPES else self.text(value)
        if isinstance(value, dict):  # NotebookNode is a dict subclass: keep its type
            return type(value)((k, self.json(v, k)) for k, v in value.items())
        if isinstance(value, Mapping):
            return {k: self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            if _key not in _BINARY_MIMETYPES and _is_split_text(value):
                # nbformat on disk splits text into lines; a secret may span them.
                return _split_lines(self.text("".join(value)))
            return [self.json(v, _key) for v in value]
        return value

    notebook = json  # the same walk; named for readability at call sites

    def found_in(self, value: str) -> list[str]:
        """Names/kinds of the secrets present in `value` (for tests and checks)."""
        found = [name for secret, name in self._pairs if secret in value]
        if self.patterns:
            found += [kind for kind, pattern in _TOKEN_RE if pattern.search(value)]
        return found


def _is_split_text(value: list) -> bool:
    return len(value) > 1 and all(isinstance(v, str) for v in value) and all(
        v.endswith("\n") for v in value[:-1]
    )


def _split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


# --- final scan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SecretFinding:
    path: Path
    line: int
    what: str  # the variable name or token kind, never the value

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} is present"


def scan_for_secrets(
    paths: Iterable[Path], secrets: Mapping[str, str], *, patterns: bool = True
) -> list[SecretFinding]:
    """Every place under `paths` (files or folders, walked recursively) where a
    secret value, its JSON- or HTML-escaped form, or a token shape occurs."""
    needles: list[tuple[bytes, str]] = []
    for name, value in secrets.items():
        if not value:
            continue
        forms = {value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1],
                 html.escape(value), html.escape(value, quote=False)}
        needles += [(form.encode("utf-8"), name) for form in forms if form]
    findings: list[SecretFinding] = []
    for file in _files(paths):
        try:
            data = file.read_bytes()
        except OSError:
            continue
        for needle, name in needles:
            start = data.find(needle)
            if start >= 0:
                findings.append(SecretFinding(file, data.count(b"\n", 0, start) + 1, name))
        if patterns:
            for kind, pattern, anchors in _TOKEN_RE_BYTES:
                if not any(anchor in data for anchor in anchors):
                    continue
                match = pattern.search(data)
                if match:
                    line = data.count(b"\n", 0, match.start()) + 1
                    findings.append(SecretFinding(file, line, f"a {kind}-shaped string"))
    return sorted(set(findings), key=lambda f: (str(f.path), f.line, f.what))


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        path = Path(path)
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
