"""Job ``signed_document``: every block of an issued document is signed (issue 17).

The job is enqueued in the transaction that keeps the last signature
(``connector.store.issued.record_signature``), so it survives a crash. It verifies the signed
PDF again, attaches it to the subtask of the step that drew the document up (found by name on
a redo), queues its mail to the OPD, and for a step that waits to be known (17) completes
the step: the complete signed Berita Acara is both parties' acknowledgement. With [signing],
step 7 waits too (``Policy.awaits_signature``): its signed letter completes step 7 and the
case ends refused; the signed letter is attached and mailed.
"""

from __future__ import annotations

import logging

from connector.documents import model as doc
from connector.documents.render import FILENAME_PREFIX, slug
from connector.errors import ConnectorError
from connector.mail.queue import queue_for_case
from connector.services import Services
from connector.signing.verify import load_trust_roots, verify_signed
from connector.sop.model import Role
from connector.store import cases
from connector.store.issued import IssuedDocument, get_issued
from connector.store.schema import CaseStatus
from connector.workflow import paperwork, record
from connector.workflow.engine import SERVICE_ACTOR, StepClosed, signed_completion
from connector.workflow.policy import policy_for
from connector.workflow.state import case_view, is_processed
from connector.workflow.sync import carry_out, case_lock

log = logging.getLogger(__name__)
# Whose acknowledgement each signature block of the Berita Acara is: PIHAK KEDUA signs for
# the OPD (the applicant's representative), "Mengetahui" is the Kepala Dinas.
ACKNOWLEDGES = {"pihak_kedua": Role.OPD_PEMOHON, "mengetahui": Role.KEPALA_DINAS}


def signed_filename(document: IssuedDocument) -> str:
    """``berita-acara-<case key slug>-ttd.pdf``: the same on every retry (found by name)."""
    return f"{FILENAME_PREFIX[doc.DocumentKind(document.kind)]}-{slug(document.case_key)}-ttd.pdf"


def attach_signed(services: Services, token: str) -> None:
    """Attach the signed document of ``token`` and complete its step (idempotent)."""
    document = get_issued(services.engine, token)
    if document is None or document.unsigned_slots:
        return
    case = cases.find_case_by_key(services.engine, document.case_key)
    if case is None:  # issued by hand (``sign issue``) for no case of ours
        return
    sop_kind = {v: k for k, v in paperwork.KIND.items()}[doc.DocumentKind(document.kind)]
    step = next(s for s in services.sop.steps if sop_kind in s.documents)
    signing = services.settings.signing
    if signing is None:
        raise ConnectorError("[signing] tidak dikonfigurasi: dokumen bertanda tangan tidak "
                             "dapat diverifikasi")
    verify_signed(document.pdf, issued_sha256=document.sha256, issued_size=document.size,
                  trust_roots=load_trust_roots(signing.trust_roots.read_bytes()),
                  expected=len(document.slots))
    with case_lock(services, case.id):
        _attach_and_complete(services, case.id, step.number, document)


def _attach_and_complete(services: Services, case_id: int, step: int,
                         document: IssuedDocument) -> None:
    case = cases.get_case(services.engine, case_id)
    assert case is not None and case.redmine_issue_id is not None
    name = signed_filename(document)
    subtask = _subtask(services, case, step)
    signers = "; ".join(f"{s.slot} ({s.nama}, {s.signed_at:%Y-%m-%d %H:%M})"
                        for s in document.signatures)
    note = (f"{name}: dokumen bertanda tangan elektronik lengkap dan terverifikasi "
            f"({len(document.signatures)} tanda tangan: {signers}).")
    if name not in services.tracker.attachment_names(subtask):
        services.tracker.attach_document(subtask, name, "application/pdf", document.pdf,
                                         notes=note)
    mailed = paperwork.MAILED.get({v: k for k, v in paperwork.KIND.items()}[
        doc.DocumentKind(document.kind)])
    key = f"signed:{document.token}"
    with services.engine.connect() as conn:
        done = is_processed(conn, key)
        view = case_view(conn, case, services.calendar)
    if done:
        return
    waiting = (case.status is CaseStatus.OPEN and view.current_step == step
               and step in view.acknowledged)
    decision = None
    if waiting:
        by_slot = {s.slot: s.nama for s in document.signatures}
        signed_by = {role: by_slot[slot] for slot, role in ACKNOWLEDGES.items()
                     if slot in by_slot}
        decision = signed_completion(services.sop, view, step, signed_by, note,
                                     policy_for(services), services.calendar,
                                     services.today())
        event = StepClosed(step=step, status=services.settings.redmine.done_statuses[0],
                           previous_status=None, actor=SERVICE_ACTOR, note=note,
                           on=services.today(), attachments=frozenset({name}))
        with services.engine.begin() as conn:  # other changes of the case read Redmine now
            record.claim_first_attempt(conn, key, case_id=case.id)
        outcome = carry_out(services, case, view, decision, event)
    with services.engine.begin() as conn:
        record.mark_processed(conn, key)
        if mailed is not None:
            queue_for_case(conn, services.settings, case, mailed, name, clock=services.clock)
        if decision is not None:
            record.record(conn, case, decision, event, 0, outcome.created, outcome.names)
    log.info("case %s: signed %s %s attached to step %s", case.id, document.kind,
             document.nomor, step)


def _subtask(services: Services, case: cases.Case, step: int) -> int:
    """The Redmine issue of the case's step (the parent when the store knows none)."""
    found = cases.list_case_steps(services.engine, case.id, only=step)
    if found and found[0].redmine_issue_id is not None:
        return found[0].redmine_issue_id
    assert case.redmine_issue_id is not None
    return case.redmine_issue_id
