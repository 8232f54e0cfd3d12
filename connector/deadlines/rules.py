"""Which deadline alerts are due today: pure, from the store's rows and the calendar.

A step with a hari-kerja standard longer than a threshold is warned once when that many
hari kerja or fewer are left (default 10, 5 and 1 for step 12); any timed step past its due
date is reported once as overdue and escalated one level up the SOP's chain of roles.
If several thresholds were crossed since the last check, one note (the most urgent) is
written and all of them are recorded, so nobody gets a burst of stale reminders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from connector.calendar import WorkCalendar
from connector.sop.model import Role, Sop, TimeUnit

OVERDUE = "terlambat"
ESCALATION = {
    Role.TIM_PENGEMBANG: Role.KEPALA_SEKSI_APLIKASI,
    Role.TIM_TEKNIS_OPD: Role.KEPALA_SEKSI_APLIKASI,
    Role.KEPALA_SEKSI_APLIKASI: Role.KEPALA_BIDANG_TI,
    Role.BIDANG_TI: Role.KEPALA_BIDANG_TI,
    Role.KEPALA_BIDANG_TI: Role.KEPALA_DINAS,
}


@dataclass(frozen=True)
class ActiveStep:
    """An active, timed step of an open case, as the store has it."""

    case_id: int
    opd: str
    parent_issue_id: int | None
    step: int
    issue_id: int | None
    started_on: date
    due_on: date


@dataclass(frozen=True)
class Alert:
    """A note to write on a step, and the thresholds it settles."""

    step: ActiveStep
    level: str  # "10", "5", "1" (hari kerja left) or OVERDUE
    left: int  # in the step's unit (hari kerja or hari) left; negative: that many late
    keys: tuple[str, ...]
    escalate_to: Role | None


def alert_key(step: ActiveStep, level: str) -> str:
    """The exactly-once key of one threshold of one round of a step."""
    return f"deadline:{step.case_id}:{step.step}:{step.started_on.isoformat()}:{level}"


def hari_kerja_left(calendar: WorkCalendar, today: date, due: date) -> int:
    """Working days after today up to the due date; negative once past it."""
    if today <= due:
        return calendar.workdays_between(today, due)
    return -calendar.workdays_between(due, today)


def due_alerts(sop: Sop, rows: Iterable[ActiveStep], today: date, calendar: WorkCalendar,
               warn: Sequence[int], already: set[str]) -> list[Alert]:
    """The alerts not yet written, one per step at most; none at all on a day off.

    Nobody is reminded or escalated on a weekend or holiday: what is due waits for the next
    working day's check. A due date stored on a day off (a "hari" step activated before due
    dates moved to the next working day) counts from that next working day.
    Open cases share due dates, so the hari kerja left are computed once per due date.
    """
    if not calendar.is_workday(today):
        return []
    left_by_due: dict[date, int] = {}
    alerts = []
    for row in rows:
        row = replace(row, due_on=calendar.next_workday(row.due_on))
        if row.due_on not in left_by_due:
            left_by_due[row.due_on] = hari_kerja_left(calendar, today, row.due_on)
        alert = _alert(sop, row, today, left_by_due[row.due_on], warn, already)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _alert(sop: Sop, row: ActiveStep, today: date, left: int, warn: Sequence[int],
           already: set[str]) -> Alert | None:
    step = sop.step(row.step)
    if step.time is None:
        return None
    if step.time.unit is TimeUnit.HARI:  # the note speaks in the standard's own unit
        left = (row.due_on - today).days
    if today > row.due_on:
        levels = [OVERDUE]
    elif step.time.unit is TimeUnit.HARI_KERJA:
        levels = [str(t) for t in sorted(warn) if left <= t < step.time.amount]
    else:
        levels = []
    fresh = [level for level in levels if alert_key(row, level) not in already]
    if not fresh:
        return None
    escalate = ESCALATION.get(step.role) if fresh[0] == OVERDUE else None
    return Alert(row, fresh[0], left, tuple(alert_key(row, level) for level in fresh), escalate)
