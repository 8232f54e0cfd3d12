"""HTTP servers in subprocesses, concurrent senders with keep-alive, and their memory.

Senders are threads, each with its own keep-alive ``http.client`` connection, sending
distinct letters (each one a new case) one after another for a fixed time.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

Body = Callable[[int, int], bytes]
"""Makes the body of a sender's n-th request: (sender, n) -> bytes."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server_process(command: list[str], port: int, *, env: dict[str, str] | None = None,
                   log: Path, timeout: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait until it accepts connections, and terminate it afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, **(env or {})))
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not listen on {port}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class LoadResult:
    """What the senders saw."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def send_load(port: int, path: str, headers: dict[str, str], body: Body, *, senders: int,
              seconds: float, expect: int = 202) -> LoadResult:
    """``senders`` threads post for ``seconds``; every answer must have status ``expect``."""
    result = LoadResult()
    lock = threading.Lock()
    start = threading.Barrier(senders + 1)
    deadline: list[float] = []

    def sender(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine: list[float] = []
        start.wait()
        n = 0
        while time.perf_counter() < deadline[0]:
            data = body(number, n)
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=data, headers=headers)
                answer = conn.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            mine.append(time.perf_counter() - began)
            if answer.status != expect:
                with lock:
                    result.errors.append(f"HTTP {answer.status}")
            n += 1
        conn.close()
        with lock:
            result.latencies += mine

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(senders)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def json_body(make: Callable[[int, int], dict[str, object]]) -> Body:
    return lambda sender, n: json.dumps(make(sender, n)).encode()


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB, from ``/proc/<pid>/status``."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


@contextmanager
def sampling_rss(pid: int, every: float = 0.1) -> Iterator[list[int]]:
    """Sample the VmRSS (KiB) of ``pid`` while the block runs."""
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(memory_kib(pid)["VmRSS"])
            stop.wait(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()
