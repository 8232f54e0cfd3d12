"""The mail outbox: one row per (document, recipient), and the states that make a send once.

The guarantee (issue 17): a mail is handed to the SMTP server **at most once** per outbox row
unless a person resends it; and, unless the worker dies in the narrow window between the
SMTP DATA command and the local record of its answer, **exactly once**.

- A row is queued with its job in one transaction; the row's unique ``mail_key``
  (document and recipient) keeps a redone queueing from adding a second row or job.
- The sender writes ``attempted`` (and commits) before DATA, and ``sent`` after the
  server's 250. An attempt that finds ``attempted`` cannot know whether the server took the
  message (the worker died in between), so it does not send: the row becomes
  ``uncertain``, its job goes to the dead-letter list with a note naming ``sop-connector
  mail resend``, and the audit trail says so. A retry after a crash therefore never sends
  twice; the price is that a person decides about the rare mail caught in that window.
- Every message carries a ``Message-ID`` fixed per row, so even a resent copy is the same
  message to a receiving server or mail client that removes duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from connector.store.audit import append_audit
from connector.store.db import Clock, StoreError, from_row, insert_ignore, reading, utc_now
from connector.store.jobs import enqueue
from connector.store.kinds import SEND_MAIL
from connector.store.schema import MailState, mail_outbox

ACTOR = "sop-connector"
_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Mail:
    """One outbox row: what goes to whom, and how far it went."""

    id: int
    mail_key: str
    case_id: int
    kind: str
    document: str
    recipient: str
    recipient_name: str
    message_id: str
    state: MailState
    resends: int
    last_error: str | None
    created_at: datetime
    attempted_at: datetime | None
    sent_at: datetime | None


class MailNotResendable(StoreError):
    """``resend`` was given a mail that does not exist or was sent (without ``force``)."""


def mail_key(document: str, recipient: str) -> str:
    """The outbox key of a document (or receipt) for one recipient, case-insensitive."""
    return f"{document}|{recipient.strip().lower()}"


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID fixed by the outbox key: the same for every attempt and resend."""
    return f"<sop-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def queue_mail(conn: Connection, *, case_id: int, kind: str, document: str, recipient: str,
               recipient_name: str, domain: str, clock: Clock = utc_now) -> int:
    """Queue one mail and its job in the caller's transaction; idempotent per key."""
    key = mail_key(document, recipient)
    values: dict[str, Any] = {
        "mail_key": key, "case_id": case_id, "kind": kind, "document": document,
        "recipient": recipient.strip(), "recipient_name": recipient_name,
        "message_id": message_id_for(key, domain), "state": MailState.QUEUED.value,
        "resends": 0, "created_at": clock()}
    mail_id = insert_ignore(conn, mail_outbox, values, ["mail_key"])
    if mail_id is None:
        found: int = conn.execute(select(mail_outbox.c.id).where(
            mail_outbox.c.mail_key == key)).scalar_one()
        return found
    enqueue(conn, SEND_MAIL, {"mail_id": mail_id}, dedupe_key=f"mail:{mail_id}:0", clock=clock)
    return int(mail_id)


def get_mail(bind: Engine | Connection, mail_id: int) -> Mail | None:
    """The outbox row ``mail_id``, or None."""
    with reading(bind) as conn:
        row = conn.execute(select(mail_outbox).where(mail_outbox.c.id == mail_id)).mappings() \
            .first()
    return None if row is None else _mail(row)


def list_mail(bind: Engine | Connection, states: Collection[str] | None = None, *,
              case_id: int | None = None) -> list[Mail]:
    """Outbox rows, oldest first, optionally only in ``states`` or of one case."""
    query = select(mail_outbox).order_by(mail_outbox.c.id)
    if states is not None:
        query = query.where(mail_outbox.c.state.in_(list(states)))
    if case_id is not None:
        query = query.where(mail_outbox.c.case_id == case_id)
    with reading(bind) as conn:
        return [_mail(row) for row in conn.execute(query).mappings()]


def mark_attempted(engine: Engine, mail_id: int, *, clock: Clock = utc_now) -> bool:
    """``queued`` -> ``attempted``, committed; False if the row was not queued."""
    return _move(engine, mail_id, MailState.QUEUED, MailState.ATTEMPTED,
                 {"attempted_at": clock()})


def mark_not_taken(engine: Engine, mail_id: int, error: str) -> bool:
    """``attempted`` -> ``queued``: the server answered DATA with a refusal, so it has
    certainly not taken the message, and a later attempt may send it."""
    return _move(engine, mail_id, MailState.ATTEMPTED, MailState.QUEUED,
                 {"last_error": error[:_MAX_ERROR_CHARS]})


def note_error(engine: Engine, mail_id: int, error: str) -> None:
    """Keep the last failure of a queued mail (a retry follows)."""
    with engine.begin() as conn:
        conn.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id)
                     .values(last_error=error[:_MAX_ERROR_CHARS]))


def mark_sent(engine: Engine, mail: Mail, *, clock: Clock = utc_now) -> bool:
    """``attempted`` -> ``sent``, with its audit line, in one transaction."""
    return _move(engine, mail.id, MailState.ATTEMPTED, MailState.SENT,
                 {"sent_at": clock(), "last_error": None}, audit=("mail_sent", mail, None),
                 clock=clock)


def mark_uncertain(engine: Engine, mail: Mail, error: str, *, clock: Clock = utc_now) -> bool:
    """``attempted`` -> ``uncertain`` (it may have gone out), with its audit line."""
    return _move(engine, mail.id, MailState.ATTEMPTED, MailState.UNCERTAIN,
                 {"last_error": error[:_MAX_ERROR_CHARS]},
                 audit=("mail_uncertain", mail, error), clock=clock)


def mark_refused(engine: Engine, mail: Mail, error: str, *, clock: Clock = utc_now) -> bool:
    """``queued`` or ``attempted`` -> ``refused`` (a permanent 5xx), with its audit line."""
    moved = False
    for state in (MailState.QUEUED, MailState.ATTEMPTED):
        moved = moved or _move(engine, mail.id, state, MailState.REFUSED,
                               {"last_error": error[:_MAX_ERROR_CHARS]},
                               audit=("mail_refused", mail, error), clock=clock)
    return moved


def resend(engine: Engine, mail_id: int, *, force: bool = False, clock: Clock = utc_now) -> Mail:
    """A person's decision: queue an uncertain or refused mail (or, ``force``, a sent one)
    again, with a new job; the audit trail records it."""
    allowed = [MailState.UNCERTAIN.value, MailState.REFUSED.value]
    if force:
        allowed += [MailState.SENT.value, MailState.QUEUED.value]
    with engine.begin() as conn:
        row = conn.execute(select(mail_outbox).where(mail_outbox.c.id == mail_id)
                           .with_for_update()).mappings().first()
        if row is None:
            raise MailNotResendable(f"surel {mail_id} tidak ada")
        if row["state"] not in allowed:
            hint = " (tambahkan --force untuk mengirim sekali lagi)" if row["state"] in (
                MailState.SENT.value, MailState.QUEUED.value) else ""
            raise MailNotResendable(f"surel {mail_id} berstatus {row['state']}; yang dapat "
                                    f"dikirim ulang: uncertain, refused{hint}")
        resends = int(row["resends"]) + 1
        conn.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id).values(
            state=MailState.QUEUED.value, resends=resends, attempted_at=None, sent_at=None))
        enqueue(conn, SEND_MAIL, {"mail_id": mail_id}, dedupe_key=f"mail:{mail_id}:{resends}",
                clock=clock)
        append_audit(conn, row["case_id"], ACTOR, "mail_resend_requested",
                     detail=_detail(_mail(row)) | {"previous_state": row["state"]}, clock=clock)
        updated = conn.execute(select(mail_outbox).where(mail_outbox.c.id == mail_id)) \
            .mappings().one()
    return _mail(updated)


def _move(engine: Engine, mail_id: int, source: MailState, target: MailState,
          values: dict[str, Any], *, audit: tuple[str, Mail, str | None] | None = None,
          clock: Clock = utc_now) -> bool:
    with engine.begin() as conn:
        result = conn.execute(update(mail_outbox).where(
            mail_outbox.c.id == mail_id, mail_outbox.c.state == source.value)
            .values(state=target.value, **values))
        if result.rowcount == 1 and audit is not None:
            action, mail, error = audit
            detail = _detail(mail) | ({"error": error[:500]} if error else {})
            append_audit(conn, mail.case_id, ACTOR, action, detail=detail, clock=clock)
    return bool(result.rowcount == 1)


def _detail(mail: Mail) -> dict[str, Any]:
    return {"mail_id": mail.id, "kind": mail.kind, "document": mail.document,
            "recipient": mail.recipient, "message_id": mail.message_id,
            "resends": mail.resends}


def _mail(row: Any) -> Mail:
    return from_row(Mail, row, state=MailState(row["state"]))
