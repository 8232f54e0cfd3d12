"""Jobs queued for one whole case, and the worst wait in the queue, at a 2 s and a 60 s poll.

Issue 15: with a short poll interval every poll re-queued each issue changed within its
overlap window (one case's run queued 1,154 jobs, a job waited up to 142 s). Here one case
runs from letter to step 17 against the fake Redmine (``tests.fakes.FakeTracker``) on a
simulated clock, so a 60 s poll costs no real minute: a person closes the active step 20 s
after it became active, the redmine_webhook plugin sends its hint, the poller runs every
2 s or 60 s with its 2 minute overlap, and one worker runs the jobs, each taking 0.3 s (about
what a sync costs against the real Redmine). Figures: jobs created for the case against the
changes made in Redmine (journals, by people and by the service), and the worst time a job
waited once due, against one job's run time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.table import Figure
from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.handlers import handlers_for
from connector.services import Services
from connector.store import cases, jobs
from connector.store.coalesce import enqueue_once_per_subject
from connector.store.jobs import ROUTINE_PREFIX
from connector.store.schema import CaseStatus
from connector.sync.poll import poll_once
from connector.workflow.state import case_view
from tests.conftest import INTAKE_TOKEN, auth, sample_letter, write_config
from tests.fakes import FakeTracker
from tests.workflow_driver import ACKNOWLEDGERS, DOCUMENT_STEPS, ROLE_OF_STEP, output_files

T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
THINK = timedelta(seconds=20)  # a person closes the step this long after it is active
JOB = timedelta(seconds=0.3)
HORIZON = timedelta(hours=2)


class SimClock:
    """The simulated time of the service, the queue and the fake Redmine."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def run(workdir: Path) -> list[Figure]:
    """The figures at a 2 s and a 60 s poll interval."""
    figures = []
    for interval in (2, 60):
        created, changes, worst, worst_hint = simulate(workdir / f"poll-{interval}", interval)
        name = f"poll every {interval} s"
        figures += [
            Figure("queue", f"{name}: jobs created for one case", created,
                   "changes made in Redmine (journals)", changes),
            Figure("queue", f"{name}: worst wait of a due job", worst, "one job's run time",
                   JOB.total_seconds(), "s"),
            Figure("queue", f"{name}: worst wait of a webhook hint's job", worst_hint,
                   "one job's run time", JOB.total_seconds(), "s"),
        ]
    return figures


def simulate(workdir: Path, poll_seconds: int) -> tuple[int, int, float, float]:
    """(jobs created, journals written, worst wait, worst wait of a hint) of one case."""
    import os

    workdir.mkdir(parents=True)
    os.environ.setdefault("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    os.environ.setdefault("SOP_TEST_REDMINE_KEY", "fake-redmine-key")
    clock = SimClock()
    tracker = FakeTracker(clock=clock)
    services = bootstrap(load_settings(write_config(workdir)), tracker=tracker, clock=clock)
    try:
        key = _send_letter(services)
        worst, worst_hint, last_poll, acted_at = 0.0, 0.0, T0 - timedelta(days=1), (0, T0)
        while clock.now - T0 < HORIZON:
            case = cases.find_case_by_key(services.engine, key)
            assert case is not None
            if case.status is not CaseStatus.RECEIVED and case.status is not CaseStatus.OPEN:
                break
            if (clock.now - last_poll).total_seconds() >= poll_seconds:
                poll_once(services)
                last_poll = clock.now
            acted_at = _person(services, tracker, case, acted_at)
            waited, hint_waited = _work_for(services, clock, timedelta(seconds=1))
            worst, worst_hint = max(worst, waited), max(worst_hint, hint_waited)
        finished = cases.find_case_by_key(services.engine, key)
        assert finished is not None and finished.status is CaseStatus.CLOSED, finished
        created = len(jobs.list_jobs(services.engine, limit=1_000_000))
        changes = sum(len(i.journals) + 1 for i in tracker.issues.values())  # + its creation
        return created, changes, worst, worst_hint
    finally:
        services.engine.dispose()


def _send_letter(services: Services) -> str:
    from webhooks import create_app

    letter = sample_letter("027/900/DINKES/2026")
    answer = create_app(services).test_client().post("/webhooks/intake", json=letter,
                                                      headers=auth())
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["case_key"])


def _person(services: Services, tracker: FakeTracker, case: cases.Case,
            acted_at: tuple[int, datetime]) -> tuple[int, datetime]:
    """The active step's person closes it ``THINK`` after it became active; its hint follows."""
    stage, since = acted_at
    now = services.clock()
    if case.current_step is None or case.status is not CaseStatus.OPEN:
        return acted_at
    step = case.current_step
    with services.engine.connect() as conn:  # step 17 waits for each party in turn
        known = case_view(conn, case, services.calendar).acknowledged.get(step)
    current = step * 10 + (len(known) + 1 if known is not None else 0)
    if current != stage:
        return current, now
    if now - since < THINK:
        return acted_at
    [row] = cases.list_case_steps(services.engine, case.id, only=step)
    assert row.redmine_issue_id is not None
    login = ACKNOWLEDGERS[len(known)] if known is not None else ROLE_OF_STEP[step]
    attach = known is None and step in DOCUMENT_STEPS
    journal = tracker.act(row.redmine_issue_id, login, status="Closed",
                          attach=dict.fromkeys(output_files(step), b"") if attach else None,
                          fields={"dev_team": "dev1,dev2"} if step == 4 else None)
    assert journal is not None
    with services.engine.begin() as conn:  # what the webhook endpoint stores for the hint
        enqueue_once_per_subject(
            conn, "sync_issue", {"issue_id": row.redmine_issue_id, "journal_id": journal.id},
            subject=f"sync_issue:{row.redmine_issue_id}", change=f"journal:{journal.id}",
            routine=False, clock=services.clock)
    return current, now + HORIZON  # acted: wait for the case to move on


def _work_for(services: Services, clock: SimClock, span: timedelta) -> tuple[float, float]:
    """One worker runs due jobs for ``span`` of simulated time; the worst waits it saw."""
    end, worst, worst_hint = clock.now + span, 0.0, 0.0
    handlers = handlers_for(services)
    while clock.now < end:
        job = jobs.claim(services.engine, "bench", clock=clock)
        if job is None:
            break
        waited = (clock.now - job.run_after).total_seconds()
        worst = max(worst, waited)
        if job.kind == "sync_issue" and not (job.dedupe_key or "").startswith(ROUTINE_PREFIX):
            worst_hint = max(worst_hint, waited)
        try:
            handlers[job.kind](job)
        except jobs.RetryLater as exc:
            jobs.fail(services.engine, job.id, "bench", str(exc), retry_after=exc.retry_after,
                      clock=clock)
        else:
            jobs.complete(services.engine, job.id, "bench", clock=clock)
        clock.now += JOB
    clock.now = max(clock.now, end)
    return worst, worst_hint
