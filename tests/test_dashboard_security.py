"""Issue 20, dashboard findings 6, 7 and 9 and the scope of an OPD's technical team.

Through Flask's client over the three cases of ``test_dashboard`` (two of DINKES, one of
BAPPEDA); Redmine is stubbed with ``responses`` here, the real one is in
``test_dashboard_redmine``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from flask.testing import FlaskClient

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.services import Services
from tests.conftest import write_config
from tests.dashboard_forms import csrf_of, post_form
from tests.fakes import FakeTracker
from tests.test_dashboard import DASHBOARD, NOV_30, REDMINE_ME, TOKEN, ids, make_app
from tests.test_reporting import build_bappeda, build_puskesmas, build_refused

PROJECT = "http://redmine.test/projects/permohonan-aplikasi.json"


@pytest.fixture
def services(tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The three cases; DINKES's technical team is opd1 and dinkes2, BAPPEDA's is opd1."""
    monkeypatch.setenv("SOP_TEST_DASHBOARD_TOKEN", TOKEN)
    monkeypatch.setenv("SOP_TEST_SESSION_SECRET", "session-secret-for-tests-0123456789")
    path = write_config(tmp_path, extra=DASHBOARD.format(redmine_login="true"))
    path.write_text(path.read_text().replace('tim_teknis = ["opd1"]',
                                             'tim_teknis = ["opd1", "dinkes2"]'))
    built = bootstrap(load_settings(path), tracker=FakeTracker(), clock=lambda: NOV_30)
    for build in (build_puskesmas, build_bappeda, build_refused):
        build(built.engine)
    yield built
    built.engine.dispose()


@pytest.fixture
def anonymous(services: Services) -> FlaskClient:
    return make_app(services).test_client()


@pytest.fixture
def client(anonymous: FlaskClient) -> FlaskClient:
    assert post_form(anonymous, "/dashboard/masuk", {"token": TOKEN}).status_code == 302
    return anonymous


# -- finding 7: CSRF --------------------------------------------------------------------------

@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_a_sign_in_without_the_form_token_is_refused(anonymous: FlaskClient,
                                                     csrf: str | None) -> None:
    csrf_of(anonymous)  # the visitor's session has a token; the foreign page does not know it
    form = {"token": TOKEN, **({"csrf": csrf} if csrf is not None else {})}
    answer = anonymous.post("/dashboard/masuk", data=form)
    assert answer.status_code == 403
    assert "Formulir ini kedaluwarsa" in answer.get_data(as_text=True)
    assert anonymous.get("/dashboard").status_code == 302


def test_another_sessions_token_does_not_sign_in(services: Services) -> None:
    app = make_app(services)
    attacker, victim = app.test_client(), app.test_client()
    stolen = csrf_of(attacker)
    csrf_of(victim)
    answer = victim.post("/dashboard/masuk", data={"token": TOKEN, "csrf": stolen})
    assert answer.status_code == 403 and victim.get("/dashboard").status_code == 302


def test_a_foreign_page_cannot_sign_a_user_out(client: FlaskClient) -> None:
    answer = client.post("/dashboard/keluar")
    assert answer.status_code == 403 and "Formulir ini kedaluwarsa" in answer.get_data(True)
    assert client.get("/dashboard").status_code == 200


# -- finding 6: revocation --------------------------------------------------------------------

def test_the_old_cookie_is_refused_after_sign_out(services: Services,
                                                  client: FlaskClient) -> None:
    cookie = client.get_cookie("sop_dashboard")
    assert cookie is not None and client.get("/dashboard").status_code == 200
    assert post_form(client, "/dashboard/keluar").status_code == 302
    replay = make_app(services).test_client()
    replay.set_cookie("sop_dashboard", cookie.value)
    assert replay.get("/dashboard").status_code == 302
    assert replay.get("/api/cases").status_code == 401
    other = make_app(services).test_client()  # another session of the same token still works
    assert post_form(other, "/dashboard/masuk", {"token": TOKEN}).status_code == 302
    assert other.get("/dashboard").status_code == 200


# -- finding 9: odd text never gives a 500 ---------------------------------------------------

@pytest.mark.parametrize("target", ["/dashboard\r\nSet-Cookie: x=1", "/dashboard\x00",
                                    "/dashboard\x7f", "/dashboard/\u00e9", "/dashboard\t",
                                    "/dashboard/\u202e"])
def test_control_characters_in_next_give_a_safe_redirect(anonymous: FlaskClient,
                                                         target: str) -> None:
    page = anonymous.get("/dashboard/masuk", query_string={"next": target})
    assert page.status_code == 200
    answer = post_form(anonymous, "/dashboard/masuk", {"token": TOKEN, "next": target})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/dashboard")


def _stub_utf8_redmine() -> None:
    """Redmine knows ``kasi`` with the password ``sandi-ñ-密码`` (UTF-8 Basic auth)."""
    right = "Basic " + base64.b64encode("kasi:sandi-ñ-密码".encode()).decode()

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if request.headers.get("Authorization") == right:
            return 200, {}, '{"user": {"id": 5, "login": "kasi"}}'
        return 401, {}, ""
    responses.add_callback(responses.GET, REDMINE_ME, callback=answer)


@responses.activate
@pytest.mark.parametrize(("login", "password", "status"), [
    ("kasi", "sandi-ñ-密码", 302), ("kasi", "sandi-salah-密码", 403),
    ("пользователь", "x", 403), ("kasi\u2028", "\u0000\U0001f600", 403)])
def test_non_latin1_credentials_are_sent_as_utf8(anonymous: FlaskClient, login: str,
                                                 password: str, status: int) -> None:
    _stub_utf8_redmine()
    answer = post_form(anonymous, "/dashboard/masuk", {"login": login, "password": password})
    assert answer.status_code == status


# -- finding 2: an OPD's technical team sees only its OPD -----------------------------------

@pytest.fixture
def opd_team(anonymous: FlaskClient) -> FlaskClient:
    """Signed in as ``dinkes2``, only in DINKES's own technical team."""
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, REDMINE_ME, json={"user": {"id": 9, "login": "dinkes2"}})
        answer = post_form(anonymous, "/dashboard/masuk", {"login": "dinkes2", "password": "p"})
    assert answer.status_code == 302
    return anonymous


def test_an_opd_team_sees_only_its_opd(opd_team: FlaskClient) -> None:
    everything = opd_team.get("/dashboard?status=semua").get_data(as_text=True)
    assert sorted(ids(everything)) == [1, 3] and "BAPPEDA" not in everything
    assert 'href="/dashboard/recap"' not in everything  # the recap is not theirs
    assert ids(opd_team.get("/dashboard?opd=BAPPEDA&status=semua").get_data(True)) == []
    body: dict[str, Any] = opd_team.get("/api/cases?status=semua").get_json()
    assert {c["opd"] for c in body["cases"]} == {"DINKES"}
    assert opd_team.get("/dashboard/cases/2").status_code == 404  # BAPPEDA's case
    assert opd_team.get("/dashboard/cases/1").status_code == 200
    for path in ("/dashboard/recap", "/dashboard/recap.csv"):
        answer = opd_team.get(path)
        assert answer.status_code == 403 and "hanya untuk pegawai" in answer.get_data(True)


@responses.activate
def test_a_redmine_account_without_any_right_is_refused(anonymous: FlaskClient) -> None:
    responses.add(responses.GET, REDMINE_ME, json={"user": {"id": 30, "login": "tamu"}})
    responses.add(responses.GET, PROJECT, status=403)
    answer = post_form(anonymous, "/dashboard/masuk", {"login": "tamu", "password": "p"})
    assert answer.status_code == 403
    assert "tidak berhak membuka dasbor ini" in answer.get_data(as_text=True)
    assert anonymous.get("/dashboard").status_code == 302
    assert anonymous.get("/api/cases").status_code == 401


def test_a_cookie_without_a_session_id_or_scope_is_refused(anonymous: FlaskClient) -> None:
    """A cookie signed before this change (only ``login``) no longer opens anything."""
    with anonymous.session_transaction() as session:
        session["login"] = "kadis"
    assert anonymous.get("/dashboard").status_code == 302
    assert anonymous.get("/api/cases").status_code == 401
    with anonymous.session_transaction() as session:
        session.update(sid="0" * 32)  # a session id, but no scope
    assert anonymous.get("/dashboard").status_code == 302


def test_whoever_sees_every_opd_has_the_recap_link(client: FlaskClient) -> None:
    assert 'href="/dashboard/recap"' in client.get("/dashboard").get_data(as_text=True)
