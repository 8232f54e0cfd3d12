"""A Redmine webhook hint that arrives before Redmine has committed the change it tells of.

The redmine_webhook plugin posts from a thread before the request's transaction commits, so
the sync job may read the issue before the hinted journal is there. The job then retries a
few times, two seconds apart, and after that leaves the change to the poller.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.handlers import HINT_WAITS, handlers_for
from connector.store import jobs
from connector.store.kinds import SYNC_ISSUE
from connector.store.schema import JobStatus
from connector.workflow.sync import HINT_WAIT_SECONDS
from tests.conftest import write_config
from tests.fakes import FakeTracker
from tests.test_localgit_workflow import ENV, FakeCase


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeCase, Clock]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    clock, tracker = Clock(), FakeTracker()
    services = bootstrap(load_settings(write_config(tmp_path)), tracker=tracker, clock=clock)
    driver = FakeCase(services, tracker)
    driver.open()
    return driver, clock


def _hint(driver: FakeCase, clock: Clock, journal_id: int) -> int:
    """What the webhook stores for a plugin hint naming ``journal_id`` on step 2."""
    payload = {"issue_id": driver.issue(2), "journal_id": journal_id}
    with driver.services.engine.begin() as conn:
        return int(jobs.enqueue(conn, SYNC_ISSUE, payload, clock=clock))


def _run(driver: FakeCase, clock: Clock) -> None:
    jobs.drain(driver.services.engine, handlers_for(driver.services), "w", clock=clock)


def _next_journal_id(tracker: FakeTracker) -> int:
    return 1 + max((j.id for issue in tracker.issues.values() for j in issue.journals),
                   default=0)


def test_the_job_waits_for_the_hinted_journal_and_then_moves_the_case(
        world: tuple[FakeCase, Clock]) -> None:
    driver, clock = world
    job_id = _hint(driver, clock, _next_journal_id(driver.tracker))
    _run(driver, clock)  # Redmine has not committed the change yet
    waiting = jobs.get_job(driver.services.engine, job_id)
    assert waiting is not None and waiting.status is JobStatus.FAILED
    assert waiting.run_after == clock.now + timedelta(seconds=HINT_WAIT_SECONDS)
    assert driver.case().current_step == 2

    driver.tracker.act(driver.issue(2), "kadis", status="Closed")  # now it is committed
    clock.now += timedelta(seconds=HINT_WAIT_SECONDS)
    _run(driver, clock)
    done = jobs.get_job(driver.services.engine, job_id)
    assert done is not None and done.status is JobStatus.DONE
    assert driver.case().current_step == 3


def test_a_journal_that_never_shows_is_left_to_the_poller_not_dead_lettered(
        world: tuple[FakeCase, Clock]) -> None:
    driver, clock = world
    job_id = _hint(driver, clock, 10_000)
    for _ in range(HINT_WAITS):
        _run(driver, clock)
        clock.now += timedelta(hours=2)  # past any backoff
    _run(driver, clock)
    job = jobs.get_job(driver.services.engine, job_id)
    assert job is not None and job.status is JobStatus.DONE
    assert job.attempts == HINT_WAITS + 1
