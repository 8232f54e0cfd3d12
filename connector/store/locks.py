"""Named leases in the store, so two workers never advance one case at the same time.

A lock is a row with an owner and an expiry: a worker that dies keeps it only until its
lease runs out, then another may take it; sooner when its owner names a process of this
host that is gone (``connector.store.holders``). Portable across SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine, delete, or_, select, update

from connector.store.db import Clock, insert_ignore, utc_now
from connector.store.holders import holder_prefix, is_gone
from connector.store.schema import locks


class LockBusy(Exception):
    """Another worker holds the lock; try again shortly."""


def acquire(engine: Engine, name: str, owner: str, *, seconds: float = 120,
            clock: Clock = utc_now) -> bool:
    """Take the lock ``name`` for ``owner`` if it is free, expired, or already ours."""
    now = clock()
    until = now + timedelta(seconds=seconds)
    with engine.begin() as conn:
        if insert_ignore(conn, locks, {"name": name, "owner": owner, "until": until},
                         ["name"]) is not None:
            return True
        taken = conn.execute(
            update(locks).where(locks.c.name == name)
            .where(or_(locks.c.until < now, locks.c.owner == owner))
            .values(owner=owner, until=until))
        if taken.rowcount == 1:
            return True
        holder = conn.execute(select(locks.c.owner).where(locks.c.name == name)).scalar()
        if holder is None or not is_gone(holder):
            return False
        taken = conn.execute(  # its holder's process is gone: no need to wait for expiry
            update(locks).where(locks.c.name == name, locks.c.owner == holder)
            .values(owner=owner, until=until))
        return taken.rowcount == 1


def lock_owner(tag: str) -> str:
    """An owner name for a lock held by this process: gone with it, taken over at once."""
    return f"{holder_prefix()}:{tag}"


def release(engine: Engine, name: str, owner: str) -> None:
    """Give the lock back (only its owner can)."""
    with engine.begin() as conn:
        conn.execute(delete(locks).where(locks.c.name == name, locks.c.owner == owner))


@contextmanager
def held(engine: Engine, name: str, owner: str, *, clock: Clock = utc_now) -> Iterator[None]:
    """Hold the lock for a block; LockBusy when another owner has it."""
    if not acquire(engine, name, owner, clock=clock):
        raise LockBusy(name)
    try:
        yield
    finally:
        release(engine, name, owner)
