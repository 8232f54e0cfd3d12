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
