"""Issue 18: a person's close costs one read of their subtask, against the real Redmine.

The store knows which case a subtask belongs to, so the worker takes the case's lock first and
reads the subtask once (not once to find the case and again under the lock); on a first
attempt it writes the parent's note without reading the parent first. A job done again (killed
after writing the note, before its local commit) reads the parent and writes no second note.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from benchmarks.http_calls import recording
from connector.bootstrap import bootstrap
from connector.config import Settings
from connector.services import Services
from connector.store import audit, jobs
from connector.store.kinds import SYNC_ISSUE
from connector.store.schema import CaseStatus, case_claims, locks
from connector.store.schema import jobs as job_rows
from connector.workflow import record
from connector.workflow.state import journal_key
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine


@pytest.fixture
def services(redmine_settings: Settings) -> Any:
    built = bootstrap(redmine_settings)
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(services: Services, redmine: Any) -> CaseDriver:
    from webhooks import create_app

    return CaseDriver(services, redmine, create_app(services).test_client())


def _reads(log: Any, redmine: Any, issue_id: int) -> int:
    host = urlsplit(redmine.url).netloc
    return sum(1 for c in log.of(host) if c.method == "GET"
               and c.path == f"/issues/{issue_id}.json")


def test_a_close_reads_its_subtask_once_and_not_the_parent(driver: CaseDriver,
                                                            redmine: Any) -> None:
    driver.open()
    driver.services.tracker.service_login()  # learnt once per process, not per job
    subtask, parent = driver.step_issue(2), driver.case().redmine_issue_id
    assert parent is not None
    driver.act(2)
    with recording() as log:
        driver.sync(2)
    assert driver.case().current_step == 3
    assert _reads(log, redmine, subtask) == 1
    assert _reads(log, redmine, parent) == 0


def test_a_job_done_again_looks_before_it_notes(driver: CaseDriver, redmine: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    driver.open()
    parent = driver.case().redmine_issue_id
    assert parent is not None
    notes_before = _service_notes(driver)
    driver.act(2)

    _sync_killed_at(driver, monkeypatch, "workflow.before_local_commit", step=2)
    assert len(_service_notes(driver)) == len(notes_before) + 1  # the note was written
    with driver.services.engine.begin() as conn:  # the dead worker's lease runs out
        conn.execute(update(job_rows).values(lease_until=datetime.now(UTC) - timedelta(1)))
    with recording() as log:
        driver.drain()
    assert driver.case().current_step == 3
    assert len(_service_notes(driver)) == len(notes_before) + 1  # and not written again
    assert _reads(log, redmine, parent) >= 1  # the redo looked first


def _sync_killed_at(driver: CaseDriver, monkeypatch: pytest.MonkeyPatch, point: str, *,
                    step: int) -> None:
    """Run a sync of ``step``'s subtask in a worker that dies at the fault ``point``."""
    from connector.workflow import sync

    def killed(name: str) -> None:
        if name == point:
            raise SystemExit(f"killed at {point}")

    monkeypatch.setattr(sync, "fault_point", killed)
    with driver.services.engine.begin() as conn:
        jobs.enqueue(conn, SYNC_ISSUE, {"issue_id": driver.step_issue(step)})
    with pytest.raises(SystemExit):
        jobs.drain(driver.services.engine, _handlers(driver), "doomed-worker")
    monkeypatch.setattr(sync, "fault_point", lambda name: None)


def _lists(log: Any, redmine: Any) -> int:
    """``GET /issues.json``: the look-ups of a case's subtasks (or of a key)."""
    host = urlsplit(redmine.url).netloc
    return sum(1 for c in log.of(host) if c.method == "GET" and c.path == "/issues.json")


def test_a_first_attempt_takes_the_subtasks_from_the_store(driver: CaseDriver,
                                                           redmine: Any) -> None:
    driver.open()
    driver.act(2)
    with recording() as log:
        driver.sync(2)
    assert driver.case().current_step == 3
    assert _lists(log, redmine) == 0  # step 3's subtask: its id is in the store


def test_a_change_claimed_and_not_recorded_makes_the_next_one_read_redmine(
        driver: CaseDriver, redmine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 6 refused: its job dies right after creating step 7's subtask. The person then
    saves the refusal again, so another journal of the case is carried out first: it sees the
    claim left by the dead job, reads the subtasks from Redmine, creates no second step 7."""
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes="Anggaran tidak tersedia.", findings=("Anggaran",))
    _sync_killed_at(driver, monkeypatch, "workflow.after_step_created", step=6)
    case = driver.case()
    assert case.current_step == 6 and _step_keys(driver).count(f"{driver.key}#07") == 1
    first = _last_status_journal(driver, 6)
    driver.act(6, status="In Progress")
    driver.act(6, status="Rejected", notes="Tetap ditolak.", findings=("Anggaran",))
    again = _last_status_journal(driver, 6)
    assert again != first
    with driver.services.engine.connect() as conn:  # the dead job's claim is outstanding
        assert record.others_outstanding(conn, case.id, journal_key(again))
    with driver.services.engine.begin() as conn:  # the dead worker's lease runs out
        conn.execute(update(job_rows).values(lease_until=datetime.now(UTC) - timedelta(1)))
        conn.execute(update(locks).values(until=datetime.now(UTC) - timedelta(1)))
    with recording() as log:
        driver.drain()
    assert driver.case().current_step == 7
    assert _lists(log, redmine) >= 1  # it read the subtasks: the store did not know step 7's
    assert _step_keys(driver).count(f"{driver.key}#07") == 1
    with driver.services.engine.connect() as conn:
        assert not conn.execute(select(case_claims)).first()  # settled with the record
        trail = [e.action for e in audit.list_audit(conn, case.id)]
    assert trail.count("step_activated") == 5  # steps 3 to 7, once each
    driver.act(7)
    with recording() as log:
        driver.sync(7)
    assert driver.case().status is CaseStatus.REJECTED
    assert _lists(log, redmine) == 0  # nothing outstanding: the store is trusted again


def _step_keys(driver: CaseDriver) -> list[str]:
    """The keys of the case's subtasks as Redmine has them (all statuses)."""
    parent = driver.case().redmine_issue_id
    return sorted(driver.services.tracker.steps_of(parent))  # type: ignore[arg-type]


def _last_status_journal(driver: CaseDriver, step: int) -> int:
    journals = driver.services.tracker.snapshot(driver.step_issue(step)).journals
    return max(j.id for j in journals if j.status_to is not None)


def _handlers(driver: CaseDriver) -> Any:
    from connector.handlers import handlers_for

    return handlers_for(driver.services)


def _service_notes(driver: CaseDriver) -> list[str]:
    """The notes the service (it uses the admin's key here) wrote on the case's issue."""
    bot = driver.api("admin").user.get("current").id
    return [j.notes for j in driver.parent().journals
            if j.user.id == bot and getattr(j, "notes", "")]
