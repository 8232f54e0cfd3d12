"""The local half of a transition: case state and audit trail, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from connector.store import audit, cases, claims
from connector.store.schema import CaseStatus, StepState
from connector.workflow.engine import (
    SERVICE_ACTOR,
    ActivateStep,
    AwaitAcknowledgement,
    CancelStep,
    CloseCase,
    CompleteStep,
    CountLoop,
    Decision,
    RecordAcknowledgement,
    RecordTeam,
    RefuseCompletion,
    ReopenStep,
    StepClosed,
)
from connector.workflow.state import (
    ACKNOWLEDGED,
    ACTIVATED,
    AWAITING,
    COMPLETED,
    LOOPED,
    TEAM_RECORDED,
    is_processed,
)


def mark_processed(conn: Connection, change_key: str) -> None:
    """Remember that a change was handled; a claim on it (``claim_first_attempt``) is settled."""
    audit.mark_change_processed(conn, change_key)
    claims.settle(conn, change_key)


def claim_first_attempt(conn: Connection, change_key: str, *, case_id: int) -> bool:
    """True the first time a change is carried out; False when it is being done again.

    A change done again (a job retried after a crash, or a change the store lost and
    ``cases rebuild`` left to ``sync_issue``) must look in Redmine for what the earlier attempt
    already wrote; the first attempt knows nothing was written, and saves those reads. Until
    the change is processed, the case holds a claim on it (``others_outstanding``).
    """
    first = audit.mark_change_processed(conn, f"attempt:{change_key}")
    if not is_processed(conn, change_key):
        claims.hold(conn, case_id, change_key)
    return first


def others_outstanding(conn: Connection, case_id: int, change_key: str) -> bool:
    """Whether an attempt at another change of the case may have written to Redmine what the
    store does not show: claimed, then killed or failed before it was recorded."""
    return claims.outstanding(conn, case_id, besides=change_key)


def record(conn: Connection, case: cases.Case, decision: Decision, event: StepClosed,
           journal_id: int, created: dict[int, int],
           names: Mapping[str, str] | None = None) -> None:
    """Store every command's effect on the case and append it to the audit trail.

    ``names``: the team's names as Redmine shows them, kept with the team (step 4) for the
    Berita Acara, which then needs no call to Redmine.
    """
    actor = event.actor or "?"
    for index, c in enumerate(decision.commands):
        if isinstance(c, RefuseCompletion):
            audit.append_audit(conn, case.id, actor, "completion_refused", step_from=c.step,
                               journal_id=journal_id, detail={"reason": c.note,
                                                              "status": event.status})
        elif isinstance(c, CompleteStep):
            cases.upsert_case_step(conn, case.id, c.step, state=StepState.DONE,
                                   completed_on=event.on)
            audit.append_audit(conn, case.id, _completer(c, actor), COMPLETED, step_from=c.step,
                               step_to=_next_step(decision, index), journal_id=journal_id,
                               detail={"outcome": c.outcome.value, "note": c.note,
                                       "on": event.on.isoformat(),
                                       "evidence": sorted(event.attachments),
                                       **({"findings": list(c.findings)} if c.findings
                                          else {})})
        elif isinstance(c, RecordTeam):
            audit.append_audit(conn, case.id, actor, TEAM_RECORDED, step_from=event.step,
                               journal_id=journal_id, detail={
                                   "logins": list(c.logins),
                                   "names": [(names or {}).get(x, x) for x in c.logins],
                                   # Only when recorded per function (Tim: <fungsi>).
                                   **({"functions": {x: list(f) for x, f in c.functions.items()}}
                                      if c.functions else {})})
        elif isinstance(c, CountLoop):
            audit.append_audit(conn, case.id, actor, LOOPED, step_from=c.decision_step,
                               step_to=c.back_to, journal_id=journal_id,
                               detail={"times": c.times})
        elif isinstance(c, ReopenStep):
            cases.upsert_case_step(conn, case.id, c.step, state=StepState.PENDING)
        elif isinstance(c, CancelStep):
            audit.append_audit(conn, case.id, "sop-connector", "step_cancelled",
                               step_from=c.step, journal_id=journal_id)
        elif isinstance(c, ActivateStep):
            cases.upsert_case_step(conn, case.id, c.step, state=StepState.ACTIVE,
                                   redmine_issue_id=created.get(c.step), started_on=c.start,
                                   due_on=c.due)
            cases.set_case_status(conn, case.id, CaseStatus.OPEN, current_step=c.step)
            audit.append_audit(conn, case.id, "sop-connector", ACTIVATED, step_to=c.step,
                               journal_id=journal_id,
                               detail={"start": c.start.isoformat(), "assignee": c.assignee,
                                       "due": c.due.isoformat() if c.due else None})
        elif isinstance(c, AwaitAcknowledgement):
            cases.upsert_case_step(conn, case.id, c.step, state=StepState.ACTIVE,
                                   redmine_issue_id=created.get(c.step), due_on=c.due)
            drew_up = actor if event.step == c.step else SERVICE_ACTOR  # 17 by hand
            audit.append_audit(conn, case.id, drew_up, AWAITING, step_from=c.step,
                               journal_id=journal_id, detail={
                                   "pending": [r.value for r in c.pending],
                                   "assignee": c.assignee, "on": event.on.isoformat(),
                                   "due": c.due.isoformat() if c.due else None,
                                   "evidence": sorted(event.attachments)
                                   if event.step == c.step else []})
        elif isinstance(c, RecordAcknowledgement):
            audit.append_audit(conn, case.id, c.actor, ACKNOWLEDGED, step_from=c.step,
                               journal_id=journal_id, detail={
                                   "role": c.role.value, "on": event.on.isoformat(),
                                   "note": event.note})
        elif isinstance(c, CloseCase):
            status = CaseStatus.CLOSED if c.accepted else CaseStatus.REJECTED
            cases.set_case_status(conn, case.id, status)
            last = _last_completion(decision, index)
            audit.append_audit(conn, case.id, _completer(last, actor) if last else actor,
                               f"case_{status.value}",
                               step_from=last.step if last else event.step,
                               journal_id=journal_id)


def _completer(command: CompleteStep, actor: str) -> str:
    """Who completed a step: the service for the steps it performs itself (8, 17)."""
    return (command.actor or actor) if command.by_service else actor


def _next_step(decision: Decision, index: int) -> int | None:
    """The step the case went to after the command at ``index``: the next one activated."""
    return next((c.step for c in decision.commands[index + 1:] if isinstance(c, ActivateStep)),
                None)


def _last_completion(decision: Decision, index: int) -> CompleteStep | None:
    """The last step completed before the command at ``index`` (the one that closed a case)."""
    return next((c for c in reversed(decision.commands[:index]) if isinstance(c, CompleteStep)),
                None)
