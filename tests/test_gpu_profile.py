"""PROFILE=gpu is strict, and `make gpu-check` refuses to pretend: on a machine
without CUDA both stop with a message naming what was found."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

KERNEL = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"


def test_gpu_profile_refuses_to_run_without_cuda(site):
    site.config(
        (site.root / "site_config.yaml").read_text()
        + "profiles:\n  gpu:\n    models: real\n    strict: true\n    parameters: {device: cuda}\n"
    )
    site.post("nb.md", "title: NB\ndate: 2025-01-01\n" + KERNEL, "```python\nprint(1)\n```\n")
    site.post("plain.md", "title: Plain\ndate: 2025-01-01")
    proc = subprocess.run(
        [sys.executable, "-m", "execblog.commands.cli", "build", "-s", str(site.root), "--profile", "gpu"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "profile `gpu` needs CUDA" in proc.stderr and "sees no CUDA device" in proc.stderr
    assert not (site.root / "public").exists() and not (site.root / "_freeze").exists()


def test_unknown_profile_is_named(site):
    assert site.build("--profile", "nope") == 1


def test_gpu_check_needs_a_gpu():
    proc = subprocess.run(
        [sys.executable, "-m", "execblog.devtools.gpu_check", "-s", str(ROOT)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "gpu-check needs an NVIDIA GPU with CUDA" in proc.stderr and "nvidia-smi" in proc.stderr
