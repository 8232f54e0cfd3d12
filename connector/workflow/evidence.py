"""The evidence of a step's current round: files attached since its last completion.

A loop sends the case back (11 *tidak* to 9, 14 *tidak* to 12); the step done again must
show the new round's work, so a document step's requirement is met only by a file added
after the step was last completed. Times are Redmine's own (the closing journal's and the
attachment's ``created_on``), so no clock of ours is compared with Redmine's.
"""

from __future__ import annotations

from sqlalchemy import Connection

from connector.store import audit
from connector.tracker import IssueSnapshot
from connector.workflow.state import COMPLETED


def last_completion_journal(conn: Connection, case_id: int, step: int) -> int | None:
    """The journal that last completed ``step`` of the case (None: never completed yet)."""
    found = [e.journal_id for e in audit.list_audit(conn, case_id)
             if e.action == COMPLETED and e.step_from == step and e.journal_id is not None]
    return found[-1] if found else None


def round_evidence(snap: IssueSnapshot, previous: int | None) -> frozenset[str]:
    """Names of the files attached in the step's current round.

    The first round counts every file; a later one only those added after the journal of
    the previous completion (``previous``). A snapshot without attachment times (an adapter
    that cannot tell) or a journal no longer shown counts every file, as before.
    """
    if previous is None or not snap.attachment_times:
        return snap.attachment_names
    cut = next((j.created_on for j in snap.journals if j.id == previous), None)
    if cut is None:
        return snap.attachment_names
    return frozenset(name for name, at in snap.attachment_times if at > cut)
