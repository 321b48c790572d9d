"""`make serve`: build with drafts and future posts, serve on 127.0.0.1, and
rebuild + reload the browser whenever posts, theme or config change.

The server answers only with files inside the output folder (resolved, so a
link pointing out of it is refused with 403), answers 400 to a path it cannot
map to a file name (a NUL byte, undecodable bytes), drops a connection that
sends nothing for CONNECTION_TIMEOUT seconds, and never prints a traceback.

Unless `--no-warm`, WARM_KERNELS spare kernels wait for the executable posts
edited last, their imports already run (execution/warm.py), so a code edit
does not pay for them; serve kills them when it stops.
"""

from __future__ import annotations

import errno
import http.server
import os
import signal
import sys
import threading
from pathlib import Path

from execblog.config import LAYOUTS_DIR
from execblog.errors import BuildError
from execblog.execution.warm import close_shared_pool
from execblog.pipeline import BuildOptions, build_site

RELOAD_PATH = "/__livereload"
WARM_KERNELS = 2
CONNECTION_TIMEOUT = 30  # seconds; the live-reload stream writes every 15 s
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
    root = os.path.realpath(directory)

    class Handler(http.server.SimpleHTTPRequestHandler):
        timeout = CONNECTION_TIMEOUT  # socket timeout, set for each connection

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, format, *args):  # quiet: the build log is what matters
            pass

        def send_head(self):
            path = self.translate_path(self.path)  # drops `..` after unquoting (%2e%2e included)
            try:
                if "\0" in path:
                    raise ValueError("NUL in path")
                os.fsencode(path)
            except (ValueError, UnicodeError):
                self.send_error(400, "Bad path")
                return None
            for target in (path, os.path.join(path, "index.html")):  # a folder serves its index.html
                real = os.path.realpath(target)
                if real != root and not real.startswith(root + os.sep):
                    self.send_error(403, "Outside the site")  # a link out of the output folder
                    return None
            return super().send_head()

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


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # one line instead of socketserver's traceback
        error = sys.exc_info()[1]
        print(
            f"serve: request from {client_address[0]} failed: {type(error).__name__}: {error}",
            file=sys.stderr,
            flush=True,
        )


def serve(site_dir: Path, out_dir: Path | None, bind: str, port: int, warm: bool = True) -> int:
    site_dir = site_dir.resolve()
    out_dir = (out_dir or site_dir / ".cache" / "serve").resolve()
    base_url = f"http://{bind}:{port}/"
    opts = BuildOptions(
        site_dir=site_dir,
        out_dir=out_dir,
        drafts=True,
        future=True,
        base_url=base_url,
        live_reload_script=RELOAD_SCRIPT,
        execute=True,
        resident=True,
        warm_kernels=WARM_KERNELS if warm else 0,
    )

    def rebuild() -> bool:
        try:
            build_site(opts)
            return True
        except BuildError as exc:
            print(f"error: {exc.format()}", file=sys.stderr, flush=True)
            return False

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # `kill` stops serve as Ctrl+C does, spare kernels included

    signal.signal(signal.SIGTERM, stop)
    try:
        return _serve_site(site_dir, out_dir, bind, port, base_url, rebuild)
    finally:
        close_shared_pool()  # no spare kernel outlives serve


def _serve_site(site_dir: Path, out_dir: Path, bind: str, port: int, base_url: str, rebuild) -> int:
    import watchfiles

    reloader = _Reloader()
    # The port is taken before the first build: a port in use is said at once, and no process
    # the build starts (a spare kernel's sockets) can take it meanwhile. Requests wait for the build.
    try:
        server = _Server((bind, port), _handler(out_dir, reloader))
    except OSError as exc:
        in_use = exc.errno == errno.EADDRINUSE
        raise BuildError(
            f"cannot serve on {bind}:{port}: {exc.strerror or exc}",
            hint="pick another port with --port, e.g. --port 1314"
            if in_use
            else "bind to an address of this machine with --bind, e.g. --bind 127.0.0.1",
        ) from None
    rebuild()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving {out_dir.name} on {base_url} (drafts and future posts included); Ctrl+C to stop", file=sys.stderr)
    watched = [
        p
        for p in (site_dir / "posts", site_dir / "theme", site_dir / LAYOUTS_DIR, site_dir / "site_config.yaml")
        if p.exists()
    ]
    try:
        for _changes in watchfiles.watch(*watched, debounce=200):
            rebuild()  # the search index too: it is assembled from cached records in milliseconds
            reloader.bump()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
