"""The search index: Pagefind over the staged post pages."""

from __future__ import annotations

import subprocess
from pathlib import Path

from execblog.config import SiteConfig
from execblog.errors import BuildError
from execblog.output.write import SiteWriter


class SearchIndexer:
    """Pagefind over the staged post pages (Japanese segmentation in the extended
    build), as a background process while the rest of the site is written."""

    def __init__(self, writer: SiteWriter, config: SiteConfig):
        self.writer = writer
        # Only post pages carry searchable content: the others need not be parsed.
        cmd = pagefind_command(writer.stage, f"{config.posts_section}/*/index.html")
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as exc:
            raise BuildError(
                f"search indexing failed: {exc}", hint="check that pagefind[extended] is installed (make install)"
            ) from None

    def finish(self) -> None:
        out, err = self.proc.communicate()
        if self.proc.returncode != 0:
            raise BuildError(
                f"search indexing failed: {err.strip() or out.strip()}",
                hint="check that pagefind[extended] is installed (make install)",
            )
        self.writer.adopt_tree("pagefind")


def pagefind_command(site: Path, glob: str) -> list[str]:
    """Pagefind's extended build (Japanese segmentation) indexing the pages `glob` selects under `site`."""
    try:
        from pagefind_bin_extended import get_executable

        exe = str(get_executable())
    except Exception:
        exe = "pagefind_extended"
    return [exe, "--site", str(site), "--output-subdir", "pagefind", "--silent", "--glob", glob]
