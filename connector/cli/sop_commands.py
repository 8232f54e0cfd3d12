"""``sop-connector sop show|diagram|check``: the procedure as a table and as a flowchart."""

from __future__ import annotations

from pathlib import Path

import click

from connector.cli.context import config_option, optional_settings
from connector.sop.diagram import mermaid
from connector.sop.loader import load_sop
from connector.sop.model import Sop, Step


def _sop(config_path: str | None, file: str | None) -> Sop:
    if file is not None:
        return load_sop(Path(file))
    settings = optional_settings(config_path)
    return load_sop(settings.sop_file if settings else None)


def _follows(step: Step) -> str:
    if step.decision is not None:
        return f"ya→{step.decision.ya} / tidak→{step.decision.tidak}"
    return "selesai" if step.next is None else f"→{step.next}"


def format_table(sop: Sop) -> str:
    """The steps as a plain-text table: number, title, role, time standard, what follows."""
    rows = [("No", "Langkah", "Pelaksana", "Waktu", "Lanjut")]
    rows += [(str(s.number), s.title, s.role.label, s.time.label if s.time else "-",
              _follows(s)) for s in sop.steps]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return f"SOP {sop.nomor}: {sop.nama}\n" + "\n".join(lines) + "\n"


def register(main: click.Group) -> None:
    """Add the ``sop`` group to the main command."""

    @main.group()
    def sop() -> None:
        """Show or check the SOP the service runs."""

    @sop.command("show")
    @config_option
    @click.option("--file", type=click.Path(dir_okay=False), help="An SOP file to show.")
    def show(config_path: str | None, file: str | None) -> None:
        """Print the steps as a table."""
        click.echo(format_table(_sop(config_path, file)), nl=False)

    @sop.command("diagram")
    @config_option
    @click.option("--file", type=click.Path(dir_okay=False), help="An SOP file to draw.")
    def diagram(config_path: str | None, file: str | None) -> None:
        """Print the SOP as a Mermaid flowchart."""
        click.echo(mermaid(_sop(config_path, file)), nl=False)

    @sop.command("check")
    @click.argument("file", type=click.Path(dir_okay=False))
    def check(file: str) -> None:
        """Validate an SOP file; every problem is reported with its step."""
        found = load_sop(Path(file))
        click.echo(f"{file}: ok, {len(found.steps)} steps")
