"""`make serve`: build with drafts and future posts, serve on 127.0.0.1, and
rebuild + reload the browser whenever posts, theme or config change."""

from __future__ import annotations

import http.server
import sys
import threading
from pathlib import Path

from execblog.config import LAYOUTS_DIR
from execblog.errors import BuildError
from execblog.pipeline import BuildOptions, build_site

RELOAD_PATH = "/__livereload"
# Server-sent events: the page reloads when the server says the site changed.
RELOAD_SCRIPT = (
    "<script>(function(){var es=new EventSource('" + RELOAD_PATH + "');"
    "es.onmessage=function(){location.reload()};})();</script>"
)


class _Reloader:
    def __init__(self) -> None:
        self.version = 0
        self.cond = threading.Condition()

    def bump(self) -> None:
        with self.cond:
            self.version += 1
            self.cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self.cond:
            self.cond.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version


def _handler(directory: Path, reloader: _Reloader):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, format, *args):  # quiet: the build log is what matters
            pass

        def do_GET(self):
            if self.path != RELOAD_PATH:
                return super().do_GET()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            seen = reloader.version
            try:
                while True:
                    now = reloader.wait(seen, timeout=15)
                    # a comment line keeps the connection alive; data makes the page reload
                    self.wfile.write(b"data: reload\n\n" if now != seen else b": ping\n\n")
                    self.wfile.flush()
                    seen = now
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def serve(site_dir: Path, out_dir: Path | None, bind: str, port: int) -> int:
    import watchfiles

    site_dir = site_dir.resolve()
    out_dir = (out_dir or site_dir / ".cache" / "serve").resolve()
    base_url = f"http://{bind}:{port}/"
    opts = BuildOptions(site_dir=site_dir, out_dir=out_dir, drafts=True, future=True, base_url=base_url,
                        live_reload_script=RELOAD_SCRIPT, execute=True)

    def rebuild() -> None:
        try:
            build_site(opts)
        except BuildError as exc:
            print(f"error: {exc.format()}", file=sys.stderr, flush=True)

    rebuild()
    reloader = _Reloader()
    server = http.server.ThreadingHTTPServer((bind, port), _handler(out_dir, reloader))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving {out_dir.name} on {base_url} (drafts and future posts included); Ctrl+C to stop", file=sys.stderr)
    watched = [p for p in (site_dir / "posts", site_dir / "theme", site_dir / LAYOUTS_DIR, site_dir / "site_config.yaml")
               if p.exists()]
    try:
        for _changes in watchfiles.watch(*watched, debounce=200):
            rebuild()
            reloader.bump()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
