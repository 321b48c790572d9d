"""Spreading post execution over several runners, and merging their freezes.

`assign` is pure: every shard job computes the same partition from the same
checkout (names and last recorded durations), so no coordinator is needed.

`merge_freezes` folds the entries that shard jobs uploaded into the freeze.
Each shard uploads its whole `_freeze/`: the entries it executed and unchanged
copies of all the others. download-artifact puts each artifact in a folder of
its own, so the merge reads shard by shard and, per post, prefers the entry a
shard executed in this run (its meta differs from the checkout's) over the
unchanged copies. Every entry is checked (only the files an entry holds, no
links, images that hash to their names, no secret: an artifact is data)
before any is swapped in, so a bad artifact changes nothing; each entry is
then swapped in, all or none (FreezeStore.install_copies).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from execblog.errors import BuildError
from execblog.execution.freeze import META_FILE, NOTEBOOK_FILE, FreezeStore, entry_folder
from execblog.execution.redact import scan_for_secrets
from execblog.fsutil import inside
from execblog.notebook.files import FILE_MIMETYPES, ref_file

DEFAULT_SECONDS = 60.0  # a post never run yet is assumed to take this long


def assign(durations: Mapping[str, float | None], shards: int) -> dict[str, int]:
    """Post name -> shard (1-based). Longest posts first, each to the least
    loaded shard (ties: lowest number), so shards finish at similar times."""
    load = [0.0] * shards
    out: dict[str, int] = {}
    for name in sorted(durations, key=lambda n: (-(durations[n] or DEFAULT_SECONDS), n)):
        shard = min(range(shards), key=lambda i: (load[i], i))
        out[name] = shard + 1
        load[shard] += durations[name] or DEFAULT_SECONDS
    return out


def _is_entry(folder: Path) -> bool:
    return (folder / META_FILE).is_file() and (folder / NOTEBOOK_FILE).is_file() and not folder.name.startswith(".")


def _freeze_root(folder: Path) -> Path | None:
    """The folder holding one shard's entries: the artifact itself
    (<artifact>/<post>/) or its `_freeze/` (<artifact>/_freeze/<post>/)."""
    for candidate in (folder, folder / "_freeze"):
        if candidate.is_dir() and not candidate.is_symlink() and any(_is_entry(c) for c in candidate.iterdir()):
            return candidate
    return None


def shard_folders(source: Path) -> list[Path]:
    """The shards' freeze folders under `source`: the source itself if it is
    one shard's artifact, else each of its subfolders that is (download-artifact
    with a pattern and no merge-multiple: one folder per artifact)."""
    root = _freeze_root(source)
    if root is not None:
        return [root]
    found = []
    for child in sorted(source.iterdir()):
        if child.is_dir() and not child.is_symlink():
            root = _freeze_root(child)
            if root is not None:
                found.append(root)
    return found


def _entries(root: Path) -> dict[str, Path]:
    return {
        child.name: child
        for child in sorted(root.iterdir())
        if child.is_dir() and not child.is_symlink() and _is_entry(child)
    }


def _meta(entry: Path) -> dict:
    try:
        return json.loads((entry / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


_MIME_OF_EXT = {row.extension: mime for mime, row in FILE_MIMETYPES.items()}


def _check_entry(entry: Path, source: Path) -> None:
    """An uploaded entry is data from a CI job: only the files a freeze entry
    holds, no link out of the artifact, image files that hash to their names."""
    hint = "upload the shard's freeze as the build wrote it (the publish workflow's shard job does)"
    inside(entry, source, "the shard artifact folder", hint=hint)
    for path in sorted(entry.rglob("*")):
        inside(path, source, "the shard artifact file", hint=hint)
        if path.name in (META_FILE, NOTEBOOK_FILE) and path.parent == entry:
            continue
        mime = _MIME_OF_EXT.get(path.suffix)
        if path.parent != entry or not path.is_file() or mime is None:
            raise BuildError(f"{path} is not a file a freeze entry holds", path, hint=hint)
        ref_file(entry, path.name, mime)


def merge_freezes(sources: list[Path], freeze_dir: Path, secrets: Mapping[str, str] | None = None) -> list[str]:
    """Copy into `freeze_dir` every entry a shard executed in this run (its
    meta differs from the entry there). Returns the merged post names. Two
    shards bringing different new results for the same post is an error, and
    so is an entry holding one of `secrets` or a token shape (nothing is
    merged then)."""
    incoming: dict[str, tuple[Path, str | None]] = {}
    for root in [root for source in sources for root in shard_folders(source)]:
        for name, entry in _entries(root).items():
            _check_entry(entry, root)
            meta = _meta(entry)
            current = entry_folder(freeze_dir, name)
            if _is_entry(current) and _meta(current) == meta:
                continue  # this shard's unchanged copy of the checked-out entry
            key = meta.get("key")
            if name in incoming and incoming[name][1] != key:
                raise BuildError(
                    f"two shards executed `{name}` with different results",
                    entry,
                    hint="make sure every shard job runs the same commit and SHARD=i/n total",
                )
            incoming.setdefault(name, (entry, key))
    for name, (entry, _key) in sorted(incoming.items()):
        findings = scan_for_secrets([entry], secrets or {})
        if findings:
            raise BuildError(
                f"the shard entry `{name}` holds a secret: {findings[0]}",
                entry,
                hint="nothing was merged; run the post again after removing the secret from its outputs",
            )
    store = FreezeStore(freeze_dir, freeze_dir.parent / ".execblog" / "failed")
    store.install_copies({name: entry for name, (entry, _key) in sorted(incoming.items())})
    return sorted(incoming)
