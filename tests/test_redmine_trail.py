"""Issue 15 acceptance, against the real Redmine: a record that can be trusted.

A whole case with a re-plan and a rework, step 8 on the local git host and step 17 drawn up
by the service (the demo's own settings: ``[local_git]`` with no ``base_url``): every step
credited to the person who closed it, 8 to the service and 17 to the last party to know its
Berita Acara (the service draws it up; issue 16), every transition with the
right from and to, in the audit trail, ``GET /api/cases/<id>`` and ``cases export``; a
loop's new round needs new evidence; polling the case's parent adds nothing to its trail;
the Berita Acara names the repository, the wiki, each deliverable and the team by name.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.bootstrap import bootstrap
from connector.cli import main
from connector.codehost.seeds import DOCUMENTS
from connector.config import load_settings
from connector.store import audit
from connector.store.projects import project_of_case
from connector.store.schema import CaseStatus
from connector.sync.poll import poll_once
from tests.conftest import INTAKE_TOKEN, auth, write_config
from tests.test_localgit import clone, git
from tests.test_redmine_documents import documents_section
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
LOCAL_GIT = '\n[local_git]\nroot = "git"\n'  # as the demo writes it: no base_url
SERVICE = "sop-connector"
EXPECTED = [  # (step completed, step it went to, who)
    (2, 3, "kadis"), (3, 4, "kabid"), (4, 5, "kasi"), (5, 6, "kasi"), (6, 8, "kabid"),
    (8, 9, SERVICE), (9, 10, "dev1"), (10, 11, "dev1"), (11, 9, "opd1"),
    (9, 10, "dev1"), (10, 11, "dev1"), (11, 12, "opd1"), (12, 13, "dev1"), (13, 14, "dev1"),
    (14, 12, "opd1"), (12, 13, "dev1"), (13, 14, "dev1"), (14, 15, "opd1"), (15, 16, "dev1"),
    (16, 17, "kabid"), (17, None, "kadis"),  # the last to know the Berita Acara (issue 16)
]


def test_a_replan_needs_evidence_of_its_own_round(finished: CaseDriver) -> None:
    """Step 9 closed again after 11 tidak with only the first round's plan: put back."""
    refusals = [e for e in _trail(finished) if e.action == "completion_refused"]
    assert [(e.step_from, e.actor) for e in refusals] == [(9, "dev1")]
    assert "Kelengkapan belum ada" in (refusals[0].detail or {})["reason"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, redmine: Any) -> Iterator[CaseDriver]:
    """One whole case, run once for the module's checks (each a test of its own)."""
    from webhooks import create_app

    tmp_path = tmp_path_factory.mktemp("trail")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
        monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
        config = write_config(tmp_path, redmine_url=redmine.url,
                              extra=documents_section() + LOCAL_GIT)
        services = bootstrap(load_settings(config))
        driver = CaseDriver(services, redmine, create_app(services).test_client())
        _run_case(driver, tmp_path)
        for _ in range(3):  # the poller reads the parent (and everything else) again
            poll_once(driver.services)
            driver.drain()
        yield driver
        services.engine.dispose()


def _push_every_output(url: str, work: Path) -> None:
    clone(url, work)
    for document in DOCUMENTS:
        (work / document.path).write_text(f"# {document.name}\n\nIsi lengkap.\n")
    (work / "src").mkdir()
    (work / "src/app.py").write_text("print('SI Puskesmas')\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "Dokumentasi aplikasi", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)


def _run_case(driver: CaseDriver, tmp_path: Path) -> None:
    """Letter to Berita Acara: a re-plan (11 tidak) and a rework (14 tidak)."""
    driver.open()
    driver.walk([2, 3, 4, 5, 6])  # step 8 is the service's
    driver.walk([9, 10])
    driver.act(11, status="Rejected", notes="Alur bisnis belum sesuai.")
    driver.sync(11)
    assert driver.case().current_step == 9
    # The first round's plan is still attached, but the re-plan needs the new round's:
    # put back (test_a_replan_needs_evidence_of_its_own_round), then done with a new file.
    driver.act(9, attach=False)
    driver.sync(9)
    driver.walk([9, 10, 11] if driver.case().current_step == 9 else [10, 11])
    linked = project_of_case(driver.services.engine, driver.case().id)
    assert linked is not None
    _push_every_output(linked.web_url, tmp_path / "work")
    driver.walk([12, 13])
    driver.act(14, status="Rejected", notes="Laporan pengujian belum lengkap.")
    driver.sync(14)
    assert driver.case().current_step == 12
    driver.walk([12, 13, 14, 15, 16])
    assert driver.case().status is CaseStatus.CLOSED


def _trail(driver: CaseDriver) -> list[audit.AuditEntry]:
    with driver.services.engine.connect() as conn:
        return audit.list_audit(conn, driver.case().id)


def test_the_trail_credits_every_step_and_transition_rightly(finished: CaseDriver) -> None:
    trail = _trail(finished)
    done = [(e.step_from, e.step_to, e.actor) for e in trail if e.action == "step_completed"]
    assert done == EXPECTED
    loops = [(e.step_from, e.step_to, e.actor) for e in trail if e.action == "loop"]
    assert loops == [(11, 9, "opd1"), (14, 12, "opd1")]
    closed = [(e.step_from, e.actor) for e in trail if e.action == "case_closed"]
    assert closed == [(17, "kadis")]
    # The service drew the Berita Acara up; the OPD and the Kepala Dinas knew it (issue 16).
    awaited = [(e.step_from, e.actor) for e in trail if e.action == "acknowledgement_awaited"]
    assert awaited == [(17, SERVICE), (17, "opd1")]
    known = [(e.step_from, e.actor) for e in trail if e.action == "step_acknowledged"]
    assert known == [(17, "opd1"), (17, "kadis")]


def test_the_api_and_the_export_show_the_same_credits(finished: CaseDriver) -> None:
    answer = finished.client.get(f"/api/cases/{finished.case().id}", headers=auth())
    timeline = answer.get_json()["timeline"]
    assert [(e["step_from"], e["step_to"], e["actor"]) for e in timeline
            if e["action"] == "step_completed"] == EXPECTED
    config = finished.services.settings.source
    exported = CliRunner().invoke(main, ["cases", "export", "--config", str(config)])
    assert exported.exit_code == 0, exported.output
    key = finished.case().case_key  # the export holds every case of the store
    rows = [r for r in csv.DictReader(io.StringIO(exported.output))
            if r["action"] == "step_completed" and r["case_key"] == key]
    assert [(int(r["step_from"]), int(r["step_to"]) if r["step_to"] else None, r["actor"])
            for r in rows] == EXPECTED


def test_polling_the_case_parent_adds_nothing_to_its_trail(finished: CaseDriver) -> None:
    assert [e.action for e in _trail(finished) if e.action.startswith("intake")] == []


def _berita_acara_text(driver: CaseDriver) -> str:
    parent = driver.api("admin").issue.get(driver.case().redmine_issue_id,
                                           include=["attachments"])
    [pdf] = [a for a in parent.attachments
             if a.filename.startswith("berita-acara-") and a.filename.endswith(".pdf")]
    folder = driver.services.settings.source.parent
    content = pdf.download(savepath=str(folder), filename="ba.pdf")
    return subprocess.run(["pdftotext", "-layout", content, "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_berita_acara_names_the_repository_wiki_and_deliverables(
        finished: CaseDriver) -> None:
    """The demo's setting ([local_git], no base_url): where the work is, named."""
    text = _berita_acara_text(finished)
    compact = "".join(text.split())  # a long path may wrap in its table cell
    application = compact[compact.index("A.Aplikasi"):compact.index("B.Hasilpekerjaan")]
    assert "/si-puskesmas.git" in application and "/si-puskesmas.wiki.git" in application, text
    assert ":-" not in application, text
    deliverables = compact[compact.index("B.Hasilpekerjaan"):compact.index("C.Pelaksanaan")]
    for document in DOCUMENTS:
        assert f"si-puskesmas.git:{document.path}" in deliverables, (document, text)
    assert "Aplikasisi-puskesmas.git" in deliverables, text


def test_the_berita_acara_names_the_team_by_name(finished: CaseDriver) -> None:
    text = _berita_acara_text(finished)
    team = text[text.index("D. Tim Pengembang"):text.index("Demikian")]
    assert "Pengembang Satu" in team and "Pengembang Dua" in team
    assert "dev1" not in team and "dev2" not in team
