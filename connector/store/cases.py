"""Cases: one per request letter, keyed by OPD and nomor surat, with steps and attachments.

``record_intake`` is the one transaction behind an intake webhook's 2xx answer: the delivery,
the case, its attachments, an audit line and the ``open_case`` job commit together or not at
all (RELIABILITY.md, promise 2). It stores one letter through ``connector.store.intakes``,
which the intake's group commit calls with every letter waiting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from connector.store.audit import Delivery
from connector.store.db import Clock, from_row, insert_ignore, reading, utc_now
from connector.store.intakes import Intake, attachment_row, record_intakes
from connector.store.intakes import IntakeResult as IntakeResult
from connector.store.schema import CaseStatus, StepState, case_steps, cases
from connector.store.schema import attachments as attachment_rows


@dataclass(frozen=True, slots=True)
class Case:
    """A request letter's case."""

    id: int
    case_key: str
    opd: str
    nomor_surat: str
    nama_aplikasi: str
    letter: Mapping[str, Any]
    status: CaseStatus
    current_step: int | None
    redmine_issue_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CaseStep:
    """One SOP step of a case."""

    case_id: int
    step: int
    state: StepState
    redmine_issue_id: int | None
    started_on: date | None
    due_on: date | None
    completed_on: date | None


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """A document that came with the letter."""

    id: int
    case_id: int
    filename: str
    content_type: str
    content: bytes
    sha256: str
    redmine_token: str | None
    redmine_attachment_id: int | None


def plain_text(text: str) -> str:
    """``text`` in Unicode NFKC with format characters (category Cf) removed, spaces collapsed.

    Fullwidth digits (``０２７``) become ``027`` and a zero-width space disappears, so one
    letter number written two ways is one key, not two cases (issue 20, finding 11).
    """
    if text.isascii():  # NFKC leaves ASCII as it is, and no ASCII character is a Cf
        return _SPACES.sub(" ", text).strip()
    folded = unicodedata.normalize("NFKC", text)
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", visible)).strip()


_SPACES = re.compile(r"\s+")


def case_key_for(opd: str, nomor_surat: str) -> str:
    """Return the case key ``"<OPD>:<NOMOR SURAT>"``: ``plain_text``, upper-cased.

    Not ``|``: Redmine reads ``|`` in a filter value as "or", so a key holding it could
    never be found again by an exact look-up of the key field; not ``#`` either, which
    joins a case key and a step number in a step's key (the intake refuses both).
    """
    return f"{plain_text(opd).upper()}:{plain_text(nomor_surat).upper()}"


def record_intake(
    conn: Connection,
    *,
    case_key: str,
    opd: str,
    nomor_surat: str,
    nama_aplikasi: str,
    letter: Mapping[str, Any],
    attachments: Sequence[tuple[str, str, bytes]],
    inbox: Delivery | tuple[str, str, Mapping[str, str], bytes],
    clock: Clock = utc_now,
) -> IntakeResult:
    """Store a request letter in the caller's transaction; a known ``case_key`` is not redone.

    The first intake of a key creates the case, its attachments, its delivery in the inbox,
    an audit line and the ``open_case`` job. A later one (a retry or a resend) writes
    nothing: 1,000 resends keep one body, not 1,000 (issue 20, finding 12); the caller
    compares the content. Two racing intakes of one key cannot both create: the case insert
    is ``ON CONFLICT DO NOTHING`` on the unique ``case_key``.
    """
    delivery = inbox if isinstance(inbox, Delivery) else Delivery(*inbox)
    intake = Intake(case_key, opd, nomor_surat, nama_aplikasi, letter, attachments, delivery)
    return record_intakes(conn, [intake], clock=clock)[0]


def add_attachment(
    conn: Connection, case_id: int, filename: str, content_type: str, content: bytes
) -> int | None:
    """Store a document of a case; None if the case already has one with that filename."""
    values = attachment_row(case_id, filename, content_type, content)
    attachment_id: int | None = insert_ignore(
        conn, attachment_rows, values, ["case_id", "filename"]
    )
    return attachment_id


def _case(row: RowMapping) -> Case:
    """Build a ``Case`` from a ``cases`` row."""
    return from_row(Case, row, status=CaseStatus(row["status"]))


def get_case(bind: Engine | Connection, case_id: int) -> Case | None:
    """Return the case with ``case_id``, or None."""
    with reading(bind) as conn:
        row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    return None if row is None else _case(row)


def find_case_by_key(bind: Engine | Connection, case_key: str) -> Case | None:
    """Return the case with ``case_key``, or None."""
    with reading(bind) as conn:
        row = conn.execute(select(cases).where(cases.c.case_key == case_key)).mappings().first()
    return None if row is None else _case(row)


def find_step_by_issue(
    bind: Engine | Connection, redmine_issue_id: int
) -> tuple[int, int] | None:
    """The (case id, step) whose subtask is Redmine issue ``redmine_issue_id``, or None."""
    query = select(case_steps.c.case_id, case_steps.c.step).where(
        case_steps.c.redmine_issue_id == redmine_issue_id)
    with reading(bind) as conn:
        rows = conn.execute(query).all()
    return (rows[0][0], rows[0][1]) if len(rows) == 1 else None


def set_case_redmine(
    conn: Connection, case_id: int, redmine_issue_id: int, *, clock: Clock = utc_now
) -> bool:
    """Link the case to its Redmine issue; False if it is linked to a different one."""
    result = conn.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .where(
            or_(cases.c.redmine_issue_id.is_(None), cases.c.redmine_issue_id == redmine_issue_id)
        )
        .values(redmine_issue_id=redmine_issue_id, updated_at=clock())
    )
    return result.rowcount == 1


def set_case_status(
    conn: Connection,
    case_id: int,
    status: CaseStatus,
    *,
    current_step: int | None = None,
    clock: Clock = utc_now,
) -> bool:
    """Set the case's status (and its current step when given); False if no such case."""
    values: dict[str, Any] = {"status": status.value, "updated_at": clock()}
    if current_step is not None:
        values["current_step"] = current_step
    result = conn.execute(update(cases).where(cases.c.id == case_id).values(values))
    return result.rowcount == 1


def upsert_case_step(
    conn: Connection,
    case_id: int,
    step: int,
    *,
    state: StepState,
    redmine_issue_id: int | None = None,
    started_on: date | None = None,
    due_on: date | None = None,
    completed_on: date | None = None,
) -> CaseStep:
    """Create or update a step of a case; a field left None keeps its stored value."""
    given = {
        "redmine_issue_id": redmine_issue_id,
        "started_on": started_on,
        "due_on": due_on,
        "completed_on": completed_on,
    }
    changes = {"state": state.value} | {k: v for k, v in given.items() if v is not None}
    key = {"case_id": case_id, "step": step}
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is not None:
        stmt = dialect.insert(case_steps).values(key | given | changes)
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=changes))
    else:
        where = (case_steps.c.case_id == case_id, case_steps.c.step == step)
        if conn.execute(update(case_steps).where(*where).values(changes)).rowcount == 0:
            conn.execute(insert(case_steps).values(key | given | changes))
    return list_case_steps(conn, case_id, only=step)[0]


def list_case_steps(
    bind: Engine | Connection, case_id: int, *, only: int | None = None
) -> list[CaseStep]:
    """Return the steps of a case in SOP order (or just step ``only``)."""
    query = select(case_steps).where(case_steps.c.case_id == case_id).order_by(case_steps.c.step)
    if only is not None:
        query = query.where(case_steps.c.step == only)
    with reading(bind) as conn:
        rows = conn.execute(query).mappings().all()
    return [from_row(CaseStep, row, state=StepState(row["state"])) for row in rows]


def list_attachments(bind: Engine | Connection, case_id: int) -> list[StoredAttachment]:
    """Return the documents of a case, in the order they were stored."""
    query = (
        select(attachment_rows)
        .where(attachment_rows.c.case_id == case_id)
        .order_by(attachment_rows.c.id)
    )
    with reading(bind) as conn:
        rows = conn.execute(query).mappings().all()
    return [from_row(StoredAttachment, row) for row in rows]


def set_attachment_redmine(
    conn: Connection,
    attachment_id: int,
    *,
    token: str | None = None,
    redmine_attachment_id: int | None = None,
) -> bool:
    """Remember the Redmine upload token and/or attachment id of a stored document."""
    values = {"redmine_token": token, "redmine_attachment_id": redmine_attachment_id}
    changes = {k: v for k, v in values.items() if v is not None}
    if not changes:
        return False
    result = conn.execute(
        update(attachment_rows).where(attachment_rows.c.id == attachment_id).values(changes)
    )
    return result.rowcount == 1
