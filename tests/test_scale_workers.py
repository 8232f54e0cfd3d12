"""The scale path: four worker processes on PostgreSQL drain 2,000 jobs, one killed midway.

The handler calls a fake of our own Redmine port (``connector.tracker.IssueTracker``) whose
issues are lines of an append-only file, so that effects in every process can be counted;
like the real handlers, it looks the case up by its business key before creating it. The
workers are real processes running the real ``run_worker`` loop. Once a quarter of the jobs
are done, the first worker stops right after creating an issue, before its job is marked
done, and is killed with SIGKILL there; its lease expires and another worker takes the job
over. Every job must then be done, and every business key's issue exist exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from connector.store.db import make_engine, utc_now
from connector.store.jobs import DEFAULT_MAX_ATTEMPTS, Job, new_worker_id, run_worker
from connector.store.migrate import create_all
from connector.store.schema import JobStatus, jobs
from connector.tracker import IssueDraft, TrackedIssue
from tests.postgres_server import fresh_database, postgres_server

JOBS = 2000
WORKERS = 4
KIND = "scale_open_case"
LEASE_SECONDS = 3.0
WAIT_SECONDS = 120  # a guard against hanging, not a speed requirement


def _append(path: Path, line: str) -> None:
    """Append one line in a single write with O_APPEND: atomic between processes."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class FileTracker:
    """The tracker port's case lookup and creation over a file shared by processes.

    Each created issue is one line ``key pid``; as Redmine would, it accepts a duplicate
    issue for the same key, so that duplicates show up. Only the calls the handler makes
    are implemented.
    """

    def __init__(self, issues: Path) -> None:
        self.issues = issues

    def _issue(self, number: int, key: str) -> TrackedIssue:
        return TrackedIssue(id=number, key=key, subject=key, status="Baru",
                            assignee_login=None, start_date=None, due_date=None,
                            parent_id=None, url=f"http://redmine.test/issues/{number}")

    def find_case(self, key: str) -> TrackedIssue | None:
        if not self.issues.exists():
            return None
        for number, line in enumerate(self.issues.read_text().splitlines(), start=1):
            if line.split()[0] == key:
                return self._issue(number, key)
        return None

    def open_issue(self, draft: IssueDraft) -> TrackedIssue:
        _append(self.issues, f"{draft.key} {os.getpid()}\n")
        return self._issue(0, draft.key)


def _handler(folder: Path, victim: bool) -> Callable[[Job], None]:
    """Open the job's case once (find by key first); the victim stops when the trap is set."""
    tracker = FileTracker(folder / "issues")
    trap, inflight = folder / "trap", folder / "inflight"

    def open_case(job: Job) -> None:
        key = job.payload["key"]
        _append(folder / "runs", f"{job.id} {key} {os.getpid()}\n")
        if tracker.find_case(key) is None:
            tracker.open_issue(IssueDraft(key=key, kind="case", subject=f"Permohonan {key}",
                                          description="", status="Baru"))
        if victim and trap.exists():  # the issue exists, the job is not done: die here
            _append(inflight, f"{job.id} {key}\n")
            time.sleep(WAIT_SECONDS * 10)

    return open_case


def _stop_when_told(folder: Path, halt: threading.Event) -> None:
    """Stop the worker once the file ``stop`` exists (a multiprocessing Event would hang:
    setting it waits for every process that waited on it, the killed one too)."""
    while not (folder / "stop").exists():
        time.sleep(0.05)
    halt.set()


def _work(url: str, folder: str, victim: bool, start: Any) -> None:
    """One worker process: the real worker loop until the file ``stop`` appears."""
    engine = make_engine(url)
    halt = threading.Event()
    threading.Thread(target=_stop_when_told, args=(Path(folder), halt), daemon=True).start()
    start.wait(WAIT_SECONDS)
    run_worker(engine, {KIND: _handler(Path(folder), victim)}, worker_id=new_worker_id(),
               stop=halt, poll_interval=0.05, lease_seconds=LEASE_SECONDS)
    engine.dispose()


def _wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def _done(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(jobs.c.status == JobStatus.DONE.value)
        return int(conn.execute(query).scalar_one())


def _enqueue_all(engine: Engine, keys: list[str]) -> None:
    """The rows ``enqueue`` writes, in one multi-row INSERT (2,000 single ones take long)."""
    now = utc_now()
    rows = [{"kind": KIND, "payload": {"key": key}, "dedupe_key": key,
             "status": JobStatus.PENDING.value, "attempts": 0, "max_attempts": DEFAULT_MAX_ATTEMPTS,
             "run_after": now, "created_at": now, "updated_at": now} for key in keys]
    with engine.begin() as conn:
        conn.execute(insert(jobs), rows)


def _lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()]


@contextmanager
def _workers(url: str, folder: Path) -> Iterator[list[BaseProcess]]:
    """Start the worker processes together; on leaving, stop them (kill any that hang)."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(WORKERS + 1)
    procs = [ctx.Process(target=_work, args=(url, str(folder), n == 0, start))
             for n in range(WORKERS)]
    for proc in procs:
        proc.start()
    try:
        start.wait(WAIT_SECONDS)
        yield procs
    finally:
        (folder / "stop").touch()
        for proc in procs:
            proc.join(WAIT_SECONDS)
            if proc.is_alive():
                proc.kill()
                proc.join()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def scale_url(postgres_url: str) -> Iterator[str]:
    with fresh_database(postgres_url, "scale") as url:
        yield url


def test_four_workers_drain_2000_jobs_exactly_once_though_one_is_killed(
    scale_url: str, tmp_path: Path
) -> None:
    engine = make_engine(scale_url)
    create_all(engine)
    keys = [f"K{n:04d}" for n in range(JOBS)]
    _enqueue_all(engine, keys)
    with _workers(scale_url, tmp_path) as procs:
        victim, survivors = procs[0], procs[1:]
        _wait_for("a quarter of the jobs done", lambda: _done(engine) >= JOBS // 4)
        (tmp_path / "trap").touch()
        _wait_for("the victim to stop inside a job", (tmp_path / "inflight").exists)
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(WAIT_SECONDS)
        _wait_for("every job done", lambda: _done(engine) == JOBS)
    assert victim.exitcode == -signal.SIGKILL
    assert [proc.exitcode for proc in survivors] == [0] * len(survivors)

    with engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(select(jobs))}
    engine.dispose()
    assert len(rows) == JOBS
    assert {row.status for row in rows.values()} == {JobStatus.DONE.value}  # none lost, none dead
    assert {row.lease_owner for row in rows.values()} == {None}

    issues = _lines(tmp_path / "issues")
    assert Counter(key for key, _pid in issues) == Counter(keys)  # each effect exactly once

    runs = _lines(tmp_path / "runs")
    runs_per_job = Counter(int(job_id) for job_id, _key, _pid in runs)
    assert {job_id: row.attempts for job_id, row in rows.items()} == runs_per_job
    assert len({pid for _job, _key, pid in runs}) == WORKERS  # they ran side by side

    [(inflight_id, inflight_key)] = _lines(tmp_path / "inflight")
    victim_pid = str(victim.pid)
    takers = [pid for job_id, _key, pid in runs if job_id == inflight_id]
    assert victim_pid in takers and takers[-1] != victim_pid  # taken over after the kill
    assert rows[int(inflight_id)].attempts >= 2
    assert [pid for key, pid in issues if key == inflight_key] == [victim_pid]
