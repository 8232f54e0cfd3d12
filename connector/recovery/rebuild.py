"""Rebuild the store's cases from Redmine: after a lost store or an older backup (issue 15).

Redmine is the source of truth. A case the store does not know is recorded again from its
parent issue (letter fields, SOP key) and opened as ``open_case`` opens one, then its history
is replayed (``connector.recovery.replay``). A case the store knows but that Redmine shows
further on (a restored older backup) has only the journals it has not processed replayed.
Both are idempotent: a case already known is not rebuilt, a journal processed is not redone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from connector.intake.adopt import letter_of, value_of
from connector.intake.open_case import ACTOR
from connector.recovery.history import Entry, read_history
from connector.recovery.replay import mark_attempted, pending_closes, replay
from connector.services import Services
from connector.sop.model import Automation
from connector.store import audit, cases
from connector.store.audit import Delivery
from connector.store.coalesce import enqueue_once_per_subject
from connector.store.kinds import SYNC_ISSUE
from connector.store.projects import project_of_case
from connector.store.schema import CaseStatus, StepState
from connector.store.schema import cases as case_rows
from connector.tracker import IssueSnapshot, TrackedIssue
from connector.workflow import automation
from connector.workflow.drafts import parse_step_key
from connector.workflow.paths import main_path
from connector.workflow.state import COMPLETED, case_view

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What a rebuild would do: cases to record again, and cases to bring up to date."""

    missing: tuple[TrackedIssue, ...]
    behind: tuple[cases.Case, ...]


def store_is_empty(services: Services) -> bool:
    """True when the store holds no case at all."""
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(case_rows)).scalar_one()) == 0


def plan(services: Services) -> Plan:
    """The case issues of the project the store does not know, and the known cases behind."""
    missing, behind = [], []
    for issue in services.tracker.case_issues():
        if not issue.key or issue.parent_id is not None:
            continue  # a letter not adopted yet: the poll adopts it
        known = cases.find_case_by_key(services.engine, issue.key)
        if known is None:
            missing.append(issue)
        elif known.status is CaseStatus.OPEN and _is_behind(services, known) \
                and _replay_due(known, _pending(services, known),
                                leave_last=not _closed(services, issue.status)):
            behind.append(known)
    return Plan(tuple(missing), tuple(behind))


def carry_out(services: Services, todo: Plan) -> list[str]:
    """Rebuild the missing cases and bring the others up to date; their keys."""
    done = []
    for issue in todo.missing:
        if rebuild_case(services, services.tracker.snapshot(issue.id)) is not None:
            done.append(issue.key)
    for case in todo.behind:
        if catch_up(services, case):
            done.append(case.case_key)
    return done


def rebuild_case(services: Services, parent: IssueSnapshot) -> int | None:
    """Record a case from its Redmine issues; None if the store knows it already."""
    key = parent.issue.key
    if cases.find_case_by_key(services.engine, key) is not None:
        return None
    history, snaps = read_history(services, parent.issue.id)
    subtasks = {p[1]: s.issue for s in snaps if (p := parse_step_key(s.issue.key))}
    closed = _closed(services, parent.issue.status)
    with services.engine.begin() as conn:
        case_id = _record_opened(services, conn, parent, subtasks)
        left = replay(services, conn, case_id, history, {n: i.id for n, i in subtasks.items()},
                      leave_last=not closed)
        _queue_sync(services, conn, left)
    _relink_code_host(services, case_id)
    log.info("case %s rebuilt from Redmine issue #%s", key, parent.issue.id)
    return case_id


def catch_up(services: Services, case: cases.Case) -> bool:
    """Replay what Redmine shows and the store has not processed (an older backup).

    False when only the active step's close is new: ``sync_issue`` finishes that one.
    """
    assert case.redmine_issue_id is not None
    history, snaps = read_history(services, case.redmine_issue_id)
    subtasks = {p[1]: s.issue.id for s in snaps if (p := parse_step_key(s.issue.key))}
    parent = services.tracker.snapshot(case.redmine_issue_id)
    with services.engine.begin() as conn:
        closes = pending_closes(services, conn, history)
        mark_attempted(conn, case.id, closes)
    leave_last = not _closed(services, parent.issue.status)
    if not _replay_due(case, closes, leave_last=leave_last):
        return False  # only the close left to sync_issue: nothing to replay
    with services.engine.begin() as conn:
        left = replay(services, conn, case.id, history, subtasks, leave_last=leave_last)
        _queue_sync(services, conn, left)
    _relink_code_host(services, case.id)
    log.info("case %s brought up to date from Redmine", case.case_key)
    return True


def _relink_code_host(services: Services, case_id: int) -> None:
    """A case past step 8 finds its repository again (looked up, never created twice)."""
    case = cases.get_case(services.engine, case_id)
    if services.codehost is None or case is None or project_of_case(services.engine, case_id):
        return
    with services.engine.connect() as conn:
        step = services.sop.step_with(Automation.PROVISION_REPOSITORY)
        provisioned = any(e.action == COMPLETED and e.step_from == step
                          for e in audit.list_audit(conn, case_id))
        view = case_view(conn, case, services.calendar)
    if provisioned:
        automation.provision(services, case, view)


def _pending(services: Services, case: cases.Case) -> list[Entry]:
    """The closes Redmine shows for the case that the store has not processed."""
    assert case.redmine_issue_id is not None
    history, _snaps = read_history(services, case.redmine_issue_id)
    with services.engine.connect() as conn:
        return pending_closes(services, conn, history)


def _replay_due(case: cases.Case, closes: list[Entry], *, leave_last: bool) -> bool:
    """Whether ``catch_up`` replays anything: a pending close beyond the one it leaves to
    ``sync_issue`` (the last, while the case is open in Redmine), or the active step's own.

    ``plan`` asks the same question, so a case it lists is one ``catch_up`` brings up to date
    and a second rebuild finds nothing to do: a lone close of another step than the active
    one (a person closed a later subtask while the service was away) is ``sync_issue``'s to
    judge, not a case to report "diperbarui" on every run.
    """
    if len(closes) <= 1 and all(e.step == case.current_step for e in closes):
        return False  # the active step's close alone (a killed worker): sync_issue
    return len(closes) > 1 or not leave_last


def _is_behind(services: Services, case: cases.Case) -> bool:
    """Redmine shows a step closed that the store does not hold as done (one request): the
    cheap first look, before the case's history is read."""
    assert case.redmine_issue_id is not None
    stored = {s.step: s.state for s in cases.list_case_steps(services.engine, case.id)}
    for issue in services.tracker.steps_of(case.redmine_issue_id).values():
        parsed = parse_step_key(issue.key)
        if parsed and _closed(services, issue.status) and stored.get(parsed[1]) \
                is not StepState.DONE and parsed[1] != case.current_step:
            return True
    return False


def _closed(services: Services, status: str) -> bool:
    redmine = services.settings.redmine
    return status in {*redmine.done_statuses, *redmine.reject_statuses}


def _record_opened(services: Services, conn: Connection, parent: IssueSnapshot,
                   subtasks: dict[int, TrackedIssue]) -> int:
    """The case as ``open_case`` leaves it: received, opened, step 2 active."""
    first = services.sop.first
    active = services.sop.step(main_path(services.sop)[1])  # what open_case activates
    received = (subtasks[first.number].start_date if first.number in subtasks else None) \
        or services.local_date(parent.updated_on)
    opd = value_of(parent, "opd").upper()
    result = cases.record_intake(
        conn, case_key=parent.issue.key, opd=opd, nomor_surat=value_of(parent, "letter_number"),
        nama_aplikasi=value_of(parent, "application_name"), letter=letter_of(parent),
        attachments=[], clock=services.clock,
        inbox=Delivery("redmine", f"rebuild:redmine-issue:{parent.issue.id}", {}, b""))
    case_id = result.case_id
    cases.set_case_redmine(conn, case_id, parent.issue.id, clock=services.clock)
    for number, issue in subtasks.items():
        state = StepState.DONE if number == first.number else StepState.PENDING
        cases.upsert_case_step(conn, case_id, number, state=state, redmine_issue_id=issue.id,
                               started_on=received if state is StepState.DONE else None,
                               completed_on=received if state is StepState.DONE else None)
    cases.upsert_case_step(conn, case_id, active.number, state=StepState.ACTIVE,
                           started_on=received, due_on=subtasks[active.number].due_date
                           if active.number in subtasks else None)
    cases.set_case_status(conn, case_id, CaseStatus.OPEN, current_step=active.number,
                          clock=services.clock)
    audit.append_audit(conn, case_id, ACTOR, "case_opened", step_from=first.number,
                       step_to=active.number, clock=services.clock,
                       detail={"redmine_issue_id": parent.issue.id, "url": parent.issue.url,
                               "rebuilt": True,
                               "subtasks": {str(n): i.id for n, i in subtasks.items()}})
    return case_id


def _queue_sync(services: Services, conn: Connection, left: Entry | None) -> None:
    """Leave the last close to ``sync_issue``, which redoes only what Redmine lacks."""
    if left is not None:
        issue_id = left.snap.issue.id
        enqueue_once_per_subject(conn, SYNC_ISSUE, {"issue_id": issue_id},
                                 subject=f"{SYNC_ISSUE}:{issue_id}",
                                 change=f"rebuilt:{left.journal.id}", routine=False,
                                 clock=services.clock)


def recover_at_start(services: Services) -> list[str]:
    """What ``serve`` and ``worker`` do first: rebuild an empty store, catch up an old one.

    An empty store facing a project that holds cases rebuilds them all; a store that knows
    cases brings those Redmine shows further on up to date. Either way the poll that follows
    finds every change processed. The keys of the cases touched.
    """
    todo = plan(services)
    if todo.missing and not store_is_empty(services):
        todo = Plan((), todo.behind)  # a case unknown to a store in use: `cases rebuild`
        log.warning("Redmine holds cases this store does not know; run `sop-connector cases "
                    "rebuild` to see them and restore them")
    done = carry_out(services, todo)
    if done:
        log.info("store recovered from Redmine: %d case(s)", len(done))
    return done
