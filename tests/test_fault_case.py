"""Issue 8 acceptance: a worker killed at every fault point of a whole case, then recovered.

One accepted case (with a re-plan, a refused gate, a deadline alert and a GitLab progress
note on the way) and one refused case run against the real Redmine, with GitLab faked in
a file shared with the killed processes (``tests/fault_worker.py``). At each transition the
test knows which fault points come next; for each it starts a worker process armed with
that point and checks that it died by SIGKILL there. The killed worker's job lease and case
lock are then run out (as the clock would after a minute) and a normal worker finishes the
job. At the end every remote object exists exactly once, the audit trail has each
transition once and in order, and every point in ``connector.faults.POINTS`` was killed,
on SQLite and on PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from connector.bootstrap import bootstrap
from connector.codehost.seeds import DOCUMENTS
from connector.config import load_settings
from connector.deadlines.check import check_deadlines
from connector.faults import POINTS
from connector.gitlab.parts import COMMIT_MESSAGE
from connector.gitlab.provision import PARTS
from connector.handlers import handlers_for
from connector.store import audit, cases, jobs
from connector.store.kinds import GITLAB_PROGRESS, SYNC_ISSUE
from connector.store.schema import CaseStatus, JobStatus, locks
from connector.store.schema import jobs as job_rows
from connector.workflow.automation import subproject_identifier
from tests.conftest import INTAKE_TOKEN, auth, sample_letter, write_config
from tests.fault_worker import gitlab_from, load, save
from tests.gitlab_stubs import GITLAB_CONFIG, FakeGitLab
from tests.test_redmine_documents import documents_section
from tests.worker_process import run_fault_worker
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine


@dataclass
class FaultCase:
    """A case, its people (the driver), and workers that die where the test says."""

    driver: CaseDriver
    config: Path
    gitlab_state: Path
    killed: list[str] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.driver.services.engine

    def open(self) -> str:
        """Send a letter; return the case key (the open_case job waits in the queue)."""
        nomor = f"{uuid.uuid4().hex[:8]}/DINKES/2026"
        answer = self.driver.client.post("/webhooks/intake", json=sample_letter(nomor),
                                         headers=auth())
        assert answer.status_code == 202, answer.get_json()
        self.driver.key = f"DINKES:{nomor.upper()}"
        return self.driver.key

    def close(self, step: int, *points: str, **act: Any) -> None:
        """A person closes ``step``; its job is killed at ``points`` in turn, then finished."""
        self.driver.act(step, team=("dev1", "dev2") if step == 4 else (), **act)
        self.enqueue(SYNC_ISSUE, {"issue_id": self.driver.step_issue(step)})
        self.kill_at(*points)

    def enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            jobs.enqueue(conn, kind, payload)

    def kill_at(self, *points: str, task: str = "drain", today: date | None = None) -> None:
        """Kill a worker at each point in turn, then let a normal one finish the work."""
        for point in points:
            for _ in range(3):
                self.run_out_leases()
                ended = run_fault_worker(self.config, self.gitlab_state, point, task=task,
                                         today=today)
                # A busy Redmine may fail the job before the point: it waits to be retried.
                if ended.exitcode != 0 or not jobs.list_jobs(self.engine, ["failed"]):
                    break
            assert (ended.exitcode, ended.killed_at) == (-signal.SIGKILL, point), \
                ended.output[-3000:]
            self.killed.append(point)
        if task == "drain":
            self.finish()
        else:
            check_deadlines(self.driver.services, today)

    def finish(self, rounds: int = 10) -> None:
        """A normal worker runs the jobs until none is left, as a live one would."""
        for _ in range(rounds):
            self.run_out_leases()
            jobs.drain(self.engine, handlers_for(self.driver.services), "restarted")
            if not jobs.list_jobs(self.engine, ["pending", "running", "failed"]):
                return
            time.sleep(2)  # a busy Redmine failed a job: give it a moment
        raise AssertionError(jobs.list_jobs(self.engine, ["pending", "running", "failed"]))

    def run_out_leases(self) -> None:
        """What waiting does: the leases and locks of killed workers expire, retries fall due."""
        past = datetime.now(UTC) - timedelta(seconds=1)
        with self.engine.begin() as conn:
            conn.execute(update(job_rows).where(job_rows.c.status == JobStatus.RUNNING.value)
                         .values(lease_until=past))
            conn.execute(update(job_rows).where(job_rows.c.status == JobStatus.FAILED.value)
                         .values(run_after=past))
            conn.execute(update(locks).values(until=past))

    def gitlab(self) -> FakeGitLab:
        return load(self.gitlab_state)


@pytest.fixture
def fault_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any, db_url: str,
               engine: Engine) -> Iterator[FaultCase]:
    """A case on the ``db_url`` store (emptied by ``engine``), GitLab in a shared file."""
    from webhooks import create_app

    for name, value in {"SOP_TEST_REDMINE_KEY": redmine.admin_key,
                        "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN,
                        "SOP_TEST_GITLAB_TOKEN": "glpat-test-token",
                        "SOP_TEST_GITLAB_HOOK": "hook-secret-0123456789"}.items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, redmine_url=redmine.url, extra=GITLAB_CONFIG
                          + "note_interval_minutes = 0\n" + documents_section())
    sqlite_url = f"sqlite:///{tmp_path / 'store.db'}"
    config.write_text(config.read_text().replace(sqlite_url, db_url))
    state = tmp_path / "gitlab.pickle"
    save(FakeGitLab(users=("dev1", "dev2", "kasi")), state)
    with gitlab_from(state, redmine.url):
        services = bootstrap(load_settings(config))
        try:
            yield FaultCase(CaseDriver(services, redmine, create_app(services).test_client()),
                            config, state)
        finally:
            services.engine.dispose()


def test_every_fault_point_is_killed_and_the_cases_complete_once(fault_case: FaultCase) -> None:
    _accepted_case(fault_case)
    _refused_case(fault_case)
    assert Counter(fault_case.killed) == Counter(POINTS), "a fault point no test reaches"


def _accepted_case(fc: FaultCase) -> None:
    driver = fc.driver
    fc.open()
    fc.kill_at("intake.after_parent_created", "intake.after_attachment_uploaded",
               "intake.after_step_created", "intake.before_local_commit")
    fc.close(2, "workflow.after_step_activated")
    fc.close(3, "workflow.before_local_commit")
    fc.close(4, "workflow.after_member_added")
    fc.close(5)
    fc.close(6, *(f"gitlab.after_{part}" for part in PARTS), "provision.after_project_linked",
             "provision.after_subproject", "provision.after_version",
             "workflow.after_service_step_closed")
    assert driver.case().current_step == 9
    fc.close(9)
    fc.close(10)
    fc.close(11, "workflow.after_loop_step_reopened", status="Rejected",
             notes="Alur bisnis belum sesuai.")
    assert driver.case().current_step == 9
    fc.close(9)
    fc.close(10)
    fc.close(11, "automation.after_milestone_due", "automation.after_version_due")
    assert driver.case().current_step == 12
    _during_development(fc)
    for step in (13, 14, 15):
        fc.close(step)
    fc.close(16, "documents.after_render", "redmine.after_upload", "documents.after_attached",
             "documents.after_wiki_link")
    # The Berita Acara drawn up, step 17 waits for the OPD and the Kepala Dinas (issue 16).
    assert (driver.case().current_step, driver.case().status) == (17, CaseStatus.OPEN)
    fc.close(17, "workflow.after_acknowledgement_awaited", login="opd1", attach=False)
    assert driver.case().status is CaseStatus.OPEN
    fc.close(17, "workflow.after_case_closed", login="kadis", attach=False)
    assert driver.case().status is CaseStatus.CLOSED
    _assert_accepted_once(fc)


def _during_development(fc: FaultCase) -> None:
    """Step 12: a GitLab push noted, a deadline alert, the gate refusing, then allowing."""
    driver = fc.driver
    project = fc.gitlab().only_project()
    fc.enqueue(GITLAB_PROGRESS, {"project_id": project["id"], "kind": "push",
                                 "summary_line": "dev1 mendorong 1 commit ke main",
                                 "at": datetime.now(UTC).isoformat(), "event_key": "push-1"})
    fc.kill_at("progress.after_note")
    [twelve] = cases.list_case_steps(fc.engine, driver.case().id, only=12)
    assert twelve.due_on is not None
    late = twelve.due_on + timedelta(days=7)
    fc.kill_at("deadlines.after_alert_note", "deadlines.after_watcher_added",
               "deadlines.after_remaining_field", task="check-deadlines", today=late)
    fc.close(12, "workflow.after_completion_refused")
    assert driver.case().current_step == 12  # the gate refused: nothing written yet
    fake = fc.gitlab()
    files = {document.path: f"# {document.name}\n\nIsi lengkap.\n" for document in DOCUMENTS}
    fake.commit(project["id"], "Dokumentasi dan kode aplikasi",
                files | {"src/app.py": "print('SI Puskesmas')\n"})
    save(fake, fc.gitlab_state)
    fc.close(12)
    assert driver.case().current_step == 13


def _refused_case(fc: FaultCase) -> None:
    driver = fc.driver
    fc.open()
    fc.kill_at()
    for step in (2, 3, 4, 5):
        fc.close(step)
    fc.close(6, "workflow.after_step_cancelled", "workflow.after_step_created",
             status="Rejected", notes="Anggaran dan SDM tidak tersedia tahun ini.",
             findings=("SDM", "Anggaran"))
    fc.close(7)
    assert driver.case().status is CaseStatus.REJECTED
    names = Counter(_attachments(driver))
    assert sorted(n.split("-")[0] for n in names) == ["laporan"] * 2 + ["surat"] * 3
    assert set(names.values()) == {1}
    assert _remote_keys(driver) == {driver.key, *(f"{driver.key}#{n:02d}" for n in range(1, 18))}
    assert driver.remote(8).status.name == "Rejected"
    _assert_no_repeated_effects(fc)


def _assert_accepted_once(fc: FaultCase) -> None:
    driver = fc.driver
    case = driver.case()
    steps = [n for n in range(1, 18) if n != 7]
    assert _remote_keys(driver) == {driver.key, *(f"{driver.key}#{n:02d}" for n in steps)}
    names = Counter(_attachments(driver))
    assert set(names.values()) == {1}, names
    assert sorted(n.rsplit(".", 1)[1] for n in names if n.startswith("berita-acara-")) == \
        ["docx", "pdf"]
    assert "surat-permohonan.pdf" in names
    _assert_gitlab_once(fc, case)
    api = driver.api("admin")
    identifier = subproject_identifier(case)
    [version] = api.version.filter(project_id=identifier)
    [twelve] = cases.list_case_steps(fc.engine, case.id, only=12)
    assert version.due_date == twelve.due_on
    _assert_no_repeated_effects(fc)
    twelve_notes = [j.notes for j in driver.remote(12).journals if j.notes]
    assert sum("push" in n or "mendorong" in n for n in twelve_notes) == 1, twelve_notes
    watchers = api.issue.get(driver.step_issue(12), include=["watchers"]).watchers
    assert driver.user_id("kasi") in [w.id for w in watchers]  # the overdue escalation
    trail = audit.list_audit(fc.engine, case.id)
    assert [e.step_from for e in trail if e.action == "step_completed"] == \
        [2, 3, 4, 5, 6, 8, 9, 10, 11, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    assert [e.step_to for e in trail if e.action == "step_activated"] == \
        [3, 4, 5, 6, 8, 9, 10, 11, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    assert [e.detail["part"] for e in trail if e.action == "provisioned_part" and e.detail] \
        == [*PARTS, "redmine"]
    actions = Counter(e.action for e in trail)
    assert (actions["case_opened"], actions["case_closed"], actions["deadline_alert"],
            actions["completion_refused"], actions["loop"]) == (1, 1, 1, 1, 1)
    assert ([e.action for e in trail[:2]], trail[-1].action) == \
        (["case_received", "case_opened"], "case_closed")


def _assert_gitlab_once(fc: FaultCase, case: cases.Case) -> None:
    fake = fc.gitlab()
    project = fake.only_project()
    pid = project["id"]
    assert len(fake.hooks[pid]) == 1 and len(fake.milestones[pid]) == 1
    seeded = [c for c in fake.repos[pid].commits.values()
              if c["message"] == COMMIT_MESSAGE.format(case_key=case.case_key)]
    assert len(seeded) == 1
    link = f"{fc.driver.server.url}/issues/{case.redmine_issue_id}"
    assert fake.wikis[pid]["home"]["content"].count(link) == 1


def _assert_no_repeated_effects(fc: FaultCase) -> None:
    """No job left; each transition audited once; no note of the service written twice."""
    driver = fc.driver
    assert jobs.list_jobs(fc.engine, ["pending", "running", "failed", "dead"]) == []
    trail = audit.list_audit(fc.engine, driver.case().id)
    once = Counter((e.action, e.step_from, e.step_to, e.journal_id) for e in trail
                   if e.journal_id is not None)
    assert set(once.values()) == {1}, once
    bot = _bot_id(driver)
    parent_notes = [j.notes for j in driver.parent().journals if j.notes and j.user.id == bot]
    assert len(parent_notes) == len(set(parent_notes)), parent_notes
    for step_row in cases.list_case_steps(fc.engine, driver.case().id):
        assert step_row.redmine_issue_id is not None, step_row
        journals = driver.api("admin").issue.get(step_row.redmine_issue_id,
                                                 include=["journals"]).journals
        # A redone effect would follow its first time at once; a step activated again
        # later (a re-plan) has a person's journals in between.
        written = [j.notes or None if j.user.id == bot else None for j in journals]
        assert all(a is None or a != b for a, b in pairwise(written)), written


def _bot_id(driver: CaseDriver) -> int:
    return int(driver.api("admin").user.get("current").id)


def _attachments(driver: CaseDriver) -> list[str]:
    parent = driver.api("admin").issue.get(driver.case().redmine_issue_id,
                                           include=["attachments"])
    return [a.filename for a in parent.attachments]


def _remote_keys(driver: CaseDriver) -> set[str]:
    """The key field of every issue of the case, asserting that none appears twice."""
    api, redmine = driver.api("admin"), driver.services.settings.redmine
    field_id = driver.field_id(redmine.key_field)
    found = list(api.issue.filter(project_id=redmine.project, status_id="*",
                                  **{f"cf_{field_id}": f"~{driver.key}"}, limit=100))
    keys = Counter(next(f.value for f in issue.custom_fields if f.id == field_id)
                   for issue in found)
    assert set(keys.values()) == {1}, keys
    return set(keys)
