"""The dashboard through Flask's client: every page, the filters, sign-in, the CSV, /api/cases.

Cases are the three of ``test_reporting`` (built in the store on real 2026 dates), seen on
Senin 30 November 2026: E-Planning waits at step 2 since 3 November (19 hari kerja late),
SI Puskesmas is in its second round of development (28 of 35 hari kerja used), SI Gizi was
refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.reporting.recap import monthly_recap, recap_csv
from connector.services import Services
from tests.conftest import write_config
from tests.dashboard_forms import post_form
from tests.fakes import FakeTracker
from tests.test_reporting import build_bappeda, build_puskesmas, build_refused

TOKEN = "dashboard-token-for-tests-0123456789"
NOV_30 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Senin 30 November 2026, 09:00 WITA
REDMINE_ME = "http://redmine.test/users/current.json"
DASHBOARD = """
[dashboard]
access_token_env = "SOP_TEST_DASHBOARD_TOKEN"
session_secret_env = "SOP_TEST_SESSION_SECRET"
redmine_login = {redmine_login}
session_hours = 8
"""


def make_app(services: Services) -> Flask:
    """The app of ``create_app``, with the dashboard until app.py registers it itself."""
    from webhooks import create_app, dashboard

    app = create_app(services)
    if "dashboard" not in app.blueprints:
        app.register_blueprint(dashboard.blueprint)
    return app


def dashboard_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
                       redmine_login: bool = True, clock: datetime = NOV_30) -> Services:
    monkeypatch.setenv("SOP_TEST_DASHBOARD_TOKEN", TOKEN)
    monkeypatch.setenv("SOP_TEST_SESSION_SECRET", "session-secret-for-tests-0123456789")
    extra = DASHBOARD.format(redmine_login=str(redmine_login).lower())
    settings = load_settings(write_config(tmp_path, extra=extra))
    return bootstrap(settings, tracker=FakeTracker(), clock=lambda: clock)


@pytest.fixture
def services(tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    built = dashboard_services(tmp_path, monkeypatch)
    build_puskesmas(built.engine)
    build_bappeda(built.engine)
    build_refused(built.engine)
    yield built
    built.engine.dispose()


@pytest.fixture
def anonymous(services: Services) -> FlaskClient:
    return make_app(services).test_client()


@pytest.fixture
def client(anonymous: FlaskClient) -> FlaskClient:
    answer = post_form(anonymous, "/dashboard/masuk", {"token": TOKEN, "next": "/dashboard"})
    assert answer.status_code == 302
    return anonymous


def ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-case-id="(\d+)"', html)]


# -- access ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/cases/1", "/dashboard/recap",
                                  "/dashboard/recap.csv?month=2026-11"])
def test_an_anonymous_visitor_is_sent_to_the_sign_in_page(anonymous: FlaskClient,
                                                         path: str) -> None:
    answer = anonymous.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/dashboard/masuk?next=/dashboard")
    assert "SI Puskesmas" not in answer.get_data(as_text=True)


def test_an_anonymous_api_call_is_refused(anonymous: FlaskClient) -> None:
    answer = anonymous.get("/api/cases")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "cases" not in answer.get_json()


def test_the_sign_in_page_offers_both_ways(anonymous: FlaskClient) -> None:
    answer = anonymous.get("/dashboard/masuk?next=/dashboard/recap")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and '<html lang="id">' in html
    assert "Dengan akun Redmine" in html and "Dengan token akses" in html
    assert 'name="next" value="/dashboard/recap"' in html


def test_the_access_token_signs_in_with_a_safe_cookie(anonymous: FlaskClient) -> None:
    answer = post_form(anonymous, "/dashboard/masuk", {"token": TOKEN, "next": "/dashboard/recap"})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/dashboard/recap")
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("sop_dashboard=") and TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = datetime.strptime(re.search(r"Expires=([^;]+)", cookie)[1],  # type: ignore[index]
                                "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    hours = (expires - datetime.now(UTC)).total_seconds() / 3600
    assert 7.9 < hours <= 8
    assert anonymous.get("/dashboard").status_code == 200


@pytest.mark.parametrize("token", ["wrong-token", TOKEN + "x", TOKEN[:-1], "", "tökén"])
def test_a_wrong_token_is_refused(anonymous: FlaskClient, token: str) -> None:
    answer = post_form(anonymous, "/dashboard/masuk", {"token": token})
    assert answer.status_code == 403
    assert "Token akses salah." in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers
    assert anonymous.get("/dashboard").status_code == 302


def test_a_token_in_the_url_never_signs_in(anonymous: FlaskClient) -> None:
    """Issue 20 finding 13: the token only in a POSTed form, never in URLs or proxy logs."""
    answer = anonymous.get(f"/dashboard/masuk?token={TOKEN}&next=/dashboard?opd=DINKES")
    assert answer.status_code == 400
    assert "tidak diterima di alamat (URL)" in answer.get_data(as_text=True)
    assert anonymous.get("/dashboard").status_code == 302
    answer = post_form(anonymous, f"/dashboard/masuk?token={TOKEN}", {"next": "/dashboard"})
    assert answer.status_code != 302 and anonymous.get("/dashboard").status_code == 302


def test_a_wall_screen_signs_in_with_the_posted_token(anonymous: FlaskClient) -> None:
    answer = post_form(anonymous, "/dashboard/masuk",
                       {"token": TOKEN, "next": "/dashboard?opd=DINKES"})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/dashboard?opd=DINKES")
    assert anonymous.get("/dashboard").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil",
                                    "/dashboard//evil.example", "javascript:alert(1)"])
def test_sign_in_never_redirects_to_another_site(anonymous: FlaskClient, target: str) -> None:
    answer = post_form(anonymous, "/dashboard/masuk", {"token": TOKEN, "next": target})
    assert answer.headers["Location"] == "/dashboard"


def test_sign_out_ends_the_session(client: FlaskClient) -> None:
    answer = post_form(client, "/dashboard/keluar")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/dashboard/masuk")
    assert client.get("/dashboard").status_code == 302
    assert client.get("/api/cases").status_code == 401


def test_a_cookie_signed_with_another_secret_is_refused(anonymous: FlaskClient) -> None:
    anonymous.set_cookie("sop_dashboard", "eyJsb2dpbiI6ImthZGlzIn0.aaaa.bbbb")
    assert anonymous.get("/dashboard").status_code == 302


# -- Redmine accounts -----------------------------------------------------------------------

def _stub_redmine() -> None:
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        right = "Basic a2FzaTpyYWhhc2lhLWthc2k="  # kasi:rahasia-kasi
        if request.headers.get("Authorization") == right:
            return 200, {}, '{"user": {"id": 5, "login": "kasi", "firstname": "Kasi"}}'
        return 401, {}, ""
    responses.add_callback(responses.GET, REDMINE_ME, callback=answer)


@responses.activate
def test_a_redmine_account_signs_in(anonymous: FlaskClient,
                                    caplog: pytest.LogCaptureFixture) -> None:
    _stub_redmine()
    caplog.set_level(logging.DEBUG)
    form = {"login": "kasi", "password": "rahasia-kasi", "next": "/dashboard"}
    answer = post_form(anonymous, "/dashboard/masuk", form)
    assert (answer.status_code, answer.headers["Location"]) == (302, "/dashboard")
    html = anonymous.get("/dashboard").get_data(as_text=True)
    assert "masuk sebagai <strong>kasi</strong>" in html
    assert len(responses.calls) == 1 and "rahasia-kasi" not in caplog.text


@responses.activate
def test_a_wrong_redmine_password_is_refused(anonymous: FlaskClient,
                                             caplog: pytest.LogCaptureFixture) -> None:
    _stub_redmine()
    caplog.set_level(logging.DEBUG)
    answer = post_form(anonymous, "/dashboard/masuk", {"login": "kasi", "password": "tebakan"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403 and "Login atau kata sandi Redmine salah." in html
    assert "tebakan" not in html and "tebakan" not in caplog.text
    assert anonymous.get("/dashboard").status_code == 302


@responses.activate
def test_redmine_down_is_said_and_nothing_signs_in(anonymous: FlaskClient) -> None:
    responses.add(responses.GET, REDMINE_ME, body=requests.ConnectionError("refused"))
    answer = post_form(anonymous, "/dashboard/masuk", {"login": "kasi", "password": "x"})
    assert answer.status_code == 503
    assert "Redmine tidak dapat dihubungi" in answer.get_data(as_text=True)
    assert anonymous.get("/dashboard").status_code == 302


@responses.activate
def test_empty_credentials_never_reach_redmine(anonymous: FlaskClient) -> None:
    answer = post_form(anonymous, "/dashboard/masuk", {"login": "kasi", "password": ""})
    assert answer.status_code == 400 and len(responses.calls) == 0


@responses.activate
def test_redmine_sign_in_can_be_switched_off(tmp_path: Path, env: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    built = dashboard_services(tmp_path, monkeypatch, redmine_login=False)
    client = make_app(built).test_client()
    assert "Dengan akun Redmine" not in client.get("/dashboard/masuk").get_data(as_text=True)
    answer = post_form(client, "/dashboard/masuk", {"login": "kasi", "password": "rahasia-kasi"})
    assert answer.status_code == 403 and len(responses.calls) == 0
    built.engine.dispose()


# -- pages ----------------------------------------------------------------------------------

def test_the_list_shows_open_cases_most_urgent_first(
        client: FlaskClient, services: Services) -> None:
    answer = client.get("/dashboard")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert ids(html) == [2, 1]  # E-Planning overdue first, SI Gizi (refused) not shown
    late, developing = html.split('data-case-id="2"')[1].split('data-case-id="1"')
    assert 'class="case overdue"' in html.split('data-case-id="2"')[0][-40:]
    assert "terlambat 19 hari kerja" in late and "Kepala Dinas" in late
    assert "<strong>12</strong> · Proses pengembangan aplikasi" in developing
    assert "dev2" in developing and "sisa 7 hari kerja" in developing
    assert "<strong>28</strong> dari\n    35 hari kerja terpakai" in developing
    assert 'class="bar-used" x="0" y="0" width="80.0"' in developing
    assert "rencana diulang 1× · perbaikan 1×" in developing
    assert "9 Des 2026" in developing


@pytest.mark.parametrize("query, expected", [
    ("opd=DINKES", [1]), ("opd=bappeda", [2]), ("status=rejected", [3]),
    ("status=semua", [2, 1, 3]), ("status=semua&opd=DINKES", [1, 3]), ("opd=DISDIK", []),
])
def test_the_list_filters(client: FlaskClient, query: str, expected: list[int]) -> None:
    html = client.get(f"/dashboard?{query}").get_data(as_text=True)
    assert ids(html) == expected
    if not expected:
        assert "Tidak ada kasus yang cocok" in html


def test_the_filter_form_is_a_plain_get_form(client: FlaskClient) -> None:
    html = client.get("/dashboard?opd=DINKES&status=semua").get_data(as_text=True)
    assert '<form class="filters" method="get" action="/dashboard">' in html
    assert '<option value="DINKES" selected>DINKES — Dinas Kesehatan</option>' in html
    assert '<option value="semua" selected>Semua</option>' in html
    assert "<script" not in html


def test_an_unknown_status_is_a_clear_400(client: FlaskClient) -> None:
    answer = client.get("/dashboard?status=lost")
    assert answer.status_code == 400 and "tidak dikenal" in answer.get_data(as_text=True)


def test_the_case_page_draws_the_timeline(client: FlaskClient) -> None:
    answer = client.get("/dashboard/cases/1")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<h1>SI Puskesmas</h1>" in html and "Dinas Kesehatan (DINKES)" in html
    assert html.count('class="gantt-row"') == 16  # the main path: every step but 7
    assert 'data-step="9" data-rounds="2"' in html and 'data-step="12" data-rounds="2"' in html
    assert 'data-step="15" data-rounds="0"' in html
    assert 'fill="url(#running)"' in html and 'class="today"' in html
    assert "Rencana: 8 Okt 2026 – 26 Nov 2026" in html
    assert "19 Okt 2026 – 13 Nov 2026; 17 Nov 2026 – <em>berjalan</em>" in html
    assert "✗ melebihi standar" in html and "✓ sesuai standar" in html


def test_a_case_not_yet_opened_has_a_plan_and_no_rounds(
        client: FlaskClient, services: Services) -> None:
    from connector.store import record_intake

    with services.engine.begin() as conn:
        record_intake(conn, case_key="DINKES:9/2026", opd="DINKES", nomor_surat="9/2026",
                      nama_aplikasi="SI Baru", letter={}, attachments=[],
                      inbox=("test", "test:9", {}, b"{}"), clock=lambda: NOV_30)
    html = client.get("/dashboard?status=received").get_data(as_text=True)
    assert ids(html) == [4] and "belum dibuka" in html and "Diterima" in html
    page = client.get("/dashboard/cases/4").get_data(as_text=True)
    assert page.count('data-rounds="0"') == 16 and "Rencana: 30 Nov 2026" in page


def test_an_unknown_case_is_a_404_page(client: FlaskClient) -> None:
    answer = client.get("/dashboard/cases/999")
    assert answer.status_code == 404
    assert "Kasus 999 tidak ditemukan." in answer.get_data(as_text=True)


def test_hostile_text_is_printed_literally(client: FlaskClient, services: Services) -> None:
    from tests.test_reporting import CaseBuilder, d

    CaseBuilder(services.engine, "1/X", opd="DINKES", nama='<script>alert(1)</script>"',
                received=d(11, 23))
    for path in ("/dashboard", "/dashboard/cases/4"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_recap_page_shows_the_table_and_the_chart(client: FlaskClient) -> None:
    html = client.get("/dashboard/recap?month=2026-10").get_data(as_text=True)
    assert "<h1>Rekap Oktober 2026</h1>" in html
    row = html.split('<tr data-step="9">')[1].split("</tr>")[0]
    assert re.findall(r'class="num[^"]*">([^<]*)<', row) == ["2", "1", "1,5"]
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and html.count("recap-row") == 17
    assert 'href="/dashboard/recap.csv?month=2026-10"' in html


def test_the_recap_defaults_to_this_month_and_refuses_a_bad_one(client: FlaskClient) -> None:
    assert "<h1>Rekap November 2026</h1>" in client.get("/dashboard/recap").get_data(as_text=True)
    answer = client.get("/dashboard/recap?month=2026-13")
    assert answer.status_code == 400 and "YYYY-MM" in answer.get_data(as_text=True)


def test_the_csv_download(client: FlaskClient, services: Services) -> None:
    answer = client.get("/dashboard/recap.csv?month=2026-11")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="rekap-sop-2026-11.csv"'
    text = answer.get_data(as_text=True)
    expected = recap_csv("2026-11", monthly_recap(services.engine, services.sop,
                                                  services.calendar, "2026-11"))
    assert text == expected
    lines = text.splitlines()
    assert lines[0] == ("bulan,langkah,judul,standar_waktu,selesai,memenuhi_standar,"
                        "median_hari_kerja")
    assert lines[12] == "2026-11,12,Proses pengembangan aplikasi,maks. 35 hari kerja,1,1,19"
    assert client.get("/dashboard/recap.csv?month=nov").status_code == 400


def test_pages_forbid_framing_and_outside_resources(client: FlaskClient) -> None:
    for answer in (client.get("/dashboard"), client.get("/dashboard/masuk"),
                   client.get("/api/cases")):
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Cache-Control"] == "no-store"
    css = client.get("/dashboard/dashboard.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "http" not in css.get_data(as_text=True)  # no external font or image
    css.close()


# -- /api/cases -----------------------------------------------------------------------------

def test_the_api_answers_the_bearer_token(anonymous: FlaskClient) -> None:
    answer = anonymous.get("/api/cases", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    body: dict[str, Any] = answer.get_json()
    assert body["filters"] == {"opd": None, "status": "open"}
    assert [c["id"] for c in body["cases"]] == [2, 1]
    late, developing = body["cases"]
    assert (late["overdue"], late["hari_kerja_left"], late["due_on"]) == (True, -19, "2026-11-03")
    assert developing == {
        "id": 1, "opd": "DINKES", "nama_aplikasi": "SI Puskesmas",
        "nomor_surat": "027/145/DINKES/2026", "status": "open", "current_step": 12,
        "step_title": "Proses pengembangan aplikasi", "role": "Tim Pengembang",
        "holder": "dev2", "started_on": "2026-11-17", "due_on": "2026-12-09",
        "hari_kerja_left": 7, "overdue": False,
        "development": {"used": 28, "limit": 35, "left": 7}, "replans": 1, "reworks": 1,
        "redmine_issue_id": None, "url": "http://localhost/dashboard/cases/1"}


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer wrong", f"Basic {TOKEN}",
                                    "Bearer", TOKEN])
def test_the_api_refuses_a_wrong_token(anonymous: FlaskClient, header: str) -> None:
    answer = anonymous.get("/api/cases", headers={"Authorization": header})
    assert answer.status_code == 401


def test_the_api_filters_and_takes_the_session(client: FlaskClient) -> None:
    body = client.get("/api/cases?status=semua&opd=dinkes").get_json()
    assert body["filters"] == {"opd": "DINKES", "status": "semua"}
    assert [c["nama_aplikasi"] for c in body["cases"]] == ["SI Puskesmas", "SI Gizi"]
    answer = client.get("/api/cases?status=nope")
    assert answer.status_code == 400 and "tidak dikenal" in answer.get_json()["message"]
