"""A case's history as Redmine holds it: every journal of its step subtasks, in order.

Redmine numbers journals in the order they were written, so sorting the journals of all the
step subtasks by id gives the case's history. A person's close *stood* unless the service
put the status back right after it (a refusal, step 12's checklist, a step that was not the
active one): that is the next status change of the same subtask, by the service, from the
closing status.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.services import Services
from connector.tracker import CaseField, IssueSnapshot, JournalEntry
from connector.workflow.drafts import parse_step_key
from connector.workflow.engine import StepClosed
from connector.workflow.step_rules import team_fields
from connector.workflow.sync import AWAITING_NOTE, REOPENED_NOTE


@dataclass(frozen=True)
class Entry:
    """One journal of a step subtask, with its step and the subtask as read now."""

    step: int
    journal: JournalEntry
    snap: IssueSnapshot


def read_history(services: Services, parent_id: int) -> tuple[list[Entry], list[IssueSnapshot]]:
    """The journals of every step subtask, oldest first, and the subtasks themselves."""
    snaps = [services.tracker.snapshot(issue.id)
             for issue in services.tracker.steps_of(parent_id).values()]
    entries = []
    for snap in snaps:
        parsed = parse_step_key(snap.issue.key)
        if parsed is not None:
            entries += [Entry(parsed[1], j, snap) for j in snap.journals]
    return sorted(entries, key=lambda e: e.journal.id), snaps


def standing_close(services: Services, history: list[Entry], entry: Entry) -> StepClosed | None:
    """The event of a person's close that stood; None for any other journal."""
    journal, bot = entry.journal, services.tracker.service_login()
    redmine = services.settings.redmine
    closing = {*redmine.done_statuses, *redmine.reject_statuses}
    if journal.author_login == bot or journal.status_to not in closing:
        return None
    if put_back(services, history, entry) is not None:
        return None
    assert journal.status_to is not None
    return StepClosed(
        step=entry.step, status=journal.status_to, previous_status=journal.status_from,
        actor=journal.author_login, note=journal.notes.strip(),
        on=services.local_date(journal.created_on), attachments=entry.snap.attachment_names,
        findings=tuple(entry.snap.fields.get(CaseField.VERIFICATION_FINDINGS, ())),
        **team_fields(services, entry.snap.fields))


def put_back(services: Services, history: list[Entry], entry: Entry) -> JournalEntry | None:
    """The service's journal that set a person's close back (a refusal), if it did.

    The service sets the status back before anyone closes anything else. A loop's
    reopening also sets closed steps back, the decision step's own (11, 14) right after its
    "tidak", but with the reopening's note, so it is not taken for a refusal; so does a step
    that waits to be known (17), after each acknowledgement, with its "menunggu tanda
    tangan" note.
    """
    journal, bot = entry.journal, services.tracker.service_login()
    if journal.author_login == bot or journal.status_to is None:
        return None
    for later in history[history.index(entry) + 1:]:
        moved = later.journal.status_to is not None
        if later.snap.issue.id == entry.snap.issue.id and moved:
            note = later.journal.notes.strip()
            back = later.journal.author_login == bot \
                and later.journal.status_from == journal.status_to \
                and note != REOPENED_NOTE and not note.startswith(AWAITING_NOTE)
            return later.journal if back else None
        if moved and later.journal.author_login != bot:
            return None
    return None
