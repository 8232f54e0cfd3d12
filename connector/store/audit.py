"""Append-only records: the inbox of deliveries, the audit trail, and processed changes.

Nothing here updates or deletes a row. The inbox keeps every accepted delivery, deduplicated
on its stable delivery key (RELIABILITY.md, promise 4); ``processed_changes`` makes the
processing of a Redmine journal or other change exactly-once, whichever path saw it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from connector.store.db import Clock, from_row, insert_ignore, insert_returning_pk, reading, utc_now
from connector.store.schema import audit, inbox, processed_changes

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-gitlab-token", "x-redmine-api-key"}
)
"""Headers that carry a credential; they are never stored (RELIABILITY.md, promise 11)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery to store in the inbox: its sender, stable key, headers and raw body."""

    source: str
    delivery_key: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One accepted delivery, as received."""

    id: int
    source: str
    delivery_key: str
    received_at: datetime
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of a case's audit trail."""

    id: int
    case_id: int | None
    at: datetime
    actor: str
    action: str
    step_from: int | None
    step_to: int | None
    journal_id: int | None
    detail: Mapping[str, Any] | None


def record_inbox(conn: Connection, delivery: Delivery, *, clock: Clock = utc_now) -> int | None:
    """Store a delivery and return its id; None if its delivery key was stored before.

    Credential headers (``SECRET_HEADERS``) are dropped before anything is written.
    """
    inbox_id: int | None = insert_ignore(conn, inbox, inbox_row(delivery, clock()),
                                         ["delivery_key"])
    return inbox_id


def inbox_row(delivery: Delivery, received_at: datetime) -> dict[str, Any]:
    """The ``inbox`` row of a delivery, its credential headers (``SECRET_HEADERS``) dropped."""
    headers = {k: v for k, v in delivery.headers.items() if k.lower() not in SECRET_HEADERS}
    return {"source": delivery.source, "delivery_key": delivery.delivery_key,
            "received_at": received_at, "headers": headers, "body": bytes(delivery.body)}


def get_inbox(bind: Engine | Connection, inbox_id: int) -> InboxEntry | None:
    """Return the stored delivery with ``inbox_id``, or None."""
    with reading(bind) as conn:
        row = conn.execute(select(inbox).where(inbox.c.id == inbox_id)).mappings().first()
    return None if row is None else from_row(InboxEntry, row)


def append_audit(
    conn: Connection,
    case_id: int | None,
    actor: str,
    action: str,
    *,
    step_from: int | None = None,
    step_to: int | None = None,
    journal_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    clock: Clock = utc_now,
) -> int:
    """Append one audit row in the caller's transaction and return its id."""
    values = audit_row(case_id, actor, action, clock(), step_from=step_from, step_to=step_to,
                       journal_id=journal_id, detail=detail)
    audit_id: int = conn.execute(insert_returning_pk(audit), values).scalar_one()
    return audit_id


def audit_row(
    case_id: int | None, actor: str, action: str, at: datetime, *,
    step_from: int | None = None, step_to: int | None = None, journal_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``audit`` row of one line of the trail (``append_audit`` and batches of letters)."""
    return {"case_id": case_id, "at": at, "actor": actor, "action": action,
            "step_from": step_from, "step_to": step_to, "journal_id": journal_id,
            "detail": None if detail is None else dict(detail)}


def list_audit(bind: Engine | Connection, case_id: int | None) -> list[AuditEntry]:
    """Return the audit trail of ``case_id`` (None: rows about no case), oldest first."""
    query = select(audit).order_by(audit.c.id)
    query = query.where(
        audit.c.case_id.is_(None) if case_id is None else audit.c.case_id == case_id
    )
    with reading(bind) as conn:
        rows = conn.execute(query).mappings().all()
    return [from_row(AuditEntry, row) for row in rows]


def mark_change_processed(conn: Connection, change_key: str, *, clock: Clock = utc_now) -> bool:
    """Record ``change_key`` as processed; True the first time only, even under races.

    Call it in the transaction that applies the change, so both commit or neither does.
    """
    values = {"change_key": change_key, "processed_at": clock()}
    return insert_ignore(conn, processed_changes, values, ["change_key"]) is not None
