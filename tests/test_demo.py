"""``sop-connector demo --exit``, run as a newcomer would (a subprocess, output not a TTY).

Each scenario runs against the session's real Redmine (``--redmine-url``; the demo's own
Redmine start is the same ``scripts/redmine-test-server`` the fixture uses) with the local
git code host, and must end by printing the document's path, the Redmine address of the case
and the dashboard's address. The demo's store then shows who did each step.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from redminelib import Redmine

from connector.demo.config import DemoDirError, prepare_dir
from connector.store import audit, cases
from connector.store.db import make_engine

pytestmark = [pytest.mark.redmine, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
SAFETY_TIMEOUT = 1500  # seconds; only so a hung demo cannot hang the suite


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def run_demo(redmine: Any, tmp_path: Path) -> Iterator[Any]:
    """Run the demo to its end in a child process group, killed whatever happens."""
    started: list[subprocess.Popen[str]] = []

    def run(scenario: str) -> tuple[str, Path, int]:
        directory, port = tmp_path / scenario, _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "demo", "--exit", "--scenario", scenario,
             "--dir", str(directory), "--port", str(port), "--redmine-url", redmine.url],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, SOP_DEMO_REDMINE_API_KEY=redmine.admin_key),
            start_new_session=True)
        started.append(process)
        output, _ = process.communicate(timeout=SAFETY_TIMEOUT)
        assert process.returncode == 0, output[-6000:]
        return output, directory, port

    yield run
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _printed(output: str, label: str) -> str:
    found = re.search(rf"^{re.escape(label)}: (\S+)$", output, re.MULTILINE)
    assert found, f"{label!r} not printed:\n{output[-3000:]}"
    return found.group(1)


def _pdf(output: str, label: str) -> Path:
    path = Path(_printed(output, f"{label} (PDF)"))
    assert path.is_file() and path.read_bytes().startswith(b"%PDF-")
    return path


def _check_addresses(output: str, redmine: Any, port: int) -> int:
    """The case's Redmine address and the dashboard's; the parent issue's id."""
    case_url = _printed(output, "Redmine")
    assert case_url.startswith(f"{redmine.url}/issues/")
    assert _printed(output, "Dasbor") == f"http://127.0.0.1:{port}/dashboard"
    assert "\x1b" not in output  # plain lines when stdout is not a terminal
    with pytest.raises(requests.ConnectionError):  # --exit stopped the service
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    return int(case_url.rsplit("/", 1)[1])


def _completions(output: str, directory: Path) -> list[tuple[int | None, str]]:
    """(step, login) of every completion of the demo's case, from the demo's store."""
    nomor = re.search(r"^Kasus (\S+) (?:selesai|ditolak) ", output, re.MULTILINE)
    assert nomor, output[-3000:]
    engine = make_engine(f"sqlite:///{directory / 'sop-connector.db'}")
    try:
        case = cases.find_case_by_key(engine, f"DINKES:{nomor.group(1).upper()}")
        assert case is not None
        return [(e.step_from, e.actor) for e in audit.list_audit(engine, case.id)
                if e.action == "step_completed"]
    finally:
        engine.dispose()


def _parent_status(redmine: Any, issue_id: int) -> str:
    return str(Redmine(redmine.url, key=redmine.admin_key).issue.get(issue_id).status.name)


def test_the_normal_scenario_ends_with_the_berita_acara_and_a_pushed_repository(
        run_demo: Any, redmine: Any) -> None:
    output, directory, port = run_demo("normal")
    _pdf(output, "Berita Acara Pekerjaan")
    assert _parent_status(redmine, _check_addresses(output, redmine, port)) == "Closed"
    assert "langkah 8 dikerjakan sop-connector" in output  # the local git host did step 8
    assert "langkah 17 dikerjakan sop-connector" in output
    log = subprocess.run(["git", "--git-dir", str(directory / "git" / "si-puskesmas.git"),
                          "log", "--format=%an: %s", "main"], capture_output=True, text=True,
                         check=True).stdout
    assert "Pengembang Satu: Aplikasi SI Puskesmas dan dokumentasinya" in log
    done = _completions(output, directory)
    assert (2, "kadis") in done and (6, "kabid") in done and (14, "opd1") in done
    assert [step for step, _ in done][-3:] == [15, 16, 17]


def test_the_tolak_scenario_ends_refused_with_the_report_and_the_letter(
        run_demo: Any, redmine: Any) -> None:
    output, directory, port = run_demo("tolak")
    _pdf(output, "Laporan ketidaktersediaan")
    _pdf(output, "Surat kepada OPD")
    assert "Berita Acara" not in output
    assert _parent_status(redmine, _check_addresses(output, redmine, port)) == "Rejected"
    assert (7, "bidangti") in _completions(output, directory)


def test_the_revisi_scenario_replans_and_reworks_then_completes(
        run_demo: Any, redmine: Any) -> None:
    output, directory, port = run_demo("revisi")
    _pdf(output, "Berita Acara Pekerjaan")
    assert _parent_status(redmine, _check_addresses(output, redmine, port)) == "Closed"
    assert "langkah 9 aktif (kembali)" in output and "langkah 12 aktif (kembali)" in output
    steps = [step for step, _ in _completions(output, directory)]
    assert steps.count(9) == 2 and steps.count(12) == 2 and steps[-1] == 17


def test_the_demo_never_clears_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("milik orang lain")
    with pytest.raises(DemoDirError):
        prepare_dir(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "milik orang lain"
    again = prepare_dir(tmp_path / "demo")
    (again.root / "old-store.db").write_text("x")
    prepare_dir(again.root)
    assert not (again.root / "old-store.db").exists()
