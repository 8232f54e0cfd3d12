"""Drive a case through Redmine as its people would, for the real-Redmine workflow tests."""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass
from typing import Any

from redminelib import Redmine

from connector.handlers import handlers_for
from connector.services import Services
from connector.sop.loader import load_default_sop
from connector.store import cases, jobs
from connector.store.cases import Case
from connector.store.kinds import SYNC_ISSUE
from connector.workflow.engine import slug
from connector.workflow.state import case_view
from tests.conftest import auth, sample_letter

ROLE_OF_STEP = {
    2: "kadis",
    3: "kabid",
    4: "kasi",
    5: "kasi",
    6: "kabid",
    7: "bidangti",
    8: "kasi",
    9: "dev1",
    10: "dev1",
    11: "opd1",
    12: "dev1",
    13: "dev1",
    14: "opd1",
    15: "dev1",
    16: "kabid",
    17: "dev1",
}
# The steps whose kelengkapan is a document; 7 and 17 need theirs when the service does not
# draw them up (no [documents]).
DOCUMENT_STEPS = {5, 7, 9, 13, 17}
# Who knows the Berita Acara at step 17, in the order the walk acknowledges it.
ACKNOWLEDGERS = ("opd1", "kadis")


def output_files(step: int) -> tuple[str, ...]:
    """The files a person attaches to a document step: one per SOP output, named by the
    naming rule (``engine.output_file_matches``), or ``langkah-N.pdf`` for a single output."""
    outputs = load_default_sop().step(step).outputs
    if len(outputs) <= 1:
        return (f"langkah-{step}.pdf",)
    return tuple(f"{slug(o)}-langkah-{step}.pdf" for o in outputs)


@dataclass
class CaseDriver:
    """One case, and the people who work it in Redmine."""

    services: Services
    server: Any
    client: Any
    key: str = ""

    def open(self, **letter: Any) -> Case:
        """Send a letter (``letter`` changes its fields) and let the worker open the case."""
        nomor = f"{uuid.uuid4().hex[:8]}/DINKES/2026"
        answer = self.client.post("/webhooks/intake", json=sample_letter(nomor, **letter),
                                  headers=auth())
        assert answer.status_code == 202, answer.get_json()
        self.drain()
        self.key = f"DINKES:{nomor.upper()}"
        return self.case()

    def case(self) -> Case:
        found = cases.find_case_by_key(self.services.engine, self.key)
        assert found is not None
        return found

    def api(self, login: str) -> Redmine:
        key = self.server.admin_key if login == "admin" else self.server.user_keys[login]
        return Redmine(self.server.url, key=key)

    def step_issue(self, step: int) -> int:
        [row] = cases.list_case_steps(self.services.engine, self.case().id, only=step)
        assert row.redmine_issue_id is not None, f"step {step} has no subtask"
        return row.redmine_issue_id

    def act(
        self,
        step: int,
        login: str | None = None,
        *,
        status: str = "Closed",
        notes: str = "",
        attach: bool | None = None,
        files: tuple[str, ...] | None = None,
        team: tuple[str, ...] = (),
        findings: tuple[str, ...] = (),
    ) -> None:
        """A person closes (or rejects) their step's subtask, as they would in Redmine.

        A document step gets ``files`` (default: ``output_files``), attached in the same save;
        ``findings`` fills *Temuan Verifikasi* (step 6 *tidak*).
        """
        login = login or ROLE_OF_STEP[step]
        api = self.api(login)
        issue_id = self.step_issue(step)
        fields: dict[str, Any] = {"status_id": self.status_id(status), "notes": notes}
        if files is None and (attach if attach is not None else step in DOCUMENT_STEPS):
            files = output_files(step)
        uploads = []
        for name in files or ():
            upload = api.upload(io.BytesIO(b"%PDF-1.4 dokumen"), filename=name)
            uploads.append({"token": upload["token"], "filename": name})
        if uploads:
            fields["uploads"] = uploads
        custom = []
        if team:
            custom.append(
                {"id": self.field_id("Tim Pengembang"), "value": [self.user_id(u) for u in team]})
        if findings:
            custom.append({"id": self.field_id("Temuan Verifikasi"), "value": list(findings)})
        if custom:
            fields["custom_fields"] = custom
        api.issue.update(issue_id, **fields)

    def sync(self, step: int) -> None:
        """What a webhook hint does: enqueue a re-read of the subtask, then run the worker."""
        with self.services.engine.begin() as conn:
            jobs.enqueue(conn, SYNC_ISSUE, {"issue_id": self.step_issue(step)})
        self.drain()

    def drain(self, *, rounds: int = 10) -> int:
        """Run the jobs as a live worker would, until none is waiting to be retried.

        A busy Redmine may fail a first attempt; the job then comes back after a short
        backoff, so a single pass could return before the case has moved.
        """
        done = 0
        for _ in range(rounds):
            done += jobs.drain(self.services.engine, handlers_for(self.services), "test-worker")
            if not jobs.list_jobs(self.services.engine, ["pending", "failed", "running"]):
                return done
            time.sleep(2)
        raise AssertionError(f"jobs still waiting after {rounds} rounds: "
                             f"{jobs.list_jobs(self.services.engine, ['pending', 'failed'])}")

    def status_id(self, name: str) -> int:
        return next(s.id for s in self.api("admin").issue_status.all() if s.name == name)

    def field_id(self, name: str) -> int:
        return next(f.id for f in self.api("admin").custom_field.all() if f.name == name)

    def user_id(self, login: str) -> int:
        return next(u.id for u in self.api("admin").user.filter(name=login) if u.login == login)

    def remote(self, step: int) -> Any:
        return self.api("admin").issue.get(self.step_issue(step), include=["journals"])

    def parent(self) -> Any:
        case_id = self.case().redmine_issue_id
        return self.api("admin").issue.get(case_id, include=["journals", "children"])

    def awaiting(self) -> dict[Any, str] | None:
        """Who has acknowledged the current step so far, when it waits to be known."""
        case = self.case()
        with self.services.engine.connect() as conn:
            view = case_view(conn, case, self.services.calendar)
        found = view.acknowledged.get(view.current_step)
        return dict(found) if found is not None and case.status.value == "open" else None

    def acknowledge(self, logins: tuple[str, ...] = ACKNOWLEDGERS) -> None:
        """Each party closes the waiting step 17 with its own account: it knows the BA."""
        for login in logins:
            self.act(17, login, attach=False)
            self.sync(17)

    def walk(self, steps: list[int]) -> None:
        """Complete these steps in order, each by its own role's user; a step left waiting
        to be known (17) is then acknowledged by the OPD and the Kepala Dinas."""
        for step in steps:
            assert self.case().current_step == step, (step, self.case().current_step)
            self.act(step, team=("dev1", "dev2") if step == 4 else ())
            self.sync(step)
        if steps and self.awaiting() == {}:
            self.acknowledge()
