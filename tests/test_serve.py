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


def test_a_port_in_use_is_said_before_building(site):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cmd = [sys.executable, "-m", "execblog.commands.cli", "serve", "-s", str(site.root), "--port", str(port)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"cannot serve on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert not (site.root / ".cache" / "serve").exists()  # nothing built for a server that cannot start


def test_an_address_not_of_this_machine_is_said_with_its_fix(site):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    cmd = [sys.executable, "-m", "execblog.commands.cli", "serve", "-s", str(site.root), "--bind", "192.0.2.1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot serve on 192.0.2.1:" in done.stderr and "--bind" in done.stderr and "--port" not in done.stderr


def test_serve_shows_drafts_and_reloads_on_change(site):
    site.post("draft.md", "title: Draft One\ndate: 2025-01-01\ndraft: true", "first version\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "execblog.commands.cli", "serve", "-s", str(site.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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


def test_dev_server_stays_in_its_folder_and_never_prints_a_traceback(tmp_path, capsys):
    import http.client
    import threading

    from execblog.commands.serve import _handler, _Reloader, _Server

    out = tmp_path / "public"
    out.mkdir()
    (out / "index.html").write_text("home")
    (tmp_path / "secret.txt").write_text("outside")
    (out / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (out / "leakdir").symlink_to(tmp_path)

    class Quick(_handler(out, _Reloader())):
        timeout = 1  # CONNECTION_TIMEOUT, shortened for the test

    server = _Server(("127.0.0.1", 0), Quick)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    def status(path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()

    try:
        assert status("/") == (200, b"home")
        assert status("/index.html%00.txt")[0] == 400
        assert status("/%ff%fe%ed%a0%80")[0] in (400, 404)
        for path in (
            "/leak.txt",
            "/leakdir/secret.txt",
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2e%2e%2fsecret.txt",
        ):
            code, body = status(path)
            assert code in (403, 404) and b"outside" not in body, path
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        assert idle.recv(1) == b""  # the server closed a connection that sent nothing
        idle.close()
    finally:
        server.shutdown()
    assert "Traceback" not in capsys.readouterr().err
