"""The ``sop-connector`` command line: version, working days on real dates, the SOP table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connector import __version__
from connector.cli import main
from connector.sop.loader import load_default_sop

ROLES = """\
[redmine]
url = "http://redmine.test"
api_key_env = "SOPTEST_UNSET_KEY"

[roles]
kepala_dinas = ["kadis"]
kepala_bidang_ti = ["kabid"]
kepala_seksi_aplikasi = ["kasi"]
bidang_ti = ["bidangti"]
"""


@pytest.fixture(autouse=True)
def _empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config.toml or $SOP_CONNECTOR_CONFIG from outside: the built-in calendar applies."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOP_CONNECTOR_CONFIG", raising=False)
    monkeypatch.delenv("SOPTEST_UNSET_KEY", raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="sop-connector")


def assert_usage_error(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"Error: {message}" in result.stderr
    assert "Usage: sop-connector workdays" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.stdout) == (0, f"sop-connector, version {__version__}\n")


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("sop", "workdays", "redmine-setup", "doctor", "serve", "worker", "jobs"):
        assert f"  {command} " in result.stdout


# --- workdays on the real 2025-2026 calendar ----------------------------------------------------


@pytest.mark.parametrize(("start", "add", "due"), [
    # Step 12's 35 hari kerja from Monday 16 March 2026, across Nyepi and Idul Fitri 1447 H
    # (18-24 March), Wafat Yesus Kristus (3 April), 1 May, and Kenaikan (14-15 May).
    ("2026-03-16", "35", "2026-05-13"),
    ("2026-03-17", "1", "2026-03-25"),  # 18 cuti Nyepi .. 24 cuti Idul Fitri are all closed
    ("2026-03-13", "5", "2026-03-27"),  # Friday: 16, 17, 25, 26, 27
    ("2026-03-16", "0", "2026-03-16"),
    ("2025-12-24", "1", "2025-12-29"),  # Natal 25, cuti bersama 26, then the weekend
    ("2025-12-31", "1", "2026-01-02"),  # Tahun Baru 1 January; 2 January is worked
    ("2026-12-23", "1", "2026-12-28"),  # the 2026 decree puts cuti bersama on 24 December
])
def test_workdays_add(start: str, add: str, due: str) -> None:
    result = run("workdays", "--from", start, "--add", add)
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{due}\n", "")


@pytest.mark.parametrize(("first", "second", "count"), [
    ("2026-03-16", "2026-05-13", "35"),
    ("2026-03-17", "2026-03-25", "1"),
    ("2025-12-24", "2026-01-05", "5"),  # 29, 30, 31 December, 2 and 5 January
    ("2026-03-18", "2026-03-24", "0"),
    ("2026-05-13", "2026-03-16", "0"),  # backwards: nothing in between
])
def test_workdays_between(first: str, second: str, count: str) -> None:
    result = run("workdays", "--between", first, second)
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{count}\n", "")


def test_office_exceptions_from_the_config_change_the_result(tmp_path: Path) -> None:
    config = tmp_path / "kantor.toml"
    config.write_text(ROLES + "\n[calendar]\nextra_holidays = [2026-03-17]\n"
                      'extra_workdays = ["2026-03-21"]\n', encoding="utf-8")
    args = ["workdays", "--config", str(config)]
    # 17 March is a local holiday; Saturday 21 March (Idul Fitri!) is worked by this office.
    assert run(*args, "--from", "2026-03-16", "--add", "1").stdout == "2026-03-21\n"
    assert run(*args, "--from", "2026-03-16", "--add", "2").stdout == "2026-03-25\n"
    assert run(*args, "--between", "2026-03-16", "2026-03-25").stdout == "2\n"
    assert run("workdays", "--from", "2026-03-16", "--add", "2").stdout == "2026-03-25\n"
    assert run("workdays", "--between", "2026-03-16", "2026-03-25").stdout == "2\n"


def test_a_six_day_work_week(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"  # found in the current folder
    config.write_text(ROLES + "\n[calendar]\nwork_week = [1, 2, 3, 4, 5, 6]\n", encoding="utf-8")
    assert run("workdays", "--from", "2026-03-27", "--add", "1").stdout == "2026-03-28\n"
    (tmp_path / "config.toml").unlink()
    assert run("workdays", "--from", "2026-03-27", "--add", "1").stdout == "2026-03-30\n"


@pytest.mark.parametrize("args", [
    ["--from", "2027-03-01", "--add", "35"],
    ["--between", "2027-12-01", "2028-06-30"],
])
def test_estimated_holidays_give_a_warning_on_stderr_only(args: list[str]) -> None:
    result = run("workdays", *args)
    assert result.exit_code == 0
    assert result.stdout in ("2027-04-29\n", "142\n")
    warnings = result.stderr.splitlines()
    assert warnings and all(w.startswith("peringatan: ") for w in warnings)
    assert any("Idul Fitri" in w and "estimated" in w for w in warnings)


def test_a_year_without_cuti_bersama_is_warned_about() -> None:
    result = run("workdays", "--from", "2028-01-03", "--add", "35")
    assert result.stdout == "2028-02-22\n"
    assert any(w.startswith("peringatan: ") and "no cuti bersama for 2028" in w
               for w in result.stderr.splitlines())


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "16-03-2026", "--add", "1"],
     "Invalid value for '--from': expected a date YYYY-MM-DD, got '16-03-2026'"),
    (["--from", "2026-02-30", "--add", "1"],
     "Invalid value for '--from': expected a date YYYY-MM-DD, got '2026-02-30'"),
    (["--between", "2026-03-16", "besok"],
     "Invalid value for '--between': expected a date YYYY-MM-DD, got 'besok'"),
    (["--from", "2026-03-16", "--add", "-1"], "Invalid value for '--add'"),
    (["--from", "2026-03-16", "--add", "lima"], "Invalid value for '--add'"),
    (["--from", "2026-03-16"], "give --from DATE --add N, or --between DATE DATE"),
    (["--add", "3"], "give --from DATE --add N, or --between DATE DATE"),
    ([], "give --from DATE --add N, or --between DATE DATE"),
    (["--from", "9999-12-30", "--add", "5"], "5 hari kerja after 9999-12-30 is past the year 9999"),
])
def test_bad_input_is_a_usage_error(args: list[str], message: str) -> None:
    result = run("workdays", *args)
    assert_usage_error(result, message)
    assert "Traceback" not in result.output


def test_the_installed_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    """The real console script, not only CliRunner: a clean error and status 2."""
    (tmp_path / "config.toml").write_text("[redmine]\nurl = 5\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "from connector.cli import main; main()",
         "workdays", "--from", "2026-03-16", "--add", "1"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert "error: config.toml: [redmine] url: expected a non-empty string, got int 5" in lines
    assert all(line.startswith("error: config.toml: ") for line in lines)


# --- sop show --------------------------------------------------------------------------------


def test_sop_show_lists_every_step_with_its_time_and_what_follows() -> None:
    result = run("sop", "show")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "SOP 555/568/DKIST/2021: Layanan Permohonan Pembuatan Aplikasi"
    assert lines[1].split() == ["No", "Langkah", "Pelaksana", "Waktu", "Lanjut"]
    rows = lines[3:]
    sop = load_default_sop()
    assert len(rows) == 17
    for row, step in zip(rows, sop.steps, strict=True):
        assert row.startswith(f"{step.number} ".ljust(4) + step.title)
        assert f"  {step.role.label}  " in row
        assert f"  {step.time.label if step.time else '-'}  " in row
    assert rows[5].endswith("ya→8 / tidak→7")
    assert rows[10].endswith("ya→12 / tidak→9")
    assert rows[13].endswith("ya→15 / tidak→12")
    assert rows[6].endswith("selesai") and rows[16].endswith("selesai")
    assert rows[11].split("  ")[0] == "12"
    assert "35 hari kerja" in rows[11] and "1 hari  " in rows[12] and "2 hari kerja" in rows[13]


def test_sop_show_of_a_file_and_of_a_broken_file(tmp_path: Path) -> None:
    good = tmp_path / "mini.toml"
    good.write_text('[sop]\nnomor = "1/X"\nnama = "Mini"\n[[steps]]\nnumber = 1\ntitle = "Satu"\n'
                    'text = "Satu"\nrole = "bidang_ti"\ntime = { amount = 2, unit = "hari" }\n'
                    "terminal = true\n", encoding="utf-8")
    result = run("sop", "show", "--file", str(good))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "SOP 1/X: Mini"
    assert result.stdout.splitlines()[3].split() == ["1", "Satu", "Bidang", "TI", "2", "hari",
                                                     "selesai"]
    broken = tmp_path / "broken.toml"
    broken.write_text(good.read_text("utf-8").replace("bidang_ti", "lurah"), encoding="utf-8")
    result = run("sop", "show", "--file", str(broken))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {broken}: step 1: unknown role 'lurah'")
