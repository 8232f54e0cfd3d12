"""Signed-out dashboard sessions in the store (issue 20, finding 6), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from connector.store.sessions import is_revoked, revoke_session

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
EIGHT_HOURS = timedelta(hours=8)


def test_a_revoked_session_is_remembered_until_it_would_have_expired(engine: Engine) -> None:
    first, second = "a" * 32, "b" * 32
    assert not is_revoked(engine, first)
    revoke_session(engine, first, EIGHT_HOURS, clock=lambda: T0)
    revoke_session(engine, first, EIGHT_HOURS, clock=lambda: T0)  # twice is fine
    assert is_revoked(engine, first) and not is_revoked(engine, second)
    revoke_session(engine, second, EIGHT_HOURS, clock=lambda: T0 + EIGHT_HOURS * 2)
    assert is_revoked(engine, second)
    assert not is_revoked(engine, first)  # older than any session could live: forgotten
