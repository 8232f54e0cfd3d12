"""``sop-connector serve`` in a child process on a free loopback port, for limit tests.

No worker threads (``worker_threads = 0``) and a Redmine address nothing listens on: these
tests look at the HTTP front only, and a letter is answered once it is stored.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import INTAKE_TOKEN, write_config


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, server_keys: str = "") -> Iterator[str]:
    """Run ``serve`` with extra ``[server]`` keys; yield its base URL; stop it afterwards."""
    port = free_port()
    config = write_config(tmp_path, redmine_url=f"http://127.0.0.1:{free_port()}").read_text()
    config = config.replace('public_url = "http://sop.test"',
                            f'public_url = "http://127.0.0.1:{port}"\nport = {port}\n'
                            f'worker_threads = 0\n{server_keys}')
    path = tmp_path / "config.toml"
    path.write_text(config)
    env = dict(os.environ, SOP_TEST_REDMINE_KEY="unused", SOP_TEST_INTAKE_TOKEN=INTAKE_TOKEN)
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--config",
                                   str(path)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, server)
            yield base
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        assert server.poll() is None, "serve exited early"
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve never answered /healthz")
