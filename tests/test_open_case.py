"""The open_case job over a fake tracker: the case's shape, and idempotence at every point."""

from __future__ import annotations

from datetime import date

import pytest

from connector.errors import RemoteUnavailable
from connector.handlers import handlers_for
from connector.intake.open_case import open_case
from connector.services import Services
from connector.store import audit, cases, jobs
from connector.store.schema import CaseStatus, StepState
from connector.workflow.drafts import step_key
from connector.workflow.paths import main_path
from tests.conftest import auth, sample_letter
from tests.fakes import FakeTracker

MAIN_PATH = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]


def _intake(client, **changes) -> int:
    answer = client.post("/webhooks/intake", json=sample_letter(**changes), headers=auth())
    assert answer.status_code == 202, answer.get_json()
    return int(answer.get_json()["case_id"])


def test_main_path_is_every_step_but_the_refusal(services: Services) -> None:
    assert list(main_path(services.sop)) == MAIN_PATH


def test_open_case_creates_parent_and_every_main_path_step(
    client, services: Services, fake_tracker: FakeTracker
) -> None:
    case_id = _intake(client)
    assert jobs.drain(services.engine, handlers_for(services), "w1") == 1

    [parent] = fake_tracker.cases()
    assert parent.issue.key == "DINKES:027/145/DINKES/2026"
    assert "SI Puskesmas" in parent.issue.subject and "Dinas Kesehatan" in parent.issue.subject
    assert "027/145/DINKES/2026" in parent.draft.description
    assert parent.attachments == {"surat-permohonan.pdf": b"%PDF-1.4 surat"}
    children = {c.issue.key: c.issue for c in fake_tracker.children(parent.issue.id)}
    assert sorted(children) == [step_key(parent.issue.key, n) for n in MAIN_PATH]
    first, second = children[step_key(parent.issue.key, 1)], children[step_key(parent.issue.key, 2)]
    assert first.status == "Closed"
    assert (second.status, second.assignee_login) == ("In Progress", "kadis")
    # Received Senin 16 Maret 2026; 1 hari kerja later is Selasa 17 Maret.
    assert (second.start_date, second.due_date) == (date(2026, 3, 16), date(2026, 3, 17))
    assert all(
        c.status == "New" and c.assignee_login is None
        for k, c in children.items()
        if k[-2:] not in ("01", "02")
    )

    case = cases.get_case(services.engine, case_id)
    assert case is not None
    assert (case.status, case.current_step, case.redmine_issue_id) == (
        CaseStatus.OPEN,
        2,
        parent.issue.id,
    )
    steps = {s.step: s for s in cases.list_case_steps(services.engine, case_id)}
    assert steps[1].state is StepState.DONE and steps[2].state is StepState.ACTIVE
    assert steps[2].due_on == date(2026, 3, 17)
    with services.engine.connect() as conn:
        actions = [e.action for e in audit.list_audit(conn, case_id)]
    assert actions == ["case_received", "case_opened"]


def test_running_open_case_again_creates_nothing(
    client, services: Services, fake_tracker: FakeTracker
) -> None:
    case_id = _intake(client)
    jobs.drain(services.engine, handlers_for(services), "w1")
    before = len(fake_tracker.issues)
    open_case(services, case_id)
    assert len(fake_tracker.issues) == before == 17


@pytest.mark.parametrize("created_before_crash", [0, 1, 2, 9, 16])
def test_a_crash_part_way_resumes_without_duplicates(
    client, services: Services, fake_tracker: FakeTracker, created_before_crash: int
) -> None:
    """Redmine goes away after some issues were created and before the local commit."""
    case_id = _intake(client)
    fake_tracker.fail_creates_after = created_before_crash
    with pytest.raises(RemoteUnavailable):
        open_case(services, case_id)
    assert len(fake_tracker.issues) == created_before_crash
    fake_tracker.fail_creates_after = None
    open_case(services, case_id)
    keys = [i.issue.key for i in fake_tracker.issues.values()]
    assert len(keys) == len(set(keys)) == 17
    assert len(fake_tracker.cases()) == 1


def test_an_outage_is_retried_and_the_job_completes(
    client, services: Services, fake_tracker: FakeTracker
) -> None:
    case_id = _intake(client)
    fake_tracker.down = True
    # On a frozen clock the jittered retry (0 to 2 s later) is never due within this drain.
    assert jobs.drain(services.engine, handlers_for(services), "w1", clock=services.clock) == 1
    [job] = jobs.list_jobs(services.engine, ["failed"])
    assert job.attempts == 1 and "down" in (job.last_error or "")
    fake_tracker.down = False
    jobs.replay(services.engine, job.id)
    jobs.drain(services.engine, handlers_for(services), "w1")
    case = cases.get_case(services.engine, case_id)
    assert case is not None and case.status is CaseStatus.OPEN
    assert len(fake_tracker.issues) == 17
