"""Poll Redmine for issues changed since the last poll and queue a ``sync_issue`` for each.

A Redmine webhook is only a hint (the plugin drops events and never retries, Redmine 5 and 6
send none), so this poll with an ``updated_on`` cursor and an overlap is the source of truth
(RELIABILITY promise 6). The cursor holds our clock's time when the previous poll started;
each poll reads from that time minus ``overlap``, which covers changes whose ``updated_on``
was stamped before a poll but committed after it, and clock skew up to the overlap.

Each poll run queues its jobs under ``sync_issue:<id>:poll:<start time>``: two issues, or
the same issue seen by two runs, never share a key, so a later change of an issue is always
synced again; re-reading an issue inside the overlap costs one more ``sync_issue`` job, which
is idempotent per journal. Running the same poll twice at the same instant queues nothing new.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.bootstrap import Services
from connector.store.cursors import get_cursor, set_cursor
from connector.store.jobs import enqueue

CURSOR = "redmine_poll"
SYNC_ISSUE = "sync_issue"
FIRST_LOOKBACK = timedelta(days=1)


def poll_once(services: Services, *, overlap: timedelta = timedelta(minutes=2)) -> int:
    """Queue a sync of every issue updated since the last poll; return how many were queued.

    A tracker outage raises (``RemoteUnavailable``) before anything is written, so the cursor
    stays where it was and the next poll reads the same window again.
    """
    if overlap < timedelta(0):
        raise ValueError("overlap must not be negative")
    started = services.clock()
    since = last_poll(services, default=started - FIRST_LOOKBACK) - overlap
    issue_ids = services.tracker.updated_since(since)
    run = started.astimezone(UTC).isoformat()
    queued = 0
    with services.engine.begin() as conn:
        for issue_id in issue_ids:
            job = enqueue(conn, SYNC_ISSUE, {"issue_id": issue_id},
                          dedupe_key=f"{SYNC_ISSUE}:{issue_id}:poll:{run}", clock=services.clock)
            queued += job is not None
        set_cursor(conn, CURSOR, run, clock=services.clock)
    return queued


def last_poll(services: Services, *, default: datetime) -> datetime:
    """When the last successful poll started, or ``default`` if there was none."""
    value = get_cursor(services.engine, CURSOR)
    if value is None:
        return default
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
