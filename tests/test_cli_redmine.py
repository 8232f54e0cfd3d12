"""The Redmine side of the set-up, through the command line, on a real bare Redmine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.cli import main
from tests.conftest import INTAKE_TOKEN, write_config

pytestmark = pytest.mark.redmine


@pytest.fixture(scope="module")
def bare_redmine() -> Iterator[Any]:
    """A Redmine with default data, REST on and users, but none of our set-up."""
    from tests.redmine_server import start_redmine_server

    server = start_redmine_server(bare=True)
    yield server
    server.destroy()


@pytest.fixture
def cli(tmp_path: Path, bare_redmine: Any) -> Any:
    config = write_config(tmp_path, redmine_url=bare_redmine.url)
    env = {"SOP_TEST_REDMINE_KEY": bare_redmine.admin_key, "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN}
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, [*args, "--config", str(config)], env=env)

    return run


def _changed(output: str) -> int:
    found = re.search(r"SETUP changed=(\d+)", output)
    assert found, output[-2000:]
    return int(found.group(1))


def test_doctor_then_setup_then_doctor_then_setup_again(cli: Any, bare_redmine: Any) -> None:
    before = cli("doctor")
    assert before.exit_code == 1
    for missing in ("Permohonan Aplikasi", "Langkah SOP", "Kunci SOP", "permohonan-aplikasi"):
        assert missing in before.output
    assert "perbaikan:" in before.output
    assert bare_redmine.admin_key not in before.output

    script = cli("redmine-setup")
    assert script.exit_code == 0 and script.output.startswith("#")
    first = bare_redmine.run_rails(script.output)
    assert first.returncode == 0, first.stderr[-2000:]
    assert _changed(first.stdout) > 0

    after = cli("doctor")
    assert after.exit_code == 0, after.output
    assert after.output.startswith("ok:")

    second = bare_redmine.run_rails(cli("redmine-setup").output)
    assert second.returncode == 0 and _changed(second.stdout) == 0
    assert cli("doctor").exit_code == 0


def test_doctor_names_a_login_that_does_not_exist(tmp_path: Path, bare_redmine: Any) -> None:
    config = write_config(tmp_path, redmine_url=bare_redmine.url)
    config.write_text(config.read_text().replace('kepala_dinas = ["kadis"]',
                                                 'kepala_dinas = ["kadis-typo"]'))
    env = {"SOP_TEST_REDMINE_KEY": bare_redmine.admin_key, "SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN}
    result = CliRunner().invoke(main, ["doctor", "--config", str(config)], env=env)
    assert result.exit_code == 1 and "kadis-typo" in result.output
