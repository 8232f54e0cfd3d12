"""What is mailed to whom: the receipt at intake, the letter at step 7, the Berita Acara at 17.

Each (document, recipient) becomes one outbox row with its job (``connector/store/mail.py``),
queued in the caller's transaction where there is one (the receipt, with the case's own
commit) and idempotently otherwise, so a redone job never queues a mail twice. The
recipients are the letter's ``kontak.email`` and the OPD's configured address
(``[opd.agencies.<KODE>] email``), the same address once. Without ``[email]``: nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection

from connector.config.settings import Settings
from connector.store import cases
from connector.store.db import Clock, utc_now
from connector.store.mail import queue_mail

RECEIPT = "tanda_terima"
SURAT = "surat"
BERITA_ACARA = "berita_acara"
KINDS = (RECEIPT, SURAT, BERITA_ACARA)


def recipients(settings: Settings, case: cases.Case) -> list[tuple[str, str]]:
    """(name, address) of everyone a case's mail goes to, each address once."""
    kontak = case.letter.get("kontak") or {}
    agency = settings.opd.agencies.get(case.opd)
    found: list[tuple[str, str]] = []
    candidates = [(str(kontak.get("nama") or ""), str(kontak.get("email") or ""))]
    if agency is not None and agency.email:
        candidates.append((agency.name, agency.email))
    for name, address in candidates:
        if address.strip() and address.strip().lower() not in {a.lower() for _, a in found}:
            found.append((name, address.strip()))
    return found


def queue_for_case(conn: Connection, settings: Settings, case: cases.Case, kind: str,
                   document: str, *, clock: Clock = utc_now) -> list[int]:
    """Queue ``document`` (a file name, or the receipt) to each recipient of the case."""
    if settings.email is None:
        return []
    domain = settings.email.from_address.rsplit("@", 1)[-1]
    return [queue_mail(conn, case_id=case.id, kind=kind, document=document, recipient=address,
                       recipient_name=name, domain=domain, clock=clock)
            for name, address in recipients(settings, case)]


def receipt_document(case: cases.Case) -> str:
    """The outbox's name for a case's receipt (one per case)."""
    return f"tanda-terima-{case.case_key}"
