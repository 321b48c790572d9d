"""Registers the project's Jupyter kernel, `execblog`, inside the venv.

    python -m execblog.execution.kernel        # what `make install` runs

The kernelspec lives in `<sys.prefix>/share/jupyter/kernels/execblog/`, so it
travels with the venv and never touches the user's own Jupyter setup. It runs
the venv's Python and, before the first cell, a small startup file that:

* makes matplotlib draw with Agg through the inline backend (figures become
  PNG outputs; no GUI), and — only when a post imports matplotlib, so other
  posts do not pay for it — registers the Japanese font from matplotlib-fontja
  with DejaVu Sans as fallback family, so Japanese labels and marks such as
  `Ġ` / `▁` (tokenizer pieces) render instead of tofu;
* provides the module `execblog_kernel` with `record_stand_in(model_id)` (the
  offline stand-in models call it) and `emit_provenance(packages)`, which
  the executor calls in a hidden last cell to learn the device and the
  versions of the site's `execution.provenance_packages`, without importing
  anything the post did not import.

The environment also fixes PYTHONHASHSEED so set/dict-of-str outputs are the
same on every run (the freeze stays byte-identical when nothing changed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from execblog.fsutil import atomic_write

KERNEL_NAME = "execblog"
DISPLAY_NAME = "Python (execblog)"
STARTUP_FILE = "execblog_startup.py"
PROVENANCE_MIMETYPE = "application/vnd.execblog.provenance+json"
# Figures come from the inline backend, which renders with Agg.
MPLBACKEND = "module://matplotlib_inline.backend_inline"
FONT_FAMILY = ("IPAexGothic", "DejaVu Sans")

STARTUP_SOURCE = '''\
# execblog kernel startup (written by execblog.execution.kernel; do not edit).
def _execblog_startup():
    import importlib.abc
    import importlib.util
    import platform
    import sys
    import types

    module = types.ModuleType("execblog_kernel")
    module.stand_in_models = []
    module.PROVENANCE_MIMETYPE = PROVENANCE_MIMETYPE_VALUE

    def record_stand_in(model_id):
        """Called by offline stand-ins: the page then says so in a banner."""
        if model_id not in module.stand_in_models:
            module.stand_in_models.append(str(model_id))

    def _cpu_name():
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or platform.machine()

    def provenance(packages=()):
        info = {"python": platform.python_version(), "versions": {}}
        # Only what the post imported: importing torch here would cost seconds.
        for name in packages:
            mod = sys.modules.get(name)
            if mod is not None and getattr(mod, "__version__", None):
                info["versions"][name] = str(mod.__version__)
        device = {"kind": "cpu", "name": _cpu_name()}
        torch = sys.modules.get("torch")
        try:
            if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
                index = torch.cuda.current_device()
                props = torch.cuda.get_device_properties(index)
                device = {
                    "kind": "gpu",
                    "name": torch.cuda.get_device_name(index),
                    "memory_peak_bytes": int(torch.cuda.max_memory_allocated(index)),
                    "memory_total_bytes": int(props.total_memory),
                }
        except Exception:  # a broken CUDA setup must not fail the post here
            pass
        info["device"] = device
        try:
            import resource
            info["cpu_memory_peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        except Exception:
            pass
        info["stand_in_models"] = list(module.stand_in_models)
        return info

    def emit_provenance(packages=()):
        from IPython.display import publish_display_data
        publish_display_data({module.PROVENANCE_MIMETYPE: provenance(packages)})

    module.record_stand_in = record_stand_in
    module.provenance = provenance
    module.emit_provenance = emit_provenance
    sys.modules["execblog_kernel"] = module

    def configure_matplotlib():
        import matplotlib
        families = []
        try:
            import matplotlib_fontja  # noqa: F401  (registers IPAexGothic)
            families.append(FONT_FAMILY_VALUE[0])
        except Exception:
            pass
        families += [f for f in FONT_FAMILY_VALUE[1:] if f not in families]
        matplotlib.rcParams["font.family"] = families
        matplotlib.rcParams["svg.hashsalt"] = "execblog"  # stable SVG ids

    class MatplotlibHook(importlib.abc.MetaPathFinder):
        """Configures matplotlib right after it is first imported."""

        def find_spec(self, name, path=None, target=None):
            if name != "matplotlib":
                return None
            sys.meta_path.remove(self)  # one shot; also avoids recursion below
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            original = spec.loader.exec_module

            def exec_module(mod):
                original(mod)
                try:
                    configure_matplotlib()
                except Exception as exc:  # keep the post running; say why fonts differ
                    print(f"execblog: matplotlib font setup failed: {exc}", file=sys.stderr)

            spec.loader.exec_module = exec_module
            return spec

    if "matplotlib" in sys.modules:
        configure_matplotlib()
    else:
        sys.meta_path.insert(0, MatplotlibHook())


_execblog_startup()
del _execblog_startup
'''


def _startup_source() -> str:
    return STARTUP_SOURCE.replace("PROVENANCE_MIMETYPE_VALUE", repr(PROVENANCE_MIMETYPE)).replace(
        "FONT_FAMILY_VALUE", repr(FONT_FAMILY)
    )


def kernelspec_dir(prefix: str | Path | None = None, name: str = KERNEL_NAME) -> Path:
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / name


def kernel_json(python: str, name: str = KERNEL_NAME) -> dict:
    return {
        "argv": [
            python,
            "-Xfrozen_modules=off",  # silences debugpy's frozen-modules warning
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            f"--IPKernelApp.exec_files={{resource_dir}}/{STARTUP_FILE}",
        ],
        "display_name": DISPLAY_NAME if name == KERNEL_NAME else f"Python ({name})",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {
            "MPLBACKEND": MPLBACKEND,
            "PYTHONHASHSEED": "0",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        },
        "metadata": {"debugger": False, "execblog": True},
    }


def install_kernelspec(prefix: str | Path | None = None, name: str = KERNEL_NAME, python: str | None = None) -> Path:
    """Write (or refresh) the kernelspec; returns its folder. Files are only
    rewritten when their content changes, each atomically."""
    folder = kernelspec_dir(prefix, name)
    folder.mkdir(parents=True, exist_ok=True)
    spec = json.dumps(kernel_json(python or sys.executable, name), indent=1, sort_keys=True) + "\n"
    _write_if_changed(folder / "kernel.json", spec)
    _write_if_changed(folder / STARTUP_FILE, _startup_source())
    return folder


def is_installed(prefix: str | Path | None = None, name: str = KERNEL_NAME) -> bool:
    folder = kernelspec_dir(prefix, name)
    return (folder / "kernel.json").is_file() and (folder / STARTUP_FILE).is_file()


def _write_if_changed(path: Path, text: str) -> None:
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):
        atomic_write(path, text)  # readable by all: Jupyter may run as another user


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m execblog.execution.kernel", description=__doc__.split("\n")[0])
    parser.add_argument("--name", default=KERNEL_NAME, help="kernel name (default: %(default)s)")
    parser.add_argument("--prefix", default=None, help="install prefix (default: this venv)")
    args = parser.parse_args(argv)
    folder = install_kernelspec(args.prefix, args.name)
    print(f"installed kernel {args.name!r} in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
