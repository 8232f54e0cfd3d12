"""``check-deadlines`` over many open cases, against the bare SELECT of the same rows.

Half the cases are at step 12 (due in May), half at step 9 (due in December); nothing is due
on the day checked. The first check of the day writes each step's *Sisa Hari Kerja* once
(one Redmine update per step, which is its baseline, and one store commit each, timed against
as many bare fsync'd SQLite commits); the next check must make no call at all. Redmine is a
counting stand-in: the store is what is measured.
Alone: ``.venv/bin/python benchmarks/check_deadlines.py [N]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, select

from benchmarks import durable
from benchmarks.table import Figure, render
from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.deadlines.check import check_deadlines
from connector.store.schema import case_steps, cases
from tests.conftest import INTAKE_TOKEN, write_config

TODAY, START, DUE = date(2026, 3, 20), date(2026, 3, 16), date(2026, 5, 13)
NAME = "check-deadlines"


class CountingTracker:
    """Stands in for Redmine: answers every call, counts them, stores nothing."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def call(*_args: object, **_kwargs: object) -> None:
            self.calls += 1

        return call


def _fill(engine: Engine, n: int) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(cases), [
            {"id": i, "case_key": f"OPD:{i}", "opd": "DINKES", "nomor_surat": str(i),
             "nama_aplikasi": "A", "letter": {}, "status": "open", "current_step": 12,
             "redmine_issue_id": 200000 + i, "created_at": now, "updated_at": now}
            for i in range(1, n + 1)])
        conn.execute(insert(case_steps), [
            {"case_id": i, "step": 12 if i % 2 else 9, "state": "active",
             "redmine_issue_id": 100000 + i, "started_on": START,
             "due_on": DUE if i % 2 else date(2026, 12, 31)} for i in range(1, n + 1)])


def _timed(action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def run(workdir: Path, n: int = 10_000) -> list[Figure]:
    """Fill a store with ``n`` open cases, then time the checks and the bare SELECT."""
    os.environ.update(SOP_TEST_REDMINE_KEY="k", SOP_TEST_INTAKE_TOKEN=INTAKE_TOKEN)
    tracker = CountingTracker()
    services = bootstrap(load_settings(write_config(workdir)), tracker=tracker)  # type: ignore[arg-type]
    try:
        _fill(services.engine, n)

        def bare_select() -> int:
            with services.engine.connect() as conn:
                query = select(case_steps).where(case_steps.c.state == "active")
                return len(conn.execute(query).all())

        _, baseline = _timed(bare_select)
        first, first_took = _timed(lambda: check_deadlines(services, TODAY))
        first_calls = tracker.calls
        report, took = _timed(lambda: check_deadlines(services, TODAY))
    finally:
        services.engine.dispose()
    commits = sum(durable.sqlite_commits(workdir, 64, 0, count=first.remaining_updated))
    label = f"{n} open cases"
    select_label = "bare SELECT of the active steps"
    return [
        Figure(NAME, f"{label}, nothing due", took, select_label, baseline, "s"),
        Figure(NAME, f"{label}, first check of the day", first_took,
               f"{select_label} + a fsync'd commit per field written", baseline + commits, "s"),
        Figure(NAME, "Redmine calls, first check of the day", first_calls,
               "Sisa Hari Kerja fields to write", first.remaining_updated),
        Figure(NAME, "Redmine calls, nothing due", tracker.calls - first_calls,
               "alerts due", len(report.alerts)),
    ]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(render(run(Path(tempfile.mkdtemp(prefix="sop-bench-")), n)))


if __name__ == "__main__":
    main()
