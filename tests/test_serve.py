"""`make serve`: drafts and future posts shown, live reload on change."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def wait_for(url: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(url)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_shows_drafts_and_reloads_on_change(site):
    site.post("draft.md", "title: Draft One\ndate: 2025-01-01\ndraft: true", "first version\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "execblog.commands.cli", "serve", "-s", str(site.root), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = wait_for(f"http://127.0.0.1:{port}/posts/draft/")
        assert "first version" in page and "EventSource" in page
        events = urllib.request.urlopen(f"http://127.0.0.1:{port}/__livereload", timeout=30)
        site.post("draft.md", "title: Draft One\ndate: 2025-01-01\ndraft: true", "second version\n")
        line = b""
        while not line.startswith(b"data:"):
            line = events.readline()
        assert line.strip() == b"data: reload"
        assert "second version" in get(f"http://127.0.0.1:{port}/posts/draft/")
        # an error keeps the last good site served and is printed
        (site.root / "posts" / "draft.md").write_text("---\ntitle: [\n---\n")
        time.sleep(2)
        assert "second version" in get(f"http://127.0.0.1:{port}/posts/draft/")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert "draft.md:2" in out and "invalid YAML" in out
