"""Each post's highlighted code blocks as its last conversion made them.

`HighlightMemo(folder, context).load(post)` gives {block digest: markup} for the
post (empty when missing, damaged or made in another `context`: the package, its
Pygments and the site's options); `save(post, blocks, earlier)` records the blocks
of this conversion when they differ from `earlier`. One small file per post, so a
build converting one edited post reads one file, and a post's file holds only the
blocks it has now. The converter (MarkdownRenderer.reusing) takes a block from it
instead of making a lexer again.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping
from pathlib import Path

import pygments

from execblog.fsutil import atomic_write, read_cache

_FORMAT = 1


class HighlightMemo:
    def __init__(self, folder: Path, context: str):
        self.folder = folder
        self.context = f"{_FORMAT}:{pygments.__version__}:{context}"

    def _path(self, post: str) -> Path:
        # a post's name may hold folders: the file is named by its digest, always inside `folder`
        return self.folder / (hashlib.sha256(post.encode()).hexdigest()[:32] + ".pickle")

    def load(self, post: str) -> dict[str, str]:
        found = read_cache(self._path(post))
        if not isinstance(found, dict) or found.get("context") != self.context:
            return {}
        blocks = found.get("blocks")
        return blocks if isinstance(blocks, dict) else {}

    def save(self, post: str, blocks: Mapping[str, str], earlier: Mapping[str, str]) -> None:
        if blocks == earlier:
            return
        data = {"context": self.context, "blocks": dict(blocks)}
        atomic_write(self._path(post), lambda f: pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL))
