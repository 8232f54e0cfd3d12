"""Issue 7 acceptance, against the real Redmine: the documents that close a case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.handlers import handlers_for
from connector.store import jobs
from connector.store.kinds import SYNC_ISSUE
from connector.store.schema import CaseStatus
from tests.conftest import INTAKE_TOKEN, write_config
from tests.worker_process import run_worker_until_killed
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def documents_section() -> str:
    """The example configuration's [documents] tables, as an office would fill them."""
    text = EXAMPLE.read_text()
    return text[text.index("\n[documents]\n"):text.index("\n[webhooks]\n")] + "\n"


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any) -> Iterator[CaseDriver]:
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    config = write_config(tmp_path, redmine_url=redmine.url, extra=documents_section())
    services = bootstrap(load_settings(config))
    yield CaseDriver(services, redmine, create_app(services).test_client())
    services.engine.dispose()


def _attachments(driver: CaseDriver) -> list[str]:
    parent = driver.api("admin").issue.get(driver.case().redmine_issue_id,
                                           include=["attachments"])
    return sorted(a.filename for a in parent.attachments)


def test_an_accepted_case_closes_with_one_berita_acara_despite_a_kill(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15])
    driver.act(16)
    with driver.services.engine.begin() as conn:
        jobs.enqueue(conn, SYNC_ISSUE, {"issue_id": driver.step_issue(16)})
    run_worker_until_killed(driver.services.settings.source, "documents.after_render")
    assert driver.case().status is CaseStatus.OPEN  # nothing recorded yet
    # The killed worker's job lease and case lock run out; another worker takes over.
    later = lambda: datetime.now(UTC) + timedelta(hours=1)  # noqa: E731
    restarted = bootstrap(driver.services.settings, clock=later)
    jobs.drain(restarted.engine, handlers_for(restarted), "again", clock=later)
    # Drawn up, the Berita Acara waits at 17 for the OPD and the Kepala Dinas (issue 16).
    assert (driver.case().current_step, driver.case().status) == (17, CaseStatus.OPEN)
    assert "Menunggu tanda tangan" in list(driver.remote(17).journals)[-1].notes
    driver.acknowledge()
    assert driver.case().status is CaseStatus.CLOSED
    names = _attachments(driver)
    berita = [n for n in names if n.startswith("berita-acara-")]
    assert sorted(n.rsplit(".", 1)[1] for n in berita) == ["docx", "pdf"]
    seventeen = driver.remote(17)
    assert seventeen.status.name == "Closed"
    assert "Berita Acara" in list(seventeen.journals)[-1].notes or berita
    assert driver.parent().status.name == "Closed"


def test_a_refused_case_ends_rejected_with_its_report_and_letter(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes="Anggaran dan SDM tidak tersedia tahun ini.",
               findings=("SDM", "Anggaran"))
    driver.sync(6)
    driver.act(7)
    driver.sync(7)
    assert driver.case().status is CaseStatus.REJECTED
    names = _attachments(driver)
    assert len([n for n in names if n.startswith("laporan-ketidaktersediaan-")]) == 2
    assert len([n for n in names if n.startswith("surat-ketidaktersediaan-")]) == 2
