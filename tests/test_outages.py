"""Outages and slow peers, proved job by job through the real handlers (RELIABILITY promise 5).

Every test runs whole jobs (``handlers_for`` and ``jobs.drain``) on a clock it moves, so the
backoff is read from the queue rather than waited for. Redmine is the real server, with
``responses`` standing in front of it as a failing proxy would (requests it does not fault
pass through), so the errors go through python-redmine and our adapter. GitLab is the
stateful ``FakeGitLab`` under ``responses``, behind the real GitLab adapter, with the Redmine
side a ``FakeTracker``.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from connector.bootstrap import bootstrap
from connector.config import Settings, load_settings
from connector.handlers import handlers_for
from connector.services import Services
from connector.store import cases, jobs
from connector.store.kinds import SYNC_ISSUE
from connector.store.schema import CaseStatus
from tests.conftest import FROZEN, INTAKE_TOKEN, auth, sample_letter, write_config
from tests.fakes import FakeTracker
from tests.gitlab_stubs import GITLAB_CONFIG, ROUTES, FakeGitLab, Reply
from tests.test_redmine_intake import MAIN_PATH, _issues_with_key

UNFINISHED = ["pending", "running", "failed", "dead"]


class Clock:
    """The time the queue and the services see; only the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingJitter:
    """Seeded full jitter that remembers each range it drew from and what it drew."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self.draws: list[tuple[float, float]] = []  # (top of the range, value)

    def uniform(self, a: float, b: float) -> float:
        value = self._rng.uniform(a, b)
        self.draws.append((b, value))
        return value


def _drain(services: Services, clock: Clock, rng: Any = None) -> int:
    """A worker (a new one each time, as after a restart) runs every job due now."""
    return jobs.drain(services.engine, handlers_for(services), jobs.new_worker_id(),
                      clock=clock, rng=rng)


def _only_job(services: Services) -> jobs.Job:
    [job] = jobs.list_jobs(services.engine)
    return job


# -- Redmine: the real server behind a failing proxy -------------------------------------------


class RedmineProxy:
    """What stands between the service and Redmine: passes requests through, or answers 503.

    ``go_down`` answers every request with 503; ``fail_after_creates(n)`` lets ``n`` issue
    creations through and then goes down, as an outage in the middle of a job.
    """

    def __init__(self, mock: responses.RequestsMock, url: str) -> None:
        self.url = url
        self.down = False
        self.retry_after: str | None = None
        self.creates_left: int | None = None
        self.refused = 0  # requests answered 503
        pattern = re.compile(re.escape(url) + r"/.*")
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add_callback(method, pattern, callback=self._unavailable,
                              match=[self._is_down])

    def fail_after_creates(self, creates: int, *, retry_after: str | None = None) -> None:
        self.creates_left, self.retry_after = creates, retry_after

    def go_down(self, *, retry_after: str | None = None) -> None:
        self.down, self.retry_after = True, retry_after

    def come_back(self) -> None:
        self.down, self.creates_left = False, None

    def _is_down(self, request: requests.PreparedRequest) -> tuple[bool, str]:
        path = str(request.url).removeprefix(self.url).split("?")[0]
        creating = request.method == "POST" and path.endswith("/issues.json")
        if creating and self.creates_left is not None and not self.down:
            if self.creates_left == 0:
                self.down = True
            self.creates_left -= 1
        return self.down, "Redmine is up"

    def _unavailable(self, request: requests.PreparedRequest) -> Reply:
        self.refused += 1
        headers = {"Content-Type": "text/html"}
        if self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        return 503, headers, "<html><body><h1>503 Service Unavailable</h1></body></html>"


@pytest.fixture
def real(redmine_settings: Settings, redmine: Any) -> Iterator[tuple[Services, RedmineProxy]]:
    services = bootstrap(redmine_settings)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(redmine.url)
        yield services, RedmineProxy(mock, redmine.url)
    services.engine.dispose()


def _send_letter(services: Services) -> str:
    """Post a new letter, check it is acknowledged, return its case key."""
    from webhooks import create_app

    nomor = f"{uuid.uuid4().hex[:8]}/DINKES/2026"
    answer = create_app(services).test_client().post(
        "/webhooks/intake", json=sample_letter(nomor), headers=auth())
    assert answer.status_code == 202
    return f"DINKES:{nomor.upper()}"


def _assert_one_open_case(services: Services, server: Any, key: str) -> None:
    parents, steps = _issues_with_key(server, services.settings, key)
    assert len(parents) == 1 and len(steps) == len(MAIN_PATH)
    case = cases.find_case_by_key(services.engine, key)
    assert case is not None and case.status is CaseStatus.OPEN
    assert case.redmine_issue_id == parents[0].id


@pytest.mark.redmine
def test_redmine_503_mid_case_backs_off_with_growing_jitter_then_opens_it_once(
        real: tuple[Services, RedmineProxy], redmine: Any) -> None:
    services, proxy = real
    proxy.fail_after_creates(3)  # the parent and two subtasks get through, then 503
    key = _send_letter(services)
    clock, rng = Clock(datetime.now(UTC)), RecordingJitter(seed=8)
    for attempt in range(1, 6):
        _drain(services, clock, rng)
        job = _only_job(services)
        assert (job.status, job.attempts) == ("failed", attempt)
        assert job.last_error is not None and "503" in job.last_error
        top, drawn = rng.draws[-1]
        assert top == 2.0 * 2 ** (attempt - 1)  # the range doubles: 2, 4, 8, 16, 32 s
        assert abs((job.run_after - clock.now).total_seconds() - drawn) < 0.01
        clock.now = job.run_after
    drawn_fractions = [value / top for top, value in rng.draws]
    assert len(set(drawn_fractions)) == len(drawn_fractions)  # jittered, not lock-step
    assert not all(fraction > 0.9 for fraction in drawn_fractions)

    proxy.come_back()
    assert _drain(services, clock, rng) == 1
    assert jobs.list_jobs(services.engine, UNFINISHED) == []
    _assert_one_open_case(services, redmine, key)


@pytest.mark.redmine
def test_redmine_503_with_retry_after_is_not_retried_before_it(
        real: tuple[Services, RedmineProxy], redmine: Any) -> None:
    services, proxy = real
    proxy.go_down(retry_after="90")
    key = _send_letter(services)
    clock = Clock(datetime.now(UTC))
    for attempt in (1, 2):
        assert _drain(services, clock) == 1
        job = _only_job(services)
        assert (job.status, job.attempts) == ("failed", attempt)
        assert job.run_after == clock.now + timedelta(seconds=90)
        refused = proxy.refused
        clock.advance(89)
        assert _drain(services, clock) == 0  # not due yet: Redmine is left alone
        assert proxy.refused == refused
        clock.advance(1)

    proxy.come_back()
    assert _drain(services, clock) == 1
    assert jobs.list_jobs(services.engine, UNFINISHED) == []
    _assert_one_open_case(services, redmine, key)


def _store_letter_redmine_refuses(services: Services) -> int:
    """A case whose letter date Redmine's date validation refuses; its job is queued first."""
    nomor = f"{uuid.uuid4().hex[:8]}/DINKES/2026"
    letter = sample_letter(nomor) | {"tanggal_surat": "2026-02-30", "lampiran": []}
    with services.engine.begin() as conn:
        result = cases.record_intake(
            conn, case_key=f"DINKES:{nomor.upper()}", opd="DINKES", nomor_surat=nomor,
            nama_aplikasi="SI Tanggal", letter=letter, attachments=[],
            inbox=("intake", f"test:{nomor}", {}, b"{}"), clock=services.clock)
    return result.case_id


@pytest.mark.redmine
def test_redmine_422_goes_dead_at_once_and_the_jobs_behind_it_complete(
        real: tuple[Services, RedmineProxy], redmine: Any) -> None:
    services, _ = real
    refused_case = _store_letter_redmine_refuses(services)
    keys = [_send_letter(services), _send_letter(services)]
    clock = Clock(datetime.now(UTC))
    assert _drain(services, clock) == 3  # one attempt each: the dead job is not retried
    [dead] = jobs.list_jobs(services.engine, ["dead"])
    assert dead.payload == {"case_id": refused_case} and dead.attempts == 1
    assert dead.last_error is not None and "is not a valid date" in dead.last_error
    assert len(jobs.list_jobs(services.engine, ["done"])) == 2
    for key in keys:
        _assert_one_open_case(services, redmine, key)
    refused = cases.get_case(services.engine, refused_case)
    assert refused is not None and refused.status is CaseStatus.RECEIVED
    assert _issues_with_key(redmine, services.settings, refused.case_key) == ([], [])
    clock.advance(10**6)
    assert _drain(services, clock) == 0


# -- GitLab: step 8 provisioned from a sync job, with faults on the way -------------------------


class FaultyGitLab(FakeGitLab):
    """``FakeGitLab`` that answers a route's queued faults before doing its work."""

    def __init__(self) -> None:
        super().__init__(users=("dev1", "dev2", "kasi"))
        self.faults: dict[str, list[Reply]] = {}
        self.served: dict[str, int] = {}  # answers given without a fault, by route

    def _dispatch(self, name: str, pattern: str, handler: Any) -> Any:
        work = super()._dispatch(name, pattern, handler)

        def callback(request: requests.PreparedRequest) -> Reply:
            if self.faults.get(name):
                return self.faults[name].pop(0)
            self.served[name] = self.served.get(name, 0) + 1
            return work(request)
        return callback


def _gitlab_error(status: int, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, f'{{"message": "{status}"}}'


@pytest.fixture
def at_step_6(tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Services, FakeTracker,
                                                                  FaultyGitLab, Clock]]:
    """A case on the fake Redmine waiting at step 6, whose "ya" provisions GitLab (step 8)."""
    from webhooks import create_app

    for name, value in {"SOP_TEST_REDMINE_KEY": "redmine-key", "SOP_TEST_INTAKE_TOKEN":
                        INTAKE_TOKEN, "SOP_TEST_GITLAB_TOKEN": "glpat-test-token",
                        "SOP_TEST_GITLAB_HOOK": "hook-secret-0123456789"}.items():
        monkeypatch.setenv(name, value)
    clock = Clock(FROZEN)
    tracker = FakeTracker(clock)
    services = bootstrap(load_settings(write_config(tmp_path, extra=GITLAB_CONFIG)),
                         tracker=tracker, clock=clock)
    gitlab = FaultyGitLab()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        gitlab.install(mock, ROUTES)
        answer = create_app(services).test_client().post(
            "/webhooks/intake", json=sample_letter(), headers=auth())
        assert answer.status_code == 202 and _drain(services, clock) == 1
        for step in (2, 3, 4, 5):
            _close(services, tracker, clock, step)
            assert _drain(services, clock) == 1
        yield services, tracker, gitlab, clock
    services.engine.dispose()


WHO = {2: "kadis", 3: "kabid", 4: "kasi", 5: "kasi", 6: "kabid"}


def _close(services: Services, tracker: FakeTracker, clock: Clock, step: int) -> int:
    """The step's holder closes its subtask in Redmine and a webhook hint queues a sync."""
    case = cases.find_case_by_key(services.engine, "DINKES:027/145/DINKES/2026")
    assert case is not None and case.current_step == step
    [row] = cases.list_case_steps(services.engine, case.id, only=step)
    assert row.redmine_issue_id is not None
    tracker.act(row.redmine_issue_id, WHO[step], status="Closed",
                attach="langkah-5.pdf" if step == 5 else None,
                fields={"dev_team": "dev1,dev2"} if step == 4 else None)
    with services.engine.begin() as conn:
        job_id = jobs.enqueue(conn, SYNC_ISSUE, {"issue_id": row.redmine_issue_id}, clock=clock)
    assert job_id is not None
    return job_id


def _assert_provisioned_once(services: Services, tracker: FakeTracker,
                             gitlab: FaultyGitLab) -> None:
    project = gitlab.only_project()
    pid = project["id"]
    assert len(gitlab.repos[pid].commits) == 2  # GitLab's initial one and our seed files
    assert len(gitlab.hooks[pid]) == 1 and len(gitlab.milestones[pid]) == 1
    assert {m["username"] for m in gitlab.members[pid].values()} == {"dev1", "dev2", "kasi"}
    case = cases.find_case_by_key(services.engine, "DINKES:027/145/DINKES/2026")
    assert case is not None and case.current_step == 9
    [eight] = cases.list_case_steps(services.engine, case.id, only=8)
    assert eight.redmine_issue_id is not None
    step_8 = tracker.issues[eight.redmine_issue_id]
    assert step_8.issue.status == "Closed"
    assert [n for n in step_8.notes if project["web_url"] in n] == [step_8.notes[-1]]
    assert case.redmine_issue_id is not None
    parent_notes = tracker.issues[case.redmine_issue_id].notes
    assert len([n for n in parent_notes if project["web_url"] in n]) == 1
    assert jobs.list_jobs(services.engine, UNFINISHED) == []


Step6 = tuple[Services, FakeTracker, FaultyGitLab, Clock]


def test_gitlab_429_with_retry_after_delays_the_next_attempt_until_then(
        at_step_6: Step6) -> None:
    services, tracker, gitlab, clock = at_step_6
    gitlab.faults["project.create"] = [_gitlab_error(429, **{"Retry-After": "120"})]
    job_id = _close(services, tracker, clock, 6)
    assert _drain(services, clock) == 1
    job = jobs.get_job(services.engine, job_id)
    assert job is not None and (job.status, job.attempts) == ("failed", 1)
    assert job.run_after == clock.now + timedelta(seconds=120)
    served = dict(gitlab.served)
    clock.advance(119)
    assert _drain(services, clock) == 0
    assert gitlab.served == served  # GitLab was left alone until Retry-After
    clock.advance(1)
    assert _drain(services, clock) == 1
    _assert_provisioned_once(services, tracker, gitlab)
    assert gitlab.served["project.create"] == 1


def test_gitlab_500_is_retried_with_backoff_and_completes_once(at_step_6: Step6) -> None:
    services, tracker, gitlab, clock = at_step_6
    gitlab.faults["hook.create"] = [_gitlab_error(500)] * 3
    job_id = _close(services, tracker, clock, 6)
    rng = RecordingJitter(seed=3)
    for attempt in (1, 2, 3):
        _drain(services, clock, rng)
        job = jobs.get_job(services.engine, job_id)
        assert job is not None and (job.status, job.attempts) == ("failed", attempt)
        assert job.last_error is not None and "500" in job.last_error
        assert rng.draws[-1][0] == 2.0 * 2 ** (attempt - 1)
        clock.now = job.run_after
    assert _drain(services, clock, rng) == 1
    _assert_provisioned_once(services, tracker, gitlab)
    assert (gitlab.served["project.create"], gitlab.served["hook.create"]) == (1, 1)


@pytest.mark.parametrize("route", ["project.create", "commit.create", "wiki.create",
                                   "member.create", "milestone.create", "hook.create"])
def test_gitlab_timing_out_after_creating_is_adopted_on_retry_without_duplicates(
        at_step_6: Step6, route: str) -> None:
    services, tracker, gitlab, clock = at_step_6
    gitlab.lose_response.add(route)  # GitLab does the work, the answer never arrives
    job_id = _close(services, tracker, clock, 6)
    assert _drain(services, clock) == 1
    job = jobs.get_job(services.engine, job_id)
    assert job is not None and job.status == "failed"
    assert job.last_error is not None and "Timeout" in job.last_error
    clock.advance(3600)
    assert _drain(services, clock) == 1
    _assert_provisioned_once(services, tracker, gitlab)
    assert gitlab.served["project.create"] == 1
