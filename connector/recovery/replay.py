"""Replay a case's Redmine history into the store: the engine decides, nothing is sent.

Each close that stood in Redmine is given to the engine in the order it happened, against
the case as replayed so far, and its decision is recorded (case, steps, dates, team, loops,
audit trail with the person who closed it), exactly as the live ``sync_issue`` records it,
but without carrying anything out: Redmine shows it already. Every journal replayed is
marked processed, so the poll that follows finds nothing to redo and writes no note.

The last close of an open case is left to ``sync_issue``: the service may have died before
it carried that one out (a killed worker, then a lost store), and ``sync_issue`` redoes only
what Redmine does not show yet. A journal already processed (an older backup) is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import Connection

from connector.recovery.history import Entry, put_back, standing_close
from connector.services import Services
from connector.store import audit, cases
from connector.store.schema import CaseStatus
from connector.workflow import record
from connector.workflow.engine import decide
from connector.workflow.policy import policy_for
from connector.workflow.state import case_view, is_processed, journal_key

log = logging.getLogger(__name__)


def pending_closes(services: Services, conn: Connection, history: list[Entry]) -> list[Entry]:
    """The closes that stood in Redmine and the store has not processed, oldest first."""
    todo = [e for e in history if not is_processed(conn, journal_key(e.journal.id))]
    return [e for e in todo if standing_close(services, history, e) is not None]


def replay(services: Services, conn: Connection, case_id: int, history: list[Entry],
           subtasks: Mapping[int, int], *, leave_last: bool) -> Entry | None:
    """Record every unprocessed close that stood; return the close left to ``sync_issue``."""
    todo = [e for e in history if not is_processed(conn, journal_key(e.journal.id))]
    closes = pending_closes(services, conn, history)
    left = closes[-1] if leave_last and closes else None
    for entry in todo:
        if left is not None and entry.journal.id >= left.journal.id:
            break
        _replay_one(services, conn, case_id, history, entry, subtasks)
        record.mark_processed(conn, journal_key(entry.journal.id))
    mark_attempted(conn, case_id, todo)
    return left


def mark_attempted(conn: Connection, case_id: int, entries: list[Entry]) -> None:
    """What the store did not process may have been half done before it was lost: whoever
    carries it out, or another change of the case, looks in Redmine first
    (``record.claim_first_attempt``)."""
    for entry in entries:
        record.claim_first_attempt(conn, journal_key(entry.journal.id), case_id=case_id)


def _replay_one(services: Services, conn: Connection, case_id: int, history: list[Entry],
                entry: Entry, subtasks: Mapping[int, int]) -> None:
    """Record what the engine decides for one journal, if it is a close that stood."""
    event = standing_close(services, history, entry)
    case = cases.get_case(conn, case_id)
    if case is None or case.status is not CaseStatus.OPEN:
        return
    refusal = put_back(services, history, entry) if event is None else None
    if refusal is not None and entry.journal.status_to in _closing(services):
        audit.append_audit(conn, case_id, entry.journal.author_login or "?",
                           "completion_refused", step_from=entry.step,
                           journal_id=entry.journal.id,
                           detail={"reason": refusal.notes, "status": entry.journal.status_to})
    if event is None:
        return
    view = case_view(conn, case, services.calendar)
    decision = decide(services.sop, view, event, policy_for(services), services.calendar)
    if decision.refused:
        log.warning("case %s: journal %s closed step %s in Redmine, but the SOP refuses it "
                    "now (configuration changed?); recorded as refused", case.case_key,
                    entry.journal.id, event.step)
    record.record(conn, case, decision, event, entry.journal.id, dict(subtasks))


def _closing(services: Services) -> set[str]:
    redmine = services.settings.redmine
    return {*redmine.done_statuses, *redmine.reject_statuses}
