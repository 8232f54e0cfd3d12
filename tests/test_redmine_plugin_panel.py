"""Issue 13: the SOP panel on a case's and a step's Redmine page, fed by the service."""

from __future__ import annotations

import html
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.services import Services
from connector.store import cases
from tests.conftest import INTAKE_TOKEN, auth
from tests.plugin_service import SECRET, plugin_config, serving
from tests.redmine_plugin import configure_plugin, signed_in
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
PANEL = "SOP Layanan Permohonan Pembuatan Aplikasi"


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             plugin_redmine: Any) -> Iterator[Services]:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", plugin_redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_TEST_PLUGIN_SECRET", SECRET)
    built = bootstrap(load_settings(plugin_config(tmp_path, plugin_redmine)))
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(services: Services, plugin_redmine: Any) -> CaseDriver:
    from webhooks import create_app

    return CaseDriver(services, plugin_redmine, create_app(services).test_client())


def _page(driver: CaseDriver, issue_id: int, login: str = "kadis") -> tuple[str, float]:
    web = signed_in(driver.server, login)
    started = time.monotonic()
    answer = web.get(f"{driver.server.url}/issues/{issue_id}", timeout=30)
    assert answer.status_code == 200
    text, start = html.unescape(answer.text), answer.text.find('class="sop-connector-panel"')
    panel = html.unescape(answer.text[start:answer.text.find("</div>", start)]) \
        if start >= 0 else ""
    assert "Redmine" in text
    return panel, time.monotonic() - started


def test_the_endpoint_wants_the_plugin_secret_and_a_case_issue(driver: CaseDriver) -> None:
    driver.open()
    url = f"/api/redmine/issues/{driver.step_issue(2)}/panel"
    assert driver.client.get(url).status_code == 401
    assert driver.client.get(url, headers=auth("wrong-secret")).status_code == 401
    assert driver.client.get("/api/redmine/issues/999999/panel",
                             headers=auth(SECRET)).status_code == 404
    data = driver.client.get(url, headers=auth(SECRET)).get_json()
    assert data["current"]["step"] == 2 and data["current"]["holders"] == ["kadis"]
    assert data["current"]["due_on"] and isinstance(data["current"]["hari_kerja_left"], int)
    assert data["step"]["on_complete"].startswith("langkah 3 (")


def test_a_step_and_its_case_show_the_sop_panel(driver: CaseDriver,
                                                plugin_redmine: Any) -> None:
    driver.open()
    driver.walk([2])
    with serving(driver.services) as url:
        configure_plugin(plugin_redmine, service_url=url, secret=SECRET)
        step_page, _ = _page(driver, driver.step_issue(3), "kabid")
        case_page, _ = _page(driver, driver.case().redmine_issue_id or 0, "kabid")
    three, four = driver.services.sop.step(3), driver.services.sop.step(4)
    for page in (step_page, case_page):
        assert PANEL in page
        assert f"3. {three.title}" in page
        assert "Kepala Bidang TI: kabid" in page or f"{three.role.label}: kabid" in page
        assert "<th>Batas waktu</th>" in page and "<th>Putaran</th>" in page, page
        assert "Lihat kasus di dasbor sop-connector" in page
        assert f"/dashboard/cases/{driver.case().id}" in page
    assert (f"Bila langkah 3 diselesaikan</th><td>langkah 4 ({four.title}), untuk "
            f"{four.role.label}: kasi") in step_page
    assert "Bila langkah" not in case_page


def test_the_due_date_and_hari_kerja_left_show_on_the_active_step(driver: CaseDriver,
                                                                 plugin_redmine: Any) -> None:
    driver.open()
    with serving(driver.services) as url:
        configure_plugin(plugin_redmine, service_url=url, secret=SECRET)
        page, _ = _page(driver, driver.step_issue(2))
    with driver.services.engine.connect() as conn:
        [step] = cases.list_case_steps(conn, driver.case().id, only=2)
    assert step.due_on is not None
    assert f"<th>Batas waktu</th><td>{step.due_on.isoformat()} (sisa " in page


def test_with_the_service_down_the_panel_says_so_and_the_page_is_fast(
        driver: CaseDriver, plugin_redmine: Any) -> None:
    """A hung service costs one panel timeout (1 s) once, then nothing: measured against the
    same kind of page with the service up, in the same run, so a loaded machine slows both."""
    driver.open()
    with serving(driver.services) as url:
        configure_plugin(plugin_redmine, service_url=url, secret=SECRET)
        _page(driver, driver.case().redmine_issue_id)  # warm
        _, usual = _page(driver, driver.case().redmine_issue_id)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)  # accepts, never answers: a hung service
        configure_plugin(plugin_redmine, service_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
                         secret=SECRET)
        page, seconds = _page(driver, driver.step_issue(2))
        again, again_seconds = _page(driver, driver.step_issue(2))
    assert "Layanan sop-connector tidak tersedia saat ini" in page
    assert "Layanan sop-connector tidak tersedia saat ini" in again
    assert seconds < usual + 1.5  # one short timeout
    assert again_seconds < usual + 0.5  # then remembered: no second wait
