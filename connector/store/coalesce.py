"""One pending job per subject: a new request for work already waiting joins that job.

Issue 15: a short poll interval re-read every issue changed in its overlap window and queued
a job each time, so one case's run queued over a thousand jobs and a person's step waited
behind them. A job's subject (``sync_issue:<issue id>``) is the start of its dedupe key; a
request whose subject already has a job waiting (pending, or failed and due for a retry) adds
no row: the waiting job has not read Redmine yet, so it will see this change too. The key of
the request is still remembered (in ``processed_changes``, "covered"), so the same change
read again is not requested again. An urgent request (a webhook hint: a person is waiting)
makes the waiting job urgent too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, or_, select, update

from connector.store.audit import mark_change_processed
from connector.store.db import Clock, utc_now
from connector.store.jobs import ROUTINE_PREFIX, enqueue
from connector.store.schema import JobStatus, jobs, processed_changes

_WAITING = (JobStatus.PENDING.value, JobStatus.FAILED.value)


def covered_key(dedupe_key: str) -> str:
    """The ``processed_changes`` key remembering that a request was covered by a job."""
    return f"job:{dedupe_key}"


def already_requested(conn: Connection, dedupe_key: str) -> bool:
    """True when this very request was queued or covered before."""
    taken = select(jobs.c.id).where(jobs.c.dedupe_key == dedupe_key)
    covered = select(processed_changes.c.change_key).where(
        processed_changes.c.change_key == covered_key(dedupe_key))
    return conn.execute(taken).first() is not None or conn.execute(covered).first() is not None


def enqueue_once_per_subject(
    conn: Connection, kind: str, payload: Mapping[str, Any], *, subject: str, change: str,
    routine: bool, inbox_id: int | None = None, clock: Clock = utc_now,
) -> int | None:
    """Queue ``kind`` for ``subject`` unless a job for it is waiting; the new job's id or None.

    The dedupe key is ``<subject>:<change>``, prefixed with ``routine:`` for routine work (a
    poll), which ``claim`` serves after everything else.
    """
    key = f"{ROUTINE_PREFIX if routine else ''}{subject}:{change}"
    if already_requested(conn, key):
        return None
    waiting = _waiting_job(conn, kind, subject)
    if waiting is None:
        return enqueue(conn, kind, payload, dedupe_key=key, inbox_id=inbox_id, clock=clock)
    job_id, waiting_key, waiting_payload = waiting
    mark_change_processed(conn, covered_key(key), clock=clock)
    if not routine and waiting_key.startswith(ROUTINE_PREFIX):
        # The waiting job takes this request's key (free: checked above), so it is no longer
        # routine; its own key stays remembered as covered.
        mark_change_processed(conn, covered_key(waiting_key), clock=clock)
        merged = {**dict(waiting_payload), **{k: v for k, v in payload.items() if v is not None}}
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(
            dedupe_key=key, payload=merged, updated_at=clock()))
    return None


def _waiting_job(conn: Connection, kind: str, subject: str) -> tuple[int, str, Any] | None:
    """The job for ``subject`` that waits to run (not one already running), if any."""
    like = [jobs.c.dedupe_key.startswith(f"{prefix}{subject}:", autoescape=True)
            for prefix in ("", ROUTINE_PREFIX)]
    query = (select(jobs.c.id, jobs.c.dedupe_key, jobs.c.payload)
             .where(jobs.c.kind == kind, jobs.c.status.in_(_WAITING), or_(*like))
             .order_by(jobs.c.id).limit(1))
    row = conn.execute(query).first()
    return None if row is None else (int(row[0]), str(row[1]), row[2])
