"""Document numbers (nomor) from a per-kind, per-year sequence kept in the store.

A number is issued once per (kind, case) and then only looked up: a job retried after a crash
gets the number it was given the first time instead of burning a second one. Two workers
racing for the next number cannot both win: ``(kind, year, seq)`` and ``number`` are unique,
so the loser's transaction fails, rolls back, and tries again with a fresh read. On SQLite
every write transaction starts with ``BEGIN IMMEDIATE`` (``connector.store.db``), so the race
never even happens there; on PostgreSQL the unique index decides it. Plain SQLAlchemy Core.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

from sqlalchemy import (
    Connection,
    Engine,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from connector.config.documents import pattern_fields, pattern_problems
from connector.documents.model import DocumentError
from connector.documents.words import romawi
from connector.store.db import Clock, utc_now
from connector.store.schema import document_numbers

MAX_ATTEMPTS = 50



class NumberingError(DocumentError):
    """No number could be issued (a bad pattern, or a clash that retrying cannot fix)."""


class _LostRace(Exception):
    """Another worker took this sequence number first; read again and retry."""


def issue_number(engine: Engine, kind: str, year: int, case_id: int, pattern: str, *,
                 month: int | None = None, clock: Clock = utc_now) -> str:
    """Return the nomor of the ``kind`` document of case ``case_id``, issuing it if needed.

    The first call takes the next ``seq`` of (kind, year) and formats ``pattern`` with
    ``{seq}``, ``{year}`` and ``{month_roman}`` (from ``month``, the document's month in the
    office's time zone, required when the pattern uses it); every later call for the same
    (kind, case) returns that same number, whatever the year or month it is called with.
    """
    problems = pattern_problems(f"pattern of {kind}", pattern)
    if not problems and "month_roman" in pattern_fields(pattern) and month is None:
        problems.append(f"pattern of {kind} uses {{month_roman}}: pass month=")
    if problems:
        raise NumberingError("; ".join(problems))
    month_roman = romawi(month) if month is not None else ""
    now = clock()
    for attempt in range(MAX_ATTEMPTS):
        try:
            with engine.begin() as conn:
                return _issue(conn, kind, year, case_id, pattern, month_roman, now)
        except (IntegrityError, _LostRace):
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # lost a race: read again
    raise NumberingError(f"no {kind} number for case {case_id} after {MAX_ATTEMPTS} attempts")


def _issue(conn: Connection, kind: str, year: int, case_id: int, pattern: str,
           month_roman: str, now: datetime) -> str:
    """In one transaction: the existing number, or the next one inserted."""
    existing = existing_number(conn, kind, case_id)
    if existing is not None:
        return existing
    top = conn.execute(select(func.max(document_numbers.c.seq)).where(
        document_numbers.c.kind == kind, document_numbers.c.year == year)).scalar_one()
    seq = (top or 0) + 1
    number = pattern.format(seq=seq, year=year, month_roman=month_roman)
    t = document_numbers.c
    taken = conn.execute(select(t.kind, t.year).where(t.number == number)).first()
    if taken is not None and tuple(taken) == (kind, year):
        raise _LostRace(number)  # READ COMMITTED saw a rival commit after our max(seq)
    if taken is not None:
        raise NumberingError(f"{kind} number {number!r} was already issued to a {taken.kind} "
                             f"of {taken.year}; the number patterns overlap")
    conn.execute(insert(document_numbers).values(
        kind=kind, year=year, seq=seq, case_id=case_id, number=number, issued_at=now))
    return number


def existing_number(conn: Connection, kind: str, case_id: int) -> str | None:
    """The number already issued to the ``kind`` document of case ``case_id``, if any."""
    return conn.execute(select(document_numbers.c.number).where(
        document_numbers.c.kind == kind, document_numbers.c.case_id == case_id)
    ).scalar_one_or_none()
