"""Issue 17, item 4, against the real Redmine and a real SMTP server (aiosmtpd).

The receipt when the case is opened, the letter to the OPD when step 7 is completed (a
refused case) and the Berita Acara at step 17 (an accepted case), each PDF attached to the
mail exactly as it is attached to the case in Redmine, each once per recipient.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.store import mail as outbox
from connector.store.schema import MailState
from tests.conftest import INTAKE_TOKEN, write_config
from tests.smtp_server import Received, SmtpServer, smtp_server
from tests.test_redmine_documents import documents_section
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
OPD = "sekretariat@dinkes.sumbawakab.go.id"
CONTACT = "siti@dinkes.sumbawakab.go.id"


@pytest.fixture
def mailed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any
           ) -> Iterator[tuple[CaseDriver, SmtpServer]]:
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    with smtp_server(tmp_path) as server:
        config = write_config(tmp_path, redmine_url=redmine.url, dinkes=f'email = "{OPD}"',
                              extra=documents_section() + server.config())
        services = bootstrap(load_settings(config))
        yield CaseDriver(services, redmine, create_app(services).test_client()), server
        services.engine.dispose()


def _of_kind(server: SmtpServer, prefix: str) -> list[Received]:
    return sorted((r for r in server.received
                   if any(p.get_filename("").startswith(prefix)
                          for p in r.message.iter_attachments())),
                  key=lambda r: r.rcpt_tos)


def _attached(driver: CaseDriver, prefix: str) -> tuple[str, bytes]:
    parent = driver.api("admin").issue.get(driver.case().redmine_issue_id,
                                           include=["attachments"])
    [found] = [a for a in parent.attachments
               if a.filename.startswith(prefix) and a.filename.endswith(".pdf")]
    content = driver.api("admin").download(found.content_url).content
    return str(found.filename), bytes(content)


def test_the_receipt_goes_out_once_when_the_case_is_opened(
        mailed: tuple[CaseDriver, SmtpServer]) -> None:
    driver, server = mailed
    driver.open()
    assert sorted(r.rcpt_tos[0] for r in server.received) == [OPD, CONTACT]
    assert all(driver.key in str(r.message["Subject"]) for r in server.received)
    status_url = f"http://sop.test/api/cases/{driver.case().id}"
    assert all(status_url in r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
               for r in server.received)
    driver.drain()
    assert len(server.received) == 2


def test_a_refused_case_mails_the_letter_to_the_opd_with_its_pdf(
        mailed: tuple[CaseDriver, SmtpServer]) -> None:
    driver, server = mailed
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes="Anggaran dan SDM tidak tersedia tahun ini.",
               findings=("SDM", "Anggaran"))
    driver.sync(6)
    driver.act(7)
    driver.sync(7)
    name, content = _attached(driver, "surat-ketidaktersediaan-")
    letters = _of_kind(server, "surat-ketidaktersediaan-")
    assert [r.rcpt_tos for r in letters] == [[OPD], [CONTACT]]
    for received in letters:
        [pdf] = received.message.iter_attachments()
        assert pdf.get_filename() == name and pdf.get_content_type() == "application/pdf"
        assert pdf.get_content() == content
    assert len(server.received) == 4  # two receipts, two letters; no laporan is mailed
    rows = outbox.list_mail(driver.services.engine, case_id=driver.case().id)
    assert {r.state for r in rows} == {MailState.SENT}
    driver.sync(7)
    assert len(server.received) == 4


@pytest.mark.slow
def test_an_accepted_case_mails_the_berita_acara_with_its_pdf(
        mailed: tuple[CaseDriver, SmtpServer]) -> None:
    driver, server = mailed
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16])
    name, content = _attached(driver, "berita-acara-")
    documents = _of_kind(server, "berita-acara-")
    assert [r.rcpt_tos for r in documents] == [[OPD], [CONTACT]]
    for received in documents:
        [pdf] = received.message.iter_attachments()
        assert pdf.get_filename() == name and pdf.get_content() == content
        assert "Berita Acara" in str(received.message["Subject"])
    assert len(server.received) == 4
