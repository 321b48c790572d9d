"""`make bench`, notebook part: what Papermill and a kernel add per post.

The same code runs as a plain script (`python post.py`, a fresh interpreter
per post) and as a post through `execute_posts` (a fresh kernel per post):
one post alone, a batch with -j 1 (the next kernel boots while a post runs)
and with -j 2, then a no-op rebuild where every post is fresh in the freeze.

`code_edit_in_serve` times a code edit in `serve` on the example GPT-2 post
(offline profile, stand-in model): from the save to the page on disk, with a
cold kernel (`serve --no-warm`) and with a spare kernel that ran the imports.

    python -m execblog.devtools.exec_bench [--posts 8] [--code-edit SITE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

HEADER = """---
title: Bench {i}
date: 2024-01-01
jupyter:
  kernelspec: {{name: execblog, display_name: execblog, language: python}}
---

Prose before the code.

"""
CELLS = (
    "import json\nimport math",
    "values = [math.sqrt(k) for k in range(20000 + {i})]\nprint(round(sum(values), 3))",
    "print(json.dumps({{'post': {i}, 'n': len(values)}}))",
)


def _write_posts(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        cells = [cell.format(i=i) for cell in CELLS]
        text = HEADER.format(i=i) + "".join(f"```python\n{cell}\n```\n\n" for cell in cells)
        path = folder / f"bench-{i}.md"
        path.write_text(text, encoding="utf-8")
        (folder / f"bench-{i}.py").write_text("\n\n".join(cells) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _read(paths: list[Path]) -> list:
    from zoneinfo import ZoneInfo

    from execblog.content.read import read_post

    return [read_post(path, ZoneInfo("UTC")) for path in paths]


def notebook_overhead(work: Path, posts: int = 8, out: TextIO | None = None) -> dict[str, float]:
    """Measure, print and return seconds (see the module docstring)."""
    from execblog.execution.execute import ExecutionSettings, execute_posts
    from execblog.execution.kernel import install_kernelspec

    out = out or sys.stdout
    install_kernelspec()
    site = Path(work) / "exec-bench"
    paths = _write_posts(site / "posts", posts)
    loaded = _read(paths)

    t0 = time.perf_counter()
    for path in paths:
        subprocess.run(
            [sys.executable, path.with_suffix(".py").name], cwd=path.parent, check=True, stdout=subprocess.DEVNULL
        )
    script = (time.perf_counter() - t0) / posts

    def build(selection: list, jobs: int, force: bool = True) -> float:
        settings = ExecutionSettings(
            site_dir=site, jobs=jobs, progress=False, force_posts="all" if force else frozenset()
        )
        t = time.perf_counter()
        report = execute_posts(selection, settings)
        if report.failures:
            raise RuntimeError(report.failures[0].message())
        return time.perf_counter() - t

    build(loaded[:1], 1)  # warm the OS caches (imports, fonts) once, as a real build would be
    single = build(loaded[:1], 1)
    batch1 = build(loaded, 1) / posts
    batch2 = build(loaded, 2) / posts
    noop = build(loaded, 1, force=False)

    rows = [
        ("plain script (python post.py)", script, "per post"),
        ("through Papermill, one post alone", single, "per post"),
        ("through Papermill, batch -j 1", batch1, "per post"),
        ("through Papermill, batch -j 2", batch2, "per post"),
        (f"no-op rebuild, {posts} frozen posts", noop, "total"),
    ]
    print(f"\nnotebook overhead ({posts} small posts, 3 code cells each):", file=out)
    for name, seconds, unit in rows:
        extra = f"   (+{seconds - script:.2f} s over the script)" if "Papermill" in name else ""
        print(f"  {name:36} {seconds:6.2f} s {unit}{extra}", file=out)
    return {"script": script, "single": single, "batch_j1": batch1, "batch_j2": batch2, "noop": noop}


# One `serve` process: its first build, then code edits of the post's last cell, each timed from the save
# to the page on disk (the reload follows at once). Warm: the next edit comes once the new spare is ready.
_CODE_EDITS = """
import json, sys, time
from pathlib import Path
from execblog.commands.serve import RELOAD_SCRIPT, WARM_KERNELS
from execblog.execution.warm import close_shared_pool, shared_pool
from execblog.pipeline import BuildOptions, build_site
site, out, repeat, warm = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "warm"
post, line = site / "posts" / f"{sys.argv[5]}.md", sys.argv[6]
opts = BuildOptions(site_dir=site, out_dir=out, drafts=True, future=True, base_url="http://127.0.0.1:1313/",
                    live_reload_script=RELOAD_SCRIPT, resident=True, quiet=True, profile="offline",
                    warm_kernels=WARM_KERNELS if warm else 0)
build_site(opts)
for k in range(repeat):
    if warm:
        shared_pool(WARM_KERNELS).wait(600)
    text = post.read_text(encoding="utf-8")
    post.write_text(text.replace(line, f"{line}  # edit {k}", 1), encoding="utf-8")
    start = time.perf_counter()
    build_site(opts)
    seconds = time.perf_counter() - start
    meta = json.loads((site / "_freeze" / post.stem / "meta.json").read_text())
    print(json.dumps({"seconds": seconds, "cells": sum(meta["cells"].values())}), flush=True)
close_shared_pool()
"""
EDITED_POST = ("attention-gpt2", "head_idx = head")


def code_edit_in_serve(work: Path, site: Path, repeat: int = 3, out: TextIO | None = None) -> dict[str, float]:
    """Print and return the code-edit-to-page seconds, cold and warm, and the post's own cell time."""
    out = out or sys.stdout
    copy = Path(work) / "code-edit"
    (copy / "posts").mkdir(parents=True, exist_ok=True)
    name, line = EDITED_POST
    shutil.copy2(site / "posts" / f"{name}.md", copy / "posts")
    shutil.copy2(site / "site_config.yaml", copy)
    shutil.copytree(site / "theme", copy / "theme")
    if (site / ".cache" / "standins").is_dir():  # stand-ins built before (they are built on first use otherwise)
        shutil.copytree(site / ".cache" / "standins", copy / ".cache" / "standins")
    results: dict[str, list[dict[str, float]]] = {}
    for mode in ("cold", "warm"):
        shutil.rmtree(copy / "_freeze", ignore_errors=True)
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _CODE_EDITS,
                str(copy),
                str(Path(work) / f"code-edit-{mode}"),
                str(repeat + 1),
                mode,
                name,
                line,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"code-edit measurement failed:\n{proc.stderr}")
        results[mode] = [json.loads(row) for row in proc.stdout.split("\n") if row.startswith("{")][1:]
    cold = min(r["seconds"] for r in results["cold"])
    warm = min(r["seconds"] for r in results["warm"])
    cells_cold = min(r["cells"] for r in results["cold"])
    cells_warm = min(r["cells"] for r in results["warm"])
    print(f"\ncode edit in serve ({name}, offline stand-ins, best of {repeat}), save to page on disk:", file=out)
    print(f"  cold kernel (serve --no-warm)  {cold:6.2f} s   post's cells {cells_cold:5.2f} s", file=out)
    print(f"  spare kernel, imports run      {warm:6.2f} s   post's cells {cells_warm:5.2f} s", file=out)
    print(
        f"  warm / cold: {warm / cold:.2f}x; target warm <= post's cells + 1 s: {warm:.2f} s <= "
        f"{cells_warm + 1:.2f} s ({warm / (cells_warm + 1):.2f}x)",
        file=out,
    )
    return {"cold": cold, "warm": warm, "cells_cold": cells_cold, "cells_warm": cells_warm}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=8)
    parser.add_argument("--code-edit", type=Path, metavar="SITE", help="only the code edit in serve, on SITE's post")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="execblog-exec-bench-") as work:
        if args.code_edit:
            code_edit_in_serve(Path(work), args.code_edit)
        else:
            notebook_overhead(Path(work), args.posts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
