"""A case's workflow state, read from the store: current step, team, loops."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import Connection, select

from connector.calendar import WorkCalendar
from connector.sop.model import Role
from connector.store import audit, cases
from connector.store.schema import processed_changes
from connector.workflow.engine import CaseView

TEAM_RECORDED = "team_recorded"
LOOPED = "loop"
ACTIVATED = "step_activated"
COMPLETED = "step_completed"
AWAITING = "acknowledgement_awaited"  # a drawn-up document waits to be known (step 17)
ACKNOWLEDGED = "step_acknowledged"  # a party knew it, by its own account (detail.role)


def case_view(conn: Connection, case: cases.Case, calendar: WorkCalendar) -> CaseView:
    """The engine's view of a case, from its audit trail: team, loops, days spent."""
    trail = audit.list_audit(conn, case.id)
    team: tuple[str, ...] = ()
    loops: Counter[int] = Counter()
    started: dict[int, date] = {}
    spent: Counter[int] = Counter()
    acknowledged: dict[int, dict[Role, str]] = {}
    for entry in trail:
        detail = entry.detail or {}
        if entry.action == AWAITING and entry.step_from is not None:
            acknowledged.setdefault(entry.step_from, {})
        elif entry.action == ACKNOWLEDGED and entry.step_from is not None:
            acknowledged.setdefault(entry.step_from, {})[Role(detail["role"])] = entry.actor
        elif entry.action == TEAM_RECORDED:
            team = tuple(detail.get("logins", ()))
        elif entry.action == LOOPED and entry.step_from is not None:
            loops[entry.step_from] += 1
        elif entry.action == ACTIVATED and entry.step_to is not None:
            acknowledged.pop(entry.step_to, None)  # a new round waits afresh
            started[entry.step_to] = date.fromisoformat(detail["start"])
        elif entry.action == COMPLETED and entry.step_from in started and "on" in detail:
            begun = started.pop(entry.step_from)
            spent[entry.step_from] += calendar.workdays_between(
                begun, date.fromisoformat(detail["on"]))
    return CaseView(opd=case.opd, current_step=case.current_step or 0, team=team,
                    loops=dict(loops), spent=dict(spent), acknowledged=acknowledged)


def is_processed(conn: Connection, change_key: str) -> bool:
    """True when a change was already handled (by the poller or a webhook)."""
    found = conn.execute(select(processed_changes.c.change_key)
                         .where(processed_changes.c.change_key == change_key)).first()
    return found is not None


def journal_key(journal_id: int) -> str:
    """The exactly-once key of a Redmine journal."""
    return f"redmine:journal:{journal_id}"
