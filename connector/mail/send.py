"""Job ``send_mail``: mail one outbox row, at most once (``connector/store/mail.py``).

The order is what makes the guarantee: connect, secure, log in, MAIL FROM, RCPT TO (a
failure up to here certainly sent nothing: retried); then ``attempted`` is committed; then
DATA; then ``sent`` is committed with its audit line. A 4xx/5xx answer to DATA also means
nothing was taken (the row goes back to ``queued``, or to ``refused`` for 5xx). An attempt
that finds the row ``attempted`` knows a worker died in the window after it, and marks it
``uncertain`` instead of sending a possible second copy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from connector.config.settings import Settings
from connector.errors import RemoteRejected
from connector.faults import fault_point
from connector.mail.message import Attachment, BadAddress, Outgoing, build
from connector.mail.queue import BERITA_ACARA, RECEIPT, SURAT
from connector.mail.smtp import MailRefused, MailUnavailable, MailUncertain, session
from connector.rendering import templates_dir
from connector.services import Services
from connector.store import cases
from connector.store import mail as outbox
from connector.store.schema import MailState

log = logging.getLogger(__name__)
TEMPLATES = {RECEIPT: "mail/tanda_terima", SURAT: "mail/surat", BERITA_ACARA: "mail/berita_acara"}


class MailNotSent(RemoteRejected):
    """The mail is refused or uncertain: its job goes to the dead-letter list, visible in
    ``sop-connector jobs list`` and ``sop-connector mail list``, until a person resends."""


def send_mail(services: Services, mail_id: int) -> None:
    """Send the outbox row ``mail_id`` unless it is sent, refused or uncertain."""
    settings = services.settings.email
    mail = outbox.get_mail(services.engine, mail_id)
    if mail is None:
        raise MailNotSent(f"surel {mail_id} tidak ada di outbox")
    if mail.state is MailState.SENT:
        return  # a redone job after the record: nothing to do
    if mail.state is MailState.ATTEMPTED:
        outbox.mark_uncertain(services.engine, mail, _UNCERTAIN_AFTER_CRASH, clock=services.clock)
        mail = _reread(services, mail_id)
    if mail.state in (MailState.UNCERTAIN, MailState.REFUSED):
        raise MailNotSent(_stopped(mail))
    if settings is None:
        raise MailNotSent(f"surel {mail_id}: tidak ada bagian [email] di konfigurasi")
    case = cases.get_case(services.engine, mail.case_id)
    if case is None:
        raise MailNotSent(f"surel {mail_id}: kasus {mail.case_id} tidak ada")
    try:
        message = build(_outgoing(services, case, mail))
    except BadAddress as exc:
        outbox.mark_refused(services.engine, mail, str(exc), clock=services.clock)
        raise MailNotSent(_stopped(_reread(services, mail_id))) from exc
    try:
        with session(settings) as smtp:
            smtp.envelope(settings.from_address, mail.recipient)
            if not outbox.mark_attempted(services.engine, mail_id, clock=services.clock):
                return  # another worker took it over meanwhile; it decides
            fault_point("mail.after_attempt_marked")
            try:
                smtp.data(message)
            except MailUnavailable as exc:  # DATA answered 4xx: certainly not taken
                outbox.mark_not_taken(services.engine, mail_id, str(exc))
                raise
            fault_point("mail.after_data")
    except MailUncertain as exc:
        outbox.mark_uncertain(services.engine, mail, str(exc), clock=services.clock)
        raise MailNotSent(_stopped(_reread(services, mail_id))) from exc
    except MailRefused as exc:
        outbox.mark_refused(services.engine, mail, str(exc), clock=services.clock)
        raise MailNotSent(_stopped(_reread(services, mail_id))) from exc
    except MailUnavailable as exc:
        outbox.note_error(services.engine, mail_id, str(exc))
        raise
    outbox.mark_sent(services.engine, mail, clock=services.clock)
    log.info("mail %s (%s) sent", mail_id, mail.kind)


_UNCERTAIN_AFTER_CRASH = ("percobaan sebelumnya berhenti setelah pengiriman dimulai dan "
                          "sebelum hasilnya tercatat; surel mungkin sudah terkirim")


def _stopped(mail: outbox.Mail) -> str:
    what = {MailState.UNCERTAIN: "status tidak pasti", MailState.REFUSED: "ditolak"}
    return (f"surel {mail.id} {what.get(mail.state, mail.state.value)} ({mail.kind} ke "
            f"{mail.recipient}, {mail.document}): {mail.last_error or '-'}; periksa, lalu "
            f"kirim ulang dengan `sop-connector mail resend {mail.id}` bila perlu")


def _reread(services: Services, mail_id: int) -> outbox.Mail:
    found = outbox.get_mail(services.engine, mail_id)
    assert found is not None
    return found


def _outgoing(services: Services, case: cases.Case, mail: outbox.Mail) -> Outgoing:
    settings = services.settings
    assert settings.email is not None
    attachment = None
    if mail.kind != RECEIPT:
        attachment = _document(services, case, mail.document)
    subject, body = _render(mail.kind, _context(settings, case, mail))
    return Outgoing(from_name=settings.email.from_name, from_address=settings.email.from_address,
                    to_name=mail.recipient_name, to_address=mail.recipient, subject=subject,
                    body=body, message_id=mail.message_id, reply_to=settings.email.reply_to,
                    attachment=attachment)


def _document(services: Services, case: cases.Case, filename: str) -> Attachment:
    """The document as it is attached to the case in Redmine (retried until it is there)."""
    if case.redmine_issue_id is None:
        raise MailUnavailable(f"kasus {case.id} belum punya isu Redmine")
    content = services.tracker.attachment_content(case.redmine_issue_id, filename)
    if content is None:  # a signed document is on its step's subtask (issue 17)
        content = _on_document_step(services, case, filename)
    if content is None:
        raise MailUnavailable(f"{filename} belum terlampir pada #{case.redmine_issue_id}")
    return Attachment(filename, "application/pdf", content)


def _on_document_step(services: Services, case: cases.Case, filename: str) -> bytes | None:
    """``filename`` attached to the subtask of a step that draws up documents (7, 17)."""
    steps = {s.number for s in services.sop.steps if s.documents}
    for stored in cases.list_case_steps(services.engine, case.id):
        if stored.step in steps and stored.redmine_issue_id is not None:
            content = services.tracker.attachment_content(stored.redmine_issue_id, filename)
            if content is not None:
                return content
    return None


def _context(settings: Settings, case: cases.Case, mail: outbox.Mail) -> Mapping[str, Any]:
    agency = settings.opd.agencies.get(case.opd)
    kontak = case.letter.get("kontak") or {}
    return {"case_key": case.case_key, "case_id": case.id, "nomor_surat": case.nomor_surat,
            "tanggal_surat": str(case.letter.get("tanggal_surat") or "-"),
            "perihal": str(case.letter.get("perihal") or "-"),
            "nama_aplikasi": case.nama_aplikasi,
            "opd_name": agency.name if agency else case.opd,
            "kontak_nama": str(kontak.get("nama") or ""),
            "penerima": mail.recipient_name or mail.recipient,
            "diterima": case.created_at.date().isoformat(),
            "status_url": f"{settings.server.public_url}/api/cases/{case.id}",
            "redmine_url": f"{settings.redmine.url}/issues/{case.redmine_issue_id}"
            if case.redmine_issue_id else "",
            "document": mail.document,
            "pengirim": settings.email.from_name if settings.email else ""}


def _render(kind: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """The subject (``<kind>.subject.j2``, made one line by ``build``) and the plain body."""
    env = _env()
    subject = env.get_template(f"{TEMPLATES[kind]}.subject.j2").render(**context)
    return subject, env.get_template(f"{TEMPLATES[kind]}.txt.j2").render(**context)


def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(templates_dir()), undefined=StrictUndefined,
                       autoescape=False, keep_trailing_newline=True)
