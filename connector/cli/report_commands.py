"""``sop-connector report``: a month's recap per SOP step, as a table, and as CSV or SVG files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from connector.cli.context import config_option, settings_from

if TYPE_CHECKING:
    from connector.reporting.recap import StepRecap

_FILE = click.Path(dir_okay=False, writable=True, path_type=Path)


def register(main: click.Group) -> None:
    """Add ``report`` to the main command."""

    @main.command()
    @config_option
    @click.option("--month", required=True, metavar="YYYY-MM",
                  help="The month to recap, e.g. 2026-11 (by the day each step was completed).")
    @click.option("--csv", "csv_path", type=_FILE, default=None, metavar="FILE",
                  help="Also write the recap as CSV to FILE.")
    @click.option("--svg", "svg_path", type=_FILE, default=None, metavar="FILE",
                  help="Also write the recap's chart as SVG to FILE.")
    def report(config_path: str | None, month: str, csv_path: Path | None,
               svg_path: Path | None) -> None:
        """Per SOP step: cases that completed it in the month, how many met its time standard,
        and the median hari kerja taken. Reads the local store only."""
        from connector.bootstrap import calendar_for
        from connector.reporting.recap import (
            ReportError,
            month_label,
            monthly_recap,
            recap_csv,
            recap_svg,
        )
        from connector.sop.loader import load_sop
        from connector.store.db import make_engine
        from connector.store.migrate import create_all

        settings = settings_from(config_path, resolve_secrets=False)
        sop = load_sop(settings.sop_file)
        engine = make_engine(settings.database.url)
        try:
            create_all(engine)
            recaps = monthly_recap(engine, sop, calendar_for(settings), month)
        except ReportError as exc:
            raise click.BadParameter(str(exc), param_hint="'--month'") from exc
        finally:
            engine.dispose()
        click.echo(f"Rekap {month_label(month)} — SOP {sop.nomor} {sop.nama}")
        click.echo(format_table(recaps))
        if csv_path is not None:
            csv_path.write_text(recap_csv(month, recaps), encoding="utf-8", newline="")
            click.echo(f"CSV ditulis ke {csv_path}")
        if svg_path is not None:
            svg_path.write_text(recap_svg(month, recaps) + "\n", encoding="utf-8")
            click.echo(f"SVG ditulis ke {svg_path}")


def format_table(recaps: list[StepRecap]) -> str:
    """The recap as fixed-width text: step, completions, met, median, title."""
    from connector.reporting.recap import decimal

    lines = [f"{'Langkah':>7}  {'Selesai':>7}  {'Sesuai':>6}  {'Median':>6}  Judul"]
    for r in recaps:
        met = "-" if r.met is None else str(r.met)
        median = "-" if r.median_hari_kerja is None else decimal(r.median_hari_kerja)
        lines.append(f"{r.step:>7}  {r.completed:>7}  {met:>6}  {median:>6}  {r.title}")
    return "\n".join(lines)
