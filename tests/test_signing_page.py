"""The signing pages (issue 17): a signer signs in with their Redmine account, sees their
queue, and signs their own block with their passphrase; a wrong one keeps nothing and is
never shown or logged."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
from flask.testing import FlaskClient

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.documents.issue import draw_up_for_signing
from connector.documents.model import DocumentKind
from connector.services import Services
from connector.signing.democert import make_demo_certificates
from connector.store.issued import IssuedDocument, get_issued
from tests.conftest import write_config
from tests.dashboard_forms import post_form
from tests.fakes import FakeTracker
from tests.test_documents_render import berita_acara, office
from tests.test_signing import pyhanko_statuses
from webhooks import create_app

PASSPHRASE = {"kasi": "p12-kasi-secret-1", "opd1": "p12-opd1-secret-2",
              "kadis": "p12-kadis-secret-3"}
PASSWORD = {login: f"redmine-{login}" for login in PASSPHRASE}
REDMINE_ME = "http://redmine.test/users/current.json"
CONFIG = """
[dashboard]
session_secret_env = "SOP_TEST_SESSION_SECRET"
redmine_login = true

[signing]
trust_roots = "tte/ca.pem"

[signing.p12]
kasi = "tte/kasi.p12"
opd1 = "tte/opd1.p12"
kadis = "tte/kadis.p12"
"""


@pytest.fixture
def services(tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("SOP_TEST_SESSION_SECRET", "session-secret-for-tests-0123456789")
    (tmp_path / "tte").mkdir()
    for login, passphrase in PASSPHRASE.items():
        made = make_demo_certificates({login: f"Sertifikat {login}"}, passphrase)
        (tmp_path / "tte" / f"{login}.p12").write_bytes(made.p12[login])
        with (tmp_path / "tte" / "ca.pem").open("ab") as roots:
            roots.write(made.ca_pem)
    built = bootstrap(load_settings(write_config(tmp_path, extra=CONFIG)),
                      tracker=FakeTracker())
    yield built
    built.engine.dispose()


@pytest.fixture
def document(services: Services) -> IssuedDocument:
    settings = office()
    return draw_up_for_signing(services.engine, DocumentKind.BERITA_ACARA,
                               berita_acara(settings), settings, base_url="http://sop.test")


def _stub_redmine() -> None:
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        for login, password in PASSWORD.items():
            right = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()
            if request.headers.get("Authorization") == right:
                return 200, {}, f'{{"user": {{"id": 5, "login": "{login}"}}}}'
        return 401, {}, ""
    responses.add_callback(responses.GET, REDMINE_ME, callback=answer)


def signed_in(services: Services, login: str) -> FlaskClient:
    client = create_app(services).test_client()
    answer = post_form(client, "/dashboard/masuk", {"login": login, "password": PASSWORD[login],
                                                    "next": "/dashboard/tandatangan"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def sign(client: FlaskClient, token: str, slot: str, passphrase: str) -> tuple[int, str]:
    answer = post_form(client, f"/dashboard/tandatangan/{token}",
                       {"slot": slot, "passphrase": passphrase})
    return answer.status_code, answer.get_data(as_text=True)


@responses.activate
def test_each_signer_signs_their_own_block_in_turn(services: Services,
                                                   document: IssuedDocument) -> None:
    _stub_redmine()
    for count, (login, slot) in enumerate((("kasi", "pihak_pertama"), ("opd1", "pihak_kedua"),
                                           ("kadis", "mengetahui")), 1):
        client = signed_in(services, login)
        queue = client.get("/dashboard/tandatangan").get_data(as_text=True)
        peran = document.slot(slot).peran
        assert re.search(rf"<strong>{peran}</strong>", queue), queue
        page = client.get(f"/dashboard/tandatangan/{document.token}").get_data(as_text=True)
        assert page.count('name="passphrase"') == 1  # only their own block has a form
        status, page = sign(client, document.token, slot, PASSPHRASE[login])
        assert status == 200, page
        assert f"({count} dari 3)" in page and PASSPHRASE[login] not in page
    kept = get_issued(services.engine, document.token)
    assert kept is not None and not kept.unsigned_slots
    ca = (Path(services.settings.signing.trust_roots)).read_bytes()  # type: ignore[union-attr]
    statuses = pyhanko_statuses(kept.pdf, ca)
    assert len(statuses) == 3 and all(s.bottom_line for s in statuses)
    assert "Tidak ada dokumen yang menunggu" in signed_in(services, "kasi").get(
        "/dashboard/tandatangan").get_data(as_text=True)


@responses.activate
def test_a_wrong_passphrase_keeps_nothing_and_is_never_shown_or_logged(
        services: Services, document: IssuedDocument, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    _stub_redmine()
    caplog.set_level(logging.DEBUG)
    client = signed_in(services, "kasi")
    wrong = "passphrase-yang-salah-XYZ"
    status, page = sign(client, document.token, "pihak_pertama", wrong)
    assert status == 422 and "Passphrase sertifikat salah" in page
    assert wrong not in page and wrong not in caplog.text
    assert wrong.encode() not in (tmp_path / "store.db").read_bytes()
    kept = get_issued(services.engine, document.token)
    assert kept is not None and not kept.signatures and kept.pdf == document.pdf


@responses.activate
def test_a_signer_cannot_sign_another_block(services: Services,
                                            document: IssuedDocument) -> None:
    _stub_redmine()
    client = signed_in(services, "kasi")
    status, page = sign(client, document.token, "mengetahui", PASSPHRASE["kasi"])
    assert status == 403 and "tidak berwenang" in page
    status, page = sign(client, document.token, "pihak_pertama", "")
    assert status == 400
    answer = client.post(f"/dashboard/tandatangan/{document.token}",
                         data={"slot": "pihak_pertama", "passphrase": PASSPHRASE["kasi"]})
    assert answer.status_code == 403  # no CSRF token
    kept = get_issued(services.engine, document.token)
    assert kept is not None and not kept.signatures


def test_the_signing_pages_need_a_sign_in(services: Services, document: IssuedDocument) -> None:
    client = create_app(services).test_client()
    for answer in (client.get("/dashboard/tandatangan"),
                   client.get(f"/dashboard/tandatangan/{document.token}"),
                   client.post(f"/dashboard/tandatangan/{document.token}",
                               data={"slot": "pihak_pertama", "passphrase": "x"})):
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/dashboard/masuk")
    kept = get_issued(services.engine, document.token)
    assert kept is not None and not kept.signatures


# --- through BSrE (tests/bsre_standin.py) ---------------------------------------------------

BSRE_CONFIG = """
[dashboard]
session_secret_env = "SOP_TEST_SESSION_SECRET"
redmine_login = true

[signing]
trust_roots = "bsre-ca.pem"
provider = "bsre"
bsre_url = "{url}"
bsre_client_id = "{client}"
bsre_client_secret_env = "SOP_TEST_BSRE_SECRET"
bsre_totp = {totp}

[signing.nik]
kasi = "5204010101800001"
"""


def bsre_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  totp: bool) -> tuple[Services, bytes]:
    """Services signing through BSrE, and the PKCS#12 the stand-in signs with for kasi."""
    from tests.bsre_standin import BASE, CLIENT_ID, CLIENT_SECRET, P12_PASSPHRASE

    monkeypatch.setenv("SOP_TEST_SESSION_SECRET", "session-secret-for-tests-0123456789")
    monkeypatch.setenv("SOP_TEST_BSRE_SECRET", CLIENT_SECRET)
    made = make_demo_certificates({"kasi": "Kasi di BSrE"}, P12_PASSPHRASE,
                                  organisation="BSrE uji")
    (tmp_path / "bsre-ca.pem").write_bytes(made.ca_pem)
    extra = BSRE_CONFIG.format(url=BASE, client=CLIENT_ID, totp=str(totp).lower())
    built = bootstrap(load_settings(write_config(tmp_path, extra=extra)), tracker=FakeTracker())
    return built, made.p12["kasi"]


@pytest.mark.parametrize("totp", [False, True])
@responses.activate
def test_bsre_through_the_page_wrong_then_right(
        tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, totp: bool) -> None:
    from tests.bsre_standin import BsreStandIn, StandInUser

    caplog.set_level(logging.DEBUG)
    services, p12 = bsre_services(tmp_path, monkeypatch, totp)
    stand_in = BsreStandIn({"5204010101800001": StandInUser(
        "5204010101800001", "bsre-pass-kasi-ok", p12, totp="731904")})
    stand_in.install(responses.mock)
    _stub_redmine()
    settings = office()
    doc = draw_up_for_signing(services.engine, DocumentKind.BERITA_ACARA,
                              berita_acara(settings), settings, base_url="http://sop.test")
    client = signed_in(services, "kasi")
    page = client.get(f"/dashboard/tandatangan/{doc.token}").get_data(as_text=True)
    assert ("Kirim TOTP" in page) is totp
    if totp:
        answer = post_form(client, f"/dashboard/tandatangan/{doc.token}/totp",
                           {"slot": "pihak_pertama"})
        assert answer.status_code == 200 and "TOTP telah diminta" in answer.get_data(
            as_text=True)
        assert stand_in.requests_seen[-1] == {"nik": "5204010101800001", "data": 1}
    wrong = "salah-991122-rahasia"
    status, page = sign(client, doc.token, "pihak_pertama", wrong)
    assert status == 422 and "salah" in page and wrong not in page
    sent = stand_in.requests_seen[-1]
    assert sent[("totp" if totp else "passphrase")] == wrong
    kept = get_issued(services.engine, doc.token)
    assert kept is not None and not kept.signatures
    status, page = sign(client, doc.token, "pihak_pertama",
                        "731904" if totp else "bsre-pass-kasi-ok")
    assert status == 200 and "(1 dari 3)" in page, page
    assert wrong not in caplog.text and "bsre-pass-kasi-ok" not in caplog.text
    services.engine.dispose()
