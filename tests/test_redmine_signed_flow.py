"""Issue 17 in the case flow, against the real Redmine: with [signing], the documents of
steps 17 and 7 are issued for signing; the last signature attaches the verified signed PDF
to the step's subtask, and a complete signed Berita Acara closes the case.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.config.secret import Secret
from connector.handlers import handlers_for
from connector.services import Services
from connector.signing.democert import DemoCertificates, make_demo_certificates
from connector.signing.flow import sign_slot
from connector.signing.local import PyhankoSigner
from connector.signing.port import SignerIdentity
from connector.signing.verify import load_trust_roots
from connector.store import audit, jobs
from connector.store.issued import IssuedDocument, awaiting_signature
from connector.store.schema import CaseStatus
from tests.conftest import INTAKE_TOKEN, write_config
from tests.smtp_server import SmtpServer, smtp_server
from tests.test_mail_redmine import CONTACT, OPD, _of_kind
from tests.test_redmine_documents import documents_section
from tests.test_signing import pdfsig, pyhanko_statuses
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine
PASSPHRASE = "flow-passphrase-5678"
SLOTS = ("pihak_pertama", "pihak_kedua", "mengetahui", "penandatangan")
TO_16 = [2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16]
SIGNING = """
[signing]
trust_roots = "tte/ca.pem"
"""


@pytest.fixture(scope="module")
def certs() -> DemoCertificates:
    return make_demo_certificates({slot: f"Penanda Tangan {slot}" for slot in SLOTS},
                                  PASSPHRASE)


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any,
           certs: DemoCertificates) -> Iterator[CaseDriver]:
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    (tmp_path / "tte").mkdir()
    (tmp_path / "tte" / "ca.pem").write_bytes(certs.ca_pem)
    config = write_config(tmp_path, redmine_url=redmine.url,
                          extra=documents_section() + SIGNING)
    services = bootstrap(load_settings(config))
    yield CaseDriver(services, redmine, create_app(services).test_client())
    services.engine.dispose()


def _awaiting(services: Services, kind: str) -> IssuedDocument:
    found = [d for d in awaiting_signature(services.engine) if d.kind == kind]
    assert len(found) == 1, found
    return found[0]


def _sign_all(services: Services, document: IssuedDocument, certs: DemoCertificates) -> None:
    for slot in document.slots:
        sign_slot(services.engine, document.token, slot.slot,
                  signer=PyhankoSigner(certs.p12[slot.slot]),
                  identity=SignerIdentity(slot.nama, peran=slot.peran),
                  credential=Secret(PASSPHRASE), trust_roots=load_trust_roots(certs.ca_pem))


def _drain(services: Services) -> None:
    jobs.drain(services.engine, handlers_for(services), "signed-test")


def _files(driver: CaseDriver, issue_id: int) -> dict[str, Any]:
    issue = driver.api("admin").issue.get(issue_id, include=["attachments"])
    return {a.filename: a for a in issue.attachments}


def _content(driver: CaseDriver, attachment: Any) -> bytes:
    import requests

    answer = requests.get(attachment.content_url, timeout=30,
                          headers={"X-Redmine-API-Key": driver.server.admin_key})
    answer.raise_for_status()
    return answer.content


def test_a_case_ends_with_a_berita_acara_bearing_three_valid_signatures(
        driver: CaseDriver, certs: DemoCertificates, tmp_path: Path) -> None:
    driver.open()
    for step in TO_16:  # not walk(): it would acknowledge 17 by the accounts
        driver.act(step, team=("dev1", "dev2") if step == 4 else ())
        driver.sync(step)
    services = driver.services
    assert (driver.case().current_step, driver.case().status) == (17, CaseStatus.OPEN)
    document = _awaiting(services, "berita_acara")
    notes = "\n".join(str(j.notes or "") for j in driver.parent().journals)
    assert f"/dashboard/tandatangan/{document.token}" in notes
    assert f"/verifikasi/{document.token}" in notes
    assert "PIHAK PERTAMA" in notes and "Mengetahui" in notes
    _sign_all(services, document, certs)
    _drain(services)
    _drain(services)  # a redo attaches nothing twice and records nothing twice
    case = driver.case()
    assert case.status is CaseStatus.CLOSED
    seventeen = driver.step_issue(17)
    files = _files(driver, seventeen)
    signed = [name for name in files if name.endswith("-ttd.pdf")]
    assert len(signed) == 1, files
    pdf = _content(driver, files[signed[0]])
    statuses = pyhanko_statuses(pdf, certs.ca_pem)
    assert len(statuses) == 3 and all(s.bottom_line for s in statuses)
    assert pdfsig(pdf, tmp_path).count("Signature Validation: Signature is Valid.") == 3
    assert driver.remote(17).status.name == "Closed"
    assert driver.parent().status.name == "Closed"
    with services.engine.connect() as conn:
        trail = audit.list_audit(conn, case.id)
    acknowledged = {e.detail["role"]: e.actor for e in trail if e.action == "step_acknowledged"}
    assert acknowledged == {"opd_pemohon": document.slot("pihak_kedua").nama,
                            "kepala_dinas": document.slot("mengetahui").nama}


def test_a_refused_case_ends_with_a_signed_letter_on_step_7(
        driver: CaseDriver, certs: DemoCertificates) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes="Anggaran dan SDM tidak tersedia tahun ini.",
               findings=("SDM", "Anggaran"))
    driver.sync(6)
    driver.act(7)
    driver.sync(7)
    services = driver.services
    # Closing 7 issues the letter for signing: the case stays open at 7 until it is signed.
    assert (driver.case().current_step, driver.case().status) == (7, CaseStatus.OPEN)
    letter = _awaiting(services, "surat")
    seven = driver.api("admin").issue.get(driver.step_issue(7), include=["journals"])
    notes = "\n".join(str(j.notes or "") for j in seven.journals)
    assert "menunggu tanda tangan" in notes
    assert f"/dashboard/tandatangan/{letter.token}" in notes
    assert letter.slots[0].nama in notes
    assert driver.remote(7).status.name != "Closed"
    assert driver.parent().status.name != "Rejected"
    _drain(services)  # nothing signed yet: nothing moves
    assert driver.case().status is CaseStatus.OPEN
    _sign_all(services, letter, certs)
    _drain(services)
    _drain(services)  # a redo attaches nothing twice and completes nothing twice
    assert driver.case().status is CaseStatus.REJECTED
    assert driver.remote(7).status.name == "Closed"
    assert driver.parent().status.name == "Rejected"
    with services.engine.connect() as conn:
        trail = audit.list_audit(conn, driver.case().id)
    assert [e.step_from for e in trail if e.action == "step_completed"].count(7) == 1
    files = _files(driver, driver.step_issue(7))
    signed = [name for name in files if name.startswith("surat-") and name.endswith("-ttd.pdf")]
    assert len(signed) == 1, files
    statuses = pyhanko_statuses(_content(driver, files[signed[0]]), certs.ca_pem)
    assert len(statuses) == 1 and all(s.bottom_line for s in statuses)


@pytest.fixture
def mailed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any,
           certs: DemoCertificates) -> Iterator[tuple[CaseDriver, SmtpServer]]:
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    (tmp_path / "tte").mkdir()
    (tmp_path / "tte" / "ca.pem").write_bytes(certs.ca_pem)
    with smtp_server(tmp_path) as server:
        config = write_config(tmp_path, redmine_url=redmine.url, dinkes=f'email = "{OPD}"',
                              extra=documents_section() + SIGNING + server.config())
        services = bootstrap(load_settings(config))
        yield CaseDriver(services, redmine, create_app(services).test_client()), server
        services.engine.dispose()


def test_the_letter_is_mailed_signed_once_the_signature_is_in(
        mailed: tuple[CaseDriver, SmtpServer], certs: DemoCertificates) -> None:
    driver, server = mailed
    driver.open()
    driver.walk([2, 3, 4, 5])
    driver.act(6, status="Rejected", notes="Anggaran dan SDM tidak tersedia tahun ini.",
               findings=("SDM", "Anggaran"))
    driver.sync(6)
    driver.act(7)
    driver.sync(7)
    assert _of_kind(server, "surat-") == []  # nothing goes out unsigned
    _sign_all(driver.services, _awaiting(driver.services, "surat"), certs)
    _drain(driver.services)
    _drain(driver.services)
    files = _files(driver, driver.step_issue(7))
    [name] = [n for n in files if n.startswith("surat-") and n.endswith("-ttd.pdf")]
    content = _content(driver, files[name])
    _assert_mailed_to_the_opd(server, "surat-", name, content)
    assert len(server.received) == 4  # two receipts, two signed letters


def test_the_signed_berita_acara_is_mailed_once_the_case_closes(
        mailed: tuple[CaseDriver, SmtpServer], certs: DemoCertificates) -> None:
    driver, server = mailed
    driver.open()
    for step in TO_16:
        driver.act(step, team=("dev1", "dev2") if step == 4 else ())
        driver.sync(step)
    assert _of_kind(server, "berita-acara-") == []  # nothing goes out unsigned
    _sign_all(driver.services, _awaiting(driver.services, "berita_acara"), certs)
    _drain(driver.services)
    _drain(driver.services)
    assert driver.case().status is CaseStatus.CLOSED
    files = _files(driver, driver.step_issue(17))
    [name] = [n for n in files if n.startswith("berita-acara-") and n.endswith("-ttd.pdf")]
    content = _content(driver, files[name])
    _assert_mailed_to_the_opd(server, "berita-acara-", name, content)


def _assert_mailed_to_the_opd(server: SmtpServer, prefix: str, name: str,
                              content: bytes) -> None:
    """The OPD's address and the letter's contact each got the signed PDF, once."""
    mails = _of_kind(server, prefix)
    assert [r.rcpt_tos for r in mails] == [[OPD], [CONTACT]]
    for received in mails:
        [pdf] = received.message.iter_attachments()
        assert pdf.get_filename() == name and pdf.get_content() == content
