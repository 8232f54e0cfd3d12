"""The ``sop-connector`` command line: one group, subcommands registered from small modules."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

from connector import __version__
from connector.cli import (
    calendar_commands,
    case_commands,
    codehost_commands,
    db_commands,
    demo_commands,
    document_commands,
    mail_commands,
    plugin_commands,
    redmine_commands,
    report_commands,
    service_commands,
    sign_commands,
    sop_commands,
)
from connector.errors import ConfigError, ConnectorError, SopError

COMMANDS_GROUP = "sop_connector.commands"  # commands of the packages above the library


def _plugged() -> dict[str, EntryPoint]:
    """Commands other packages register (``serve`` from ``webhooks``), loaded when used."""
    return {entry.name: entry for entry in entry_points(group=COMMANDS_GROUP)}


class _Group(click.Group):
    """A click group that turns our own errors into clear messages and exit status 2.

    Besides its own subcommands it lists those registered under the ``sop_connector.commands``
    entry point, and imports one only when it is run: the library never imports the app.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_plugged()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in (plugged := _plugged()):
            loaded = plugged[cmd_name].load()
            command = loaded if isinstance(loaded, click.Command) else None
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, SopError) as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(2)
        except ConnectorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="sop-connector")
@click.option(
    "--config", "config_path", metavar="PATH", default=None,
    help="Configuration file (default: $SOP_CONNECTOR_CONFIG, then ./config.toml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Run the SOP "Layanan Permohonan Pembuatan Aplikasi" inside Redmine and GitLab."""
    ctx.obj = config_path


for module in (sop_commands, calendar_commands, redmine_commands, service_commands,
               case_commands, codehost_commands, document_commands, report_commands,
               db_commands, demo_commands, plugin_commands, sign_commands, mail_commands):
    module.register(main)
