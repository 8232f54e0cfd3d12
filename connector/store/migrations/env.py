"""Alembic's environment for the store.

The connector runs migrations through ``connector.store.migrate``, which passes its own
connection (already inside a locked transaction) in ``config.attributes["connection"]``. A
developer running the ``alembic`` command names the database with ``-x url=...``.
SQLite cannot ALTER most things, so its operations run in batch mode (copy and move).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from connector.store.db import make_engine
from connector.store.migrate import store_metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=store_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise SystemExit("the store's migrations run online only: drop --sql")
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("name the database: alembic -c connector/store/alembic.ini -x url=...")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
