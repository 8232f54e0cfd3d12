"""Named cursors: small text values that remember how far a reader has got (e.g. a poll).

The ``cursors`` table is declared with every other table in ``connector.store.schema``.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.store.db import Clock, insert_ignore, reading, utc_now
from connector.store.schema import cursors


def get_cursor(bind: Engine | Connection, name: str) -> str | None:
    """The value of cursor ``name``, or None if it was never set."""
    with reading(bind) as conn:
        value: str | None = conn.execute(
            select(cursors.c.value).where(cursors.c.name == name)).scalar_one_or_none()
    return value


def set_cursor(conn: Connection, name: str, value: str, *, clock: Clock = utc_now) -> None:
    """Set cursor ``name`` to ``value`` in the caller's transaction (insert or update)."""
    row = {"name": name, "value": value, "updated_at": clock()}
    changed = {"value": row["value"], "updated_at": row["updated_at"]}
    if conn.dialect.name in ("sqlite", "postgresql"):
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        stmt = dialect.insert(cursors).values(row)
        conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=changed))
        return
    if insert_ignore(conn, cursors, row, ["name"]) is None:
        conn.execute(update(cursors).where(cursors.c.name == name).values(changed))
