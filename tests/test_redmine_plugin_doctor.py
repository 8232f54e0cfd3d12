"""``sop-connector doctor`` reports the plugin: installed or not, its version, its signed ping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.bootstrap import bootstrap
from connector.cli import main
from connector.config import load_settings
from connector.redmine.plugin_check import check_plugin
from connector.services import Services
from tests.conftest import INTAKE_TOKEN
from tests.plugin_service import SECRET, plugin_config, serving
from tests.redmine_plugin import configure_plugin

pytestmark = pytest.mark.redmine
PROJECT = "permohonan-aplikasi"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugin_redmine: Any) -> Path:
    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", plugin_redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SOP_TEST_PLUGIN_SECRET", SECRET)
    return plugin_config(tmp_path, plugin_redmine)


@pytest.fixture
def services(config: Path) -> Iterator[Services]:
    built = bootstrap(load_settings(config))
    yield built
    built.engine.dispose()


def test_doctor_reports_the_plugin_and_its_signed_ping(config: Path, services: Services,
                                                       plugin_redmine: Any) -> None:
    with serving(services) as url:
        configure_plugin(plugin_redmine, service_url=url, secret=SECRET)
        done = CliRunner().invoke(main, ["doctor", "--config", str(config)])
    assert done.exit_code == 0, done.output
    assert ("plugin sop_connector 0.1.0 on Redmine 5.0.4.stable: its signed test ping "
            "reached the service") in done.output


def test_doctor_names_a_secret_that_differs(services: Services, plugin_redmine: Any) -> None:
    with serving(services) as url:
        configure_plugin(plugin_redmine, service_url=url, secret="another-secret")
        report = check_plugin(plugin_redmine.url, plugin_redmine.admin_key, project=PROJECT)
    [problem] = report.problems
    assert "refused the plugin's signed test ping (401)" in problem.what
    assert "Webhook secret" in problem.fix


def test_doctor_names_a_service_the_plugin_cannot_reach(plugin_redmine: Any) -> None:
    configure_plugin(plugin_redmine, service_url="http://127.0.0.1:9", secret=SECRET,
                     projects="lain")
    report = check_plugin(plugin_redmine.url, plugin_redmine.admin_key, project=PROJECT)
    whats = [p.what for p in report.problems]
    assert whats[0] == "the sop_connector plugin does not send hints for project " \
                       "'permohonan-aplikasi'"
    assert whats[1].startswith("the plugin's signed test ping did not reach the service")


def test_doctor_says_when_the_plugin_is_not_installed(redmine: Any) -> None:
    report = check_plugin(redmine.url, redmine.admin_key, project=PROJECT)
    assert report.problems == ()
    assert report.line.startswith("plugin sop_connector: not installed")


def test_a_non_admin_key_gets_no_plugin_status(plugin_redmine: Any) -> None:
    report = check_plugin(plugin_redmine.url, plugin_redmine.user_keys["kadis"],
                          project=PROJECT)
    assert report.line == "plugin sop_connector: status answered 403"
