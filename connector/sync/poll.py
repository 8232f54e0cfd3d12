"""Poll Redmine for issues changed since the last poll and queue a ``sync_issue`` for each.

A Redmine webhook is only a hint (the plugin drops events and never retries, Redmine 5 and 6
send none), so this poll with an ``updated_on`` cursor and an overlap is the source of truth
(RELIABILITY promise 6). The cursor holds our clock's time when the previous poll started;
each poll reads from that time minus ``overlap``, which covers changes whose ``updated_on``
was stamped before a poll but committed after it, and clock skew up to the overlap.

Each change is queued once (issue 15: a 2 s poll re-queued every issue of its overlap window
each time, over a thousand jobs for one case): the job's key is the issue, its ``updated_on``
and its status (``change_key``), so reading the same change again in a later window queues
nothing, and an issue that already has a job waiting gets no second one (``coalesce``): that
job has not read Redmine yet, so it will see this change too. Poll jobs are routine work,
served after webhook hints and other jobs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.services import Services
from connector.store.coalesce import enqueue_once_per_subject
from connector.store.cursors import get_cursor, set_cursor
from connector.store.kinds import SYNC_ISSUE
from connector.tracker import IssueChange

CURSOR = "redmine_poll"
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
    changes = services.tracker.changes_since(since)
    run = started.astimezone(UTC).isoformat()
    queued = 0
    with services.engine.begin() as conn:
        for change in changes:
            job = enqueue_once_per_subject(
                conn, SYNC_ISSUE, {"issue_id": change.issue_id},
                subject=f"{SYNC_ISSUE}:{change.issue_id}", change=change_key(change),
                routine=True, clock=services.clock)
            queued += job is not None
        set_cursor(conn, CURSOR, run, clock=services.clock)
    return queued


def change_key(change: IssueChange) -> str:
    """What tells this change from one already queued: ``updated_on`` and the status.

    ``updated_on`` alone is not enough: Redmine stamps it to the second, so a person's close
    in the same second as the service's own write to that subtask (activating it) would share
    the key of the job that already ran for that write, and a lost hint would then be lost for
    good. A close always changes the status, so the two keys differ.
    """
    return f"updated:{change.updated_on.astimezone(UTC).isoformat()}:{change.status}"


def last_poll(services: Services, *, default: datetime) -> datetime:
    """When the last successful poll started, or ``default`` if there was none."""
    value = get_cursor(services.engine, CURSOR)
    if value is None:
        return default
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
