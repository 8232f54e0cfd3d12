"""``sop-connector demo`` from start to end: Redmine, configuration, service, the case, a summary.

Services are stopped on the way out whatever happens (an ExitStack); with ``wait`` the demo
stays up until SIGINT or SIGTERM so people can look around in Redmine and the dashboard.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from sqlalchemy import Engine

from connector.config import load_settings
from connector.config.load import SECTIONS
from connector.demo.config import (
    POLL_ONLY_SECONDS,
    POLL_SECONDS,
    DemoDir,
    prepare_dir,
    write_config,
)
from connector.demo.progress import Progress
from connector.demo.roles import RedmineRoles
from connector.demo.sample import sample_letter
from connector.demo.scenarios import scenario
from connector.demo.service import ServiceClient, ServiceError, start_service, stop_service
from connector.demo.signing import sign_case, write_certificates
from connector.demo.summary import Summary, fetch_documents, print_summary
from connector.demo.walk import CaseWalker
from connector.redmine.local_server import start_local_redmine
from connector.sop.loader import load_sop
from connector.store.cases import get_case
from connector.store.cursors import set_cursor
from connector.store.db import make_engine
from connector.store.projects import project_of_case
from connector.sync.poll import CURSOR


@dataclass(frozen=True)
class DemoOptions:
    """What the command line chose."""

    scenario: str
    directory: Path
    port: int
    redmine_url: str | None = None  # an existing Redmine (set up by the set-up script)
    redmine_key: str | None = None  # its administrator's API key
    wait: bool = True
    hints: bool = True


def run_demo(options: DemoOptions, progress: Progress) -> Summary:
    """Run the chosen scenario to its end; return what was printed at the end."""
    actions = scenario(options.scenario)
    started = time.monotonic()
    demo = prepare_dir(options.directory)
    with ExitStack() as stack:
        progress.heading(f"Demo sop-connector, skenario “{options.scenario}” "
                         f"(direktori {demo.root})")
        url, key, passwords = _redmine(options, demo, stack, progress)
        local_git = "local_git" in SECTIONS
        config = write_config(demo, redmine_url=url, redmine_key=key, port=options.port,
                              local_git=local_git,
                              poll_seconds=POLL_SECONDS if options.hints else POLL_ONLY_SECONDS,
                              extra=write_certificates(demo.root / "tte",
                                                       demo.secret("signing-passphrase")))
        settings = load_settings(config)
        progress.info(f"Konfigurasi demo: {config}")
        process = start_service(config, demo.service_log)
        stack.callback(stop_service, process)
        client = ServiceClient(f"http://127.0.0.1:{options.port}", demo.secret("intake-token"),
                               demo.secret("redmine-webhook-secret"))
        try:
            client.wait_healthy(process)
        except ServiceError as exc:
            raise ServiceError(f"{exc}; lihat {demo.service_log} (port {options.port} "
                               "sudah dipakai? pilih --port lain)") from exc
        engine = make_engine(settings.database.url)
        stack.callback(engine.dispose)
        with engine.begin() as conn:  # read Redmine from now on, not a day back
            set_cursor(conn, CURSOR, datetime.now(UTC).isoformat())
        progress.info(f"Layanan sop-connector berjalan di {client.base_url} "
                      f"(log: {demo.service_log})")
        roles = RedmineRoles(url, key)
        case_id = _open_case(client, progress, settings.calendar.timezone)
        walker = CaseWalker(roles, client, progress, load_sop(settings.sop_file),
                            lambda cid: _repository(engine, demo, cid), demo.workspace,
                            hints=options.hints)
        case = walker.walk(case_id, actions)
        found = get_case(engine, case_id)
        assert found is not None
        sign_case(engine, found.case_key, demo.root / "tte", demo.secret("signing-passphrase"),
                  settings.server.public_url, progress)
        case = client.case(case_id)  # a signed letter ends a refused case (7) only now
        summary = Summary(
            documents=fetch_documents(roles, case, demo.documents), case=case,
            redmine_url=url, passwords=passwords, dashboard_url=f"{client.base_url}/dashboard",
            dashboard_token=demo.secret("dashboard-token"), config=config,
            local_git=demo.git_root if local_git else None,
            seconds=time.monotonic() - started)
        print_summary(summary, progress, waiting=options.wait)
        if options.wait:
            _wait_for_signal()
            progress.info("Menghentikan layanan dan Redmine...")
        return summary


def _redmine(options: DemoOptions, demo: DemoDir, stack: ExitStack,
             progress: Progress) -> tuple[str, str, dict[str, str]]:
    if options.redmine_url:
        if not options.redmine_key:
            raise ValueError("--redmine-url needs the administrator's API key")
        progress.info(f"Memakai Redmine yang sudah berjalan: {options.redmine_url}")
        return options.redmine_url.rstrip("/"), options.redmine_key, {}
    progress.info("Menyiapkan Redmine lokal (paket Debian, SQLite, skrip set-up SOP)...")
    redmine = start_local_redmine(demo.redmine_state)
    stack.callback(redmine.stop)
    progress.info(f"Redmine berjalan di {redmine.url}")
    return redmine.url, redmine.admin_key, redmine.passwords


def _open_case(client: ServiceClient, progress: Progress, timezone: str) -> int:
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(timezone)).date()
    letter = sample_letter(uuid.uuid4().hex[:6].upper(), today)
    progress.action(1, "Surat permohonan masuk dari OPD", "Dinas Kesehatan (OPD pemohon)",
                    f"mengirim surat {letter['nomor_surat']}: {letter['perihal']}")
    case_id = client.submit_letter(letter)
    progress.waiting("menunggu sop-connector membuka kasus di Redmine")
    case = client.wait_for(case_id, lambda c: c["status"] != "received", seconds=180,
                           tick=progress.tick)
    progress.service(f"kasus dibuka di Redmine (#{case['redmine_issue_id']}) dengan "
                     f"{len(case['steps'])} subtugas; langkah {case['current_step']} aktif")
    return case_id


def _repository(engine: Engine, demo: DemoDir, case_id: int) -> str | None:
    """Where the team clones the case's repository: the bare repository step 8 made."""
    project = project_of_case(engine, case_id)
    if project is None:
        return None
    if project.web_url.startswith("file://"):
        return project.web_url.removeprefix("file://")
    return str(demo.git_root / f"{project.path}.git")


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)
    while not stop.wait(1):
        pass
