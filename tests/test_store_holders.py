"""Issue 15, item 8: leases and locks of a process that is gone are recognised at once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import Engine

from connector.store import jobs, locks
from connector.store.holders import hand_back, holder_prefix, is_gone

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _gone_pid() -> int:
    """The pid of a real process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_holder_is_gone_only_when_its_process_on_this_host_is() -> None:
    assert is_gone(f"{holder_prefix(_gone_pid())}:sync-1")
    assert not is_gone(f"{holder_prefix()}:sync-1")  # this very process
    assert not is_gone(f"{holder_prefix(os.getppid())}:sync-1")
    assert not is_gone("another-host:1:abc:sync-1")  # never judged from here
    assert not is_gone("sync-0123456789ab")  # owners of the old shapes: expiry only
    host, pid, _ = holder_prefix(_gone_pid()).split(":")
    assert not is_gone(f"{host}:{pid}:140265803496320:0123abcd")  # an old worker id
    assert is_gone(f"{host}:{os.getpid()}:b000000000000:1:w")  # from before a reboot


def test_a_lock_of_a_gone_process_is_taken_at_once(engine: Engine) -> None:
    dead = f"{holder_prefix(_gone_pid())}:sync-1"
    alive = f"{holder_prefix()}:sync-2"
    assert locks.acquire(engine, "case:1", dead, clock=lambda: NOW)
    assert locks.acquire(engine, "case:2", alive, clock=lambda: NOW)
    assert locks.acquire(engine, "case:1", "other", clock=lambda: NOW)  # not after 120 s
    assert not locks.acquire(engine, "case:2", "other", clock=lambda: NOW)


def test_hand_back_makes_a_gone_workers_job_due_now(engine: Engine) -> None:
    with engine.begin() as conn:
        job_id = jobs.enqueue(conn, "k", {}, clock=lambda: NOW)
    dead = f"{holder_prefix(_gone_pid())}:1:w"
    claimed = jobs.claim(engine, dead, clock=lambda: NOW)
    assert claimed is not None and claimed.id == job_id
    assert jobs.claim(engine, "next", clock=lambda: NOW) is None  # leased for 60 s
    assert hand_back(engine, clock=lambda: NOW) == 1
    again = jobs.claim(engine, "next", clock=lambda: NOW)
    assert again is not None and again.id == job_id and again.attempts == 2
