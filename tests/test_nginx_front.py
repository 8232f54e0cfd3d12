"""Issue 20 findings 4 and 5 with the documented nginx example in front of ``serve``.

``docs/nginx/sop-connector.conf`` is run by Debian's nginx (``scripts/install`` installs it),
as root, on free loopback ports: only TLS is taken out (no certificate here) and the
upstream address is that of the test's ``serve``. Everything else is the example as an
office would install it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, suppress
from pathlib import Path

import pytest

from tests.conftest import INTAKE_TOKEN, sample_letter
from tests.serve_process import free_port, serving
from tests.test_serve_limits import HUGE, MB, _answer_line, _connect, _slow_clients, _stored_rows

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "nginx" / "sop-connector.conf"
MAIN = """
user root;
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""


def site_config(upstream: str, port: int, plain_port: int) -> str:
    """The example with TLS taken out, listening on ``port`` and proxying to ``upstream``."""
    text = EXAMPLE.read_text()
    text = "\n".join(line for line in text.splitlines()
                     if not re.match(r"\s*(ssl_|listen \[::\]|add_header Strict)", line))
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{plain_port};")
    assert text.count("http://127.0.0.1:8080") >= 1
    return text.replace("http://127.0.0.1:8080", upstream)


@pytest.fixture
def front(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(nginx's base URL, the serve folder): the example nginx in front of ``serve``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is required: apt-get install nginx (scripts/install)"
    serve_dir, prefix = tmp_path / "serve", tmp_path / "nginx"
    serve_dir.mkdir()
    prefix.mkdir()
    with serving(serve_dir) as upstream:
        port = free_port()
        site = prefix / "site.conf"
        site.write_text(site_config(upstream, port, free_port()))
        main = prefix / "nginx.conf"
        main.write_text(MAIN.format(prefix=prefix, site=site))
        check = subprocess.run([binary, "-t", "-c", str(main), "-p", str(prefix)],
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen([binary, "-c", str(main), "-p", str(prefix)],
                                 stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base)
            yield base, serve_dir
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def _wait(base: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError("nginx never answered")


def _send_letter(base: str) -> int:
    letter = json.dumps(sample_letter(f"{uuid.uuid4().hex[:8]}/DINKES/2026")).encode()
    request = urllib.request.Request(f"{base}/webhooks/intake", data=letter, headers={
        "Authorization": f"Bearer {INTAKE_TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def test_a_letter_goes_through_the_front(front: tuple[str, Path]) -> None:
    base, _ = front
    assert _send_letter(base) == 202


def test_a_300_mb_body_is_refused_by_nginx_before_it_is_read(front: tuple[str, Path]) -> None:
    base, serve_dir = front
    with closing(_connect(base)) as sock:
        sock.sendall(b"POST /webhooks/intake HTTP/1.1\r\nHost: sop\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % HUGE)
        assert _answer_line(sock) == "HTTP/1.1 413 Request Entity Too Large"
    assert _stored_rows(serve_dir) == 0


def test_101_slow_connections_through_nginx(front: tuple[str, Path]) -> None:
    """From 127.0.0.2; health and the normal sender come from 127.0.0.1."""
    base, _ = front
    with ExitStack() as stack:
        slow = _slow_clients(stack, base, 101, source="127.0.0.2")
        started = time.monotonic()
        assert urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200
        assert _send_letter(base) == 202
        assert time.monotonic() - started < 5
        # nginx closes a client that stays silent (client_header_timeout/client_body_timeout).
        sock = slow[1]  # half a header
        sock.settimeout(30)
        started = time.monotonic()
        answer = sock.recv(4096)
        assert time.monotonic() - started < 15
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_more_than_20_requests_at_once_from_one_address_get_429(
        front: tuple[str, Path]) -> None:
    base, _ = front
    with ExitStack() as stack:
        held = []
        for _ in range(25):  # whole headers, a body promised: each counts as in progress
            sock = stack.enter_context(closing(_connect(base)))
            sock.sendall(b"POST /webhooks/intake HTTP/1.1\r\nHost: sop\r\n"
                         b"Content-Length: %d\r\n\r\n{" % MB)
            held.append(sock)
        time.sleep(0.5)
        refused = 0
        for sock in held:
            sock.settimeout(0.2)
            with suppress(TimeoutError):
                refused += sock.recv(4096).startswith(b"HTTP/1.1 429")
        assert refused == 5
