"""Stage 5: write the site, atomically.

The new site is assembled in a staging folder beside the output folder; files
whose bytes did not change are hard-linked from the previous site (cheap), the
rest are written. Only when everything succeeded is the staging folder swapped
in, so a failed build never destroys the last good site.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from pathlib import Path

MANIFEST = ".execblog-manifest.json"  # path -> sha256 of what the last build wrote


class SiteWriter:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir.resolve()
        self.stage = self.out_dir.parent / f".{self.out_dir.name}.staging-{uuid.uuid4().hex[:8]}"
        self.previous: dict[str, str] = {}
        manifest = self.out_dir / MANIFEST
        if manifest.is_file():
            try:
                self.previous = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.previous = {}
        self.written: dict[str, str] = {}
        self.reused = 0
        self.stage.mkdir(parents=True)
        # The site replaced by the last build is deleted while this one works:
        # removing thousands of folders is slow on some file systems.
        trash = sorted(self.out_dir.parent.glob(f".{self.out_dir.name}.old-*"))
        self._cleaner = threading.Thread(target=lambda: [shutil.rmtree(t, ignore_errors=True) for t in trash],
                                         daemon=True)
        self._cleaner.start()

    def write_bytes(self, rel: str, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        self._place(rel, digest, lambda target: target.write_bytes(data))

    def write_text(self, rel: str, text: str) -> None:
        self.write_bytes(rel, text.encode("utf-8"))

    def copy_file(self, rel: str, source: Path) -> None:
        data = source.read_bytes()
        self.write_bytes(rel, data)

    def _place(self, rel: str, digest: str, write) -> None:
        rel = rel.lstrip("/")
        if rel in self.written:
            if self.written[rel] != digest:
                raise ValueError(f"two different files would be written to {rel}")
            return
        target = self.stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        old = self.out_dir / rel
        if self.previous.get(rel) == digest and old.is_file():
            try:
                os.link(old, target)
                self.reused += 1
                self.written[rel] = digest
                return
            except OSError:
                pass
        write(target)
        self.written[rel] = digest

    def adopt_tree(self, rel_dir: str) -> None:
        """Record files that a tool (e.g. the search indexer) wrote into the stage."""
        root = self.stage / rel_dir
        for path in root.rglob("*"):
            if path.is_file():
                rel = path.relative_to(self.stage).as_posix()
                self.written[rel] = hashlib.sha256(path.read_bytes()).hexdigest()

    def commit(self) -> None:
        """Swap the staged site in. The previous one is left as `.<out>.old-*`
        and removed in the background by the next build."""
        (self.stage / MANIFEST).write_text(json.dumps(self.written, sort_keys=True, indent=0), encoding="utf-8")
        if self.out_dir.exists():
            os.rename(self.out_dir, self.out_dir.parent / f".{self.out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(self.stage, self.out_dir)
        self._cleaner.join()

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)
        self._cleaner.join()
