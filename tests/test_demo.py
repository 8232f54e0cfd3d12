"""``sop-connector demo --exit``, run as a newcomer would (a subprocess, output not a TTY).

``normal`` and ``revisi`` start their own Redmine as ``scripts/demo`` does; ``tolak`` uses the
session's (``--redmine-url``). Each must end by printing the document's path, the Redmine
address of the case and the dashboard's address; the Redmine case must be closed (or
refused), and the demo's store shows who did each step. The local git host does step 8.
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
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from redminelib import Redmine

from connector.codehost.seeds import DOCUMENTS
from connector.config import load_settings
from connector.demo.config import DemoDirError, prepare_dir, write_config
from connector.demo.scenarios import SCENARIOS, scenario
from connector.redmine.local_server import parse_env
from connector.sop.loader import load_sop
from connector.sop.model import Role
from connector.store import audit, cases
from connector.store.db import make_engine
from connector.workflow.engine import missing_outputs

ROOT = Path(__file__).resolve().parent.parent
SAFETY_TIMEOUT = 1500  # seconds; only so a hung demo cannot hang the suite


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def run_demo(tmp_path: Path) -> Iterator[Any]:
    """Run the demo to its end in a child process group; kill and clean up whatever happens.

    ``redmine`` given: use that running Redmine (``--redmine-url``); otherwise the demo
    starts its own, as ``scripts/demo`` does on a fresh machine.
    """
    started: list[tuple[subprocess.Popen[str], Path]] = []

    def run(scenario: str, redmine: Any = None) -> tuple[str, Path, int]:
        directory, port = tmp_path / scenario, _free_port()
        command = [sys.executable, "-m", "connector.cli", "demo", "--exit",
                   "--scenario", scenario, "--dir", str(directory), "--port", str(port)]
        env = dict(os.environ)
        if redmine is not None:
            command += ["--redmine-url", redmine.url]
            env["SOP_DEMO_REDMINE_API_KEY"] = redmine.admin_key
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, env=env,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        started.append((process, directory))
        output, _ = process.communicate(timeout=SAFETY_TIMEOUT)
        assert process.returncode == 0, output[-6000:]
        return output, directory, port

    yield run
    for process, directory in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if (directory / "redmine").is_dir():  # its own Redmine: stopped, now removed
            subprocess.run([str(ROOT / "scripts" / "redmine-test-server"), "destroy",
                            str(directory / "redmine")], capture_output=True, check=True)


def _printed(output: str, label: str) -> str:
    found = re.search(rf"^{re.escape(label)}: (\S+)$", output, re.MULTILINE)
    assert found, f"{label!r} not printed:\n{output[-3000:]}"
    return found.group(1)


def _pdf(output: str, label: str) -> Path:
    path = Path(_printed(output, f"{label} (PDF)"))
    assert path.is_file() and path.read_bytes().startswith(b"%PDF-")
    return path


def _names_where_the_work_is(pdf: Path) -> None:
    """The demo's Berita Acara ([local_git], no base_url) names the repository, the wiki,
    each deliverable and the team by name (issue 15)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    compact = "".join(text.split())  # a long path may wrap in its table cell
    application = compact[compact.index("A.Aplikasi"):compact.index("B.Hasilpekerjaan")]
    assert "/si-puskesmas.git" in application and "/si-puskesmas.wiki.git" in application, text
    deliverables = compact[compact.index("B.Hasilpekerjaan"):compact.index("C.Pelaksanaan")]
    for document in DOCUMENTS:
        assert f"si-puskesmas.git:{document.path}" in deliverables, (document, text)
    team = text[text.index("D. Tim Pengembang"):text.index("Demikian")]
    assert "Pengembang Satu" in team and "dev1" not in team, team


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


def _own_redmine(output: str, directory: Path) -> Any:
    """The demo's own Redmine, stopped by --exit, started again to be looked at."""
    assert "masuk sebagai admin / sop-test-admin" in output
    assert "pelaksana: kadis / sop-test-kadis" in output
    env = parse_env(subprocess.run(
        [str(ROOT / "scripts" / "redmine-test-server"), "restart", str(directory / "redmine")],
        capture_output=True, text=True, check=True).stdout)
    assert _printed(output, "Redmine").startswith(env["REDMINE_URL"] + "/")
    signed_in = requests.get(f"{env['REDMINE_URL']}/users/current.json", timeout=30,
                             auth=("kadis", "sop-test-kadis"))  # the printed demo login
    assert signed_in.json()["user"]["login"] == "kadis"
    return SimpleNamespace(url=env["REDMINE_URL"], admin_key=env["REDMINE_API_KEY"])


@pytest.mark.redmine
@pytest.mark.slow
def test_the_normal_scenario_ends_with_the_berita_acara_and_a_pushed_repository(
        run_demo: Any) -> None:
    output, directory, port = run_demo("normal")
    _names_where_the_work_is(_pdf(output, "Berita Acara Pekerjaan"))
    redmine = _own_redmine(output, directory)
    assert _parent_status(redmine, _check_addresses(output, redmine, port)) == "Closed"
    assert "langkah 8 dikerjakan sop-connector" in output  # the local git host did step 8
    # The service draws the Berita Acara up at 17, which then waits to be known (issue 16).
    assert "langkah 17 menunggu tanda tangan" in output
    assert "Berita Acara Pekerjaan diketahui oleh opd1" in output
    log = subprocess.run(["git", "--git-dir", str(directory / "git" / "si-puskesmas.git"),
                          "log", "--format=%an: %s", "main"], capture_output=True, text=True,
                         check=True).stdout
    assert "Pengembang Satu: Aplikasi SI Puskesmas dan dokumentasinya" in log
    done = _completions(output, directory)
    assert (2, "kadis") in done and (6, "kabid") in done and (14, "opd1") in done
    assert [step for step, _ in done][-3:] == [15, 16, 17]
    assert done[-1] == (17, "kadis")  # the last to know it completes step 17
    # The demo signs the Berita Acara with its own certificates (issue 17): three blocks.
    assert output.count("berita_acara ") >= 3 and "ditandatangani: Mengetahui" in output
    assert f"verifikasi: http://127.0.0.1:{port}/verifikasi/" in output


@pytest.mark.redmine
@pytest.mark.slow
def test_the_tolak_scenario_ends_refused_with_the_report_and_the_letter(
        run_demo: Any, redmine: Any) -> None:
    output, directory, port = run_demo("tolak", redmine)
    _pdf(output, "Laporan ketidaktersediaan")
    _pdf(output, "Surat kepada OPD")
    assert "Berita Acara" not in output
    assert _parent_status(redmine, _check_addresses(output, redmine, port)) == "Rejected"
    # With [signing] the letter's last signature completes 7 (issue 17), not Bidang TI's close.
    assert (7, "sop-connector") in _completions(output, directory)
    assert "ditandatangani: Penandatangan" in output  # the demo signs the letter (issue 17)
    assert f"verifikasi: http://127.0.0.1:{port}/verifikasi/" in output


@pytest.mark.redmine
@pytest.mark.slow
def test_the_revisi_scenario_replans_and_reworks_then_completes(run_demo: Any) -> None:
    output, directory, port = run_demo("revisi")
    _pdf(output, "Berita Acara Pekerjaan")
    redmine = _own_redmine(output, directory)
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


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_scenario_follows_the_sop_and_each_actor_holds_the_role(
        name: str, tmp_path: Path) -> None:
    demo = prepare_dir(tmp_path / "demo")
    settings = load_settings(write_config(demo, redmine_url="http://redmine.test",
                                          redmine_key="k", port=8080, local_git=True))
    sop = load_sop(settings.sop_file)
    holders = dict(settings.roles) | {Role.TIM_TEKNIS_OPD: ("opd1",)}
    parties = holders | {Role.OPD_PEMOHON: ("opd1",)}  # the OPD's own account (issue 16)
    current: int | None = sop.first.next
    known = 0
    for action in scenario(name):
        step = sop.step(action.step)
        if action.by_hand_only and step.automation is not None:
            continue  # the service does it
        while current is not None and sop.step(current).automation and current != step.number:
            current = sop.step(current).next
        assert action.step == current
        if step.acknowledged_by:  # the service drew its document up: each party knows it
            assert action.login in parties[step.acknowledged_by[known]]
            assert action.documents == ()
            known += 1
            if known == len(step.acknowledged_by):
                current, known = step.next, 0
            continue
        assert action.login in holders[step.role]
        # A document the service draws up itself ([documents] in the demo) is not attached.
        drawn = bool(step.documents) and settings.documents is not None
        assert bool(action.documents) == (step.requires_document and not drawn)
        # One file per output, named by the naming rule the engine checks.
        if action.documents:
            assert not missing_outputs(step, frozenset(name for name, _ in action.documents))
        assert bool(action.findings) == (bool(step.findings) and action.status == "Rejected")
        decision = step.decision
        current = step.next if decision is None else \
            decision.ya if action.status == "Closed" else decision.tidak
    while current is not None and sop.step(current).automation:
        current = sop.step(current).next
    assert current is None  # the case has ended
