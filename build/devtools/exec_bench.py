"""`make bench`, notebook part: what Papermill and a kernel add per post.

The same code runs as a plain script (`python post.py`, a fresh interpreter
per post) and as a post through `execute_posts` (a fresh kernel per post):
one post alone, a batch with -j 1 (the next kernel boots while a post runs)
and with -j 2, then a no-op rebuild where every post is fresh in the freeze.

    python -m execblog.devtools.exec_bench [--posts 8]
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="execblog-exec-bench-") as work:
        notebook_overhead(Path(work), args.posts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
