"""Issue 15, item 8, against the real Redmine: a stop or a crash never leaves a case waiting.

``serve`` stopped by SIGTERM in the middle of a job (step 16's Berita Acara) finishes the job
in hand and releases its case lock before it exits; a worker killed (SIGKILL) mid-job leaves
a lease and a lock whose holder is gone, and the next worker takes them over at once, not
after their 60 s / 120 s expiry.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.store import jobs
from connector.store.kinds import SYNC_ISSUE
from connector.store.schema import CaseStatus, locks
from tests.conftest import INTAKE_TOKEN, write_config
from tests.test_redmine_documents import documents_section
from tests.worker_process import run_worker, run_worker_until_killed
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redmine: Any) -> Iterator[CaseDriver]:
    from webhooks import create_app

    monkeypatch.setenv("SOP_TEST_REDMINE_KEY", redmine.admin_key)
    monkeypatch.setenv("SOP_TEST_INTAKE_TOKEN", INTAKE_TOKEN)
    port = _free_port()
    config = write_config(tmp_path, redmine_url=redmine.url, extra=documents_section())
    config.write_text(config.read_text().replace(
        'public_url = "http://sop.test"', f'public_url = "http://127.0.0.1:{port}"\nport = {port}'))
    services = bootstrap(load_settings(config))
    yield CaseDriver(services, redmine, create_app(services).test_client())
    services.engine.dispose()


def _at_step_16_closed(driver: CaseDriver) -> int:
    """A case whose Kabid has just closed step 16; its sync job queued, not run. Its id."""
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15])
    driver.act(16)
    with driver.services.engine.begin() as conn:
        job_id = jobs.enqueue(conn, SYNC_ISSUE, {"issue_id": driver.step_issue(16)})
    assert job_id is not None
    return job_id


def _known_then_closed(driver: CaseDriver) -> None:
    """Step 16's job done: the Berita Acara drawn up waits at 17 for the OPD and the Kepala
    Dinas (issue 16); once both know it, the case is closed."""
    assert (driver.case().current_step, driver.case().status) == (17, CaseStatus.OPEN)
    driver.acknowledge()
    assert driver.case().status is CaseStatus.CLOSED


def _case_locks(driver: CaseDriver) -> list[str]:
    with driver.services.engine.connect() as conn:
        return list(conn.execute(select(locks.c.owner).where(
            locks.c.name == f"case:{driver.case().id}")).scalars())


def test_serve_stopped_mid_job_finishes_it_and_releases_the_case(
        driver: CaseDriver, tmp_path: Path) -> None:
    job_id = _at_step_16_closed(driver)
    env = dict(os.environ, SOP_TEST_REDMINE_KEY=driver.server.admin_key,
               SOP_TEST_INTAKE_TOKEN=INTAKE_TOKEN)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "serve", "--config",
         str(driver.services.settings.source)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):  # until its worker is in the middle of the job
            job = jobs.get_job(driver.services.engine, job_id)
            assert job is not None
            if job.status == "running" and _case_locks(driver):
                break
            time.sleep(0.02)
        assert (job.status, driver.case().status) == ("running", CaseStatus.OPEN)
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=90)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    assert returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]
    done = jobs.get_job(driver.services.engine, job_id)
    assert done is not None and done.status == "done" and done.lease_owner is None
    assert _case_locks(driver) == []
    _known_then_closed(driver)
    assert driver.remote(17).status.name == "Closed"


def test_a_killed_workers_lease_and_lock_are_taken_over_at_once(driver: CaseDriver) -> None:
    job_id = _at_step_16_closed(driver)
    config = driver.services.settings.source
    run_worker_until_killed(config, "documents.after_render")
    job = jobs.get_job(driver.services.engine, job_id)
    assert job is not None and job.status == "running"  # the dead worker's lease
    assert len(_case_locks(driver)) == 1  # and its case lock, both far from expiry
    started = time.monotonic()
    again = run_worker(config)  # the restarted worker, on the real clock
    assert again.returncode == 0, again.stderr[-2000:]
    assert time.monotonic() - started < 60
    _known_then_closed(driver)
    assert _case_locks(driver) == []
    berita = [a.filename for a in driver.api("admin").issue.get(
        driver.case().redmine_issue_id, include=["attachments"]).attachments
        if a.filename.startswith("berita-acara-")]
    assert sorted(n.rsplit(".", 1)[1] for n in berita) == ["docx", "pdf"]
