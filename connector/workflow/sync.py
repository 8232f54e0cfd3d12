"""Job ``sync_issue``: re-read a step's subtask and advance its case from what people did.

Redmine is the source of truth: whatever brought us here (the poller, a webhook hint), the
issue is read again over REST. Each journal is handled once (keyed by its id); of the new
ones, the latest status change made by a person is the event, judged against the case as
stored. Effects are carried out only where Redmine does not show them yet, then the journal
is recorded as processed with the new state, so a worker killed in between redoes nothing
twice. One case advances in one worker at a time (a lease in the store).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from connector.codehost import ProjectRefused, ProvisionedProject
from connector.faults import fault_point
from connector.rendering import redmine_env
from connector.services import Services
from connector.sop.model import Gate, Step
from connector.store import audit, cases, locks
from connector.store.jobs import RetryLater
from connector.store.schema import CaseStatus
from connector.tracker import CaseField, IssueChanges, IssueSnapshot, JournalEntry, TrackedIssue
from connector.workflow import automation, paperwork, record
from connector.workflow.drafts import parse_step_key, step_draft, step_key
from connector.workflow.engine import (
    ActivateStep,
    AwaitAcknowledgement,
    CancelStep,
    CaseView,
    CloseCase,
    CompleteStep,
    CountLoop,
    Decision,
    DrawUpDocuments,
    ProvisionRepository,
    RecordAcknowledgement,
    RecordTeam,
    RefuseCompletion,
    ReopenStep,
    StepClosed,
    decide,
)
from connector.workflow.evidence import last_completion_journal, round_evidence
from connector.workflow.notes import note_once
from connector.workflow.policy import policy_for
from connector.workflow.record_reader import case_facts
from connector.workflow.state import case_view, is_processed, journal_key
from connector.workflow.step_rules import acknowledgement_fields, rule_fields, team_fields

REOPENED_NOTE = "Dibuka kembali untuk diulang."  # a loop's reopen; recovery reads it back
# The note that sets a waiting step back to active after a close (a party's acknowledgement,
# or the Berita Acara drawn up by hand): no refusal, recovery reads it back.
AWAITING_NOTE = "Menunggu tanda tangan"
HINT_WAIT_SECONDS = 2  # a hint may arrive before Redmine has committed what it tells of
UNREAD = ""  # the status of a subtask known from the store, not read: no status is skipped




def sync_issue(services: Services, issue_id: int, *, awaiting_journal: int | None = None,
               other_issue: Callable[[IssueSnapshot], object] | None = None) -> None:
    """Advance the case of one step subtask from its new journals.

    ``awaiting_journal``: a webhook told of this journal; until Redmine shows it, retry soon.
    ``other_issue`` is given any issue that is no step subtask (intake adopts a new letter).
    """
    known = cases.find_step_by_issue(services.engine, issue_id)
    if known is not None:  # a subtask the store knows: lock its case first, read it once
        case = cases.get_case(services.engine, known[0])
        if case is None or case.status is not CaseStatus.OPEN:
            return
        with case_lock(services, case.id):
            snap = services.tracker.snapshot(issue_id)
            _await(snap, awaiting_journal)
            if parse_step_key(snap.issue.key) == (case.case_key, known[1]):
                _sync(services, case.id, known[1], snap)
                return
        # the subtask's key is not what the store says: take it from Redmine, as below
    snap = services.tracker.snapshot(issue_id)
    _await(snap, awaiting_journal)
    parsed = parse_step_key(snap.issue.key)
    if parsed is None:
        if other_issue is not None:
            other_issue(snap)
        return
    case = cases.find_case_by_key(services.engine, parsed[0])
    if case is None or case.status is not CaseStatus.OPEN:
        return
    with case_lock(services, case.id):
        _sync(services, case.id, parsed[1], services.tracker.snapshot(issue_id))  # fresh


def _await(snap: IssueSnapshot, awaiting_journal: int | None) -> None:
    """Retry soon when a webhook told of a journal Redmine does not show yet."""
    if awaiting_journal is not None and all(j.id != awaiting_journal for j in snap.journals):
        raise RetryLater(f"journal {awaiting_journal} of issue {snap.issue.id} is not visible "
                         "yet", retry_after=HINT_WAIT_SECONDS)


@contextmanager
def case_lock(services: Services, case_id: int) -> Iterator[None]:
    """Hold the case's lock for the block; another worker holding it means retry soon."""
    owner = locks.lock_owner(f"sync-{uuid.uuid4().hex[:12]}")
    if not locks.acquire(services.engine, f"case:{case_id}", owner, clock=services.clock):
        raise RetryLater(f"case {case_id} is being advanced by another worker", retry_after=2)
    try:
        yield
    finally:
        locks.release(services.engine, f"case:{case_id}", owner)


def _sync(services: Services, case_id: int, step: int, snap: IssueSnapshot) -> None:
    """Advance the case from ``snap``, read while holding the case's lock."""
    case = cases.get_case(services.engine, case_id)
    assert case is not None
    with services.engine.connect() as conn:
        pending = [j for j in snap.journals if not is_processed(conn, journal_key(j.id))]
        view = case_view(conn, case, services.calendar)
        previous = last_completion_journal(conn, case.id, step)
    if not pending:
        return
    event, journal = _event(services, step, snap, pending, previous)
    outcome = None
    if event is not None and journal is not None and case.status is CaseStatus.OPEN:
        event = _with_gate(services, case, event)
        decision = decide(services.sop, view, event, policy_for(services), services.calendar)
        key = journal_key(journal.id)
        with services.engine.begin() as conn:
            first = record.claim_first_attempt(conn, key, case_id=case.id)
            trusted = first and not record.others_outstanding(conn, case.id, key)
        known = stored_subtasks(services, case, snap) \
            if trusted and not _reads_statuses(decision) else None
        outcome = carry_out(services, case, view, decision, event, redo=not first, known=known)
    fault_point("workflow.before_local_commit")
    with services.engine.begin() as conn:
        for entry in pending:
            record.mark_processed(conn, journal_key(entry.id))
        if outcome is not None and event is not None and journal is not None:
            record.record(conn, case, outcome.decision, event, journal.id, outcome.created,
                          outcome.names)


def _event(services: Services, step: int, snap: IssueSnapshot, pending: list[JournalEntry],
           previous: int | None) -> tuple[StepClosed | None, JournalEntry | None]:
    """The latest status change by a person, if it is a close that still stands.

    ``previous``: the journal of the step's last completion; its evidence is not this round's.
    """
    bot = services.tracker.service_login()
    redmine = services.settings.redmine
    closing = {*redmine.done_statuses, *redmine.reject_statuses}
    changes = [j for j in pending if j.status_to is not None and j.author_login != bot]
    if not changes:
        return None, None
    latest = changes[-1]
    stands = latest.status_to == snap.issue.status or _refused_before_commit(
        pending, latest, bot, snap.issue.status)
    if not stands or latest.status_to not in closing:
        return None, None
    assert latest.status_to is not None
    event = StepClosed(
        step=step, status=latest.status_to, previous_status=latest.status_from,
        actor=latest.author_login, note=latest.notes.strip(),
        on=services.local_date(latest.created_on), attachments=round_evidence(snap, previous),
        findings=tuple(snap.fields.get(CaseField.VERIFICATION_FINDINGS, ())),
        **team_fields(services, snap.fields))
    return event, latest


def _refused_before_commit(pending: list[JournalEntry], latest: JournalEntry, bot: str,
                           status: str) -> bool:
    """The service put ``latest`` back already, then died before recording the refusal."""
    after = pending[pending.index(latest) + 1:]
    return any(j.author_login == bot and j.status_from == latest.status_to
               and j.status_to == status for j in after)


def _with_gate(services: Services, case: cases.Case, event: StepClosed) -> StepClosed:
    """Add the deliverables checklist to a completion of a gated step (12)."""
    step = services.sop.step(event.step)
    closing_done = event.status in services.settings.redmine.done_statuses
    if step.gate is not Gate.DELIVERABLES or not closing_done:
        return event
    return replace(event, missing_deliverables=automation.missing_deliverables(services, case.id))


@dataclass
class _Outcome:
    decision: Decision
    created: dict[int, int] = field(default_factory=dict)  # step -> its subtask's id
    project: ProvisionedProject | None = None
    documents: list[str] = field(default_factory=list)  # file names attached
    names: dict[str, str] = field(default_factory=dict)  # team login -> name in Redmine


def _close_for_service(services: Services, issue: TrackedIssue | None, command: CompleteStep,
                       outcome: _Outcome) -> None:
    """Close a step the service performed, with a note saying what it did."""
    redmine = services.settings.redmine
    if issue is None and command.step in outcome.created:
        issue = services.tracker.snapshot(outcome.created[command.step]).issue
    if issue is None:
        return
    step = services.sop.step(command.step)
    note = redmine_env(redmine.text_formatting).get_template("redmine/automation_note.j2")
    _set(services, issue, IssueChanges(status=redmine.done_statuses[0], notes=note.render(
        project=outcome.project, documents=outcome.documents, role=step.role.label)))
    fault_point("workflow.after_service_step_closed")


def stored_subtasks(services: Services, case: cases.Case,
                    snap: IssueSnapshot) -> dict[int, TrackedIssue]:
    """The case's subtasks as the store knows them, and the event's own as just read.

    Only for a first attempt while no other change of the case is claimed and not recorded
    (``record.others_outstanding``): then no attempt can have written to Redmine what the
    store does not know, so every subtask that exists has its id in the store. Their status
    and assignee are not read (``UNREAD``): each write is made, none skipped as already there.
    """
    found = {s.step: TrackedIssue(
        id=s.redmine_issue_id, key=step_key(case.case_key, s.step), subject="", status=UNREAD,
        assignee_login=None, start_date=None, due_date=None, parent_id=case.redmine_issue_id,
        url=f"{services.settings.redmine.url}/issues/{s.redmine_issue_id}", kind="step")
        for s in cases.list_case_steps(services.engine, case.id) if s.redmine_issue_id}
    parsed = parse_step_key(snap.issue.key)
    if parsed is not None:
        found[parsed[1]] = snap.issue
    return found


def _reads_statuses(decision: Decision) -> bool:
    """A cancellation skips the steps people closed: only Redmine knows which (``_cancel``)."""
    return any(isinstance(c, CancelStep) for c in decision.commands)


@dataclass(frozen=True)
class _Run:
    """What every command handler of one decision works with."""

    services: Services
    case: cases.Case
    view: CaseView
    event: StepClosed
    by_number: dict[int, TrackedIssue]  # step -> its subtask (``carry_out``'s ``known``)
    outcome: _Outcome


def carry_out(services: Services, case: cases.Case, view: CaseView, decision: Decision,
              event: StepClosed, *, redo: bool = True,
              known: dict[int, TrackedIssue] | None = None) -> _Outcome:
    """Make Redmine show the decision, skipping what it already shows.

    ``redo``: an earlier attempt may have written part of it (see
    ``record.claim_first_attempt``); when False, the note is written without looking first.
    ``known``: the subtasks by step when nothing can have been written that the store does
    not know (``stored_subtasks``); otherwise they are read from Redmine.
    """
    assert case.redmine_issue_id is not None
    by_number = dict(known) if known is not None else _read_subtasks(services, case)
    run = _Run(services, case, view, event, by_number, _Outcome(decision))
    for command in decision.commands:
        _HANDLERS[type(command)](run, command)
    if not decision.refused:
        _note_parent(services, case, decision, event, run.outcome, redo=redo)
    return run.outcome


def _read_subtasks(services: Services, case: cases.Case) -> dict[int, TrackedIssue]:
    """The case's subtasks by step, as Redmine shows them now."""
    assert case.redmine_issue_id is not None
    steps = {parse_step_key(i.key): i
             for i in services.tracker.steps_of(case.redmine_issue_id).values()}
    return {k[1]: i for k, i in steps.items() if k is not None}


def _refuse(run: _Run, command: RefuseCompletion) -> None:
    _set(run.services, run.by_number[command.step], IssueChanges(
        status=command.restore_status, notes=command.note))
    fault_point("workflow.after_completion_refused")


def _record_team(run: _Run, command: RecordTeam) -> None:
    members = run.services.tracker.project_members() if command.logins else frozenset()
    for login in command.logins:
        run.services.tracker.ensure_member(login, members=members)
        fault_point("workflow.after_member_added")
        run.outcome.names[login] = run.services.tracker.display_name(login)


def _reopen(run: _Run, command: ReopenStep) -> None:
    _set(run.services, run.by_number[command.step], IssueChanges(
        status=run.services.settings.redmine.new_status, notes=REOPENED_NOTE))
    fault_point("workflow.after_loop_step_reopened")


def _cancel(run: _Run, command: CancelStep) -> None:
    redmine = run.services.settings.redmine
    issue = run.by_number.get(command.step)
    if issue is not None and issue.status not in {*redmine.done_statuses,
                                                  *redmine.reject_statuses}:
        _set(run.services, issue, IssueChanges(
            status=redmine.reject_statuses[0],
            notes="Tidak dilaksanakan: permohonan tidak dapat dipenuhi."))
        fault_point("workflow.after_step_cancelled")


def _activate_command(run: _Run, command: ActivateStep) -> None:
    _activate(run.services, run.case, command, run.by_number, run.outcome)
    gated = run.services.sop.step(command.step).gate is Gate.DELIVERABLES
    if command.due is not None and gated:
        automation.set_development_due(run.services, run.case, command.due)


def _provision_command(run: _Run, command: ProvisionRepository) -> None:
    run.outcome.project = _provision(run.services, run.case, run.view,
                                     run.by_number.get(command.step))


def _draw_up(run: _Run, command: DrawUpDocuments) -> None:
    if run.services.settings.documents:
        run.outcome.documents += paperwork.draw_up(run.services, run.case, run.view,
                                                   command.kinds, run.event.on)


def _complete(run: _Run, command: CompleteStep) -> None:
    if command.by_service:  # a person's completion is already in Redmine
        _close_for_service(run.services, run.by_number.get(command.step), command, run.outcome)


def _close_case(run: _Run, command: CloseCase) -> None:
    redmine = run.services.settings.redmine
    status = redmine.done_statuses[0] if command.accepted else redmine.reject_statuses[0]
    assert run.case.redmine_issue_id is not None
    run.services.tracker.change_issue(run.case.redmine_issue_id, IssueChanges(status=status))
    fault_point("workflow.after_case_closed")


def _await_acknowledgement(run: _Run, command: AwaitAcknowledgement) -> None:
    """Keep the step open, held by the next party still to know its document."""
    services, redmine = run.services, run.services.settings.redmine
    issue = run.by_number.get(command.step)
    if issue is None and command.step in run.outcome.created:
        issue = services.tracker.snapshot(run.outcome.created[command.step]).issue
    if issue is None or (issue.status == redmine.active_status
                         and issue.assignee_login == command.assignee):
        return  # already shown (a redo), or no subtask to show it on
    step = services.sop.step(command.step)
    if not command.pending:  # waits for the electronic signatures only (7)
        signing = "\n".join(paperwork.awaiting_signature_notes(services, run.case))
        services.tracker.change_issue(issue.id, IssueChanges(
            status=redmine.active_status, assignee_login=command.assignee,
            notes=(f"{AWAITING_NOTE}: langkah {step.number} selesai dan kasus ditutup otomatis "
                   f"setelah tanda tangan terakhir masuk.\n\n{signing}")))
        fault_point("workflow.after_acknowledgement_awaited")
        return
    waiting = "; ".join(r.label for r in command.pending)
    documents = f" Dokumen: {', '.join(run.outcome.documents)}." if run.outcome.documents else ""
    services.tracker.change_issue(issue.id, IssueChanges(
        status=redmine.active_status, assignee_login=command.assignee, due_date=command.due,
        notes=(f"{AWAITING_NOTE}: {step.outputs[0] if step.outputs else step.title} menunggu "
               f"diketahui oleh {waiting}.{documents} Setiap pihak menutup subtugas ini dengan "
               f"akunnya sendiri (status {redmine.done_statuses[0]}) sebagai tanda mengetahui."),
        fields=acknowledgement_fields(services, run.case, step, command.pending)))
    fault_point("workflow.after_acknowledgement_awaited")


def _acknowledged(run: _Run, command: RecordAcknowledgement) -> None:
    """The party's own close in Redmine is the acknowledgement; the store records it."""


def _counted(run: _Run, command: CountLoop) -> None:
    """A loop's count lives in the store's record only (``connector.workflow.record``)."""


# Each command of the engine's decision, and what carries it out in Redmine and the code host.
_HANDLERS: dict[type, Callable[[_Run, Any], None]] = {
    RefuseCompletion: _refuse, RecordTeam: _record_team, ReopenStep: _reopen,
    CancelStep: _cancel, ActivateStep: _activate_command, ProvisionRepository: _provision_command,
    DrawUpDocuments: _draw_up, CompleteStep: _complete, CloseCase: _close_case,
    CountLoop: _counted, AwaitAcknowledgement: _await_acknowledgement,
    RecordAcknowledgement: _acknowledged,
}


def _provision(services: Services, case: cases.Case, view: CaseView,
               issue: TrackedIssue | None) -> ProvisionedProject:
    """Step 8's provisioning; when GitLab refuses every name, say why on step 8's issue."""
    try:
        return automation.provision(services, case, view)
    except ProjectRefused as exc:
        if issue is not None:
            services.tracker.change_issue(issue.id, IssueChanges(notes=str(exc)))
        raise


def _set(services: Services, issue: TrackedIssue, changes: IssueChanges) -> None:
    """Apply ``changes`` unless the issue already has that status."""
    if changes.status is not None and issue.status == changes.status:
        return
    services.tracker.change_issue(issue.id, changes)


def _activate(services: Services, case: cases.Case, command: ActivateStep,
              by_number: dict[int, TrackedIssue], outcome: _Outcome) -> None:
    redmine = services.settings.redmine
    step = services.sop.step(command.step)
    issue = by_number.get(command.step)
    if issue is None:
        assert case.redmine_issue_id is not None
        created = services.tracker.open_issue(step_draft(
            services, case, case.redmine_issue_id, step, status=redmine.active_status,
            assignee=command.assignee, start=command.start, due=command.due))
        outcome.created[command.step] = created.id
        by_number[command.step] = created  # as just written: later commands need no read
        fault_point("workflow.after_step_created")
        return
    # Created by a worker that died before its local commit: the store learns its id now.
    outcome.created[command.step] = issue.id
    if issue.status == redmine.active_status and issue.assignee_login == command.assignee:
        return
    services.tracker.change_issue(issue.id, IssueChanges(
        status=redmine.active_status, assignee_login=command.assignee,
        start_date=command.start, due_date=command.due,
        notes=f"Langkah ini aktif. Pelaksana: {step.role.label}.",
        fields=rule_fields(services, case, step, _round_start(services, case, step, issue))))
    fault_point("workflow.after_step_activated")


def _round_start(services: Services, case: cases.Case, step: Step,
                 issue: TrackedIssue) -> datetime | None:
    """When a document step's new round began: Redmine's time of its last completion.

    None for a step without documents or never completed (its first round counts every file).
    """
    if not step.requires_document:
        return None
    with services.engine.connect() as conn:
        previous = last_completion_journal(conn, case.id, step.number)
    if previous is None:
        return None
    journals = services.tracker.snapshot(issue.id).journals
    return next((j.created_on for j in journals if j.id == previous), None)


def _note_parent(services: Services, case: cases.Case, decision: Decision, event: StepClosed,
                 outcome: _Outcome, *, redo: bool) -> None:
    """One note per transition on the parent, written once even if this job is redone."""
    kinds = {CompleteStep: "complete", RecordTeam: "team", CountLoop: "loop",
             ActivateStep: "activate", CloseCase: "close", AwaitAcknowledgement: "await",
             RecordAcknowledgement: "acknowledged"}
    items = [(kinds[type(c)], c) for c in decision.commands if type(c) in kinds]
    env = redmine_env(services.settings.redmine.text_formatting)
    subproject = (f"{services.settings.redmine.url}/projects/"
                  f"{automation.subproject_identifier(case)}" if outcome.project else "")
    # A step done again after a loop says which round it is, so its note differs from the
    # first round's even on the same day (note_once would take it for a redone job).
    with services.engine.connect() as conn:
        done_before = case_facts(audit.list_audit(conn, case.id)).completions
    rounds = {c.step: len(done_before.get(c.step, [])) + 1 for c in decision.commands
              if isinstance(c, CompleteStep)}
    text = env.get_template("redmine/transition_note.j2").render(
        items=items, sop=services.sop, on=event.on.isoformat(), project=outcome.project,
        subproject=subproject, documents=outcome.documents, rounds=rounds)
    assert case.redmine_issue_id is not None
    if redo:
        note_once(services.tracker, case.redmine_issue_id, text)
    else:
        services.tracker.change_issue(case.redmine_issue_id, IssueChanges(notes=text.strip()))

