"""No-op rebuilds: a fingerprint of every input of the last successful build."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from execblog import __version__
from execblog.config import LAYOUTS_DIR, SiteConfig
from execblog.content.read import declared_inputs
from execblog.execution.secret_env import secret_env_values, secrets_digest
from execblog.fsutil import atomic_write, files_under
from execblog.output.write import MANIFEST
from execblog.records import BuildOptions, SourcePost, output_options

CACHE_DIR = ".cache"


@functools.cache
def package_fingerprint() -> str:
    """The pipeline's own code: a changed execblog rebuilds everything. Taken once per
    process: a long-running one (`serve`) runs the code it loaded, whatever is on disk later."""
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    # Every subpackage's code and data (the stand-ins' tokenizer corpora are .txt).
    for f in sorted(f for f in package.rglob("*") if f.suffix in (".py", ".txt")):
        st = f.stat()
        h.update(f"{f.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _model_cache_files() -> list[Path]:
    """What says which real models are in the Hugging Face cache (`make models`
    adds to it): a model that appears there can change what a post runs on."""
    from execblog.models.resolve import default_hf_cache

    hub = default_hf_cache()
    return sorted(hub.glob("models--*/refs/main")) if hub.is_dir() else []


class InputStamp:
    """Fingerprint of every input of a build, to skip a build that would change nothing.

    The fingerprint is taken before the build reads anything, so an edit made
    while it runs is never mistaken for something it already built."""

    def __init__(self, site_dir: Path, config: SiteConfig, opts: BuildOptions):
        self.site_dir = site_dir
        self.path = site_dir / CACHE_DIR / "last-build.json"
        self.opts = opts
        self.config = config
        try:
            self.saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.saved = {}
        self.extra_inputs: list[str] = self.saved.get("extra_inputs", [])
        # The secrets the build is told about, salted and hashed (never stored as they are): the
        # last site was checked for those; a new or changed one makes the build scan again.
        try:
            self.salt = bytes.fromhex(self.saved.get("salt", "")) or os.urandom(16)
        except (TypeError, ValueError):  # a damaged stamp: a new salt, so no match
            self.salt = os.urandom(16)
        told = secret_env_values(os.environ, config.execution.secret_env)
        self.secrets = secrets_digest(told, self.salt)
        self._seen: dict[str, str] = {}  # file -> its line in the digest, as the build found it
        self._seen_all = False
        self.digest = self._digest(self.extra_inputs)

    def _digest(self, extra_inputs: list[str], rewritten: tuple[Path, ...] = ()) -> str:
        """The fingerprint of the inputs; a file is taken as the build found it at its start,
        except under `rewritten` (what the build itself wrote: its new freeze entries)."""
        h = hashlib.sha256(package_fingerprint().encode())
        h.update(repr([(name, _canonical(value)) for name, value in output_options(self.opts).items()]).encode())
        roots = [
            self.site_dir / "site_config.yaml",
            self.site_dir / "posts",
            self.site_dir / "theme",
            self.site_dir / LAYOUTS_DIR,
            self.site_dir / self.config.execution.freeze_dir,
        ]
        roots += [self.site_dir / p for p in extra_inputs]
        roots += _model_cache_files()
        # plain strings: a no-op build's time is mostly this walk
        rewritten_at = tuple(str(r) for r in rewritten)
        fresh_at = (*rewritten_at, *(str(self.site_dir / p) for p in extra_inputs if p not in self.extra_inputs))
        for root in map(str, roots):
            files = files_under(root)
            if files is None:
                h.update(f"missing:{root}".encode())
                continue
            for f, st in files:
                line = f"{f}:{st.st_size}:{st.st_mtime_ns}\n"
                if f in self._seen and not _under(f, rewritten_at):
                    line = self._seen[f]  # changed while the build ran: stays out of date
                elif not self._seen_all or _under(f, fresh_at):
                    self._seen[f] = line  # the start, an input first declared by this build, or one it wrote
                else:
                    line = f"{f}:new\n"  # added while the build ran
                h.update(line.encode())
        self._seen_all = True
        return h.hexdigest()

    def unchanged(self, out_dir: Path) -> bool:
        if self.opts.force or not (out_dir / MANIFEST).is_file() or not self.saved:
            return False
        valid_until = self.saved.get("valid_until")
        if valid_until and datetime.now(UTC).timestamp() >= valid_until:
            return False  # a future-dated post has become due
        return self.saved.get("digest") == self.digest and self.saved.get("secrets") == self.secrets

    def declared(self, posts: list[SourcePost]) -> list[str]:
        """The files the posts declare as their inputs, as `save` records them."""
        return sorted(
            {
                str(path.relative_to(self.site_dir))
                for p in posts
                for path in _declared_inputs(p)
                if path.is_relative_to(self.site_dir)
            }
        )

    def save(self, extra: list[str], valid_until: float | None, rewritten: tuple[Path, ...] = ()) -> None:
        """Record the inputs of a successful build: `extra`, the posts' `declared` inputs;
        `valid_until`, when the next future-dated post becomes due (the build is stale from then
        on); `rewritten`: the freeze entries this build wrote, taken as they are now, so a publish
        after one that executed is a no-op."""
        # inputs first declared in this build: fingerprint them now (else the start's)
        same = extra == self.extra_inputs and not rewritten
        digest = self.digest if same else self._digest(extra, rewritten)
        saved = {"digest": digest, "extra_inputs": extra, "valid_until": valid_until}
        atomic_write(self.path, json.dumps({**saved, "salt": self.salt.hex(), "secrets": self.secrets}))


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def _canonical(value: Any) -> Any:
    """An option's value as the same build always spells it (paths resolved, no order in sets and dicts)."""
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, Mapping):
        return sorted((str(k), _canonical(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    return value


def _declared_inputs(post: SourcePost) -> list[Path]:
    return [file.resolve() for _entry, files in declared_inputs(post) for file in files]
