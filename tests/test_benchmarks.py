"""``benchmarks/run --quick`` runs and prints every figure next to a baseline from the same run.

Only that the command works and reports is tested here; what the figures are is for people to
read (no timed assertion: speed belongs to the benchmarks themselves).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from benchmarks.redmine import ENV, describe
from benchmarks.table import Figure, percentile, render

pytestmark = [pytest.mark.redmine, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
COMMIT = "fsync'd SQLite commit"
FLASK = "bare Flask, same waitress"


def expected() -> set[tuple[str, str, str]]:
    """(benchmark, figure, start of the baseline's name) of every figure the issue asks for."""
    rows = set()
    for label in ("1 sender", "8 senders", "32 senders"):
        for q in ("p50", "p99"):
            rows |= {("intake ack", f"{label}: {q}", FLASK),
                     ("intake ack", f"{label}: {q}", COMMIT)}
        rows |= {("intake ack", f"{label}: throughput", FLASK),
                 ("intake ack", f"{label}: throughput", COMMIT),
                 ("intake ack", f"{label}: throughput", "os.write+fsync")}
    case = "letter → case (Redmine)"
    plain = "plain python-redmine loop"
    whole = "whole case → Berita Acara"
    plugin = "close → next step"
    return rows | {
        ("memory", "serve + worker, idle: RSS", "bare Flask+waitress"),
        ("memory", "serve + worker, 32 senders: peak RSS", "bare Flask+waitress"),
        (case, "warm worker: wall time", plain), (case, "warm worker: Redmine calls", plain),
        (case, "first case after start: wall time", plain),
        (case, "first case after start: Redmine calls", plain),
        (whole, "Redmine calls by the service", "of which writes"),
        (whole, "GitLab calls by the service", "of which writes"),
        (whole, "service time (worker jobs)", "of which waiting"),
        ("check-deadlines", "1000 open cases, nothing due", "bare SELECT"),
        ("check-deadlines", "1000 open cases, first check of the day", "bare SELECT"),
        ("check-deadlines", "Redmine calls, first check of the day", "Sisa Hari Kerja"),
        ("check-deadlines", "Redmine calls, nothing due", "alerts due"),
        ("Berita Acara", "PDF (WeasyPrint, letterhead, styles)", "WeasyPrint, minimal page"),
        ("Berita Acara", "DOCX (from the same HTML)", "python-docx"),
        ("queue", "poll every 2 s: jobs created for one case", "changes made in Redmine"),
        ("queue", "poll every 2 s: worst wait of a due job", "one job's run time"),
        ("queue", "poll every 60 s: jobs created for one case", "changes made in Redmine"),
        ("queue", "poll every 60 s: worst wait of a due job", "one job's run time"),
        ("queue", "poll every 2 s: worst wait of a webhook hint's job", "one job's run time"),
        ("queue", "poll every 60 s: worst wait of a webhook hint's job", "one job's run time"),
        *((plugin, f"plugin: {q} of 4", base) for q in ("p50", "p99")
          for base in ("poll-only", "redmine_webhook format")),
    }


def _found(figures: list[dict[str, Any]], want: tuple[str, str, str]) -> bool:
    return any(f["benchmark"] == want[0] and f["figure"] == want[1]
               and f["baseline"].startswith(want[2]) for f in figures)


def test_the_quick_run_prints_every_figure_with_its_baseline(redmine: Any,
                                                             tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    done = subprocess.run(
        [str(ROOT / "benchmarks" / "run"), "--quick", "--json", str(figures_file)],
        capture_output=True, text=True, timeout=1800, cwd=ROOT,
        env=dict(os.environ, **{ENV: describe(redmine)}))
    assert done.returncode == 0, done.stderr[-4000:]
    assert "skipped" not in done.stderr
    figures = json.loads(figures_file.read_text())
    missing = [want for want in sorted(expected()) if not _found(figures, want)]
    assert not missing, missing
    table = done.stdout.splitlines()
    for f in figures:
        assert isinstance(f["value"], int | float) and math.isfinite(f["value"]), f
        assert isinstance(f["baseline_value"], int | float), f
        assert math.isfinite(f["baseline_value"]), f
        assert any(f["figure"] in line and f["baseline"] in line for line in table), f
    # Zero is a real measurement for these: check-deadlines' calls with nothing due, and the
    # wait of a webhook hint's job, which is served before routine poll work.
    real = [f for f in figures if f["benchmark"] != "check-deadlines"
            and not (f["benchmark"] == "queue" and "hint" in f["figure"])]
    assert all(f["value"] > 0 and f["baseline_value"] > 0 for f in real), real


def test_percentiles_interpolate_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert math.isnan(percentile([], 50))


def test_the_table_shows_each_value_next_to_its_baseline_and_ratio() -> None:
    figures = [Figure("b", "fig", 3.0, "base", 1.5, "ms"), Figure("b", "zero", 0, "none", 0)]
    lines = render(figures).splitlines()
    assert lines[0].split() == ["benchmark", "figure", "value", "baseline", "value", "ratio"]
    assert lines[2].split() == ["b", "fig", "3", "ms", "base", "1.5", "ms", "2.00"]
    assert lines[3].split() == ["b", "zero", "0", "none", "0", "1.00"]
    markdown = render(figures, markdown=True).splitlines()
    assert markdown[2] == "| b | fig | 3 ms | base | 1.5 ms | 2.00 |"
