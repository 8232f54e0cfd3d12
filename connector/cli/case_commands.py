"""``sop-connector cases export``, ``cases rebuild`` and ``poll``: the record, its recovery from
Redmine, and reading Redmine's changes."""

from __future__ import annotations

import csv
import json
import sys
from typing import TextIO

import click

from connector.cli.context import config_option, settings_from

AUDIT_COLUMNS = ("case_id", "case_key", "at", "actor", "action", "step_from", "step_to",
                 "journal_id", "detail")


def register(main: click.Group) -> None:
    """Add ``cases`` and ``poll`` to the main command."""

    @main.group()
    def cases() -> None:
        """The cases and their audit trail."""

    @cases.command("export")
    @config_option
    @click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
                  help="CSV file to write (default: standard output).")
    def export(config_path: str | None, output: TextIO) -> None:
        """Write the audit trail of every case as CSV, oldest first."""
        from connector.store import audit
        from connector.store import cases as case_store
        from connector.store.db import make_engine, reading
        from connector.store.schema import cases as case_rows

        engine = make_engine(settings_from(config_path, resolve_secrets=False).database.url)
        writer = csv.writer(output)
        writer.writerow(AUDIT_COLUMNS)
        with reading(engine) as conn:
            ids = [row.id for row in conn.execute(case_rows.select().order_by(case_rows.c.id))]
            for case_id in ids:
                case = case_store.get_case(conn, case_id)
                assert case is not None
                for e in audit.list_audit(conn, case_id):
                    writer.writerow((case_id, case.case_key, e.at.isoformat(), e.actor, e.action,
                                     e.step_from or "", e.step_to or "", e.journal_id or "",
                                     json.dumps(e.detail or {}, ensure_ascii=False,
                                                sort_keys=True)))

    @cases.command("rebuild")
    @config_option
    @click.option("--yes", is_flag=True,
                  help="Run even though the store is not empty (an older backup).")
    def rebuild(config_path: str | None, yes: bool) -> None:
        """Rebuild the cases from Redmine after losing the store or restoring a backup."""
        from connector.bootstrap import bootstrap
        from connector.recovery.rebuild import carry_out, plan, store_is_empty

        services = bootstrap(settings_from(config_path))
        todo = plan(services)
        for issue in todo.missing:
            click.echo(f"dibangun ulang dari Redmine: {issue.key} (#{issue.id})")
        for case in todo.behind:
            click.echo(f"diperbarui dari Redmine: {case.case_key} (#{case.redmine_issue_id})")
        if not todo.missing and not todo.behind:
            click.echo("Penyimpanan sudah sesuai dengan Redmine; tidak ada yang dibangun ulang.")
            return
        if not yes and not store_is_empty(services):
            raise click.ClickException(
                "penyimpanan tidak kosong: di atas adalah yang akan dilakukan; "
                "jalankan lagi dengan --yes untuk melakukannya")
        done = carry_out(services, todo)
        click.echo(f"{len(done)} kasus dipulihkan dari Redmine")

    @main.command("check-deadlines")
    @config_option
    @click.option("--today", metavar="DATE", default=None,
                  help="Check as of this date (YYYY-MM-DD; default: today in the office).")
    def check_deadlines(config_path: str | None, today: str | None) -> None:
        """Warn before each step's due date and escalate overdue steps (run daily or hourly)."""
        from datetime import date

        from connector.bootstrap import bootstrap
        from connector.deadlines.check import check_deadlines as check

        try:
            day = date.fromisoformat(today) if today else None
        except ValueError as exc:
            raise click.BadParameter(f"expected YYYY-MM-DD, got {today!r}",
                                     param_hint="--today") from exc
        report = check(bootstrap(settings_from(config_path)), day)
        click.echo(f"{report.checked} langkah aktif diperiksa, {len(report.alerts)} "
                   f"peringatan ditulis, {report.remaining_updated} sisa hari kerja diperbarui")

    @main.command()
    @config_option
    def poll(config_path: str | None) -> None:
        """Read every SOP issue changed in Redmine since the last poll and queue its sync."""
        from connector.bootstrap import bootstrap
        from connector.sync.poll import poll_once

        services = bootstrap(settings_from(config_path))
        queued = poll_once(services)
        click.echo(f"{queued} perubahan diantrekan", file=sys.stdout)
