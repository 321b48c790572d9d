"""The GPU preflight: what nvidia-smi reports and which CUDA build of torch is
installed decide, in seconds, whether the GPU publish can run, and the
message names what was found and what is needed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from execblog.execution.devices import Gpu, parse_smi, preflight, torch_cuda_version

from conftest import ROOT


@pytest.mark.parametrize(
    "value, cuda", [("", "13.0"), ("cu126", "12.6"), ("cu128", "12.8"), ("cu130", "13.0"), ("cpu", None)]
)
def test_torch_cuda_variable_selects_a_build(value, cuda):
    assert torch_cuda_version(value) == cuda


def test_a_wrong_torch_cuda_value_is_named():
    with pytest.raises(ValueError, match="TORCH_CUDA=cuda12"):
        torch_cuda_version("cuda12")


# (gpu name, driver, compute capability, torch CUDA build) -> ok?, words the message must contain
CASES = [
    ("NVIDIA H100 80GB HBM3", "580.82.07", "9.0", "13.0", True, ["H100", "580.82.07", "9.0", "ok"]),
    (
        "NVIDIA GeForce RTX 4090",
        "570.133.20",
        "8.9",
        "13.0",
        False,
        ["driver 570.133.20 < 580.65.06", "TORCH_CUDA=cu126"],
    ),
    ("Tesla V100-SXM2-16GB", "580.82.07", "7.0", "13.0", False, ["compute capability 7.0 < 7.5", "TORCH_CUDA=cu126"]),
    ("Tesla V100-SXM2-16GB", "535.183.01", "7.0", "12.6", True, ["V100", "ok for torch built for CUDA 12.6"]),
    (
        "Tesla K80",
        "470.256.02",
        "3.7",
        "12.6",
        False,
        ["driver 470.256.02 < 525.60.13", "compute capability 3.7 < 5.0", "upgrade the NVIDIA driver"],
    ),
    ("Tesla T4", "525.60.13", "7.5", "12.6", True, ["T4"]),
    ("Tesla P100-PCIE-16GB", "550.54.15", "6.0", "12.8", False, ["compute capability 6.0 < 7.0"]),
]


@pytest.mark.parametrize("name, driver, cc, cuda, ok, words", CASES)
def test_preflight_table(name, driver, cc, cuda, ok, words):
    passed, message = preflight([Gpu(name, driver, cc, 16384)], cuda)
    assert passed is ok
    assert f"found {name} (driver {driver}, compute capability {cc}" in message
    for word in words:
        assert word in message
    if not ok:
        assert "needs NVIDIA driver >= " in message and "compute capability >= " in message


def test_no_gpu_and_cpu_torch_are_refused_with_the_reason():
    ok, message = preflight([], "13.0", "no nvidia-smi on PATH (is the NVIDIA driver installed?)")
    assert not ok and "no nvidia-smi on PATH" in message and "driver >= 580.65.06" in message
    ok, message = preflight([Gpu("NVIDIA A100", "580.82.07", "8.0")], None)
    assert not ok and "CPU build" in message


def test_nvidia_smi_rows_are_parsed():
    text = "NVIDIA A10G, 535.104.05, 8.6, 23028\nNVIDIA A10G, 535.104.05, 8.6, [N/A]\n"
    assert parse_smi(text) == [
        Gpu("NVIDIA A10G", "535.104.05", "8.6", 23028),
        Gpu("NVIDIA A10G", "535.104.05", "8.6", None),
    ]


def test_the_preflight_runs_without_the_package_and_fails_fast_here(tmp_path):
    # `make gpu-preflight` runs the file with the system Python before any install;
    # this machine has no GPU, so it must fail with the reason, not a traceback.
    result = subprocess.run(
        [sys.executable, str(ROOT / "build" / "execution" / "devices.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "TORCH_CUDA": ""},
    )
    assert result.returncode == 1, result.stderr
    assert "error: gpu preflight: no usable NVIDIA GPU" in result.stderr and "Traceback" not in result.stderr
