"""Job ``open_case``: a stored request letter becomes its Redmine case (SOP step 1 to 2).

Idempotent at every point (RELIABILITY promise 4): each issue carries a deterministic key in
the key field and is looked up before it is created, attachments are looked up by file name,
and the local commit comes last. A worker killed anywhere in between is simply run again.
Design: the parent and one subtask per step on the main path (``next`` and ``ya`` branches)
are created up front, so the parent shows the whole procedure, Redmine's Gantt shows it, and
each later transition is a status change rather than a create; a step reached only by a
"tidak" branch (7) is created when that branch is taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from connector.errors import RemoteRejected
from connector.faults import fault_point
from connector.intake.adopt import adopted
from connector.mail.queue import RECEIPT, queue_for_case, receipt_document
from connector.rendering import redmine_env
from connector.services import Services
from connector.sop.model import Role, Sop, Step
from connector.store import audit, cases
from connector.store.schema import CaseStatus, StepState
from connector.tracker import CaseField, IssueDraft, TrackedIssue
from connector.workflow.drafts import step_draft
from connector.workflow.paths import main_path

ACTOR = "sop-connector"


def open_case(services: Services, case_id: int) -> None:
    """Create (or complete) the case's parent issue, its attachments and its step subtasks."""
    case = cases.get_case(services.engine, case_id)
    if case is None:
        raise RemoteRejected(f"case {case_id} is not in the store")
    if case.status is not CaseStatus.RECEIVED:
        return  # already opened: a replayed job does nothing
    received = services.local_date(case.created_at)
    parent = services.tracker.find_case(case.case_key) if _may_exist(services, case) else None
    created = parent is None  # then it has no files and no subtasks but what we add now
    if parent is None:
        parent = services.tracker.open_issue(_case_draft(services, case, received))
    fault_point("intake.after_parent_created")
    attached: set[str] = set()
    for stored in cases.list_attachments(services.engine, case_id):
        services.tracker.attach_document(parent.id, stored.filename, stored.content_type,
                                         stored.content, notes="Lampiran surat permohonan.",
                                         attached=frozenset(attached) if created else None)
        attached.add(stored.filename)
        fault_point("intake.after_attachment_uploaded")
    steps = _open_steps(services, case, parent, received, created=created)
    fault_point("intake.before_local_commit")
    _commit(services, case, parent, steps, received)


def _may_exist(services: Services, case: cases.Case) -> bool:
    """Whether Redmine may hold the case's parent already, so it is looked up by its key.

    It may when the case was adopted from an issue opened by hand, or when an earlier attempt
    of this job may have created it (killed before its local commit). The claim is committed
    before the first write, so an attempt that finds it already made looks first.
    """
    if adopted(case):
        return True
    with services.engine.begin() as conn:
        return not audit.mark_change_processed(conn, f"attempt:open-case:{case.id}")


def _open_steps(services: Services, case: cases.Case, parent: TrackedIssue,
                received: date, *, created: bool) -> dict[int, TrackedIssue]:
    existing = {} if created else services.tracker.steps_of(parent.id)
    opened: dict[int, TrackedIssue] = {}
    for step in map(services.sop.step, main_path(services.sop)):
        draft = _step_draft(services, case, parent, step, received)
        found = existing.get(draft.key)
        if found is None:
            found = services.tracker.open_issue(draft)
            fault_point("intake.after_step_created")
        elif found.status != draft.status and found.status == services.settings.redmine.new_status:
            # Created, then interrupted before its status was set: finish the job.
            services.tracker.update_issue(found.id, status=draft.status)
        opened[step.number] = found
    return opened


def _commit(services: Services, case: cases.Case, parent: TrackedIssue,
            steps: Mapping[int, TrackedIssue], received: date) -> None:
    first, active = _first_and_active(services.sop)
    with services.engine.begin() as conn:
        cases.set_case_redmine(conn, case.id, parent.id)
        for number, issue in steps.items():
            state = (StepState.DONE if number == first.number else
                     StepState.ACTIVE if number == active.number else StepState.PENDING)
            cases.upsert_case_step(
                conn, case.id, number, state=state, redmine_issue_id=issue.id,
                started_on=received if state is not StepState.PENDING else None,
                due_on=issue.due_date if state is StepState.ACTIVE else None,
                completed_on=received if state is StepState.DONE else None)
        cases.set_case_status(conn, case.id, CaseStatus.OPEN, current_step=active.number)
        audit.append_audit(conn, case.id, ACTOR, "case_opened", step_from=first.number,
                           step_to=active.number,
                           detail={"redmine_issue_id": parent.id, "url": parent.url,
                                   "subtasks": {str(n): i.id for n, i in steps.items()}})
        # The receipt (tanda terima) to the OPD, queued with the case's own commit.
        queue_for_case(conn, services.settings, case, RECEIPT, receipt_document(case),
                       clock=services.clock)


def _first_and_active(sop: Sop) -> tuple[Step, Step]:
    first = sop.first
    if first.next is None:
        raise RemoteRejected("the SOP's first step must lead to exactly one next step")
    return first, sop.step(first.next)


def _case_draft(services: Services, case: cases.Case, received: date) -> IssueDraft:
    letter = case.letter
    settings = services.settings
    agency = settings.opd.agencies.get(case.opd)
    context = {
        "letter": letter, "case_key": case.case_key, "sop": services.sop,
        "tanggal_surat": letter["tanggal_surat"], "received": received.isoformat(),
        "opd_name": agency.name if agency else case.opd,
        "steps": [_procedure_row(s) for s in services.sop.steps],
    }
    return IssueDraft(
        key=case.case_key, kind="case",
        subject=f"Permohonan aplikasi {case.nama_aplikasi} — {agency.name if agency else case.opd}",
        description=_render(services, "redmine/case_description.j2", context),
        status=settings.redmine.active_status, start_date=received,
        fields={CaseField.LETTER_NUMBER: case.nomor_surat,
                CaseField.LETTER_DATE: letter["tanggal_surat"],
                CaseField.OPD: case.opd, CaseField.APPLICATION_NAME: case.nama_aplikasi},
    )


def _step_draft(services: Services, case: cases.Case, parent: TrackedIssue, step: Step,
                received: date) -> IssueDraft:
    first, active = _first_and_active(services.sop)
    redmine = services.settings.redmine
    if step.number == first.number:
        return step_draft(services, case, parent.id, step, status=redmine.done_statuses[0],
                          start=received, due=received)
    if step.number == active.number:
        due = services.calendar.due_date(received, step.time.amount, step.time.unit.value) \
            if step.time else None
        return step_draft(services, case, parent.id, step, status=redmine.active_status,
                          assignee=_holder(services, step.role, case.opd), start=received,
                          due=due)
    return step_draft(services, case, parent.id, step, status=redmine.new_status)


def _holder(services: Services, role: Role, opd: str) -> str | None:
    logins = services.settings.logins_for(role, opd)
    return logins[0] if logins else None


def _procedure_row(step: Step) -> list[str]:
    return [str(step.number), step.title, step.role.label,
            step.time.label if step.time else "-", "; ".join(step.outputs) or "-"]


def _render(services: Services, name: str, context: Mapping[str, Any]) -> str:
    env = redmine_env(services.settings.redmine.text_formatting)
    return env.get_template(name).render(**context)

