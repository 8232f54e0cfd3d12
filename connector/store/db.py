"""Engines and the few dialect-aware helpers the store needs.

SQLite is the default and is set up for durability and for several writer processes:
WAL with ``synchronous=FULL`` (an acknowledged commit survives a power cut), foreign keys,
a busy timeout, and every transaction opened with ``BEGIN IMMEDIATE`` so a writer takes the
write lock up front instead of failing with "database is locked" when it upgrades a read
(SQLAlchemy docs, "Transactions with SQLite and the sqlite3 driver"). Read-only work can ask
for a plain deferred ``BEGIN`` through ``reading()``, so readers never wait for writers.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row, RowMapping
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from connector.errors import ConnectorError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""A source of aware UTC datetimes; tests pass a fixed one."""

BUSY_TIMEOUT_SECONDS = 30
_DEFERRED = "store_deferred_begin"
_HOLDS_WRITE_LOCK = "store_holds_write_lock"


class StoreError(ConnectorError):
    """The store was asked something it cannot do (an unknown id, a wrong state)."""


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, FULL sync and ``BEGIN IMMEDIATE``."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}, **kwargs)
    writers = _WriterQueue()
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", writers.begin)
    event.listen(engine, "commit", writers.commit)
    event.listen(engine, "rollback", writers.rollback)
    return engine


class _WriterQueue:
    """Let this process's SQLite writers take turns on a lock instead of SQLite's busy loop.

    SQLite's busy handler sleeps and retries, so under eight or more concurrent writers a
    waiting thread can lose the write lock again and again and wait seconds (the intake
    benchmark's p99). Queuing the writers of one process on a lock first leaves SQLite's lock
    to settle only between processes. The wait is bounded by the busy timeout, after which
    the writer goes on to SQLite as before, so a lock that leaked could slow, never stop us.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, conn: Connection) -> None:
        """Open the transaction: IMMEDIATE (after our turn) unless the connection only reads."""
        if conn.get_execution_options().get(_DEFERRED, False):
            conn.exec_driver_sql("BEGIN")
            return
        if self._lock.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            conn.info[_HOLDS_WRITE_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    # SQLAlchemy announces a commit or rollback before it runs it; finishing it here (the
    # driver's own commit or rollback then finds no transaction and does nothing) gives the
    # next writer its turn only once SQLite has released the write lock.
    def commit(self, conn: Connection) -> None:
        try:
            conn.connection.dbapi_connection.commit()  # type: ignore[union-attr]
        finally:
            self.end(conn)

    def rollback(self, conn: Connection) -> None:
        try:
            conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        finally:
            self.end(conn)

    def end(self, conn: Connection) -> None:
        """Give the turn to the next writer once this transaction is over."""
        if conn.info.pop(_HOLDS_WRITE_LOCK, False):
            self._lock.release()


def _sqlite_on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Set the per-connection pragmas and take BEGIN away from the sqlite3 module."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


@contextmanager
def reading(bind: Engine | Connection) -> Iterator[Connection]:
    """Yield a connection for reads: the caller's own, or a new one with a deferred BEGIN."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        conn.execution_options(**{_DEFERRED: True})
        yield conn


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """Yield a connection whose reads all see one committed state of the store.

    One read transaction: SQLite's WAL gives a deferred transaction one snapshot from its
    first read; PostgreSQL's default READ COMMITTED would let each statement see newer
    commits, so the transaction is REPEATABLE READ there (PostgreSQL docs, "Transaction
    Isolation").
    """
    with reading(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn



def ping(engine: Engine) -> bool:
    """Return True when the database answers a trivial query."""
    try:
        with reading(engine) as conn:
            conn.execute(select(1)).scalar_one()
    except SQLAlchemyError as exc:
        log.warning("store ping failed: %s", type(exc).__name__)
        return False
    return True


Record = TypeVar("Record", bound="DataclassInstance")


def from_row(cls: type[Record], row: RowMapping, **overrides: Any) -> Record:
    """Build the dataclass ``cls`` from the row's columns of the same names."""
    values = {field.name: row[field.name] for field in dataclasses.fields(cls)}
    return cls(**(values | overrides))


def insert_ignore(
    conn: Connection, table: Table, values: Mapping[str, Any], conflict: list[str]
) -> Any:
    """Insert a row unless one with the same ``conflict`` columns exists; return its pk or None.

    Uses ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on SQLite and PostgreSQL, which cannot
    race; other databases fall back to a SAVEPOINT around a plain INSERT. ``table`` must have a
    single-column primary key. The statement is built once per dialect, table and conflict
    columns and executed with the row as parameters: building it anew for every row (with
    ``.values()``) cost more than the insert itself (README, "Where an intake's time goes").
    """
    stmt = _insert_on_conflict_do_nothing(conn.dialect.name, table, tuple(conflict))
    if stmt is not None:
        return conn.execute(stmt, dict(values)).scalar_one_or_none()
    try:
        with conn.begin_nested():
            return conn.execute(insert_returning_pk(table), dict(values)).scalar_one()
    except IntegrityError:
        return None


@functools.cache
def insert_returning_pk(table: Table) -> Insert:
    """``INSERT INTO table ... RETURNING pk``, built once, for rows passed as parameters."""
    return insert(table).returning(next(iter(table.primary_key.columns)))


@functools.cache
def _insert_on_conflict_do_nothing(
    dialect: str, table: Table, conflict: tuple[str, ...]
) -> Insert | None:
    """The dialect's ``ON CONFLICT DO NOTHING RETURNING pk`` insert, or None if it has none."""
    pk = next(iter(table.primary_key.columns))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(
            index_elements=list(conflict)).returning(pk)
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=list(conflict)).returning(pk)
    return None


def insert_many_ignore(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], conflict: list[str],
    returning: tuple[str, ...] = (),
) -> list[Row[Any]]:
    """Insert ``rows`` in one statement, skipping any whose ``conflict`` columns exist.

    Returns the ``returning`` columns of the rows inserted (in no given order: a caller
    matches them by a unique column), or nothing when ``returning`` is empty. SQLite and
    PostgreSQL run one ``INSERT ... ON CONFLICT DO NOTHING`` for all the rows (SQLAlchemy's
    "insertmanyvalues"); other databases insert row by row, each in a SAVEPOINT. One
    statement for a whole group commit instead of one per row is what a batch of letters
    saves most (README, "Where an intake's time goes").
    """
    if not rows:
        return []
    stmt = _insert_many_on_conflict(conn.dialect.name, table, tuple(conflict), returning)
    if stmt is not None:
        result = conn.execute(stmt, [dict(row) for row in rows])
        return list(result.all()) if returning else []
    inserted: list[Row[Any]] = []
    plain = insert(table).returning(*_columns(table, returning)) if returning else insert(table)
    for row in rows:
        try:
            with conn.begin_nested():
                found = conn.execute(plain, dict(row))
                if returning:
                    inserted.append(found.one())
        except IntegrityError:
            continue
    return inserted


def _columns(table: Table, names: tuple[str, ...]) -> list[ColumnElement[Any]]:
    return [table.c[name] for name in names]


@functools.cache
def _insert_many_on_conflict(
    dialect: str, table: Table, conflict: tuple[str, ...], returning: tuple[str, ...]
) -> Insert | None:
    """The dialect's ``ON CONFLICT DO NOTHING`` insert (``RETURNING returning``), or None."""
    module = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
    if module is None:
        return None
    stmt: Insert = module.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return stmt.returning(*_columns(table, returning)) if returning else stmt
