"""The job queue: leased jobs, retried with backoff and jitter, ending in a dead-letter list.

Delivery is at least once (RELIABILITY.md, promise 5): a job is leased to one worker; a worker
that dies leaves a lease that expires, and the next ``claim`` takes the job over. Only the
current lease owner may finish a job, so a worker that lost its lease cannot overwrite the
outcome of the one that took over. Handlers must therefore be idempotent.

Claiming is atomic on both databases. On PostgreSQL the candidate row is selected with
``FOR UPDATE SKIP LOCKED``, so concurrent workers lock different rows. On SQLite that clause
is not rendered; instead ``make_engine`` opens every transaction with ``BEGIN IMMEDIATE``,
which takes the database's single write lock before the SELECT, so claimers run one after the
other across threads and processes. In both cases the UPDATE repeats the "is due" condition
and the claim only counts if it changed the row.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from connector.store.db import Clock, insert_ignore, reading, utc_now
from connector.store.holders import holder_prefix
from connector.store.job_model import Jitter as Jitter
from connector.store.job_model import Job as Job
from connector.store.job_model import JobNotReplayable as JobNotReplayable
from connector.store.job_model import PermanentFailure as PermanentFailure
from connector.store.job_model import RetryLater as RetryLater
from connector.store.job_model import RetryPolicy as RetryPolicy
from connector.store.job_model import job_from_row
from connector.store.schema import JobStatus, jobs

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 20
DEFAULT_LEASE_SECONDS = 60
DEFAULT_POLICY = RetryPolicy()
_MAX_ERROR_CHARS = 4000
_RETRYABLE = (JobStatus.PENDING.value, JobStatus.FAILED.value)
ROUTINE_PREFIX = "routine:"
"""A dedupe key starting with this marks routine work (a poll), served after all other jobs."""


def new_worker_id() -> str:
    """Return a worker id unique to this host, process and thread."""
    return f"{holder_prefix()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def enqueue(
    conn: Connection,
    kind: str,
    payload: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    run_after: datetime | None = None,
    inbox_id: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    clock: Clock = utc_now,
) -> int | None:
    """Add a job in the caller's transaction; None if ``dedupe_key`` was already enqueued."""
    values = job_row(kind, payload, clock(), dedupe_key=dedupe_key, run_after=run_after,
                     inbox_id=inbox_id, max_attempts=max_attempts)
    # NULL dedupe keys never conflict (NULLs are distinct in a UNIQUE index on both databases).
    job_id: int | None = insert_ignore(conn, jobs, values, ["dedupe_key"])
    return job_id


def job_row(
    kind: str, payload: Mapping[str, Any], now: datetime, *, dedupe_key: str | None = None,
    run_after: datetime | None = None, inbox_id: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> dict[str, Any]:
    """The ``jobs`` row of a new pending job (``enqueue`` and batches of letters)."""
    return {"kind": kind, "payload": dict(payload), "dedupe_key": dedupe_key,
            "status": JobStatus.PENDING.value, "attempts": 0, "max_attempts": max_attempts,
            "run_after": run_after or now, "created_at": now, "updated_at": now,
            "inbox_id": inbox_id}


def _due(now: datetime) -> ColumnElement[bool]:
    """Due: waiting and its time has come, or running under a lease that has expired."""
    return or_(
        and_(jobs.c.status.in_(_RETRYABLE), jobs.c.run_after <= now),
        and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.lease_until <= now),
    )


def claim(
    engine: Engine,
    worker_id: str,
    kinds: Collection[str] | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    *,
    clock: Clock = utc_now,
) -> Job | None:
    """Lease the oldest due job to ``worker_id``; None when nothing is due.

    Routine work (a dedupe key starting with ``routine:``) comes after every other due job,
    so a person waiting on a webhook hint never queues behind a poll's sweep (issue 15).
    """
    now = clock()
    query = select(jobs.c.id, jobs.c.status, jobs.c.attempts, jobs.c.max_attempts).where(_due(now))
    if kinds is not None:
        query = query.where(jobs.c.kind.in_(list(kinds)))
    routine = case((jobs.c.dedupe_key.like(f"{ROUTINE_PREFIX}%"), 1), else_=0)
    query = query.order_by(routine, jobs.c.run_after, jobs.c.id)
    query = query.limit(1).with_for_update(skip_locked=True)
    lease = {"lease_owner": worker_id, "lease_until": now + timedelta(seconds=lease_seconds)}
    with engine.begin() as conn:
        while (row := conn.execute(query).mappings().first()) is not None:
            if row["status"] == JobStatus.RUNNING and row["attempts"] >= row["max_attempts"]:
                _bury_abandoned(conn, row["id"], row["attempts"], now)
                continue
            take = update(jobs).where(jobs.c.id == row["id"], _due(now)).returning(*jobs.c)
            values = {"status": JobStatus.RUNNING.value, "attempts": jobs.c.attempts + 1}
            taken = (
                conn.execute(take.values(values | lease | {"updated_at": now})).mappings().first()
            )
            if taken is not None:  # always, unless the row changed under a non-locking setup
                return job_from_row(taken)
    return None


def _released(now: datetime) -> dict[str, Any]:
    """The column values of a job that no worker holds."""
    return {"lease_owner": None, "lease_until": None, "updated_at": now}


def _bury_abandoned(conn: Connection, job_id: int, attempts: int, now: datetime) -> None:
    """Dead-letter a job whose last allowed attempt lost its worker."""
    log.error("job %s dead: lease expired on its last attempt (%d)", job_id, attempts)
    error = f"lease expired on attempt {attempts}, the last allowed; worker lost?"
    values = _released(now) | {"status": JobStatus.DEAD.value, "last_error": error}
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(values))


def _owned(job_id: int, worker_id: str) -> ColumnElement[bool]:
    """The job is running under ``worker_id``'s lease."""
    return and_(
        jobs.c.id == job_id,
        jobs.c.status == JobStatus.RUNNING.value,
        jobs.c.lease_owner == worker_id,
    )


def complete(engine: Engine, job_id: int, worker_id: str, *, clock: Clock = utc_now) -> bool:
    """Mark the job done; False if ``worker_id`` no longer holds its lease."""
    with engine.begin() as conn:
        values = _released(clock()) | {"status": JobStatus.DONE.value, "last_error": None}
        result = conn.execute(update(jobs).where(_owned(job_id, worker_id)).values(values))
    return result.rowcount == 1


def fail(
    engine: Engine,
    job_id: int,
    worker_id: str,
    error: str,
    *,
    retry_after: float | None = None,
    permanent: bool = False,
    clock: Clock = utc_now,
    policy: RetryPolicy = DEFAULT_POLICY,
    rng: Jitter | None = None,
) -> bool:
    """Record a failed attempt: retry later with backoff, or dead; False if not the owner."""
    now = clock()
    with engine.begin() as conn:
        row = conn.execute(
            select(jobs.c.attempts, jobs.c.max_attempts)
            .where(_owned(job_id, worker_id))
            .with_for_update()
        ).first()
        if row is None:
            return False
        attempts, max_attempts = row
        values = _released(now) | {"last_error": error[:_MAX_ERROR_CHARS]}
        if permanent or attempts >= max_attempts:
            log.error("job %s dead after %d attempt(s)", job_id, attempts)
            values["status"] = JobStatus.DEAD.value
        else:
            delay = policy.delay(attempts, rng or random.Random(), retry_after)
            values["status"] = JobStatus.FAILED.value
            values["run_after"] = now + timedelta(seconds=delay)
        result = conn.execute(update(jobs).where(_owned(job_id, worker_id)).values(values))
    return result.rowcount == 1


def extend_lease(
    engine: Engine,
    job_id: int,
    worker_id: str,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    *,
    clock: Clock = utc_now,
) -> bool:
    """Push the lease ``lease_seconds`` past now; False if ``worker_id`` lost it."""
    now = clock()
    with engine.begin() as conn:
        result = conn.execute(
            update(jobs)
            .where(_owned(job_id, worker_id))
            .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
        )
    return result.rowcount == 1


def get_job(bind: Engine | Connection, job_id: int) -> Job | None:
    """Return the job with ``job_id``, or None."""
    with reading(bind) as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return None if row is None else job_from_row(row)


def list_jobs(
    bind: Engine | Connection, statuses: Collection[str] | None = None, *, limit: int = 1000
) -> list[Job]:
    """Return jobs in the given statuses (all when None), oldest first."""
    query = select(jobs).order_by(jobs.c.id).limit(limit)
    if statuses is not None:
        query = query.where(jobs.c.status.in_(list(statuses)))
    with reading(bind) as conn:
        return [job_from_row(row) for row in conn.execute(query).mappings()]


def replay(engine: Engine, job_id: int, *, clock: Clock = utc_now) -> Job:
    """Send a dead or failed job back to pending, due now, with its attempts reset."""
    now = clock()
    with engine.begin() as conn:
        values = _released(now) | {"status": JobStatus.PENDING.value, "attempts": 0}
        values |= {"run_after": now, "last_error": None}
        replayable = jobs.c.status.in_([JobStatus.DEAD.value, JobStatus.FAILED.value])
        stmt = update(jobs).where(jobs.c.id == job_id, replayable).values(values)
        row = conn.execute(stmt.returning(*jobs.c)).mappings().first()
        if row is None:
            current = conn.execute(select(jobs.c.status).where(jobs.c.id == job_id)).scalar()
            state = "does not exist" if current is None else f"is {current}"
            raise JobNotReplayable(f"job {job_id} {state}; only dead or failed jobs replay")
    log.info("job %s replayed", job_id)
    return job_from_row(row)


def queue_stats(bind: Engine | Connection, *, clock: Clock = utc_now) -> dict[str, int]:
    """Count jobs per status, and ``oldest_pending_age_seconds``: how late the most overdue
    pending or failed job is (0 when none is due), the queue's lag for /healthz."""
    now = clock()
    stats = {status.value: 0 for status in JobStatus}
    with reading(bind) as conn:
        for status, count in conn.execute(
            select(jobs.c.status, func.count()).group_by(jobs.c.status)
        ):
            stats[status] = count
        oldest = conn.execute(
            select(func.min(jobs.c.run_after)).where(
                jobs.c.status.in_(_RETRYABLE), jobs.c.run_after <= now
            )
        ).scalar()
    stats["oldest_pending_age_seconds"] = (
        0 if oldest is None else int((now - oldest).total_seconds())
    )
    return stats


Handler = Callable[[Job], None]


@dataclass(frozen=True)
class _Runner:
    """One worker's settings; ``once`` claims and runs a single job."""

    engine: Engine
    handlers: Mapping[str, Handler]
    worker_id: str
    lease_seconds: float
    policy: RetryPolicy
    clock: Clock
    rng: Jitter | None

    def once(self) -> bool:
        """Claim one due job and run it; False when none was due."""
        job = claim(self.engine, self.worker_id, None, self.lease_seconds, clock=self.clock)
        if job is None:
            return False
        handler = self.handlers.get(job.kind)
        if handler is None:
            self._fail(job, f"no handler for job kind {job.kind!r}", permanent=True)
            return True
        try:
            handler(job)
        except RetryLater as exc:
            self._fail(job, f"RetryLater: {exc}", retry_after=exc.retry_after)
        except PermanentFailure as exc:
            self._fail(job, f"PermanentFailure: {exc}", permanent=True)
        except Exception as exc:
            self._fail(job, f"{type(exc).__name__}: {exc}")
        else:
            if not complete(self.engine, job.id, self.worker_id, clock=self.clock):
                log.warning("job %s (%s) finished after its lease was lost", job.id, job.kind)
        return True

    def _fail(
        self, job: Job, error: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        """Record the failure and log it without the payload or the message."""
        log.warning(
            "job %s (%s) attempt %d/%d failed: %s",
            job.id,
            job.kind,
            job.attempts,
            job.max_attempts,
            error.split(":", 1)[0],
        )
        fail(
            self.engine,
            job.id,
            self.worker_id,
            error,
            retry_after=retry_after,
            permanent=permanent,
            clock=self.clock,
            policy=self.policy,
            rng=self.rng,
        )


def run_worker(
    engine: Engine,
    handlers: Mapping[str, Handler],
    *,
    worker_id: str,
    stop: threading.Event,
    poll_interval: float = 1.0,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Clock = utc_now,
    rng: Jitter | None = None,
) -> None:
    """Run jobs until ``stop`` is set; sleep ``poll_interval`` when idle or the store is down.

    A job of a kind with no handler goes to dead. An unreachable store is logged and retried,
    not raised: the lease of a job caught mid-way expires and another attempt follows. Other
    errors of the store (bugs) are raised.
    """
    runner = _Runner(engine, handlers, worker_id, lease_seconds, policy, clock, rng)
    log.info("worker %s started for %s", worker_id, sorted(handlers))
    while not stop.is_set():
        try:
            worked = runner.once()
        except (OperationalError, InterfaceError) as exc:  # the store is down or locked
            log.error("worker %s: store unavailable: %s", worker_id, type(exc).__name__)
            worked = False
        if not worked:
            stop.wait(poll_interval)
    log.info("worker %s stopped", worker_id)


def drain(
    engine: Engine,
    handlers: Mapping[str, Handler],
    worker_id: str,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Clock = utc_now,
    rng: Jitter | None = None,
) -> int:
    """Run jobs until none is due; return how many were run. For tests and the CLI."""
    runner = _Runner(engine, handlers, worker_id, lease_seconds, policy, clock, rng)
    count = 0
    while runner.once():
        count += 1
    return count
