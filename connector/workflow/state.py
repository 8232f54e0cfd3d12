"""A case's workflow state, read from the store: current step, team, loops."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, select

from connector.store import audit, cases
from connector.store.schema import processed_changes
from connector.workflow.engine import CaseView

TEAM_RECORDED = "team_recorded"
LOOPED = "loop"


def case_view(conn: Connection, case: cases.Case) -> CaseView:
    """The engine's view of a case; team and loop counts come from its audit trail."""
    trail = audit.list_audit(conn, case.id)
    team: tuple[str, ...] = ()
    loops: Counter[int] = Counter()
    for entry in trail:
        detail = entry.detail or {}
        if entry.action == TEAM_RECORDED:
            team = tuple(detail.get("logins", ()))
        elif entry.action == LOOPED and entry.step_from is not None:
            loops[entry.step_from] += 1
    return CaseView(opd=case.opd, current_step=case.current_step or 0, team=team,
                    loops=dict(loops))


def is_processed(conn: Connection, change_key: str) -> bool:
    """True when a change was already handled (by the poller or a webhook)."""
    found = conn.execute(select(processed_changes.c.change_key)
                         .where(processed_changes.c.change_key == change_key)).first()
    return found is not None


def journal_key(journal_id: int) -> str:
    """The exactly-once key of a Redmine journal."""
    return f"redmine:journal:{journal_id}"
