"""``sop-connector workdays``: due dates and working-day counts on the office calendar."""

from __future__ import annotations

from datetime import date

import click

from connector.calendar import WorkCalendar
from connector.cli.context import config_option, optional_settings
from connector.config.settings import CalendarSettings


def calendar_from(settings: CalendarSettings) -> WorkCalendar:
    """The working-day calendar described by the ``[calendar]`` settings."""
    return WorkCalendar(
        work_week=settings.work_week,
        extra_holidays=settings.extra_holidays,
        extra_workdays=settings.extra_workdays,
    )


def _iso(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    return None if value is None else _date(value, "--from")


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}",
                                 param_hint=f"'{option}'") from exc


def register(main: click.Group) -> None:
    """Add ``workdays`` to the main command."""

    @main.command()
    @config_option
    @click.option("--from", "start", callback=_iso, metavar="DATE",
                  help="Day the step becomes active (it does not count itself).")
    @click.option("--add", "add", type=click.IntRange(min=0), metavar="N",
                  help="Print the due date N hari kerja after --from.")
    @click.option("--between", nargs=2, metavar="DATE DATE",
                  help="Print the hari kerja after the first date up to the second.")
    def workdays(config_path: str | None, start: date | None, add: int | None,
                 between: tuple[str, str] | None) -> None:
        """Due dates and hari kerja counts on the Indonesian working-day calendar."""
        settings = optional_settings(config_path)
        calendar = calendar_from(settings.calendar if settings else CalendarSettings())
        if between:
            first, second = (_date(v, "--between") for v in between)
            click.echo(calendar.workdays_between(first, second))
            _warn(calendar.warnings_for(first, second))
        elif start is not None and add is not None:
            try:
                due = calendar.add_workdays(start, add)
            except OverflowError as exc:
                too_far = f"{add} hari kerja after {start} is past the year 9999"
                raise click.UsageError(too_far) from exc
            click.echo(due.isoformat())
            _warn(calendar.warnings_for(start, due))
        else:
            raise click.UsageError("give --from DATE --add N, or --between DATE DATE")


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"peringatan: {warning}", err=True)
