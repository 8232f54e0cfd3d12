"""The physical limit of a durable acknowledgement: fsync'd commits on the same disk.

A letter may be acknowledged only once it is committed and synced (RELIABILITY promise 2), so
no store can acknowledge faster than the disk syncs. Two measures of that limit, one writer,
one sync per row, rows of the letter's stored size:
- SQLite as the service configures it (WAL, ``synchronous=FULL``), one INSERT per commit;
- plain ``os.write`` then ``os.fsync`` of the same bytes, appended to one file.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path


def sqlite_commits(folder: Path, size: int, seconds: float,
                   count: int | None = None) -> list[float]:
    """Latencies of one-row commits (WAL, synchronous=FULL) for ``seconds`` (or ``count``)."""
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS letters (id INTEGER PRIMARY KEY, body BLOB)")
        payload = os.urandom(size)
        return _repeat(seconds, lambda: _commit(conn, payload), count)
    finally:
        conn.close()


def _commit(conn: sqlite3.Connection, payload: bytes) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO letters (body) VALUES (?)", (payload,))
    conn.execute("COMMIT")


def fsync_writes(folder: Path, size: int, seconds: float) -> list[float]:
    """Latencies of ``os.write`` + ``os.fsync`` of ``size`` bytes, appended, for ``seconds``."""
    fd = os.open(folder / "bare.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    payload = os.urandom(size)

    def write() -> None:
        os.write(fd, payload)
        os.fsync(fd)

    try:
        return _repeat(seconds, write)
    finally:
        os.close(fd)


def _repeat(seconds: float, action: Callable[[], object],
            count: int | None = None) -> list[float]:
    """Run ``action`` for ``seconds``, or ``count`` times; return each run's latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def more() -> bool:
        return time.perf_counter() < deadline if count is None else len(latencies) < count

    while more():
        started = time.perf_counter()
        action()
        latencies.append(time.perf_counter() - started)
    return latencies
