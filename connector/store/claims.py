"""Changes of a case claimed for carrying out and not yet recorded as processed.

A change (a Redmine journal, a signed document) is claimed in a commit of its own before the
first write to Redmine, and settled in the commit that records it as processed. While a claim
is held, an attempt may have written to Redmine what the store does not know yet (a subtask
created, a status set, then a kill or an error), so whoever carries out another change of the
same case reads Redmine first instead of trusting the store (``connector.workflow.sync``).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from connector.store.db import Clock, insert_ignore, utc_now
from connector.store.schema import case_claims


def hold(conn: Connection, case_id: int, change_key: str, *, clock: Clock = utc_now) -> None:
    """Claim ``change_key`` for ``case_id`` (once; a second claim of it changes nothing)."""
    insert_ignore(conn, case_claims,
                  {"change_key": change_key, "case_id": case_id, "claimed_at": clock()},
                  ["change_key"])


def settle(conn: Connection, change_key: str) -> None:
    """The change is recorded as processed: its claim is no longer outstanding."""
    conn.execute(delete(case_claims).where(case_claims.c.change_key == change_key))


def outstanding(conn: Connection, case_id: int, *, besides: str) -> bool:
    """Whether another change of the case is claimed and not settled."""
    found = conn.execute(select(case_claims.c.change_key).where(
        case_claims.c.case_id == case_id, case_claims.c.change_key != besides).limit(1)).first()
    return found is not None
