"""A real PostgreSQL for tests that cannot do without one, and throw-away databases on it.

The server is ``$SOP_TEST_POSTGRES_URL`` (scripts/test starts one); without it, one is started
here with scripts/postgres-test-server, and the test fails, never skips, if that cannot be done.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "postgres-test-server"


@contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a running PostgreSQL (a superuser's), for the duration of the block."""
    given = os.environ.get("SOP_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    started = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, check=False)
    if started.returncode != 0:
        pytest.fail("a real PostgreSQL is required: set SOP_TEST_POSTGRES_URL or let "
                    f"scripts/postgres-test-server start one (as root): {started.stderr.strip()}")
    values = dict(line.split("=", 1) for line in started.stdout.split())
    try:
        yield values["SOP_TEST_POSTGRES_URL"]
    finally:
        subprocess.run([str(SCRIPT), "stop", values["SOP_TEST_POSTGRES_STATE"]], check=False)


@contextmanager
def fresh_database(server_url: str, purpose: str) -> Iterator[str]:
    """A new, empty database on the server for the block; its URL. Dropped afterwards."""
    name = f"sop_{purpose}_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            conn.execute(drop)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()
