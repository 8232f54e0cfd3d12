"""Issue 5 end to end: the real Redmine, and the GitLab adapter under ``responses``.

A case goes through step 8 (provisioned by the service in GitLab), is planned and approved,
and at step 12 the deliverables gate first refuses (the seeded templates are untouched),
then allows once the team has written the documents and the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import responses

from connector.bootstrap import bootstrap
from connector.codehost.seeds import DOCUMENTS
from connector.config import load_settings
from connector.documents.model import BeritaAcara
from connector.sop.model import DocumentKind
from connector.store import cases
from connector.store.projects import project_of_case
from connector.store.schema import CaseStatus
from connector.workflow import paperwork
from connector.workflow.automation import subproject_identifier
from connector.workflow.state import case_view
from tests.conftest import INTAKE_TOKEN, write_config
from tests.gitlab_stubs import (
    GITLAB_CONFIG,
    GROUP,
    HOOK_URL,
    ROUTES,
    FakeGitLab,
    valid_project_name,
    wiki_json,
)
from tests.test_redmine_documents import documents_section
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
GITLAB = GITLAB_CONFIG
HOOK_SECRET = "hook-secret-0123456789"
API_DOC = "docs/dokumentasi-api.md"


@pytest.fixture
def gitlab_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                redmine: Any) -> Iterator[tuple[CaseDriver, FakeGitLab]]:
    from webhooks import create_app

    for name, value in {"SOP_TEST_REDMINE_KEY": redmine.admin_key,
                        "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN,
                        "SOP_TEST_GITLAB_TOKEN": "glpat-test-token",
                        "SOP_TEST_GITLAB_HOOK": "hook-secret-0123456789"}.items():
        monkeypatch.setenv(name, value)
    services = bootstrap(load_settings(write_config(
        tmp_path, redmine_url=redmine.url, extra=GITLAB + documents_section())))
    fake = FakeGitLab(users=("dev1", "dev2", "kasi"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(redmine.url)
        fake.install(rsps, ROUTES)
        yield CaseDriver(services, redmine, create_app(services).test_client()), fake
    services.engine.dispose()


def _fill_deliverables(fake: FakeGitLab, pid: int) -> None:
    """The team writes the documents (the API's in the wiki) and the code, and pushes."""
    files = {document.path: f"# {document.name}\n\nIsi lengkap.\n" for document in DOCUMENTS
             if document.path != API_DOC}
    files["src/app.py"] = "print('SI Puskesmas')\n"
    fake.commit(pid, "Dokumentasi dan kode aplikasi", files)
    fake.wikis[pid]["Dokumentasi API"] = wiki_json("Dokumentasi API", "# API\n\nGET /x\n")


def _berita_acara_links(driver: CaseDriver) -> dict[str, str | None]:
    """The deliverables' links of the case's Berita Acara, as it is drawn up."""
    services, case = driver.services, driver.case()
    assert services.settings.documents is not None
    with services.engine.connect() as conn:
        view = case_view(conn, case, services.calendar)
    [(_, berita_acara)] = paperwork.build(services, services.settings.documents, case, view,
                                          (DocumentKind.BERITA_ACARA,), date(2026, 12, 7),
                                          preview=True)
    assert isinstance(berita_acara, BeritaAcara)
    return {d.nama: d.link for d in berita_acara.deliverables}


def test_step_8_provisions_gitlab_and_the_gate_refuses_then_allows(
        gitlab_case: tuple[CaseDriver, FakeGitLab]) -> None:
    driver, fake = gitlab_case
    driver.open()
    driver.walk([2, 3, 4, 5, 6])
    case = driver.case()
    assert case.current_step == 9
    project = fake.only_project()
    assert project["path_with_namespace"] == f"{GROUP}/si-puskesmas"
    eight = driver.remote(8)
    assert eight.status.name == "Closed"
    assert project["web_url"] in list(eight.journals)[-1].notes
    linked = project_of_case(driver.services.engine, case.id)
    assert linked is not None and linked.project_id == project["id"]
    assert {m["username"] for m in fake.members[project["id"]].values()} >= {"dev1", "dev2"}
    assert [h["url"] for h in fake.hooks[project["id"]]] == [HOOK_URL]
    identifier = subproject_identifier(case)
    api = driver.api("admin")
    sub = api.project.get(identifier, include=["trackers"])
    assert sub.parent.id == api.project.get("permohonan-aplikasi").id
    logins = {api.user.get(m.user.id).login for m in api.project_membership.filter(
        project_id=identifier) if hasattr(m, "user")}
    assert logins == {"dev1", "dev2", "kasi"}
    parent_notes = " ".join(j.notes or "" for j in driver.parent().journals)
    assert project["web_url"] in parent_notes and identifier in parent_notes

    driver.walk([9, 10, 11])
    [twelve] = cases.list_case_steps(driver.services.engine, case.id, only=12)
    [milestone] = fake.milestones[project["id"]]
    assert twelve.due_on is not None and milestone["due_date"] == twelve.due_on.isoformat()
    [version] = api.version.filter(project_id=identifier)
    assert version.name == "Pengembangan Aplikasi" and version.due_date == twelve.due_on

    driver.act(12)
    driver.sync(12)
    refused = driver.remote(12)
    assert refused.status.name == "In Progress"
    assert "Deliverable belum lengkap" in list(refused.journals)[-1].notes
    assert driver.case().current_step == 12

    _fill_deliverables(fake, project["id"])
    driver.act(12)
    driver.sync(12)
    assert driver.case().current_step == 13
    assert len(fake.projects) == 1  # nothing provisioned twice along the way

    driver.walk([13, 14, 15, 16])
    assert driver.case().status is CaseStatus.CLOSED
    home = fake.wikis[project["id"]]["home"]["content"]
    assert f"{driver.server.url}/issues/{case.redmine_issue_id}" in home

    web = project["web_url"]
    links = _berita_acara_links(driver)
    assert links["Dokumentasi API"] == f"{web}/-/wikis/Dokumentasi-API"  # found in the wiki
    assert links["Petunjuk Instalasi"] == f"{web}/-/blob/main/docs/petunjuk-instalasi.md"
    assert links["Aplikasi"] == web

    # GitLab delivers the service's own writes (the Beranda's link): without
    # service_username, the user learned from GET /user makes them ignored.
    assert driver.services.settings.gitlab is not None
    assert driver.services.settings.gitlab.service_username == ""
    assert fake.deliveries
    for _, event, body in fake.deliveries:
        answer = driver.client.post("/webhooks/gitlab", json=body, headers={
            "X-Gitlab-Event": event, "X-Gitlab-Token": HOOK_SECRET})
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json() == {"ignored": "caused by the service's own GitLab user"}


def test_hostile_and_clashing_application_names_still_close_step_8(
        gitlab_case: tuple[CaseDriver, FakeGitLab]) -> None:
    """GitLab refuses parentheses, slashes and quotes in a project name; none stalls step 8."""
    driver, fake = gitlab_case
    names = ["e-Kinerja ASN / 2027", 'Aplikasi "Sijaka"', "1000 Hari Pertama Kehidupan",
             *["Sistem Informasi Puskesmas (SIMPUS)"] * 3]  # the last name clashes twice
    for name in names:
        driver.open(nama_aplikasi=name)
        driver.walk([2, 3, 4, 5, 6])
        assert driver.remote(8).status.name == "Closed", name
        assert driver.case().current_step == 9
    made = sorted((p["path"], p["name"]) for p in fake.projects.values())
    assert made == [
        ("1000-hari-pertama-kehidupan", "1000 Hari Pertama Kehidupan"),
        ("aplikasi-sijaka", "Aplikasi Sijaka"),
        ("e-kinerja-asn-2027", "e-Kinerja ASN 2027"),
        ("sistem-informasi-puskesmas-simpus", "Sistem Informasi Puskesmas SIMPUS"),
        ("sistem-informasi-puskesmas-simpus-2", "Sistem Informasi Puskesmas SIMPUS - 2"),
        ("sistem-informasi-puskesmas-simpus-3", "Sistem Informasi Puskesmas SIMPUS - 3")]
    assert all(valid_project_name(name) for _, name in made)
    descriptions = [p["description"] for p in fake.projects.values()]
    for name in set(names):  # the full name, readable in GitLab's description
        assert sum(name in text for text in descriptions) == names.count(name), name
