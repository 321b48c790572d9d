"""No-op rebuilds: a fingerprint of every input of the last successful build."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import SiteConfig
from .model import SourcePost
from .write import MANIFEST

if TYPE_CHECKING:
    from .pipeline import BuildOptions

CACHE_DIR = ".cache"


class InputStamp:
    """Fingerprint of every input of a build, to skip a build that would change nothing."""

    def __init__(self, site_dir: Path, config: SiteConfig, opts: BuildOptions):
        self.site_dir = site_dir
        self.path = site_dir / CACHE_DIR / "last-build.json"
        self.opts = opts
        self.config = config

    def _digest(self, extra_inputs: list[str]) -> str:
        h = hashlib.sha256()
        h.update(__version__.encode())
        o = self.opts
        h.update(repr((o.drafts, o.future, o.base_url, o.search_index, o.live_reload_script, o.execute, o.profile,
                       sorted(o.parameters.items()), sorted(o.only_posts), o.force, o.shard,
                       str(o.out_dir.resolve()))).encode())
        roots = [self.site_dir / "site_config.yaml", self.site_dir / "posts", self.site_dir / "theme",
                 self.site_dir / self.config.execution.freeze_dir]
        roots += [self.site_dir / p for p in extra_inputs]
        for root in roots:
            if root.is_file():
                files = [root]
            elif root.is_dir():
                files = sorted(p for p in root.rglob("*") if p.is_file())
            else:
                h.update(f"missing:{root}".encode())
                continue
            for f in files:
                st = f.stat()
                h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()

    def unchanged(self, out_dir: Path) -> bool:
        if self.opts.force or not (out_dir / MANIFEST).is_file():
            return False
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if saved.get("valid_until") and datetime.now(timezone.utc).timestamp() >= saved["valid_until"]:
            return False  # a future-dated post has become due
        return saved.get("digest") == self._digest(saved.get("extra_inputs", []))

    def save(self, posts: list[SourcePost], valid_until: float | None) -> None:
        """Record the inputs of a successful build; `valid_until` is when the
        next future-dated post becomes due (the build is stale from then on)."""
        extra = sorted({str((p.source_dir / i).resolve().relative_to(self.site_dir))
                        for p in posts for i in _declared_inputs(p)
                        if (p.source_dir / i).resolve().is_relative_to(self.site_dir)})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"digest": self._digest(extra), "extra_inputs": extra,
                                   "valid_until": valid_until}), encoding="utf-8")
        os.replace(tmp, self.path)


def _declared_inputs(post: SourcePost) -> list[str]:
    inputs = post.params.get("inputs") or []
    return [str(i) for i in inputs] if isinstance(inputs, list) else []
