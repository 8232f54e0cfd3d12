"""Issue 20 findings 2 and 9 against the real Redmine: who gets into the dashboard.

Accounts made with ``bin/rails runner``: ``tamu`` (known to Redmine, no member of the SOP
project, no SOP role), ``anggota`` (a member of the SOP project with no SOP role, and a
UTF-8 password) and ``bappeda1`` (BAPPEDA's own technical team). ``kasi`` holds an SOP role
and ``opd1`` is DINKES's technical team, as in every test configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.services import Services
from tests.conftest import INTAKE_TOKEN, write_config
from tests.dashboard_forms import post_form
from tests.test_dashboard import DASHBOARD, NOV_30, TOKEN, ids, make_app
from tests.test_reporting import build_bappeda, build_puskesmas, build_refused

pytestmark = pytest.mark.redmine
UTF8_PASSWORD = "sandi-ñ-密码-anggota"
USERS_RB = """
def account(login, password)
  user = User.find_by_login(login) || User.new(language: 'en', mail_notification: 'none')
  user.login, user.firstname, user.lastname = login, login, 'Uji'
  user.mail = "#{login}@example.test"
  user.password = user.password_confirmation = password
  user.save!
  user
end
project = Project.find_by_identifier!('permohonan-aplikasi')
account('tamu', 'sop-test-tamu')
account('bappeda1', 'sop-test-bappeda1')
anggota = account('anggota', %s)
unless Member.where(project: project, user: anggota).exists?
  Member.create!(project: project, user: anggota, roles: [Role.givable.sorted.last])
end
puts "public=#{project.is_public}"
"""


@pytest.fixture
def accounts(redmine: Any) -> Any:
    done = redmine.run_rails(USERS_RB % repr(UTF8_PASSWORD).replace("'", '"'))
    assert done.returncode == 0, done.stderr[-2000:]
    return redmine


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             accounts: Any) -> Iterator[Services]:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", accounts.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_TEST_DASHBOARD_TOKEN", TOKEN)
    monkeypatch.setenv("SOP_TEST_SESSION_SECRET", "session-secret-for-tests-0123456789")
    path = write_config(tmp_path, redmine_url=accounts.url,
                        extra=DASHBOARD.format(redmine_login="true"))
    path.write_text(path.read_text().replace(
        'name = "Badan Perencanaan Pembangunan Daerah"',
        'name = "Badan Perencanaan Pembangunan Daerah"\ntim_teknis = ["bappeda1"]'))
    built = bootstrap(load_settings(path), clock=lambda: NOV_30)
    for build in (build_puskesmas, build_bappeda, build_refused):
        build(built.engine)
    yield built
    built.engine.dispose()


def _sign_in(services: Services, login: str, password: str) -> tuple[FlaskClient, Any]:
    client = make_app(services).test_client()
    answer = post_form(client, "/dashboard/masuk", {"login": login, "password": password})
    return client, answer


def test_a_redmine_user_outside_the_sop_project_is_refused(services: Services,
                                                           accounts: Any) -> None:
    project = f"{accounts.url}/projects/permohonan-aplikasi/issues.json"
    redmine_says = requests.get(project, auth=("tamu", "sop-test-tamu"), timeout=30)
    me = requests.get(f"{accounts.url}/users/current.json", auth=("tamu", "sop-test-tamu"),
                      timeout=30)
    assert me.status_code == 200  # Redmine knows the account...
    assert redmine_says.status_code in (403, 404) or redmine_says.json()["total_count"] == 0
    client, answer = _sign_in(services, "tamu", "sop-test-tamu")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403 and "tidak berhak membuka dasbor ini" in html
    assert "SI Puskesmas" not in html
    assert client.get("/dashboard").status_code == 302
    assert client.get("/api/cases").status_code == 401


def test_a_member_of_the_sop_project_gets_in_with_a_utf8_password(services: Services) -> None:
    client, answer = _sign_in(services, "anggota", UTF8_PASSWORD)
    assert answer.status_code == 302, answer.get_data(as_text=True)[-800:]
    assert sorted(ids(client.get("/dashboard?status=semua").get_data(True))) == [1, 2, 3]
    _, wrong = _sign_in(services, "anggota", "sandi-salah-密码")
    assert wrong.status_code == 403


def test_an_sop_role_holder_sees_every_case(services: Services, accounts: Any) -> None:
    client, answer = _sign_in(services, "kasi", accounts.passwords["kasi"])
    assert answer.status_code == 302
    body = client.get("/api/cases?status=semua").get_json()
    assert {c["opd"] for c in body["cases"]} == {"DINKES", "BAPPEDA"}
    assert client.get("/dashboard/recap").status_code == 200


def test_an_opd_technical_team_sees_only_its_own_opd(services: Services,
                                                     accounts: Any) -> None:
    client, answer = _sign_in(services, "opd1", accounts.passwords["opd1"])
    assert answer.status_code == 302
    body = client.get("/api/cases?status=semua").get_json()
    assert {c["opd"] for c in body["cases"]} == {"DINKES"}
    assert client.get("/dashboard/cases/2").status_code == 404  # BAPPEDA's case
    assert client.get("/dashboard/recap").status_code == 403
    other, answer = _sign_in(services, "bappeda1", "sop-test-bappeda1")
    assert answer.status_code == 302
    assert ids(other.get("/dashboard?status=semua").get_data(True)) == [2]
