"""Request letters stored in batches: one statement per table for a whole group commit.

``record_intakes`` stores several letters in the caller's transaction, each as
``cases.record_intake`` stores one (the delivery in the inbox, the case, its attachments, an
audit line, the ``open_case`` job), but with one ``INSERT`` per table for all of them: the
group committer (``connector.store.group_commit``) hands it every letter waiting, and
SQLAlchemy's per-statement work, not SQLite, was most of what a letter cost to store.

The outcome is the same as storing the letters one after another in the given order: the
first letter of a case key creates the case, a later one of the same key (in this batch or
before it) stores nothing and gets the existing case; a delivery key already stored (or
taken by an earlier letter of the batch) leaves the letter without an inbox row, as
``record_inbox`` would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from connector.store.audit import Delivery, audit_row, inbox_row
from connector.store.db import Clock, insert_many_ignore, utc_now
from connector.store.jobs import job_row
from connector.store.kinds import OPEN_CASE
from connector.store.schema import CaseStatus, attachments, audit, cases, inbox, jobs

INTAKE_ACTOR = "intake"


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What ``record_intake`` did: the case id, and whether this call created it."""

    case_id: int
    created: bool


@dataclass(frozen=True, slots=True)
class Intake:
    """One letter to store: its case's columns, its attachments and its delivery."""

    case_key: str
    opd: str
    nomor_surat: str
    nama_aplikasi: str
    letter: Mapping[str, Any]
    attachments: Sequence[tuple[str, str, bytes]]
    inbox: Delivery


def attachment_row(case_id: int, filename: str, content_type: str,
                   content: bytes) -> dict[str, Any]:
    """The ``attachments`` row of a document of a case."""
    return {"case_id": case_id, "filename": filename, "content_type": content_type,
            "content": bytes(content), "sha256": hashlib.sha256(content).hexdigest()}


def record_intakes(conn: Connection, intakes: Sequence[Intake], *,
                   clock: Clock = utc_now) -> list[IntakeResult]:
    """Store the letters in the caller's transaction; one result per letter, in order."""
    now = clock()
    first: dict[str, int] = {}  # case key -> index of its first letter here
    for index, intake in enumerate(intakes):
        first.setdefault(intake.case_key, index)
    created = _insert_cases(conn, [intakes[i] for i in first.values()], now)
    known = _case_ids(conn, [key for key in first if key not in created])
    new = [intakes[i] for key, i in first.items() if key in created]
    inbox_ids = _insert_deliveries(conn, new, now)
    _insert_the_rest(conn, new, created, inbox_ids, now)
    results = []
    for index, intake in enumerate(intakes):
        key = intake.case_key
        if key in created:
            results.append(IntakeResult(created[key], created=first[key] == index))
        else:
            results.append(IntakeResult(known[key], created=False))
    return results


def _insert_cases(conn: Connection, intakes: list[Intake], now: datetime) -> dict[str, int]:
    """Insert the cases whose key is new; their ids by key (a known key is left alone)."""
    rows = [{"case_key": i.case_key, "opd": i.opd, "nomor_surat": i.nomor_surat,
             "nama_aplikasi": i.nama_aplikasi, "letter": dict(i.letter),
             "status": CaseStatus.RECEIVED.value, "created_at": now, "updated_at": now}
            for i in intakes]
    found = insert_many_ignore(conn, cases, rows, ["case_key"], ("id", "case_key"))
    return {row.case_key: row.id for row in found}


def _case_ids(conn: Connection, keys: list[str]) -> dict[str, int]:
    """The ids of the stored cases with these keys."""
    if not keys:
        return {}
    query = select(cases.c.case_key, cases.c.id).where(cases.c.case_key.in_(keys))
    return {key: case_id for key, case_id in conn.execute(query)}


def _insert_deliveries(conn: Connection, intakes: list[Intake],
                       now: datetime) -> list[int | None]:
    """Each letter's inbox id; None for a delivery key stored before (or earlier here)."""
    first: dict[str, int] = {}  # delivery key -> index of its first letter here
    for index, intake in enumerate(intakes):
        first.setdefault(intake.inbox.delivery_key, index)
    rows = [inbox_row(intakes[i].inbox, now) for i in first.values()]
    found = insert_many_ignore(conn, inbox, rows, ["delivery_key"], ("id", "delivery_key"))
    ids = {row.delivery_key: row.id for row in found}
    return [ids.get(i.inbox.delivery_key) if first[i.inbox.delivery_key] == n else None
            for n, i in enumerate(intakes)]


def _insert_the_rest(conn: Connection, intakes: list[Intake], case_ids: Mapping[str, int],
                     inbox_ids: list[int | None], now: datetime) -> None:
    """The new cases' attachments, audit lines and ``open_case`` jobs."""
    if not intakes:
        return
    stored, lines, queued = [], [], []
    for intake, inbox_id in zip(intakes, inbox_ids, strict=True):
        case_id = case_ids[intake.case_key]
        stored += [attachment_row(case_id, *a) for a in intake.attachments]
        detail = {"inbox_id": inbox_id, "attachments": [a[0] for a in intake.attachments]}
        lines.append(audit_row(case_id, INTAKE_ACTOR, "case_received", now, detail=detail))
        queued.append(job_row(OPEN_CASE, {"case_id": case_id}, now,
                              dedupe_key=f"{OPEN_CASE}:{case_id}", inbox_id=inbox_id))
    insert_many_ignore(conn, attachments, stored, ["case_id", "filename"])
    conn.execute(insert(audit), lines)
    insert_many_ignore(conn, jobs, queued, ["dedupe_key"])
