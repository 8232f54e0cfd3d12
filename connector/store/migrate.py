"""Schema migrations with Alembic: bring a store to the latest revision when a process starts.

Alembic is configured here, in code: the scripts are found next to this module, the
connection is passed in, and the current directory plays no part. ``upgrade`` runs in one
transaction that first takes a lock, so a ``serve`` and a ``worker`` starting together do not
migrate twice: a PostgreSQL advisory lock, or on SQLite the write lock that ``make_engine``'s
``BEGIN IMMEDIATE`` takes. A store made before migrations existed (tables but no
``alembic_version``) is compared with revision 0001 and stamped when it matches; tables added
to the code since then are created first, as ``create_all`` would have done.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, MetaData, inspect, text

from connector.errors import ConnectorError
from connector.store.db import reading
from connector.store.schema import metadata

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
# Any constant: the key of the PostgreSQL advisory lock held while migrating.
_ADVISORY_LOCK_KEY = 0x5_0C0_11EC_7012


class MigrationError(ConnectorError):
    """The store's schema cannot be brought up to date safely."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the store's scripts, using ``connection`` when given."""
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision of the store's schema."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise MigrationError("no migration scripts found")
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at; None when it was never stamped."""
    return MigrationContext.configure(conn).get_current_revision()


def store_metadata() -> MetaData:
    """The application's tables: every one is declared in ``connector.store.schema``."""
    return metadata


def baseline_schema() -> MetaData:
    """Revision 0001's own schema, as its script writes it out."""
    script = _scripts().get_revision(BASELINE)
    assert script is not None
    module: Any = script.module
    schema: MetaData = module.schema()
    return schema


def create_all(engine: Engine) -> None:
    """Bring the store's schema to the newest migration (creating it in an empty database).

    Safe when several processes start at once: see ``upgrade``.
    """
    upgrade(engine)


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision; a no-op when it is there already."""
    with reading(engine) as conn:
        if current_revision(conn) == head_revision():
            return
    with engine.begin() as conn:
        _take_migration_lock(conn)
        current = current_revision(conn)  # again: another process may have migrated meanwhile
        if current == head_revision():
            return
        if current is None:
            _adopt_unversioned(conn)
        elif not _known(current):
            raise MigrationError(f"the database is at revision {current}, which this "
                                 f"sop-connector does not know (its newest is {head_revision()}):"
                                 " was it migrated by a newer version?")
        log.info("store: migrating from %s to %s", current or "nothing", head_revision())
        command.upgrade(alembic_config(conn), "head")


def _known(revision: str) -> bool:
    """True when the scripts include ``revision``."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _take_migration_lock(conn: Connection) -> None:
    """Serialise migrations; SQLite's ``BEGIN IMMEDIATE`` already holds the write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})


def _adopt_unversioned(conn: Connection) -> None:
    """Stamp a store made by ``create_all`` before migrations as 0001, if it matches 0001."""
    baseline = baseline_schema()
    present = set(inspect(conn).get_table_names()) & set(baseline.tables)
    if not present:
        return  # an empty database: the upgrade creates everything
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    problems = [diff for diff in compare_metadata(context, baseline)
                if not _is_missing_table(diff, present)]
    if problems:
        raise MigrationError(
            "the database has the store's tables but no migration history, and its schema "
            f"differs from revision {BASELINE}: {problems!r}")
    baseline.create_all(conn)  # tables the code added after this store was created
    command.stamp(alembic_config(conn), BASELINE)
    log.info("store: existing schema adopted as revision %s", BASELINE)


def _is_missing_table(diff: Any, present: set[str]) -> bool:
    """A whole table (or an index of one) that the old store never created."""
    if not isinstance(diff, tuple):
        return False
    kind, item = diff[0], diff[1]
    if kind == "add_table":
        return item.name not in present
    if kind == "add_index":
        return item.table.name not in present
    return False
