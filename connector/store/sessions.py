"""Signed-out dashboard sessions, remembered in the store until they would have expired.

A dashboard session lives in a signed cookie, so signing out cannot take the cookie back;
instead "Keluar" writes the session's random id here (a row of the ``cursors`` table named
``signed-out:<id>``), and every request's session is checked against it. Rows older than
the longest session are removed when the next session signs out.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete, select

from connector.store.cursors import set_cursor
from connector.store.db import Clock, reading, utc_now
from connector.store.schema import cursors

PREFIX = "signed-out:"


def revoke_session(engine: Engine, session_id: str, lifetime: timedelta, *,
                   clock: Clock = utc_now) -> None:
    """Remember that ``session_id`` signed out; forget ids older than ``lifetime``."""
    now = clock()
    with engine.begin() as conn:
        set_cursor(conn, PREFIX + session_id, now.isoformat(), clock=lambda: now)
        conn.execute(delete(cursors).where(cursors.c.name.startswith(PREFIX),
                                           cursors.c.updated_at < now - lifetime))


def is_revoked(engine: Engine, session_id: str) -> bool:
    """True when the session with this id has signed out."""
    with reading(engine) as conn:
        found = conn.execute(select(cursors.c.name).where(
            cursors.c.name == PREFIX + session_id)).first()
    return found is not None
