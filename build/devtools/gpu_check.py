"""`make gpu-check`: the example posts on a machine with an NVIDIA GPU and no network.

Builds the stand-in models at the real architectures' sizes (GPT-2 small, rinna
GPT-2 medium, Stable Diffusion v1 UNet/VAE/text encoder; random weights from
configs), executes every example post through the real pipeline with them in
fp16 on CUDA, and prints per post: wall time, time spent in the kernel's cells
versus the pipeline's own overhead (kernel start, papermill, saving), and the
peak GPU memory. Meant to finish in a few minutes on one modern GPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from execblog.execution.devices import cuda_status

PROFILE = """
default_profile: gpu-check
profiles:
  gpu-check:
    models: offline
    standin_size: {size}
    env: {{HF_HUB_OFFLINE: "1"}}
    parameters: {{device: {device}, dtype: {dtype}}}
"""


def _site_copy(source: Path, work: Path, size: str, device: str) -> Path:
    site = work / "site"
    site.mkdir(parents=True)
    shutil.copytree(source / "posts", site / "posts")
    shutil.copytree(source / "theme", site / "theme")
    config = (source / "site_config.yaml").read_text(encoding="utf-8")
    # the check's own profile replaces the site's profiles
    config = config.split("\ndefault_profile:")[0]
    dtype = "float16" if device == "cuda" else "float32"
    (site / "site_config.yaml").write_text(
        config + PROFILE.format(size=size, device=device, dtype=dtype), encoding="utf-8"
    )
    return site


def _gib(n: int | None) -> str:
    return f"{n / 2**30:.2f} GiB" if n else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--source", type=Path, default=Path("."), help="the site whose posts are checked")
    parser.add_argument("--size", choices=("real", "tiny"), default="real")
    parser.add_argument(
        "--allow-cpu", action="store_true", help="run on the CPU when there is no GPU (to test this script)"
    )
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    args = parser.parse_args(argv)

    cuda = cuda_status()
    if not cuda.available and not args.allow_cpu:
        print(f"error: gpu-check needs an NVIDIA GPU with CUDA; {cuda.detail}", file=sys.stderr)
        return 2
    device = "cuda" if cuda.available else "cpu"
    print(f"device: {cuda.detail if cuda.available else 'CPU (no CUDA: ' + cuda.detail + ')'}", file=sys.stderr)
    work = args.keep or Path(tempfile.mkdtemp(prefix="execblog-gpu-check-"))
    started = time.perf_counter()
    try:
        from execblog.config import load_config
        from execblog.content.readers import read_posts
        from execblog.models.resolve import resolve_models
        from execblog.models.standins import site_recipes
        from execblog.pipeline import BuildOptions, build_site

        site = _site_copy(args.source.resolve(), work, args.size, device)
        config = load_config(site)
        posts = read_posts(site / "posts", config.zone, config.author, config.taxonomies.values())
        ids = sorted({m for p in posts for m in p.run.models})
        t0 = time.perf_counter()
        resolve_models(
            ids,
            "offline",
            site / config.execution.standins_dir,
            recipes=site_recipes(config),
            bundled=config.bundled_models,
            size=args.size,
        )
        build_models = time.perf_counter() - t0
        print(f"stand-ins ({args.size}) for {len(ids)} model ids built in {build_models:.1f} s", file=sys.stderr)
        t0 = time.perf_counter()
        result = build_site(BuildOptions(site_dir=site, out_dir=site / "public", search_index=False))
        build_total = time.perf_counter() - t0
        rows = []
        for post in posts:
            meta_path = site / config.execution.freeze_dir / post.name / "meta.json"
            if not meta_path.is_file():
                continue
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            wall = float(meta.get("duration_s") or 0)
            cells = sum(float(v) for v in (meta.get("cells") or {}).values())
            device_info = (meta.get("provenance") or {}).get("device") or {}
            rows.append((post.name, wall, cells, wall - cells, device_info.get("memory_peak_bytes")))
        print(f"\n{'post':26} {'wall':>8} {'in cells':>9} {'overhead':>9} {'GPU peak':>10}")
        for name, wall, cells, overhead, peak in rows:
            print(f"{name:26} {wall:7.1f}s {cells:8.1f}s {overhead:8.1f}s {_gib(peak):>10}")
        print(
            f"\nstand-in build {build_models:.1f} s, site build {build_total:.1f} s "
            f"({len(result.executed)} posts executed), total {time.perf_counter() - started:.1f} s"
        )
        return 1 if result.failures else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
