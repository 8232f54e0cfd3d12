"""Issue 20 findings 4 and 5: ``sop-connector serve`` (waitress) under slow and huge senders.

Run for real: ``serve`` in a child process and raw sockets, so what is measured is what
waitress reads and answers, not what Flask's test client would.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import INTAKE_TOKEN, sample_letter
from tests.serve_process import serving

MB = 1024 * 1024
HUGE = 300 * MB
LIMIT = 2000000  # [server] max_body_bytes of the test configuration


def _connect(base: str, source: str = "127.0.0.1") -> socket.socket:
    """A connection to ``base`` from the loopback address ``source`` (any of 127.0.0.0/8)."""
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10, source_address=(source, 0))


def _answer_line(sock: socket.socket) -> str:
    return sock.recv(4096).split(b"\r\n", 1)[0].decode()


def _stored_rows(tmp_path: Path) -> int:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM inbox")).scalar_one())
    engine.dispose()
    return count


def _send_until_refused(sock: socket.socket, total: int) -> int:
    """Send up to ``total`` bytes; the number sent before the server shut the door."""
    sent, chunk = 0, b"x" * MB
    sock.settimeout(5)
    try:
        while sent < total:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    return sent


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path) as url:
        yield url


def test_a_300_mb_unauthenticated_body_is_refused_before_it_is_read(tmp_path: Path,
                                                                     base: str) -> None:
    with closing(_connect(base)) as sock:
        sock.sendall(b"POST /webhooks/intake HTTP/1.1\r\nHost: sop\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % HUGE)
        assert _answer_line(sock) == "HTTP/1.1 413 Request Entity Too Large"
        assert _send_until_refused(sock, HUGE) < 32 * MB  # at most socket buffers
    with closing(_connect(base)) as sock:  # no length given: chunked, cut at the limit
        sock.sendall(b"POST /webhooks/intake HTTP/1.1\r\nHost: sop\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sent, sock_chunk = 0, b"%x\r\n%s\r\n" % (MB, b"x" * MB)
        sock.settimeout(5)
        try:
            while sent < HUGE:
                sock.sendall(sock_chunk)
                sent += MB
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        assert sent < LIMIT + 32 * MB
    assert _stored_rows(tmp_path) == 0
    assert urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200


def _slow_clients(stack: ExitStack, base: str, count: int,
                  source: str = "127.0.0.1") -> list[socket.socket]:
    """``count`` connections that send half a request and then say nothing."""
    socks = []
    for i in range(count):
        sock = stack.enter_context(closing(_connect(base, source)))
        if i % 2:
            sock.sendall(b"POST /webhooks/intake HTTP/1.1\r\nHost: sop\r\n")  # half a header
        else:
            sock.sendall(b"POST /webhooks/intake HTTP/1.1\r\nHost: sop\r\n"
                         b"Content-Length: 1000\r\n\r\n{")  # a body that never comes
        socks.append(sock)
    return socks


def _timed_health(base: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"{base}/healthz", timeout=30) as answer:
        assert answer.status == 200
    return time.monotonic() - started


def test_101_slow_connections_leave_health_and_a_sender_answered(base: str) -> None:
    with ExitStack() as stack:
        _slow_clients(stack, base, 101)
        assert _timed_health(base) < 3
        letter = json.dumps(sample_letter(f"{uuid.uuid4().hex[:8]}/DINKES/2026")).encode()
        request = urllib.request.Request(f"{base}/webhooks/intake", data=letter, headers={
            "Authorization": f"Bearer {INTAKE_TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 202


def test_more_slow_connections_than_the_limit_are_closed_by_the_channel_timeout(
        tmp_path: Path) -> None:
    keys = "connection_limit = 20\nchannel_timeout_seconds = 2\n"
    with serving(tmp_path, keys) as url, ExitStack() as stack:
        _slow_clients(stack, url, 30)
        waited = _timed_health(url)  # queued behind the 20, until they time out:
        assert 1.5 < waited < 10  # waitress' own 120 s timeout would hold it 2 minutes
