"""Benchmark: ``check-deadlines`` over 10,000 open cases when nothing is due.

Prints the wall time of one check against a baseline (the bare SELECT of the same rows from
the same SQLite file) and the number of Redmine calls made (the target is zero).
Run: ``.venv/bin/python benchmarks/check_deadlines.py [N]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.deadlines.check import check_deadlines
from connector.store.schema import case_steps, cases
from tests.conftest import write_config

TODAY, START, DUE = date(2026, 3, 20), date(2026, 3, 16), date(2026, 5, 13)


class CountingTracker:
    """Stands in for Redmine: answers every call, counts them, stores nothing."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def call(*_args: object, **_kwargs: object) -> None:
            self.calls += 1

        return call


def _fill(engine, n: int) -> None:  # type: ignore[no-untyped-def]
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    folder = Path(tempfile.mkdtemp(prefix="sop-bench-"))
    os.environ.update(SOP_TEST_REDMINE_KEY="k", SOP_TEST_INTAKE_TOKEN="t")
    tracker = CountingTracker()
    services = bootstrap(load_settings(write_config(folder)), tracker=tracker)  # type: ignore[arg-type]
    _fill(services.engine, n)
    started = time.perf_counter()
    with services.engine.connect() as conn:
        rows = conn.execute(select(case_steps).where(case_steps.c.state == "active")).all()
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    first = check_deadlines(services, TODAY)
    first_took, first_calls = time.perf_counter() - started, tracker.calls
    started = time.perf_counter()
    report = check_deadlines(services, TODAY)
    took = time.perf_counter() - started
    print(f"{'figure':<44}{'value':>12}")
    print(f"{'open cases':<44}{n:>12}")
    print(f"{'baseline: SELECT of the active steps (s)':<44}{baseline:>12.3f}  ({len(rows)} rows)")
    print(f"{'first check of the day (s)':<44}{first_took:>12.3f}")
    print(f"{'  Sisa Hari Kerja fields written':<44}{first.remaining_updated:>12}")
    print(f"{'  Redmine calls':<44}{first_calls:>12}")
    print(f"{'check-deadlines, nothing due (s)':<44}{took:>12.3f}")
    print(f"{'  alerts written':<44}{len(report.alerts):>12}")
    print(f"{'  Redmine calls':<44}{tracker.calls - first_calls:>12}")


if __name__ == "__main__":
    main()
