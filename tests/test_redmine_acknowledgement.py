"""Issue 16 items 1 and 2 against the real Redmine: step 17 stays open until the OPD and the
Kepala Dinas know the Berita Acara, each by their own account; without [documents], steps 7
and 17 are not closed with nothing attached.

The configuration has no [documents]: the Tim Pengembang draws the Berita Acara up and
attaches it; ``opd1`` is DINKES's own account, ``kadis`` the Kepala Dinas.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.services import Services
from connector.store import audit
from connector.store.schema import CaseStatus
from tests.conftest import INTAKE_TOKEN, write_config
from tests.dashboard_forms import post_form
from tests.test_dashboard import DASHBOARD, TOKEN, make_app
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
TO_16 = [2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16]


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any) -> Iterator[Services]:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_TEST_DASHBOARD_TOKEN", TOKEN)
    monkeypatch.setenv("SOP_TEST_SESSION_SECRET", "session-secret-for-tests-0123456789")
    config = write_config(tmp_path, redmine_url=redmine.url,
                          extra=DASHBOARD.format(redmine_login="false"))
    built = bootstrap(load_settings(config))
    assert built.settings.documents is None
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(services: Services, redmine: Any) -> CaseDriver:
    return CaseDriver(services, redmine, make_app(services).test_client())


@pytest.fixture
def dashboard(driver: CaseDriver) -> FlaskClient:
    client = make_app(driver.services).test_client()
    answer = post_form(client, "/dashboard/masuk", {"token": TOKEN, "next": "/dashboard"})
    assert answer.status_code == 302
    return client


def _trail(driver: CaseDriver, action: str) -> list[audit.AuditEntry]:
    with driver.services.engine.connect() as conn:
        return [e for e in audit.list_audit(conn, driver.case().id) if e.action == action]


def _last_note(driver: CaseDriver, step: int) -> str:
    return str(list(driver.remote(step).journals)[-1].notes or "")


def _parties(html: str) -> dict[str, str]:
    """Each party's line of the "Berita Acara" list on a dashboard page."""
    import re

    return {party: re.sub(r"<[^>]+>", "", line).strip() for party, line in
            re.findall(r'<li data-party="([^"]+)">(.*?)</li>', html, flags=re.S)}


def test_step_17_waits_for_both_acknowledgements_by_the_right_accounts(
        driver: CaseDriver, dashboard: FlaskClient) -> None:
    driver.open()
    driver.walk(TO_16)
    case = driver.case()
    assert (case.current_step, case.status) == (17, CaseStatus.OPEN)

    # Without [documents]: closing 17 with nothing attached is refused.
    driver.act(17, attach=False)
    driver.sync(17)
    assert driver.remote(17).status.name == "In Progress"
    assert "Kelengkapan belum ada" in _last_note(driver, 17)
    assert driver.awaiting() is None

    # The Berita Acara attached: the step stays open, held by the OPD, "menunggu tanda tangan".
    driver.act(17, attach=True)
    driver.sync(17)
    seventeen = driver.remote(17)
    assert seventeen.status.name == "In Progress"
    assert seventeen.assigned_to.id == driver.user_id("opd1")
    assert "Menunggu tanda tangan" in _last_note(driver, 17)
    assert driver.case().status is CaseStatus.OPEN
    assert driver.parent().status.name != "Closed"
    parent_notes = " ".join(j.notes or "" for j in driver.parent().journals)
    assert "menunggu tanda tangan" in parent_notes
    assert driver.awaiting() == {}
    [waiting] = _trail(driver, "acknowledgement_awaited")
    assert waiting.actor == "dev1" and waiting.detail is not None
    assert waiting.detail["pending"] == ["opd_pemohon", "kepala_dinas"]
    assert waiting.detail["due"] is not None  # [sla] pengesahan_hari_kerja, 5 by default

    page = dashboard.get(f"/dashboard/cases/{driver.case().id}").get_data(as_text=True)
    assert "Menunggu tanda tangan" in page
    assert _parties(page) == {"OPD/pemohon": "OPD/pemohon: belum",
                              "Kepala Dinas": "Kepala Dinas: belum"}

    # A wrong account is refused: the developer, and an override would be too.
    driver.act(17, "dev1", attach=False)
    driver.sync(17)
    assert driver.remote(17).status.name == "In Progress"
    assert "menunggu tanda tangan dari" in _last_note(driver, 17)
    assert _trail(driver, "step_acknowledged") == []

    # The OPD knows it, by its own account: the step waits for the Kepala Dinas.
    driver.act(17, "opd1", attach=False, notes="Mengetahui.")
    driver.sync(17)
    seventeen = driver.remote(17)
    assert seventeen.status.name == "In Progress"
    assert seventeen.assigned_to.id == driver.user_id("kadis")
    assert driver.case().status is CaseStatus.OPEN
    listing = dashboard.get("/dashboard").get_data(as_text=True)
    assert "Menunggu tanda tangan" in listing
    lines = _parties(listing)
    assert lines["OPD/pemohon"].startswith("OPD/pemohon: sudah mengetahui (opd1,")
    assert lines["Kepala Dinas"] == "Kepala Dinas: belum"

    # The OPD again is no second acknowledgement.
    driver.act(17, "opd1", attach=False)
    driver.sync(17)
    assert "Sudah diketahui: OPD/pemohon (opd1)" in _last_note(driver, 17)

    driver.act(17, "kadis", attach=False)
    driver.sync(17)
    assert driver.case().status is CaseStatus.CLOSED
    assert driver.parent().status.name == "Closed"
    assert driver.remote(17).status.name == "Closed"
    known = [(e.actor, (e.detail or {})["role"]) for e in _trail(driver, "step_acknowledged")]
    assert known == [("opd1", "opd_pemohon"), ("kadis", "kepala_dinas")]
    journals = {j.id: j for j in driver.remote(17).journals}
    for entry in _trail(driver, "step_acknowledged"):  # each one the party's own journal
        assert entry.journal_id in journals
        assert journals[entry.journal_id].user.id == driver.user_id(entry.actor)
    [done] = [e for e in _trail(driver, "step_completed") if e.step_from == 17]
    assert done.actor == "kadis"
    page = dashboard.get(f"/dashboard/cases/{driver.case().id}").get_data(as_text=True)
    assert "Menunggu tanda tangan" not in page
    lines = _parties(page)
    assert lines["OPD/pemohon"].startswith("OPD/pemohon: sudah mengetahui (opd1,")
    assert lines["Kepala Dinas"].startswith("Kepala Dinas: sudah mengetahui (kadis,")


def test_without_documents_step_7_is_not_closed_with_nothing_attached(
        driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes="Anggaran TA 2026 tidak tersedia.",
               findings=("Anggaran",))
    driver.sync(6)
    assert driver.case().current_step == 7
    driver.act(7, attach=False)
    driver.sync(7)
    assert driver.case().status is CaseStatus.OPEN
    assert driver.remote(7).status.name == "In Progress"
    note = _last_note(driver, 7)
    assert "Kelengkapan belum ada" in note and "Laporan ketidaktersediaan" in note
    driver.act(7, attach=True)
    driver.sync(7)
    assert driver.case().status is CaseStatus.REJECTED
