"""The ``sop-connector`` command line: one group, subcommands registered from small modules."""

from __future__ import annotations

import sys
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
    plugin_commands,
    redmine_commands,
    report_commands,
    service_commands,
    sop_commands,
)
from connector.errors import ConfigError, ConnectorError, SopError


class _Group(click.Group):
    """A click group that turns our own errors into clear messages and exit status 2."""

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
               db_commands, demo_commands, plugin_commands):
    module.register(main)
