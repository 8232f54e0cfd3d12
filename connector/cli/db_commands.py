"""``sop-connector db``: migrate the store, show its revision, copy it to PostgreSQL."""

from __future__ import annotations

import click
from sqlalchemy import make_url

from connector.cli.context import config_option, settings_from


def _shown(url: str) -> str:
    """A database URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


def register(main: click.Group) -> None:
    """Add the ``db`` group to the main command."""

    @main.group()
    def db() -> None:
        """The store's schema (Alembic migrations) and the move to PostgreSQL."""

    @db.command("upgrade")
    @config_option
    def upgrade(config_path: str | None) -> None:
        """Migrate the configured store to the newest revision (serve and worker also do)."""
        from connector.store.db import make_engine
        from connector.store.migrate import create_all, head_revision

        url = settings_from(config_path, resolve_secrets=False).database.url
        engine = make_engine(url)
        try:
            create_all(engine)
        finally:
            engine.dispose()
        click.echo(f"{_shown(url)}: skema pada revisi {head_revision()} (terbaru)")

    @db.command("current")
    @config_option
    def current(config_path: str | None) -> None:
        """Print the store's revision and the newest one; exit 1 if it is behind."""
        from connector.store.db import make_engine, reading
        from connector.store.migrate import current_revision, head_revision

        url = settings_from(config_path, resolve_secrets=False).database.url
        engine = make_engine(url)
        try:
            with reading(engine) as conn:
                revision = current_revision(conn)
        finally:
            engine.dispose()
        head = head_revision()
        click.echo(f"{_shown(url)}: revisi {revision or '(belum ada)'}, terbaru {head}")
        if revision != head:
            click.echo("jalankan: sop-connector db upgrade", err=True)
            raise SystemExit(1)

    @db.command("copy")
    @config_option
    @click.option("--to", "target_url", required=True, metavar="URL",
                  help="The empty target database, e.g. postgresql+psycopg://sop@db.example/sop.")
    def copy(config_path: str | None, target_url: str) -> None:
        """Copy the configured store into an empty database, in one transaction.

        Stop serve and the workers first; afterwards point [database] url at the target.
        """
        from connector.store.db import make_engine
        from connector.store.transfer import copy_store

        source_url = settings_from(config_path, resolve_secrets=False).database.url
        if make_url(source_url) == make_url(target_url):
            raise click.UsageError("--to names the configured store itself")
        source, target = make_engine(source_url), make_engine(target_url)
        click.echo(f"menyalin {_shown(source_url)} ke {_shown(target_url)} ...")
        try:
            counts = copy_store(source, target)
        finally:
            source.dispose()
            target.dispose()
        for table, rows in counts.items():
            click.echo(f"  {table}: {rows} baris")
        click.echo(f"selesai: {sum(counts.values())} baris disalin. Ubah [database] url menjadi "
                   f"{_shown(target_url)} lalu jalankan ulang layanan.")
