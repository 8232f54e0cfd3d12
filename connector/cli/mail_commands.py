"""``sop-connector mail``: the outbox of mail to the OPD, and a person's resend (issue 17)."""

from __future__ import annotations

import click

from connector.cli.context import config_option, settings_from
from connector.store import mail as outbox

STATES = ("queued", "attempted", "sent", "uncertain", "refused")


def register(main: click.Group) -> None:
    """Add ``mail list`` and ``mail resend`` to the main command."""

    @main.group()
    def mail() -> None:
        """Mail to the OPD: what was sent, what is uncertain or refused, and resending."""

    @mail.command("list")
    @config_option
    @click.option("--state", "states", multiple=True, type=click.Choice(STATES),
                  help="Only these states (default: all).")
    @click.option("--case", "case_id", type=int, default=None, help="Only this case's mail.")
    def list_mail(config_path: str | None, states: tuple[str, ...],
                  case_id: int | None) -> None:
        """One line per mail: id, state, case, kind, recipient, document, last error."""
        from connector.store.db import make_engine

        engine = make_engine(settings_from(config_path).database.url)
        for row in outbox.list_mail(engine, states or None, case_id=case_id):
            label = "status tidak pasti" if row.state == "uncertain" else row.state.value
            error = (row.last_error or "").splitlines()[0][:120] if row.last_error else ""
            click.echo(f"{row.id}\t{label}\tkasus {row.case_id}\t{row.kind}\t{row.recipient}"
                       f"\t{row.document}\t{error}")

    @mail.command("resend")
    @config_option
    @click.argument("mail_id", type=int)
    @click.option("--force", is_flag=True,
                  help="Also a mail recorded as sent (the OPD asks for it again).")
    def resend(config_path: str | None, mail_id: int, force: bool) -> None:
        """Queue an uncertain or refused mail again; the worker sends it once more."""
        from connector.store.db import make_engine

        row = outbox.resend(make_engine(settings_from(config_path).database.url), mail_id,
                            force=force)
        click.echo(f"surel {row.id} ke {row.recipient} diantrekan lagi "
                   f"(pengiriman ulang ke-{row.resends})")
