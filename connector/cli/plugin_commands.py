"""``sop-connector redmine-plugin install|remove|status``: the Redmine plugin on this host."""

from __future__ import annotations

from pathlib import Path

import click

from connector.redmine import plugin_install

ROOT_OPTION = click.option(
    "--redmine-root", "root", type=click.Path(file_okay=False, path_type=Path),
    default=Path("/usr/share/redmine"), show_default=True,
    help="Redmine's folder (the one holding app/, config/ and plugins/).")
RESTART = "restart Redmine to load the change (e.g. systemctl restart apache2, or touch " \
    "tmp/restart.txt under Passenger)"


def register(main: click.Group) -> None:
    """Add the ``redmine-plugin`` group to the main command."""

    @main.group("redmine-plugin")
    def redmine_plugin() -> None:
        """Install, remove or check the sop_connector Redmine plugin (plain Ruby, no gems)."""

    @redmine_plugin.command()
    @ROOT_OPTION
    def install(root: Path) -> None:
        """Copy the plugin into REDMINE_ROOT/plugins/sop_connector (no migrations needed)."""
        done = plugin_install.install(root)
        click.echo(done.describe())
        click.echo(RESTART)

    @redmine_plugin.command()
    @ROOT_OPTION
    def remove(root: Path) -> None:
        """Delete REDMINE_ROOT/plugins/sop_connector; its settings stay in Redmine's database."""
        plugin_install.remove(root)
        click.echo(f"plugin {plugin_install.PLUGIN_ID} removed from {root}")
        click.echo(RESTART)

    @redmine_plugin.command()
    @ROOT_OPTION
    def status(root: Path) -> None:
        """Say whether the plugin is installed there, its version, and if it is the shipped one."""
        found = plugin_install.status(root)
        click.echo(found.describe())
        if not found.installed or not found.up_to_date:
            raise SystemExit(1)
