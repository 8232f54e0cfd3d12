"""The reconciliation poll over a fake tracker: what Redmine changed is queued, none lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connector.bootstrap import bootstrap
from connector.config import Settings
from connector.errors import RemoteUnavailable
from connector.services import Services
from connector.store import jobs
from connector.store.coalesce import enqueue_once_per_subject
from connector.store.cursors import get_cursor, set_cursor
from connector.sync.poll import CURSOR, poll_once
from connector.tracker import IssueDraft
from tests.fakes import FakeTracker

T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


class Clock:
    """A clock that tests move by hand; shared by the service and the fake Redmine."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def tracker(clock: Clock) -> FakeTracker:
    return FakeTracker(clock=clock)


@pytest.fixture
def services(settings: Settings, tracker: FakeTracker, clock: Clock) -> Iterator[Services]:
    built = bootstrap(settings, tracker=tracker, clock=clock)
    yield built
    built.engine.dispose()


def _open(tracker: FakeTracker, key: str) -> int:
    draft = IssueDraft(key=key, kind="step", subject=key, description="", status="New")
    return tracker.open_issue(draft).id


def _run_all(services: Services) -> int:
    """Run the queued syncs with a handler that does nothing: the jobs are done."""
    return jobs.drain(services.engine, {"sync_issue": lambda job: None}, "test-worker",
                      clock=services.clock)


def _queued(services: Services) -> list[tuple[int, str]]:
    return [(job.payload["issue_id"], job.dedupe_key or "")
            for job in jobs.list_jobs(services.engine) if job.kind == "sync_issue"]


def test_first_poll_reads_one_day_back_and_sets_the_cursor(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    clock.now = T0 - timedelta(days=2)
    _open(tracker, "OLD#01")
    clock.now = T0 - timedelta(hours=3)
    recent = _open(tracker, "NEW#01")
    clock.now = T0

    assert poll_once(services) == 1

    changed = (T0 - timedelta(hours=3)).isoformat()
    assert _queued(services) == [(recent,
                                  f"routine:sync_issue:{recent}:updated:{changed}:New")]
    assert get_cursor(services.engine, CURSOR) == T0.isoformat()


def test_a_close_in_the_same_second_as_the_write_already_synced_is_queued_again(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    """Redmine's ``updated_on`` is whole seconds: the service activates a step, its sync runs,
    and a person closes the step within that second with the plugin's hint lost. Found by the
    state machine (tests/test_state_machine.py) with the key ``updated_on`` alone."""
    step = _open(tracker, "A#02")
    tracker.act(step, "sop-bot", status="In Progress")
    assert poll_once(services) == 1
    assert _run_all(services) == 1
    tracker.act(step, "kadis", status="Closed")  # same instant: the same updated_on
    assert tracker.issues[step].updated_on == clock.now

    assert poll_once(services) == 1
    assert [key for _, key in _queued(services)][-1].endswith(":Closed")
    assert poll_once(services) == 0  # read again in the next window: already queued


def test_a_change_made_while_the_service_was_stopped_is_picked_up_by_the_next_poll(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    step, other = _open(tracker, "A#05"), _open(tracker, "B#05")
    clock.advance(minutes=5)
    assert poll_once(services) == 2
    assert _run_all(services) == 2

    clock.advance(hours=1)  # the service is down for three hours; kadis closes the step
    tracker.act(step, "kadis", status="Closed", notes="Disetujui")
    clock.advance(hours=2)
    assert poll_once(services) == 1

    assert [issue for issue, _ in _queued(services)] == [step, other, step]
    assert get_cursor(services.engine, CURSOR) == clock.now.isoformat()


def test_a_later_change_of_the_same_issue_is_queued_again(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    step = _open(tracker, "A#05")
    assert poll_once(services) == 1
    for minutes in (10, 20):
        _run_all(services)
        clock.advance(minutes=minutes)
        tracker.act(step, "kasi", notes=f"catatan {minutes}")
        clock.advance(minutes=1)
        assert poll_once(services) == 1

    keys = [key for _, key in _queued(services)]
    assert len(keys) == len(set(keys)) == 3


def test_the_overlap_catches_a_change_stamped_before_the_poll_but_committed_after(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    step = _open(tracker, "A#05")
    clock.advance(hours=1)
    assert poll_once(services) == 1
    _run_all(services)
    poll_time = clock.now

    clock.now = poll_time - timedelta(seconds=30)  # Redmine stamped it before our poll...
    tracker.act(step, "kadis", status="Closed")  # ...but it was not visible yet
    clock.now = poll_time + timedelta(minutes=1)
    assert poll_once(services) == 1

    assert poll_once(services, overlap=timedelta(0)) == 0  # same instant, nothing new


def test_an_outage_queues_nothing_and_keeps_the_cursor(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    step = _open(tracker, "A#05")
    assert poll_once(services) == 1
    cursor = get_cursor(services.engine, CURSOR)
    clock.advance(minutes=5)
    tracker.act(step, "kadis", status="Closed")
    clock.advance(minutes=5)
    tracker.down = True

    with pytest.raises(RemoteUnavailable):
        poll_once(services)

    assert get_cursor(services.engine, CURSOR) == cursor
    assert len(_queued(services)) == 1
    tracker.down = False
    clock.advance(hours=4)
    _run_all(services)
    assert poll_once(services) == 1  # the window is read again once Redmine is back


def test_polling_twice_at_the_same_instant_queues_nothing_new(
        services: Services, tracker: FakeTracker) -> None:
    _open(tracker, "A#05")
    assert poll_once(services) == 1
    assert poll_once(services) == 0
    assert len(_queued(services)) == 1


def test_a_negative_overlap_is_refused(services: Services) -> None:
    with pytest.raises(ValueError, match="overlap"):
        poll_once(services, overlap=timedelta(seconds=-1))


def test_a_cursor_is_inserted_then_updated(services: Services, clock: Clock) -> None:
    assert get_cursor(services.engine, "elsewhere") is None
    for value in ("one", "two"):
        with services.engine.begin() as conn:
            set_cursor(conn, "elsewhere", value, clock=clock)
        clock.advance(seconds=1)
    assert get_cursor(services.engine, "elsewhere") == "two"
    assert get_cursor(services.engine, CURSOR) is None


def test_reading_a_change_again_queues_nothing_even_after_its_job_ran(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    _open(tracker, "A#05")
    assert poll_once(services) == 1
    assert _run_all(services) == 1
    for _ in range(5):  # a 2 s poll reads the same change in every overlap window
        clock.advance(seconds=2)
        assert poll_once(services) == 0
    assert len(_queued(services)) == 1


def test_changes_made_while_a_sync_waits_join_it_and_are_not_queued_again(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    step = _open(tracker, "A#05")
    assert poll_once(services) == 1
    for n in range(3):
        clock.advance(seconds=2)
        tracker.act(step, "kasi", notes=f"catatan {n}")
        assert poll_once(services) == 0  # the waiting job will read this change too
    assert len(jobs.list_jobs(services.engine, ["pending"])) == 1
    assert _run_all(services) == 1
    clock.advance(seconds=2)
    assert poll_once(services) == 0  # the last change was covered by the job that ran
    tracker.act(step, "kasi", notes="catatan baru")
    clock.advance(seconds=2)
    assert poll_once(services) == 1


def test_a_webhook_hint_is_served_before_routine_poll_work(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    swept = [_open(tracker, f"A#{n:02d}") for n in range(1, 6)]
    waited_on = _open(tracker, "B#05")
    clock.advance(seconds=1)
    assert poll_once(services) == 6
    clock.advance(seconds=1)
    with services.engine.begin() as conn:
        assert enqueue_once_per_subject(
            conn, "sync_issue", {"issue_id": waited_on, "journal_id": 77},
            subject=f"sync_issue:{waited_on}", change="77", routine=False,
            clock=clock) is None  # its poll job waits: it becomes the hint's job
    order = []
    while (job := jobs.claim(services.engine, "w", clock=clock)) is not None:
        order.append(job.payload["issue_id"])
        jobs.complete(services.engine, job.id, "w", clock=clock)
    assert order == [waited_on, *swept]
    assert jobs.list_jobs(services.engine)[-1].payload == {"issue_id": waited_on,
                                                          "journal_id": 77}


def test_a_hint_for_an_issue_with_no_waiting_job_is_queued_ahead_of_older_poll_jobs(
        services: Services, tracker: FakeTracker, clock: Clock) -> None:
    swept = [_open(tracker, f"A#{n:02d}") for n in range(1, 4)]
    assert poll_once(services) == 3
    clock.advance(seconds=30)
    with services.engine.begin() as conn:
        hinted = enqueue_once_per_subject(conn, "sync_issue", {"issue_id": 99},
                                          subject="sync_issue:99", change="5", routine=False,
                                          clock=clock)
        again = enqueue_once_per_subject(conn, "sync_issue", {"issue_id": 99},
                                         subject="sync_issue:99", change="6", routine=False,
                                         clock=clock)
    assert hinted is not None and again is None
    first = jobs.claim(services.engine, "w", clock=clock)
    assert first is not None and first.id == hinted
    assert len(swept) == 3
