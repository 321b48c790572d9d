"""`make screenshots`: the blog as a visitor sees it, for the README.

Builds the repository's site into a temporary folder (executable posts from
the freeze, as committed; `--execute` runs stale ones first), serves it on
127.0.0.1 and has Debian's Chromium photograph the home page, a post with a
heatmap, the interactive example (a Plotly chart with a hover label) and a
search for メロス, in light and dark, on a 1280x900 desktop
and a 390x844 phone, into docs/screenshots/ (viewport only, palette PNGs
well under 300 KB each).

    .venv/bin/python tools/screenshots.py [--site .] [--out docs/screenshots] [--execute] [--only NAME]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import DESKTOP, PHONE, SiteServer, build, chromium, copy_repo_site  # noqa: E402

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ("light", "dark")
SEARCH_QUERY = "メロス"
PREFERRED_POST = "attention-melos"
INTERACTIVE_POST = "attention-minilm-interactive"
SHOTS = ("home", "post-heatmap", "post-interactive", "search")
MAX_BYTES = 300 * 1024


def heatmap_post(public: Path) -> tuple[str, bool]:
    """The post to show: the Meros post if it has output images, else the
    first post that has any; (path under the base URL, has an image)."""
    from lxml import html as lhtml

    candidates = sorted(
        public.glob("posts/*/index.html"), key=lambda p: (p.parent.name != PREFERRED_POST, p.parent.name)
    )
    for page in candidates:
        doc = lhtml.fromstring(page.read_bytes())
        if doc.cssselect(".post-content figure.output-image img, .post-content .cell-output img"):
            return f"posts/{page.parent.name}/", True
    fallback = next((p for p in candidates if p.parent.name != "page"), None)
    return (f"posts/{fallback.parent.name}/" if fallback else ""), False


def save_png(data: bytes, path: Path) -> int:
    """Write a screenshot as a 256-colour palette PNG when that keeps it
    small (UI screenshots barely change), else as it is."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    small = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        small, "PNG", optimize=True
    )
    best = small.getvalue() if len(small.getvalue()) < len(data) else data
    path.write_bytes(best)
    return len(best)


def show_chart(page) -> None:
    """The first chart drawn under the header, a hover label on its middle cell."""
    chart = page.locator(".post-content .output-chart").first
    chart.scroll_into_view_if_needed()
    page.wait_for_selector(".output-chart.chart-drawn", timeout=30_000)
    page.evaluate("""() => {
        const header = document.querySelector('.header').getBoundingClientRect().height;
        const top = document.querySelector('.output-chart').getBoundingClientRect().top;
        window.scrollTo(0, scrollY + top - header - 16);
    }""")
    page.wait_for_timeout(300)
    box = page.locator(".output-plotly .nsewdrag").first.bounding_box()
    if box:
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6, steps=4)
        page.wait_for_selector(".output-plotly .hoverlayer .hovertext")


def shoot(base_url: str, public: Path, out: Path, only: tuple[str, ...] = SHOTS) -> list[tuple[Path, int]]:
    post, has_image = heatmap_post(public)
    if not has_image:
        print(
            f"note: no post has an output image yet (run its notebook to freeze outputs); showing {post}",
            file=sys.stderr,
        )
    shots = {
        "home": "",
        "post-heatmap": post,
        "post-interactive": f"posts/{INTERACTIVE_POST}/",
        "search": "search/?q=" + SEARCH_QUERY,
    }
    shots = {name: rel for name, rel in shots.items() if name in only}
    written = []
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile, chromium(Path(profile)) as context:
        for name, rel in shots.items():
            for scheme in SCHEMES:
                for vp_name, viewport in VIEWPORTS.items():
                    page = context.new_page()
                    page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
                    page.set_viewport_size(viewport)
                    page.goto(base_url + rel, wait_until="networkidle")
                    if name == "search":
                        page.wait_for_selector("#searchResults li, #searchStatus.no-results")
                        page.locator("#searchInput").blur()
                    if name == "post-heatmap" and has_image:
                        # the first figure with the code cell that drew it just above
                        page.evaluate("""() => {
                            const img = document.querySelector(
                                '.post-content figure.output-image img, .post-content .cell-output img');
                            const cell = img.closest('.cell') || img;
                            const header = document.querySelector('.header').getBoundingClientRect().height;
                            const imgBox = img.getBoundingClientRect(), cellBox = cell.getBoundingClientRect();
                            // the whole cell if it fits under the header, else the figure with as much code as fits
                            const room = innerHeight - header - 32;
                            const top = cellBox.bottom - cellBox.top <= room ? cellBox.top
                                : Math.min(imgBox.top, imgBox.bottom - room);
                            window.scrollTo(0, scrollY + top - header - 16);
                        }""")
                        page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
                    if name == "post-interactive":
                        show_chart(page)
                    page.evaluate("document.fonts.ready")
                    page.wait_for_timeout(150)
                    path = out / f"{name}-{vp_name}-{scheme}.png"
                    size = save_png(page.screenshot(animations="disabled"), path)
                    written.append((path, size))
                    page.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT, help="site folder (default: the repository)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--execute", action="store_true", help="execute stale posts instead of using the freeze only")
    parser.add_argument("--only", action="append", choices=SHOTS, help="only this screenshot (repeatable)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="execblog-shots-") as tmp:
        source = copy_repo_site(Path(tmp) / "site") if args.site.resolve() == ROOT else args.site
        public = Path(tmp) / "public"
        with SiteServer(public, "/ml-blog/") as server:
            build(source, public, server.base_url, *([] if args.execute else ["--no-execute"]))
            written = shoot(server.base_url, public, args.out, tuple(args.only or SHOTS))
    too_big = [(p, s) for p, s in written if s > MAX_BYTES]
    for path, size in written:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {size / 1024:.0f} KB")
    if too_big:
        print(f"error: screenshots over {MAX_BYTES // 1024} KB: {[str(p) for p, _ in too_big]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
