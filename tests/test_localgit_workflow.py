"""Step 8 and the step 12 gate with the local git code host, through the real handlers.

Redmine is the ``FakeTracker``; the repositories are real ones under the test's folder. A
case is opened by the intake endpoint and moved by its people closing their subtasks, each
change re-read by a ``sync_issue`` job, as the service does with Redmine.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.bootstrap import bootstrap, codehost_for
from connector.cli import main
from connector.cli.codehost_commands import describe_codehost, local_git_problems
from connector.codehost.seeds import DOCUMENTS
from connector.config import load_settings
from connector.gitlab import GitLabCodeHost
from connector.handlers import handlers_for
from connector.localgit import LocalGitCodeHost
from connector.services import Services
from connector.store import cases, jobs
from connector.store.kinds import SYNC_ISSUE
from connector.store.projects import project_of_case
from connector.store.schema import CaseStatus
from connector.workflow.automation import subproject_identifier
from connector.workflow.state import case_view
from tests.conftest import INTAKE_TOKEN, auth, sample_letter, write_config
from tests.fakes import FakeTracker
from tests.gitlab_stubs import GITLAB_CONFIG
from tests.test_localgit import clone, git
from tests.workflow_driver import ACKNOWLEDGERS, DOCUMENT_STEPS, ROLE_OF_STEP, output_files

LOCAL_GIT = '\n[local_git]\nroot = "git"\n'
ENV = {"SOP_TEST_REDMINE_KEY": "k", "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN}
REPO = "si-puskesmas"


@dataclass
class FakeCase:
    """One case, its people acting on the fake Redmine, and the worker running after them."""

    services: Services
    tracker: FakeTracker
    key: str = ""

    def open(self) -> None:
        from webhooks import create_app

        client = create_app(self.services).test_client()
        answer = client.post("/webhooks/intake", json=sample_letter("7/DINKES/2026"),
                             headers=auth())
        assert answer.status_code == 202, answer.get_json()
        self.key = "DINKES:7/DINKES/2026"
        self.drain()

    def case(self) -> cases.Case:
        found = cases.find_case_by_key(self.services.engine, self.key)
        assert found is not None
        return found

    def issue(self, step: int) -> int:
        [row] = cases.list_case_steps(self.services.engine, self.case().id, only=step)
        assert row.redmine_issue_id is not None
        return row.redmine_issue_id

    def act(self, step: int, login: str | None = None) -> None:
        """The step's person closes its subtask; the worker then re-reads it."""
        attach = login is None and step in DOCUMENT_STEPS
        self.tracker.act(self.issue(step), login or ROLE_OF_STEP[step], status="Closed",
                         attach=dict.fromkeys(output_files(step), b"") if attach else None,
                         fields={"dev_team": ["dev1", "dev2"]} if step == 4 else None)
        with self.services.engine.begin() as conn:
            jobs.enqueue(conn, SYNC_ISSUE, {"issue_id": self.issue(step)})
        self.drain()

    def walk(self, steps: list[int]) -> None:
        """These steps in order; a Berita Acara left waiting at 17 is then known by the OPD
        and the Kepala Dinas, each by their own account."""
        for step in steps:
            assert self.case().current_step == step
            self.act(step)
        with self.services.engine.connect() as conn:
            view = case_view(conn, self.case(), self.services.calendar)
        if view.acknowledged.get(view.current_step) == {}:
            for login in ACKNOWLEDGERS:
                self.act(view.current_step, login)

    def drain(self) -> None:
        jobs.drain(self.services.engine, handlers_for(self.services), "test-worker")
        assert jobs.list_jobs(self.services.engine, ["pending", "failed", "dead"]) == []


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeCase, Path]]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, extra=LOCAL_GIT)
    tracker = FakeTracker()
    services = bootstrap(load_settings(config), tracker=tracker)
    yield FakeCase(services, tracker), config
    services.engine.dispose()


def test_step_8_provisions_locally_and_the_gate_refuses_then_allows(
        world: tuple[FakeCase, Path], tmp_path: Path) -> None:
    driver, _ = world
    root = tmp_path / "git"
    driver.open()
    driver.walk([2, 3, 4, 5, 6])
    case = driver.case()
    assert case.current_step == 9
    assert sorted(p.name for p in root.iterdir()) == [f"{REPO}.git", f"{REPO}.wiki.git"]
    linked = project_of_case(driver.services.engine, case.id)
    assert linked is not None and linked.web_url == (root / f"{REPO}.git").as_uri()
    eight = driver.tracker.issues[driver.issue(8)]
    assert eight.issue.status == "Closed" and linked.web_url in eight.notes[-1]
    assert "GitLab" not in eight.notes[-1]
    parent = driver.tracker.issues[case.redmine_issue_id or 0]
    assert any(linked.wiki_url in note for note in parent.notes)
    identifier = subproject_identifier(case)
    assert driver.tracker.subprojects == {identifier: {"dev1", "dev2", "kasi"}}

    driver.walk([9, 10, 11])
    [twelve] = cases.list_case_steps(driver.services.engine, case.id, only=12)
    assert twelve.due_on is not None
    assert driver.tracker.versions == {(identifier, "Pengembangan Aplikasi"): twelve.due_on}
    assert git("--git-dir", str(root / f"{REPO}.git"), "config",
               "milestone.Pengembangan Aplikasi.due").strip() == twelve.due_on.isoformat()

    driver.act(12)
    refused = driver.tracker.issues[driver.issue(12)]
    assert refused.issue.status == "In Progress"
    assert "Deliverable belum lengkap" in refused.notes[-1]
    assert "- [ ] Dokumentasi API: masih templat" in refused.notes[-1]
    assert driver.case().current_step == 12

    _push_every_output(linked.web_url, tmp_path / "work")
    driver.act(12)
    assert driver.case().current_step == 13
    assert sorted(p.name for p in root.iterdir()) == [f"{REPO}.git", f"{REPO}.wiki.git"]


def _push_every_output(url: str, work: Path) -> None:
    clone(url, work)
    for document in DOCUMENTS:
        (work / document.path).write_text(f"# {document.name}\n\nIsi lengkap.\n")
    (work / "src").mkdir()
    (work / "src/app.py").write_text("print('SI Puskesmas')\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "Dokumentasi dan kode aplikasi", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)


# -- the commands, doctor's line and the choice of host --

def _run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(main, [*args, "--config", str(config)], env=ENV)


def test_the_commands_work_with_the_local_host(world: tuple[FakeCase, Path],
                                               tmp_path: Path) -> None:
    driver, config = world
    driver.open()
    assert _run(config, "deliverables", driver.key).exit_code == 2  # no repository yet
    dry = _run(config, "provision", driver.key, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith(f"Buat repositori git {tmp_path / 'git' / REPO}.git")
    assert "GitLab" not in dry.output and not (tmp_path / "git").exists()
    driver.walk([2, 3, 4, 5, 6])
    assert _run(config, "provision", driver.key, "--dry-run").output == (
        "Tidak ada yang perlu dibuat.\n")
    missing = _run(config, "deliverables", driver.key)
    assert missing.exit_code == 1 and "- [ ] Aplikasi" in missing.output
    linked = project_of_case(driver.services.engine, driver.case().id)
    assert linked is not None
    _push_every_output(linked.web_url, tmp_path / "work")
    done = _run(config, "deliverables", driver.key)
    assert done.exit_code == 0 and "- [ ]" not in done.output


def test_the_configuration_chooses_the_code_host(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**ENV, "SOP_TEST_GITLAB_TOKEN": "glpat-x",
                        "SOP_TEST_GITLAB_HOOK": "hook"}.items():
        monkeypatch.setenv(name, value)
    for folder in "abc":
        (tmp_path / folder).mkdir()
    local = load_settings(write_config(tmp_path / "a", extra=LOCAL_GIT))
    gitlab = load_settings(write_config(tmp_path / "b", extra=GITLAB_CONFIG))
    neither = load_settings(write_config(tmp_path / "c"))
    assert isinstance(codehost_for(local), LocalGitCodeHost)
    assert isinstance(codehost_for(gitlab), GitLabCodeHost)
    assert codehost_for(neither) is None
    assert describe_codehost(local) == f"Code host: git lokal {tmp_path / 'a' / 'git'}"
    assert describe_codehost(gitlab) == (
        "Code host: GitLab http://gitlab.test (grup diskominfo/aplikasi)")
    assert describe_codehost(neither) == "Code host: tidak ada (langkah 8 dikerjakan manual)"
    assert local_git_problems(local) == [] and local_git_problems(neither) == []


def test_doctor_reports_a_root_that_cannot_be_created(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "berkas").write_text("bukan folder")
    settings = load_settings(write_config(tmp_path, extra='\n[local_git]\nroot = "berkas/git"\n'))
    [problem] = local_git_problems(settings)
    assert problem.what == f"[local_git] root {tmp_path / 'berkas' / 'git'} cannot be written " \
                           "by this user"


@pytest.mark.parametrize("base_url", [None, "https://git.example.go.id"])
def test_a_whole_case_closes_with_its_berita_acara_and_a_link_on_beranda(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str | None) -> None:
    """Without a web viewer (file:// addresses) the Berita Acara shows no links, and closes;
    with one, the deliverables link the repository, never GitLab's file paths."""
    from tests.test_redmine_documents import documents_section

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    viewer = f'base_url = "{base_url}"\n' if base_url else ""
    config = write_config(tmp_path, extra=LOCAL_GIT + viewer + documents_section())
    tracker = FakeTracker()
    services = bootstrap(load_settings(config), tracker=tracker)
    driver = FakeCase(services, tracker)
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 9, 10, 11])
    linked = project_of_case(services.engine, driver.case().id)
    assert linked is not None
    root = tmp_path / "git"  # LOCAL_GIT's root, relative to the configuration
    _push_every_output(str(root / f"{REPO}.git"), tmp_path / "work")
    driver.walk([12, 13, 14, 15, 16])
    case = driver.case()
    assert case.status is CaseStatus.CLOSED
    parent = tracker.issues[case.redmine_issue_id or 0]
    assert sorted(name.rsplit(".", 1)[1] for name in parent.attachments
                  if name.startswith("berita-acara-")) == ["docx", "pdf"]
    [pdf] = [data for name, data in parent.attachments.items()
             if name.startswith("berita-acara-") and name.endswith(".pdf")]
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "/-/blob/" not in text
    if base_url:
        assert text.count(f"{base_url}/{REPO}.git") >= 8  # the application and its 7 outputs
    else:
        assert "file://" not in text
    home = (clone(str(root / f"{REPO}.wiki.git"), tmp_path / "wiki") / "home.md").read_text()
    assert home.count(f"http://redmine.test/issues/{case.redmine_issue_id}") == 1
    services.engine.dispose()
