"""Spreading post execution over several runners, and merging their freezes.

`assign` is pure: every shard job computes the same partition from the same
checkout (names and last recorded durations), so no coordinator is needed.
`merge_freezes` folds the entries that shard jobs uploaded into the freeze,
refusing any that holds a secret (the freeze is committed).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Mapping

from execblog.errors import BuildError
from execblog.execution.freeze import IMAGE_MIMETYPES, META_FILE, NOTEBOOK_FILE, entry_folder, ref_file
from execblog.fsutil import inside
from execblog.execution.redact import scan_for_secrets

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


def _entries(folder: Path) -> dict[str, Path]:
    """Freeze entries under an artifact folder (at any depth: artifacts may be
    unpacked as <artifact>/<post>/ or <artifact>/_freeze/<post>/)."""
    found: dict[str, Path] = {}
    for meta in sorted(folder.rglob(META_FILE)):
        entry = meta.parent
        if (entry / NOTEBOOK_FILE).is_file() and not entry.name.startswith("."):
            found.setdefault(entry.name, entry)
    return found


def _meta(entry: Path) -> dict:
    try:
        return json.loads((entry / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


_MIME_OF_EXT = {ext: mime for mime, (ext, _) in IMAGE_MIMETYPES.items()}


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
    """Copy into `freeze_dir` every entry whose key differs from the one there.
    Two shards bringing different new results for the same post is an error,
    and so is an entry holding one of `secrets` or a token shape (nothing is
    merged then)."""
    incoming: dict[str, tuple[Path, str | None]] = {}
    for source in sources:
        for name, entry in _entries(source).items():
            _check_entry(entry, source)
            key = _meta(entry).get("key")
            current = entry_folder(freeze_dir, name)
            if current.is_dir() and _meta(current).get("key") == key:
                continue  # the shard's untouched copy of the checked-out entry
            if name in incoming and incoming[name][1] != key:
                raise BuildError(f"two shards executed `{name}` with different results",
                                 entry, hint="make sure every shard job runs the same commit and SHARD=i/n total")
            incoming[name] = (entry, key)
    for name, (entry, _key) in sorted(incoming.items()):
        findings = scan_for_secrets([entry], secrets or {})
        if findings:
            raise BuildError(f"the shard entry `{name}` holds a secret: {findings[0]}", entry,
                             hint="nothing was merged; run the post again after removing the secret from its outputs")
    for name, (entry, _key) in sorted(incoming.items()):
        target = entry_folder(freeze_dir, name)
        tmp = freeze_dir / f".{name}.merge"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(entry, tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    return sorted(incoming)
