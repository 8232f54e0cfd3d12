"""``provision CASE [--dry-run]``, ``deliverables CASE`` and GitLab hook health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner

from connector.bootstrap import bootstrap
from connector.cli import main
from connector.codehost.seeds import DOCUMENTS
from connector.config import load_settings
from connector.services import Services
from connector.store import audit, cases
from connector.store.audit import Delivery
from connector.workflow.automation import check_hooks, provision
from connector.workflow.state import case_view
from tests.conftest import INTAKE_TOKEN, write_config
from tests.fakes import FakeTracker
from tests.gitlab_stubs import GITLAB_CONFIG, GROUP, ROUTES, FakeGitLab

ENV = {"SOP_TEST_REDMINE_KEY": "k", "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN,
       "SOP_TEST_GITLAB_TOKEN": "glpat-x", "SOP_TEST_GITLAB_HOOK": "hook-secret"}
GITLAB = GITLAB_CONFIG


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, ...]]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, extra=GITLAB)
    services = bootstrap(load_settings(config), tracker=FakeTracker())
    with services.engine.begin() as conn:
        result = cases.record_intake(
            conn, case_key="DINKES:7/2026", opd="DINKES", nomor_surat="7/2026",
            nama_aplikasi="SI Puskesmas", letter={"tanggal_surat": "2026-11-20"},
            attachments=[], inbox=Delivery("t", "k", {}, b""))
        audit.append_audit(conn, result.case_id, "kasi", "team_recorded",
                           detail={"logins": ["dev1"]})
        cases.set_case_status(conn, result.case_id, cases.CaseStatus.OPEN, current_step=8)
    fake = FakeGitLab(users=("dev1", "kasi"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps, ROUTES)
        yield services, fake, config, result.case_id
    services.engine.dispose()


def _run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(main, [*args, "--config", str(config)], env=ENV)


def _provision(services: Services, case_id: int) -> Any:
    """What ``provision CASE`` does, with the fake Redmine of these tests."""
    case = cases.get_case(services.engine, case_id)
    assert case is not None
    with services.engine.connect() as conn:
        view = case_view(conn, case, services.calendar)
    return provision(services, case, view)


def test_dry_run_creates_nothing_then_provision_creates_once(world: tuple[Any, ...]) -> None:
    services, fake, config, case_id = world
    dry = _run(config, "provision", "DINKES:7/2026", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() and fake.projects == {}
    first = _provision(services, case_id)
    assert first.web_url == fake.only_project()["web_url"] and first.created_parts
    again = _provision(services, case_id)
    assert again.created_parts == () and len(fake.projects) == 1
    tracker = services.tracker
    [(identifier, members)] = tracker.subprojects.items()
    assert members == {"dev1", "kasi"}
    assert tracker.versions == {(identifier, "Pengembangan Aplikasi"): None}
    assert "Tidak ada yang perlu dibuat" in _run(config, "provision", str(case_id),
                                                 "--dry-run").output


def test_deliverables_lists_what_is_missing_until_it_is_there(world: tuple[Any, ...]) -> None:
    services, fake, config, case_id = world
    _provision(services, case_id)
    missing = _run(config, "deliverables", str(case_id))
    assert missing.exit_code == 1 and "Dokumentasi API" in missing.output
    pid = fake.only_project()["id"]
    fake.commit(pid, "isi", {**{d.path: f"# {d.name}\n\nIsi.\n" for d in DOCUMENTS},
                            "src/app.py": "print(1)\n"})
    done = _run(config, "deliverables", str(case_id))
    assert done.exit_code == 0, done.output


def test_an_unknown_case_is_a_clear_error(world: tuple[Any, ...]) -> None:
    _, _, config, _ = world
    result = _run(config, "provision", "999")
    assert result.exit_code == 2 and "no case '999'" in result.output


def test_a_disabled_hook_shows_in_healthz(world: tuple[Any, ...]) -> None:
    from webhooks import create_app

    services, fake, _config, case_id = world
    _provision(services, case_id)
    client = create_app(services).test_client()
    assert check_hooks(services) == []
    assert client.get("/healthz").get_json()["gitlab_hooks_disabled"] == []
    pid = fake.only_project()["id"]
    fake.hooks[pid][0]["alert_status"] = "disabled"
    assert check_hooks(services) == [f"{GROUP}/si-puskesmas"]
    assert client.get("/healthz").get_json()["gitlab_hooks_disabled"] == [f"{GROUP}/si-puskesmas"]


def test_services_without_gitlab_have_no_code_host(services: Services) -> None:
    assert services.codehost is None


def test_provision_re_enables_a_hook_gitlab_disabled(world: tuple[Any, ...]) -> None:
    services, fake, _config, case_id = world
    first = _provision(services, case_id)
    [hook] = fake.hooks[fake.only_project()["id"]]
    hook["alert_status"] = "disabled"  # GitLab gave up on it after 40 failures
    fake.receiver_status = 401
    assert _provision(services, case_id).created_parts == ("hook",)
    assert hook["alert_status"] == "disabled" and check_hooks(services) != []
    fake.receiver_status = 200
    assert _provision(services, case_id).created_parts == ("hook",)
    assert hook["alert_status"] == "executable"
    assert services.codehost is not None and services.codehost.hooks_healthy(first)


def test_doctor_re_enables_disabled_hooks_and_reports_the_result(
        world: tuple[Any, ...], capsys: pytest.CaptureFixture[str]) -> None:
    from connector.cli.redmine_commands import _gitlab_problems

    services, fake, config, case_id = world
    _provision(services, case_id)
    [hook] = fake.hooks[fake.only_project()["id"]]
    hook["alert_status"] = "temporarily_disabled"
    hook["disabled_until"] = "2999-01-01T00:00:00Z"
    fake.receiver_status = 500
    [problem] = _gitlab_problems(load_settings(config))
    assert "a test delivery did not re-enable it" in problem.what
    assert "sop-connector provision CASE" in problem.fix
    fake.receiver_status = 204
    assert _gitlab_problems(load_settings(config)) == []
    assert (f"diperbaiki: webhook GitLab {GROUP}/si-puskesmas yang dinonaktifkan GitLab aktif "
            "kembali setelah kiriman uji") in capsys.readouterr().out
    assert check_hooks(services) == []


def test_the_service_user_is_learned_from_the_token(world: tuple[Any, ...]) -> None:
    from connector.workflow.identity import service_username

    services, fake, _config, case_id = world
    assert services.settings.gitlab is not None
    assert services.settings.gitlab.service_username == ""
    assert service_username(services) == ""
    _provision(services, case_id)
    assert service_username(services) == fake.service_user["username"] == "sop-bot"


def test_a_project_gitlab_refuses_is_explained_on_step_8s_issue(
        world: tuple[Any, ...]) -> None:
    """GitLab refuses every name and path: the note says what GitLab said and what to do."""
    from connector.codehost import ProjectRefused
    from connector.tracker import IssueDraft
    from connector.workflow import sync
    from tests.gitlab_stubs import API

    services, fake, _config, case_id = world
    case = cases.get_case(services.engine, case_id)
    assert case is not None
    step = services.tracker.open_issue(IssueDraft(
        key="DINKES:7/2026#8", kind="step", subject="[08] Buat proyek", description="",
        status="In Progress"))
    refusal = {"message": {"name": ["is reserved by the administrator"]}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{API}/projects", status=400, json=refusal)  # Projects API, a refusal
        fake.install(rsps, ["projects.list", "project.get", "group.get", "user.get"])
        with services.engine.connect() as conn:
            view = case_view(conn, case, services.calendar)
        with pytest.raises(ProjectRefused):
            sync._provision(services, case, view, step)
    [note] = services.tracker.issues[step.id].notes
    assert "GitLab menjawab: name is reserved by the administrator" in note
    assert "Kunci SOP: DINKES:7/2026" in note and "sop-connector jobs replay" in note
