"""Who holds a job lease or a case lock, and handing back what a gone process held.

A holder's name starts ``<host>:<pid>:b<boot id>``, so a lease or a lock of a process on this
host that no longer runs (it was killed, or the machine rebooted since) is recognised at
once instead of waiting for its expiry: after a restart the case moves immediately. A name
from another host, or one of another shape, is never judged gone; its expiry still applies.
"""

from __future__ import annotations

import os
import socket
from functools import cache

from sqlalchemy import Engine, delete, select, update

from connector.store.db import Clock, utc_now
from connector.store.schema import JobStatus, jobs, locks

BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


@cache
def boot_id() -> str:
    """A short id of this boot of the machine ("-" where the system does not tell)."""
    try:
        with open(BOOT_ID_FILE, encoding="ascii") as handle:
            return handle.read().strip().replace("-", "")[:12] or "-"
    except OSError:
        return "-"


def holder_prefix(pid: int | None = None) -> str:
    """``<host>:<pid>:b<boot id>`` of this process (or of ``pid`` on this host)."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}:b{boot_id()}"


def is_gone(holder: str) -> bool:
    """True when ``holder`` names a process of this host that no longer runs."""
    parts = holder.split(":")
    if (len(parts) < 3 or parts[0] != socket.gethostname() or not parts[1].isdigit()
            or not parts[2].startswith("b")):  # another host, or a name of another shape
        return False
    if parts[2] != f"b{boot_id()}":
        return boot_id() != "-"  # held before this machine's last reboot
    return not _alive(int(parts[1]))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def hand_back(engine: Engine, *, only_this_process: bool = False,
              clock: Clock = utc_now) -> int:
    """Release the leases and locks of gone holders (or of this process); return how many.

    A job given back is due at once (its attempt is counted, as with an expired lease); a
    lock given back is free for the next worker. This process's own holdings are given
    back when it stops with jobs still in hand (``only_this_process``).
    """

    mine = holder_prefix() + ":"
    chosen = ((lambda h: h.startswith(mine)) if only_this_process else is_gone)
    now = clock()
    with engine.begin() as conn:
        leased = conn.execute(select(jobs.c.id, jobs.c.lease_owner).where(
            jobs.c.status == JobStatus.RUNNING.value)).all()
        job_ids = [row.id for row in leased if row.lease_owner and chosen(row.lease_owner)]
        held = conn.execute(select(locks.c.name, locks.c.owner)).all()
        names = [row.name for row in held if chosen(row.owner)]
        if job_ids:
            conn.execute(update(jobs).where(jobs.c.id.in_(job_ids),
                                            jobs.c.status == JobStatus.RUNNING.value)
                         .values(lease_until=now, updated_at=now))
        for row in held:
            if row.name in names:
                conn.execute(delete(locks).where(locks.c.name == row.name,
                                                 locks.c.owner == row.owner))
    return len(job_ids) + len(names)
