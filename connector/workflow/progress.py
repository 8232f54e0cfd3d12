"""Step 12's progress notes: GitLab events aggregated into short notes on the step's subtask.

Every kind of event (push, merge, wiki, ...) of a case gets at most one note per
``[gitlab] note_interval_minutes``: the first event after a note opens a window, the events
of the window wait in ``gitlab_progress``, and the window's note is written once it has
lasted the interval, by the next event's job or by ``flush_progress`` (called periodically).

Exactly once (RELIABILITY promise 4): an event's line is added in the transaction that marks
its delivery processed, so a redone job adds nothing; a note is first stored as
``outgoing_note`` with its sequence number (which makes its text unique), then written with
``note_once`` (which looks for that exact text among the service's journals), then cleared;
a job that dies in between leaves the note to be sent again, never twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    and_,
    or_,
    select,
    update,
)

from connector.codehost.events import ProgressEvent
from connector.faults import fault_point
from connector.rendering import redmine_env
from connector.services import Services
from connector.store.audit import mark_change_processed
from connector.store.cases import list_case_steps
from connector.store.db import insert_ignore, reading
from connector.store.jobs import PermanentFailure, new_worker_id
from connector.store.kinds import GITLAB_PROGRESS
from connector.store.locks import LockBusy, held
from connector.store.projects import case_of_project
from connector.store.schema import gitlab_progress
from connector.workflow.notes import note_once

log = logging.getLogger(__name__)

NOTE_LINES = 10  # a note lists the latest lines of its window and counts the others
DEFAULT_INTERVAL_MINUTES = 60
TEMPLATE = "redmine/gitlab_progress.j2"

_t = gitlab_progress


def record_progress(services: Services, payload: Mapping[str, Any]) -> None:
    """Job ``gitlab_progress``: keep the event's line, then write the note if it is due."""
    try:
        event = ProgressEvent.from_payload(payload)
    except ValueError as exc:
        raise PermanentFailure(f"bad {GITLAB_PROGRESS} payload: {exc}") from exc
    linked = case_of_project(services.engine, event.project_id)
    if linked is None:
        log.info("GitLab project %d belongs to no case; event dropped", event.project_id)
        return
    key = payload.get("event_key")
    with services.engine.begin() as conn:
        row_id = _add_line(conn, services, linked.case_id, event,
                           key if isinstance(key, str) and key else None)
    _flush_row(services, linked.case_id, row_id)


def flush_progress(services: Services) -> int:
    """Write every note that is due or was left unsent; return how many were written."""
    cutoff = services.clock() - note_interval(services)
    due = or_(_t.c.outgoing_note.is_not(None),
              and_(_t.c.pending_count > 0, _t.c.pending_since <= cutoff))
    with reading(services.engine) as conn:
        rows = conn.execute(select(_t.c.id, _t.c.case_id).where(due).order_by(_t.c.id)).all()
    return sum(_flush_row(services, case_id, row_id) for row_id, case_id in rows)


def note_interval(services: Services) -> timedelta:
    """``[gitlab] note_interval_minutes`` (0: a note for every event)."""
    gitlab = services.settings.gitlab
    minutes = gitlab.note_interval_minutes if gitlab is not None else DEFAULT_INTERVAL_MINUTES
    return timedelta(minutes=max(minutes, 0))


def _add_line(conn: Connection, services: Services, case_id: int, event: ProgressEvent,
              event_key: str | None) -> int:
    """Append the event's line to its window, unless this delivery was counted before."""
    fresh = {"case_id": case_id, "kind": event.kind, "pending_lines": [], "pending_count": 0,
             "note_seq": 0}
    insert_ignore(conn, _t, fresh, ["case_id", "kind"])
    row = conn.execute(select(_t).where(_t.c.case_id == case_id, _t.c.kind == event.kind)
                       ).mappings().one()
    change = f"{GITLAB_PROGRESS}:{event_key}"
    if event_key is not None and not mark_change_processed(conn, change, clock=services.clock):
        return int(row["id"])
    local = event.at.astimezone(ZoneInfo(services.settings.calendar.timezone))
    lines = [*row["pending_lines"], f"{local:%d/%m %H:%M} — {event.summary_line}"]
    conn.execute(update(_t).where(_t.c.id == row["id"]).values(
        pending_lines=lines[-NOTE_LINES:], pending_count=row["pending_count"] + 1,
        pending_since=row["pending_since"] or services.clock()))
    return int(row["id"])


def _flush_row(services: Services, case_id: int, row_id: int) -> bool:
    """Turn a due window into the outgoing note, then send it; lines wait for step 12."""
    development = services.sop.development_step
    if development is None:  # an SOP without a development step has no progress notes
        return False
    steps = list_case_steps(services.engine, case_id, only=development)
    issue_id = steps[0].redmine_issue_id if steps else None
    if issue_id is None:
        return False
    with services.engine.begin() as conn:
        _take_due(conn, services, row_id, services.clock())
    return _send(services, row_id, issue_id)


def _take_due(conn: Connection, services: Services, row_id: int, now: datetime) -> None:
    row = conn.execute(select(_t).where(_t.c.id == row_id)).mappings().one()
    since = row["pending_since"]
    if row["outgoing_note"] is not None or not row["pending_count"] or since is None \
            or now < since + note_interval(services):
        return
    seq = int(row["note_seq"]) + 1
    text = redmine_env(services.settings.redmine.text_formatting).get_template(TEMPLATE).render(
        kind=row["kind"], lines=row["pending_lines"], total=row["pending_count"],
        hidden=row["pending_count"] - len(row["pending_lines"]), seq=seq).strip()
    conn.execute(update(_t).where(_t.c.id == row_id).values(
        outgoing_note=text, note_seq=seq, pending_lines=[], pending_count=0,
        pending_since=None, last_note_at=now))


def _send(services: Services, row_id: int, issue_id: int) -> bool:
    """Write the outgoing note once, under a lock so two workers cannot both write it."""
    try:
        with held(services.engine, f"{GITLAB_PROGRESS}:{row_id}", new_worker_id(),
                  clock=services.clock):
            with reading(services.engine) as conn:
                text = conn.execute(select(_t.c.outgoing_note).where(_t.c.id == row_id)
                                    ).scalar_one()
            if text is None:
                return False
            written = note_once(services.tracker, issue_id, text)
            fault_point("progress.after_note")
            with services.engine.begin() as conn:
                conn.execute(update(_t).where(_t.c.id == row_id, _t.c.outgoing_note == text)
                             .values(outgoing_note=None))
    except LockBusy:
        return False  # another worker is sending it
    return written
