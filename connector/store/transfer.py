"""Copy a whole store to another database: the move from SQLite to PostgreSQL.

Both stores are first brought to the newest migration, then every table is copied in
foreign-key order through the application's own table definitions (so times stay aware UTC
and JSON stays JSON), in one transaction on the target: it ends with every row or none.
The source is read in one transaction too, a consistent snapshot. A target that already
holds any row is refused, and PostgreSQL's sequences are moved past the copied ids so that
the next insert does not collide.
"""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from connector.store.db import reading
from connector.store.migrate import MigrationError, create_all, store_metadata

BATCH_ROWS = 500
BINARY_BATCH_ROWS = 10  # rows holding files (attachments, inbox bodies) stay few in memory


class TargetNotEmpty(MigrationError):
    """The database to copy into already holds data; copying would mix two stores."""


class CopyFailed(MigrationError):
    """The target refused a row; its transaction was rolled back."""


def copy_store(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every row of ``source`` into the empty ``target``; return the rows per table."""
    create_all(source)
    create_all(target)
    metadata = store_metadata()
    counts: dict[str, int] = {}
    table = None
    try:
        with reading(source) as src, target.begin() as dst:
            _refuse_non_empty(dst, metadata)
            for table in metadata.sorted_tables:
                counts[table.name] = _copy_table(src, dst, table)
            if dst.dialect.name == "postgresql":
                _reset_sequences(dst, metadata)
    except DBAPIError as exc:  # e.g. a value SQLite let through that PostgreSQL refuses
        where = f" in table {table.name}" if table is not None else ""
        raise CopyFailed(f"nothing was copied, the target is unchanged: error{where}: "
                         f"{exc.orig}") from exc
    return counts


def _refuse_non_empty(conn: Connection, metadata: MetaData) -> None:
    """Raise ``TargetNotEmpty`` naming the tables that hold rows."""
    filled = [table.name for table in metadata.sorted_tables
              if conn.execute(select(select(table).limit(1).exists())).scalar()]
    if filled:
        raise TargetNotEmpty(f"the target database is not empty (rows in: {', '.join(filled)}); "
                             "copy only into a new, empty database")


def _copy_table(src: Connection, dst: Connection, table: Table) -> int:
    """Stream one table's rows, in primary-key order, into the target."""
    binary = any(isinstance(column.type, LargeBinary) for column in table.columns)
    batch_rows = BINARY_BATCH_ROWS if binary else BATCH_ROWS
    query = select(table).order_by(*table.primary_key.columns)
    rows = src.execute(query.execution_options(yield_per=batch_rows)).mappings()
    copied = 0
    for chunk in rows.partitions():
        dst.execute(insert(table), [dict(row) for row in chunk])
        copied += len(chunk)
    return copied


def _reset_sequences(conn: Connection, metadata: MetaData) -> None:
    """Set each serial column's sequence so that its next value follows the copied ids."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.execute(select(func.pg_get_serial_sequence(table.name, column.name)))
            name = sequence.scalar()
            if name is None:
                continue
            highest = conn.execute(select(func.max(column))).scalar() or 0
            conn.execute(text("SELECT setval(CAST(:name AS regclass), :next, false)"),
                         {"name": name, "next": highest + 1})
