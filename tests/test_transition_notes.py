"""The notes the service writes on a case's parent issue, one per transition, over loops.

Redmine is the ``FakeTracker``; the case is moved by the real handlers, as in
``tests/test_localgit_workflow.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.store import jobs
from connector.store.kinds import SYNC_ISSUE
from connector.store.schema import CaseStatus
from tests.conftest import write_config
from tests.fakes import FakeTracker
from tests.test_localgit_workflow import ENV, LOCAL_GIT, FakeCase


def test_a_replan_on_the_same_day_gets_its_own_notes_with_the_round(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    tracker = FakeTracker()
    services = bootstrap(load_settings(_config(tmp_path)), tracker=tracker)
    driver = FakeCase(services, tracker)
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 9, 10])
    tracker.act(driver.issue(11), "opd1", status="Rejected", notes="Jadwal terlalu panjang.")
    with services.engine.begin() as conn:
        jobs.enqueue(conn, SYNC_ISSUE, {"issue_id": driver.issue(11)})
    driver.drain()
    assert driver.case().current_step == 9
    driver.walk([9, 10, 11])

    parent = tracker.issues[driver.case().redmine_issue_id or 0]
    notes = [j.notes for j in parent.journals if j.author_login == tracker.service_login()]
    for step in (9, 10):
        done = [line for n in notes for line in n.splitlines()
                if line.startswith(f"* Langkah {step} (") and "diselesaikan" in line]
        assert len(done) == 2, (step, notes)
        assert "putaran ke-" not in done[0]
        assert "(putaran ke-2)" in done[1]
    assert driver.case().status is CaseStatus.OPEN
    assert driver.case().current_step == 12
    services.engine.dispose()


def _config(tmp_path: Path) -> Path:
    return write_config(tmp_path, extra=LOCAL_GIT)
