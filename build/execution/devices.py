"""What accelerator this machine has, for profiles that require CUDA."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CudaStatus:
    available: bool
    detail: str  # what was found, in words, for error messages


def nvidia_device_present() -> bool:
    """A cheap look for an NVIDIA GPU (driver tool or device node), no torch import."""
    return shutil.which("nvidia-smi") is not None or Path("/dev/nvidia0").exists()


def cuda_status(python: str = sys.executable) -> CudaStatus:
    """Ask the kernel's Python (a fresh process: importing torch here would
    slow every build) whether torch sees a CUDA device."""
    smi = shutil.which("nvidia-smi")
    probe = ("import torch; c = torch.cuda.is_available(); "
             "print(c, torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0) if c else '')")
    try:
        out = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
        fields = out.stdout.strip().split(" ", 3) if out.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        fields = []
    if len(fields) >= 3 and fields[0] == "True":
        return CudaStatus(True, f"CUDA {fields[2]} on {fields[3] if len(fields) > 3 else 'a GPU'}")
    torch_part = (f"torch {fields[1]} (CUDA build: {fields[2]}) sees no CUDA device" if len(fields) >= 3
                  else "torch could not be imported")
    smi_part = f"nvidia-smi at {smi}" if smi else "no nvidia-smi"
    dev_part = "/dev/nvidia0 present" if Path("/dev/nvidia0").exists() else "no /dev/nvidia0"
    return CudaStatus(False, f"found {torch_part}, {smi_part}, {dev_part}")
