"""Issue 15: at a 2 s poll the jobs of a whole case stay a small multiple of the changes made.

Before, each poll re-queued every issue changed within its overlap window: one case's run
queued 1,154 jobs. The benchmark's simulation (one whole case, fake Redmine, simulated
clock) is run here at a 2 s and a 60 s poll.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.job_queue import simulate


@pytest.mark.parametrize("poll_seconds", [2, 60])
def test_jobs_for_a_whole_case_stay_within_twice_the_changes_made(
        tmp_path: Path, poll_seconds: int) -> None:
    created, changes, worst, worst_hint = simulate(tmp_path / "run", poll_seconds)
    assert changes > 30  # the case really ran, letter to step 17
    assert created <= 2 * changes
    assert worst_hint <= worst
