"""``check-deadlines``: write today's deadline alerts, each exactly once, and keep the
remaining development days visible on the case.

Everything is decided from the local store, so a day with nothing due makes no Redmine call
at all, whatever the number of open cases; Redmine is written to only for a new alert, and
for the *Sisa Hari Kerja* field of a case in development when its value changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import Connection, and_, select

from connector.deadlines.rules import ActiveStep, Alert, due_alerts, hari_kerja_left
from connector.faults import fault_point
from connector.rendering import redmine_env
from connector.services import Services
from connector.sop.model import Sop, TimeStandard, TimeUnit
from connector.store import audit
from connector.store.cursors import set_cursor
from connector.store.db import reading
from connector.store.schema import (
    CaseStatus,
    StepState,
    case_steps,
    cases,
    cursors,
    processed_changes,
)
from connector.tracker import CaseField, IssueChanges
from connector.workflow.notes import note_once

REMAINING = "remaining:"


@dataclass
class DeadlineReport:
    """What one check did."""

    checked: int = 0
    alerts: list[Alert] = field(default_factory=list)
    remaining_updated: int = 0


def check_deadlines(services: Services, today: date | None = None) -> DeadlineReport:
    """Write the alerts due today and refresh *Sisa Hari Kerja*; return what was done."""
    today = today or services.today()
    with reading(services.engine) as conn:
        rows = _active_steps(conn)
        already = _done_keys(conn, "deadline:")
        remaining = _remaining_values(conn)
    report = DeadlineReport(checked=len(rows))
    sop = with_acknowledgement_time(services.sop, services.settings.sla.pengesahan_hari_kerja)
    report.alerts = due_alerts(sop, rows, today, services.calendar,
                               services.settings.sla.warn_hari_kerja, already)
    for alert in report.alerts:
        _write(services, sop, alert)
    report.remaining_updated = _refresh_remaining(services, rows, today, remaining)
    return report


def with_acknowledgement_time(sop: Sop, days: int) -> Sop:
    """The SOP with the configured time standard (``[sla] pengesahan_hari_kerja``) on a step
    that waits to be known and has none of its own (17): its due date is set when the wait
    begins, and it is reminded and escalated as any timed step."""
    steps = tuple(replace(s, time=TimeStandard(days, TimeUnit.HARI_KERJA))
                  if s.acknowledged_by and s.time is None else s for s in sop.steps)
    return replace(sop, steps=steps)


def _active_steps(conn: Connection) -> list[ActiveStep]:
    query = select(cases.c.id, cases.c.opd, cases.c.redmine_issue_id, case_steps.c.step,
                   case_steps.c.redmine_issue_id, case_steps.c.started_on,
                   case_steps.c.due_on).join(case_steps, case_steps.c.case_id == cases.c.id)
    query = query.where(and_(cases.c.status == CaseStatus.OPEN.value,
                             case_steps.c.state == StepState.ACTIVE.value,
                             case_steps.c.due_on.is_not(None),
                             case_steps.c.started_on.is_not(None)))
    return [ActiveStep(*row) for row in conn.execute(query)]


def _done_keys(conn: Connection, prefix: str) -> set[str]:
    column = processed_changes.c.change_key
    return set(conn.execute(select(column).where(column.startswith(prefix))).scalars())


def _remaining_values(conn: Connection) -> dict[str, str]:
    found = conn.execute(select(cursors.c.name, cursors.c.value)
                         .where(cursors.c.name.startswith(REMAINING)))
    return {name: value for name, value in found}


def _write(services: Services, sop: Sop, alert: Alert) -> None:
    """The note on the step, the escalation watcher, then the local record."""
    step = sop.step(alert.step.step)
    watcher = None
    if alert.escalate_to is not None:
        logins = services.settings.logins_for(alert.escalate_to, alert.step.opd)
        watcher = logins[0] if logins else None
    text = redmine_env(services.settings.redmine.text_formatting).get_template(
        "redmine/deadline_note.j2").render(
            alert=alert, step=step, watcher=watcher,
            watcher_role=alert.escalate_to.label if alert.escalate_to else "")
    if alert.step.issue_id is not None:
        note_once(services.tracker, alert.step.issue_id, text)
        fault_point("deadlines.after_alert_note")
        if watcher is not None:
            services.tracker.add_watcher(alert.step.issue_id, watcher)
            fault_point("deadlines.after_watcher_added")
    with services.engine.begin() as conn:
        for key in alert.keys:
            audit.mark_change_processed(conn, key)
        audit.append_audit(conn, alert.step.case_id, "sop-connector", "deadline_alert",
                           step_from=alert.step.step,
                           detail={"level": alert.level, "left": alert.left,
                                   "due": alert.step.due_on.isoformat(), "watcher": watcher})


def _refresh_remaining(services: Services, rows: list[ActiveStep], today: date,
                       written: dict[str, str]) -> int:
    """Set *Sisa Hari Kerja* on cases in a cumulative step, when the value changed."""
    updated = 0
    left_by_due: dict[date, int] = {}
    for row in rows:
        time = services.sop.step(row.step).time
        if time is None or not time.cumulative or row.parent_issue_id is None:
            continue
        if row.due_on not in left_by_due:
            left_by_due[row.due_on] = hari_kerja_left(services.calendar, today, row.due_on)
        value = str(left_by_due[row.due_on])
        name = f"{REMAINING}{row.case_id}"
        if written.get(name) == value:
            continue
        services.tracker.change_issue(row.parent_issue_id, IssueChanges(
            fields={CaseField.REMAINING_HARI_KERJA: value}))
        fault_point("deadlines.after_remaining_field")
        with services.engine.begin() as conn:
            set_cursor(conn, name, value)
        updated += 1
    return updated
