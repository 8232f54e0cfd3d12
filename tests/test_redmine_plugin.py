"""The sop_connector Redmine plugin: installed by the project's own command, loaded by Redmine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.cli import main
from connector.redmine import plugin_install
from tests.redmine_plugin import signed_in

SYSTEM_ROOT = Path("/usr/share/redmine")


def _fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "redmine"
    (root / "config").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "config" / "application.rb").write_text("# Redmine\n")
    return root


def test_install_status_and_remove_on_a_redmine_folder(tmp_path: Path) -> None:
    root, runner = _fake_root(tmp_path), CliRunner()

    before = runner.invoke(main, ["redmine-plugin", "status", "--redmine-root", str(root)])
    assert before.exit_code == 1 and "not installed" in before.output
    done = runner.invoke(main, ["redmine-plugin", "install", "--redmine-root", str(root)])
    assert done.exit_code == 0, done.output
    assert (root / "plugins" / "sop_connector" / "init.rb").is_file()
    assert [p.name for p in (root / "plugins").iterdir()] == ["sop_connector"]  # no staging
    now = runner.invoke(main, ["redmine-plugin", "status", "--redmine-root", str(root)])
    assert now.exit_code == 0 and "0.1.0" in now.output and "up to date" in now.output

    (root / "plugins" / "sop_connector" / "init.rb").write_text("# changed by hand\n")
    changed = runner.invoke(main, ["redmine-plugin", "status", "--redmine-root", str(root)])
    assert changed.exit_code == 1 and "differs" in changed.output
    again = runner.invoke(main, ["redmine-plugin", "install", "--redmine-root", str(root)])
    assert again.exit_code == 0 and plugin_install.status(root).up_to_date

    gone = runner.invoke(main, ["redmine-plugin", "remove", "--redmine-root", str(root)])
    assert gone.exit_code == 0, gone.output
    assert not (root / "plugins" / "sop_connector").exists()
    assert not plugin_install.status(root).installed


def test_install_refuses_a_folder_that_is_not_a_redmine(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["redmine-plugin", "install", "--redmine-root",
                                     str(tmp_path)])
    assert done.exit_code == 2 and "not a Redmine folder" in done.output
    assert not (tmp_path / "plugins").exists()


def test_the_shipped_plugin_has_one_constant_per_file_for_zeitwerk() -> None:
    """Redmine 5.0 to 6.x eager-load lib/ with Zeitwerk: each file defines its own name."""
    lib = plugin_install.SOURCE / "lib"
    for path in lib.rglob("*.rb"):
        parts = path.relative_to(lib).with_suffix("").parts
        name = "".join(w.capitalize() for w in parts[-1].split("_"))
        text = path.read_text(encoding="utf-8")
        assert f"module {name}\n" in text or f"class {name}" in text, path
    assert (plugin_install.SOURCE / "config" / "locales" / "id.yml").is_file()
    assert (plugin_install.SOURCE / "config" / "locales" / "en.yml").is_file()


@pytest.mark.redmine
def test_redmine_boots_with_the_plugin_and_lists_it(plugin_redmine: Any) -> None:
    assert plugin_redmine.root != SYSTEM_ROOT
    assert plugin_install.status(plugin_redmine.root).up_to_date
    assert not (SYSTEM_ROOT / "plugins" / "sop_connector").exists()  # the system is untouched

    listed = plugin_redmine.run_rails(
        "Rails.application.eager_load!\n"
        "p = Redmine::Plugin.find(:sop_connector)\n"
        "puts \"PLUGIN #{p.id} #{p.version} #{Rails.root}\"\n"
        "puts \"PATCHED #{Issue.include?(SopConnector::IssuePatch)}\"\n")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert f"PLUGIN sop_connector 0.1.0 {plugin_redmine.root}" in listed.stdout
    assert "PATCHED true" in listed.stdout

    web = signed_in(plugin_redmine)
    plugins = web.get(f"{plugin_redmine.url}/admin/plugins", timeout=30)
    assert plugins.status_code == 200 and "SOP Connector" in plugins.text
    assert "0.1.0" in plugins.text
    settings = web.get(f"{plugin_redmine.url}/settings/plugin/sop_connector", timeout=30)
    assert settings.status_code == 200 and 'name="settings[secret]"' in settings.text
    assert "Service URL" in settings.text


@pytest.mark.redmine
def test_the_settings_page_speaks_indonesian(plugin_redmine: Any) -> None:
    done = plugin_redmine.run_rails(
        "u = User.new(language: 'id', mail_notification: 'none', admin: true)\n"
        "u.login, u.firstname, u.lastname, u.mail ="
        " 'penata', 'Penata', 'Sistem', 'p@x.test'\n"
        "u.password = u.password_confirmation = 'sop-test-penata'\nu.save!\n")
    assert done.returncode == 0, done.stderr[-2000:]
    plugin_redmine.passwords["penata"] = "sop-test-penata"
    page = signed_in(plugin_redmine, "penata").get(
        f"{plugin_redmine.url}/settings/plugin/sop_connector", timeout=30)
    assert page.status_code == 200
    assert "Alamat layanan" in page.text and "Rahasia webhook" in page.text


@pytest.mark.redmine
def test_the_setup_is_a_plugin_rake_task_too_and_idempotent(tmp_path: Path) -> None:
    import re

    from tests.redmine_server import start_redmine_server

    bare = start_redmine_server(bare=True, plugin=True)
    try:
        script = tmp_path / "setup.rb"
        env = {"SOP_TEST_REDMINE_KEY": "unused", "SOP_TEST_INTAKE_TOKEN": "unused"}
        from tests.conftest import write_config

        config = write_config(tmp_path, redmine_url=bare.url)
        printed = CliRunner().invoke(main, ["redmine-setup", "--config", str(config)], env=env)
        assert printed.exit_code == 0, printed.output
        script.write_text(printed.output)
        runs = [bare.run_rake("redmine:plugins:sop_connector:setup", f"SCRIPT={script}")
                for _ in range(2)]
    finally:
        bare.destroy()
    changed = []
    for done in runs:
        assert done.returncode == 0, done.stderr[-2000:]
        found = re.search(r"SETUP changed=(\d+)", done.stdout)
        assert found, done.stdout[-2000:]
        changed.append(int(found[1]))
    assert changed[0] > 0 and changed[1] == 0
