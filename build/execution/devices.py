"""What accelerator this machine has, for profiles that require CUDA.

`preflight` is pure: given what `nvidia-smi` reports and which CUDA build of
torch is (or will be) installed, it says whether that torch can use the GPU,
naming what was found and what is needed. `python build/devices.py` runs it
with the system Python before anything is installed (`make gpu-preflight`),
so a runner whose driver is too old fails in seconds, not after a 3 GB
download; keep this file free of imports from the package for that reason.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# torch's CUDA build -> (minimum Linux driver, minimum compute capability).
# 13.x: CUDA 13.0's driver, and torch's CUDA 13 wheels start at Turing (sm_75).
# 12.x: minor-version compatibility from driver 525.60.13; the cu126 wheels
# still carry Maxwell..Hopper kernels (sm_50+), the cu128/cu129 ones from sm_70.
CUDA_REQUIREMENTS: dict[str, tuple[str, str]] = {
    "13": ("580.65.06", "7.5"),
    "12.8": ("525.60.13", "7.0"),
    "12.9": ("525.60.13", "7.0"),
    "12": ("525.60.13", "5.0"),
}
# What `pip install torch==<lock>` gets from PyPI on x86_64 Linux, and what
# TORCH_CUDA=cuXYZ selects instead (PyTorch's own wheel index).
DEFAULT_TORCH_CUDA = "13.0"
CUDA12_HINT = (
    "on an older driver, install torch's CUDA 12 build of the same version: "
    "`make install-runtime TORCH_CUDA=cu126` (needs driver >= 525.60.13)"
)


@dataclass(frozen=True)
class CudaStatus:
    available: bool
    detail: str  # what was found, in words, for error messages


@dataclass(frozen=True)
class Gpu:
    name: str
    driver: str  # e.g. "570.133.20"
    compute_capability: str  # e.g. "8.6"
    memory_mib: int | None = None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.strip().split(".") if part.isdigit())


def torch_cuda_version(torch_cuda: str | None) -> str | None:
    """The CUDA version of the torch build a TORCH_CUDA value selects
    ('' -> PyPI's default, 'cu126' -> '12.6', 'cpu' -> None)."""
    value = (torch_cuda or "").strip()
    if not value:
        return DEFAULT_TORCH_CUDA
    if value == "cpu":
        return None
    digits = value[2:] if value.startswith("cu") else ""
    if not (digits.isdigit() and len(digits) >= 3):
        raise ValueError(f"TORCH_CUDA={value}: expected cpu or cu<major><minor>, e.g. cu126")
    return f"{int(digits[:-1])}.{int(digits[-1])}"


def requirements(cuda: str) -> tuple[str, str]:
    """(minimum driver, minimum compute capability) for a torch CUDA build."""
    major = cuda.split(".")[0]
    for key in (".".join(cuda.split(".")[:2]), major):
        if key in CUDA_REQUIREMENTS:
            return CUDA_REQUIREMENTS[key]
    raise ValueError(f"no known requirements for CUDA {cuda}")


def preflight(gpus: list[Gpu], cuda: str | None, smi_error: str | None = None) -> tuple[bool, str]:
    """Can torch built for `cuda` run on the first GPU? (ok, message in words)."""
    if cuda is None:
        return False, "torch is the CPU build (TORCH_CUDA=cpu); the GPU profile needs a CUDA build"
    need_driver, need_cc = requirements(cuda)
    need = f"torch built for CUDA {cuda} needs NVIDIA driver >= {need_driver} and compute capability >= {need_cc}"
    if not gpus:
        found = smi_error or "nvidia-smi lists no GPU"
        return False, f"no usable NVIDIA GPU: {found}; {need}"
    gpu = gpus[0]
    memory = f", {gpu.memory_mib} MiB" if gpu.memory_mib else ""
    found = f"found {gpu.name} (driver {gpu.driver}, compute capability {gpu.compute_capability}{memory})"
    problems = []
    if _version(gpu.driver) < _version(need_driver):
        problems.append(f"driver {gpu.driver} < {need_driver}")
    if _version(gpu.compute_capability) < _version(need_cc):
        problems.append(f"compute capability {gpu.compute_capability} < {need_cc}")
    if not problems:
        return True, f"{found}: ok for torch built for CUDA {cuda}"
    fix = (
        CUDA12_HINT
        if cuda.startswith("13")
        and _version(gpu.compute_capability) >= (5, 0)
        and _version(gpu.driver) >= _version(CUDA_REQUIREMENTS["12"][0])
        else "upgrade the NVIDIA driver or use a newer GPU"
    )
    return False, f"{found}; {need} ({', '.join(problems)}); {fix}"


def parse_smi(text: str) -> list[Gpu]:
    """Rows of `nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total
    --format=csv,noheader,nounits`."""
    gpus = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) >= 3 and fields[0]:
            memory = int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None
            gpus.append(Gpu(fields[0], fields[1], fields[2], memory))
    return gpus


def query_gpus() -> tuple[list[Gpu], str | None]:
    """What nvidia-smi reports (GPUs, or why there are none)."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return [], "no nvidia-smi on PATH (is the NVIDIA driver installed?)"
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,driver_version,compute_cap,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"nvidia-smi did not answer ({exc})"
    if out.returncode != 0:
        return [], f"nvidia-smi failed: {(out.stderr or out.stdout).strip()[:200]}"
    return parse_smi(out.stdout), None


def nvidia_device_present() -> bool:
    """A cheap look for an NVIDIA GPU (driver tool or device node), no torch import."""
    return shutil.which("nvidia-smi") is not None or Path("/dev/nvidia0").exists()


def cuda_status(python: str = sys.executable) -> CudaStatus:
    """Ask the kernel's Python (a fresh process: importing torch here would
    slow every build) whether torch sees a CUDA device."""
    smi = shutil.which("nvidia-smi")
    probe = (
        "import torch; c = torch.cuda.is_available(); "
        "print(c, torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0) if c else '')"
    )
    try:
        out = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
        fields = out.stdout.strip().split(" ", 3) if out.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        fields = []
    if len(fields) >= 3 and fields[0] == "True":
        return CudaStatus(True, f"CUDA {fields[2]} on {fields[3] if len(fields) > 3 else 'a GPU'}")
    torch_part = (
        f"torch {fields[1]} (CUDA build: {fields[2]}) sees no CUDA device"
        if len(fields) >= 3
        else "torch could not be imported"
    )
    smi_part = f"nvidia-smi at {smi}" if smi else "no nvidia-smi"
    dev_part = "/dev/nvidia0 present" if Path("/dev/nvidia0").exists() else "no /dev/nvidia0"
    detail = f"found {torch_part}, {smi_part}, {dev_part}"
    if smi and len(fields) >= 3 and fields[2] not in ("", "None"):
        gpus, smi_error = query_gpus()
        detail += "; " + preflight(gpus, fields[2], smi_error)[1]
    return CudaStatus(False, detail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check that torch's CUDA build can use this machine's GPU.")
    parser.add_argument(
        "--torch-cuda",
        default=os.environ.get("TORCH_CUDA", ""),
        help="the TORCH_CUDA value the install uses ('' = PyPI's CUDA 13.0 build, cu126, cpu)",
    )
    args = parser.parse_args(argv)
    try:
        cuda = torch_cuda_version(args.torch_cuda)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    gpus, smi_error = query_gpus()
    ok, message = preflight(gpus, cuda, smi_error)
    print(f"gpu preflight: {message}" if ok else f"error: gpu preflight: {message}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
