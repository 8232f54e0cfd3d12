"""The whole service as a state machine: whatever happens, in whatever order, nothing is lost
or done twice (issue 8, item 3; RELIABILITY promises 2, 4 and 5).

Hypothesis drives letters and Redmine webhook hints into the Flask app, sends them again,
lets people close steps in Redmine, runs workers, kills them (a job claimed and abandoned, or
a worker dying right after a remote write, before anything local is committed), restarts
them, takes Redmine down and up, and moves the clock. After every step: at most one Redmine
issue per business key (the *Kunci SOP* field), and every request answered 2xx has its
stored row. At the end, with Redmine up and the queue drained: exactly one case per letter,
each with one parent and one subtask per step, nothing attached or noted twice, no job left.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.errors import RemoteUnavailable
from connector.handlers import handlers_for
from connector.store import cases, jobs
from connector.store.schema import CaseStatus, StepState, inbox
from connector.sync.poll import poll_once
from connector.tracker import IssueChanges, IssueDraft, TrackedIssue
from connector.workflow.paths import main_path
from tests.conftest import FROZEN, INTAKE_TOKEN, auth, sample_letter, write_config
from tests.fakes import FakeTracker
from webhooks import create_app

SECRET = "redmine-webhook-secret-0123456789"
NOMORS = ("027/101/DINKES/2026", "027/102/DINKES/2026", "027/103/DINKES/2026")
WHO = {2: "kadis", 3: "kabid", 4: "kasi", 5: "kasi"}  # who closes each early step
UNFINISHED = ["pending", "running", "failed", "dead"]
ATTACHED_NOTE = "Lampiran surat permohonan."
# The store's durability is not what is tested here: keep its fsyncs in memory when we can.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None


class Clock:
    """The one time of the service, the queue and the fake Redmine; rules move it."""

    def __init__(self) -> None:
        self.now = FROZEN

    def __call__(self) -> Any:
        return self.now


class WorkerDied(BaseException):
    """The worker process is gone, as after SIGKILL: not an Exception, so no handler sees it."""


class MortalTracker(FakeTracker):
    """The fake Redmine, whose caller dies right after its ``die_after``-th write if set."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.die_after: int | None = None

    def _wrote(self) -> None:
        if self.die_after is not None:
            self.die_after -= 1
            if self.die_after == 0:
                self.die_after = None
                raise WorkerDied

    def open_issue(self, draft: IssueDraft) -> TrackedIssue:
        issue = super().open_issue(draft)
        self._wrote()
        return issue

    def change_issue(self, issue_id: int, changes: IssueChanges) -> None:
        super().change_issue(issue_id, changes)
        self._wrote()

    def attach_document(self, issue_id: int, filename: str, content_type: str, content: bytes,
                        *, notes: str | None = None,
                        attached: frozenset[str] | None = None) -> None:
        super().attach_document(issue_id, filename, content_type, content, notes=notes,
                                attached=attached)
        self._wrote()


class ServiceMachine(RuleBasedStateMachine):
    """One service (store, app, worker) and one fake Redmine, from empty."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="sop-state-", dir=SCRATCH))
        self.clock = Clock()
        self.redmine = MortalTracker(self.clock)
        extra = 'redmine_secret_env = "SOP_TEST_REDMINE_SECRET"\n'
        self.services = bootstrap(load_settings(write_config(self.dir, extra=extra)),
                                  tracker=self.redmine, clock=self.clock)
        self.client = create_app(self.services).test_client()
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []  # every request answered 2xx
        self.letters: set[str] = set()  # case keys of the letters acknowledged
        self.workers = 0
        self.jitter = random.Random(0)  # backoff is part of the state: same choices, same run

    # -- what arrives over HTTP ---------------------------------------------------------------

    @initialize(letter=st.sampled_from(NOMORS))
    def first_letter(self, letter: str) -> None:
        self.deliver_letter(letter, resent_by_key=False)

    @rule(letter=st.sampled_from(NOMORS), resent_by_key=st.booleans())
    def deliver_letter(self, letter: str, resent_by_key: bool) -> None:
        """A letter; ``resent_by_key``: the sender sends it again as a new delivery."""
        headers = auth() | {"Content-Type": "application/json"}
        if resent_by_key:
            headers["Idempotency-Key"] = f"kirim-{len(self.sent)}"
        body = json.dumps(sample_letter(letter)).encode()
        answer = self._post("/webhooks/intake", body, headers)
        self.letters.add(answer.get_json()["case_key"])

    @precondition(lambda self: self.redmine.issues)
    @rule(data=st.data(), sender=st.sampled_from(["plugin", "plugin-no-journal"]))
    def hint_from_redmine(self, data: st.DataObject, sender: str) -> None:
        """The redmine_webhook plugin tells that an issue changed (its latest journal)."""
        issue = data.draw(st.sampled_from(sorted(self.redmine.issues)), label="issue")
        self._hint(issue, sender)

    def _hint(self, issue: int, sender: str) -> None:
        fake = self.redmine.issues[issue]
        payload: dict[str, Any] = {"action": "updated", "issue": {
            "id": issue, "updated_on": fake.updated_on.strftime("%Y-%m-%dT%H:%M:%SZ")}}
        if fake.journals and sender == "plugin":
            payload["journal"] = {"id": fake.journals[-1].id}
        body = json.dumps({"payload": payload}).encode()
        self._post(f"/webhooks/redmine/{SECRET}", body, {"Content-Type": "application/json"})

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """The same delivery again (a sender's retry): 200, and nothing new is queued."""
        url, body, headers = data.draw(st.sampled_from(self.sent), label="delivery")
        before = len(jobs.list_jobs(self.services.engine))
        answer = self.client.post(url, data=body, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        assert len(jobs.list_jobs(self.services.engine)) == before

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Any:
        answer = self.client.post(url, data=body, headers=headers)
        assert answer.status_code in (200, 202), answer.get_json()
        self.sent.append((url, body, headers))
        self._assert_stored(body)
        return answer

    def _assert_stored(self, body: bytes) -> None:
        """A 2xx was answered: the delivery is in the inbox and its work is queued."""
        with self.services.engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(inbox)
                                .where(inbox.c.body == body)).scalar_one()
        assert rows >= 1, "answered 2xx without storing the delivery"
        document = json.loads(body)
        queued = jobs.list_jobs(self.services.engine)
        if "payload" in document:
            issue = document["payload"]["issue"]["id"]
            assert any(j.payload.get("issue_id") == issue for j in queued)
        else:
            case = cases.find_case_by_key(
                self.services.engine, cases.case_key_for(document["opd"],
                                                         document["nomor_surat"]))
            assert case is not None, "answered 2xx without storing the case"
            assert any(j.payload.get("case_id") == case.id for j in queued)

    # -- what people do in Redmine ------------------------------------------------------------

    @precondition(lambda self: self._open_cases())
    @rule(data=st.data(), hint=st.sampled_from(["plugin", "lost"]))
    def person_closes_the_current_step(self, data: st.DataObject, hint: str) -> None:
        """A person closes their step; the plugin's hint may be lost (the poll finds it)."""
        case = data.draw(st.sampled_from(self._open_cases()), label="case")
        [row] = cases.list_case_steps(self.services.engine, case.id, only=case.current_step)
        assert row.redmine_issue_id is not None
        step = case.current_step
        self.redmine.act(row.redmine_issue_id, WHO[step], status="Closed",
                         attach="rencana.pdf" if step == 5 else None,
                         fields={"dev_team": "dev1,dev2"} if step == 4 else None)
        if hint != "lost":
            self._hint(row.redmine_issue_id, hint)

    def _open_cases(self) -> list[cases.Case]:
        found = [cases.find_case_by_key(self.services.engine, key) for key in sorted(self.letters)]
        return [c for c in found if c is not None and c.status is CaseStatus.OPEN
                and c.current_step in WHO]

    # -- workers, Redmine, time ---------------------------------------------------------------

    def _worker(self) -> str:
        self.workers += 1
        return f"worker-{self.workers}"

    @rule()
    def run_worker(self) -> None:
        """A (re)started worker runs every job that is due."""
        jobs.drain(self.services.engine, handlers_for(self.services), self._worker(),
                   clock=self.clock, rng=self.jitter)

    @rule()
    def worker_claims_then_vanishes(self) -> None:
        """A worker takes a job and is killed before doing anything: its lease must expire."""
        jobs.claim(self.services.engine, self._worker(), clock=self.clock)

    @rule(writes=st.integers(min_value=1, max_value=20))
    def worker_dies_after_a_remote_write(self, writes: int) -> None:
        """A worker is killed right after its ``writes``-th write to Redmine."""
        self.redmine.die_after = writes
        try:
            jobs.drain(self.services.engine, handlers_for(self.services), self._worker(),
                       clock=self.clock, rng=self.jitter)
        except WorkerDied:
            event("a worker died right after a remote write")
        finally:
            self.redmine.die_after = None

    @rule()
    def poll_redmine(self) -> None:
        """The reconciliation poll; it simply fails while Redmine is down."""
        try:
            poll_once(self.services)
        except RemoteUnavailable:
            assert self.redmine.down

    @rule(down=st.booleans())
    def redmine_goes(self, down: bool) -> None:
        self.redmine.down = down

    @rule(seconds=st.sampled_from([1, 30, 61, 600, 3601, 86400]))
    def time_passes(self, seconds: int) -> None:
        self.clock.now += timedelta(seconds=seconds)

    # -- what must hold at every moment -------------------------------------------------------

    @invariant()
    def at_most_one_issue_per_business_key(self) -> None:
        keys = Counter(fake.issue.key for fake in self.redmine.issues.values())
        assert all(count == 1 for count in keys.values()), keys.most_common(3)

    @invariant()
    def every_acknowledged_delivery_is_still_stored(self) -> None:
        with self.services.engine.connect() as conn:
            stored = set(conn.execute(select(inbox.c.body)).scalars())
        assert all(body in stored for _, body, _ in self.sent)

    # -- the end: Redmine up, every lease and backoff over, the queue drained -----------------

    def teardown(self) -> None:
        try:
            self._recover_and_check()
        finally:
            self.services.engine.dispose()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _recover_and_check(self) -> None:
        self.redmine.down, self.redmine.die_after = False, None
        engine = self.services.engine
        self.clock.now += timedelta(seconds=1)  # a poll at the instant of the last one adds none
        poll_once(self.services, overlap=timedelta(days=3650))  # every change, hint lost or not
        for _ in range(5):
            self.clock.now += timedelta(seconds=3601)  # past every lease, lock and backoff
            for dead in jobs.list_jobs(engine, ["dead"]):  # given up on during the outage
                assert dead.attempts >= dead.max_attempts, dead.last_error
                jobs.replay(engine, dead.id, clock=self.clock)
            self.run_worker()
            if not jobs.list_jobs(engine, UNFINISHED):
                break
        left = jobs.list_jobs(engine, UNFINISHED)
        assert left == [], [(j.kind, j.status, j.last_error) for j in left]
        steps = main_path(self.services.sop)
        reached = [c.current_step for c in map(partial(cases.find_case_by_key, engine),
                                                self.letters) if c is not None]
        event(f"letters: {len(self.letters)}, furthest step: {max(reached, default=0)}")
        assert len(self.redmine.cases()) == len(self.letters)
        for key in self.letters:
            case = cases.find_case_by_key(engine, key)
            assert case is not None and case.status is CaseStatus.OPEN
            [parent] = [i for i in self.redmine.cases() if i.issue.key == key]
            assert case.redmine_issue_id == parent.issue.id
            subtasks = sorted(int(i.issue.key.rpartition("#")[2])
                              for i in self.redmine.children(parent.issue.id))
            assert subtasks == sorted(steps)
            assert list(parent.attachments) == ["surat-permohonan.pdf"]
            assert parent.notes.count(ATTACHED_NOTE) == 1
            self._assert_redmine_shows_the_store(case)
        for fake in self.redmine.issues.values():
            repeated = [n for n, count in Counter(fake.notes).items() if count > 1]
            assert repeated == [], (fake.issue.key, repeated)


    def _assert_redmine_shows_the_store(self, case: cases.Case) -> None:
        """Each step's subtask has the status its state in the store calls for."""
        redmine = self.services.settings.redmine
        expected = {StepState.DONE: redmine.done_statuses[0],
                    StepState.ACTIVE: redmine.active_status, StepState.PENDING: redmine.new_status}
        for row in cases.list_case_steps(self.services.engine, case.id):
            assert row.redmine_issue_id is not None
            status = self.redmine.issues[row.redmine_issue_id].issue.status
            assert status == expected[row.state], (case.case_key, row.step, row.state, status)


def test_nothing_is_lost_or_done_twice_whatever_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", "redmine-key-for-tests")
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_TEST_REDMINE_SECRET", SECRET)
    run_state_machine_as_test(ServiceMachine, settings=settings(
        max_examples=50, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
