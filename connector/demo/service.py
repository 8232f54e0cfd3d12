"""The demo's sop-connector service: ``sop-connector serve`` as a child process, and a client.

The service is started exactly as an office runs it (``serve`` with its in-process worker
and poller) on the demo configuration. The client speaks to it only over HTTP: the intake
webhook, ``GET /api/cases/<id>``, and the Redmine webhook as the redmine_webhook plugin
sends it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from connector.errors import ConnectorError


class ServiceError(ConnectorError):
    """The demo's service did not start or did not answer as expected."""


def start_service(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """Run ``sop-connector serve``, its output in ``log``.

    It stays in the demo's process group, so whatever ends the demo's group ends it too.
    """
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "--config", str(config), "serve"],
            cwd=config.parent, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def stop_service(process: subprocess.Popen[bytes]) -> None:
    """Ask the service to stop (SIGTERM), then kill it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class ServiceClient:
    """HTTP client of the demo's service."""

    base_url: str
    intake_token: str
    redmine_secret: str

    def __post_init__(self) -> None:
        self._http = requests.Session()
        self._http.trust_env = False  # a local service: never through a proxy

    def wait_healthy(self, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
        """Until ``/healthz`` answers; fail early if the process has ended."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceError(f"layanan berhenti (kode {process.returncode})")
            try:
                if self._http.get(f"{self.base_url}/healthz", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise ServiceError(f"layanan tidak menjawab di {self.base_url} dalam {seconds:.0f} s")

    def submit_letter(self, letter: Mapping[str, Any]) -> int:
        """Send the OPD's letter to the intake webhook; the case's id."""
        answer = self._http.post(f"{self.base_url}/webhooks/intake", json=letter,
                                 headers=self._auth(), timeout=30)
        if answer.status_code not in (200, 202):
            raise ServiceError(f"surat ditolak ({answer.status_code}): {answer.text[:500]}")
        return int(answer.json()["case_id"])

    def case(self, case_id: int) -> dict[str, Any]:
        """The case as ``GET /api/cases/<id>`` shows it."""
        answer = self._http.get(f"{self.base_url}/api/cases/{case_id}", headers=self._auth(),
                                timeout=30)
        answer.raise_for_status()
        return dict(answer.json())

    def wait_for(self, case_id: int, done: Callable[[dict[str, Any]], bool], *,
                 seconds: float, tick: Callable[[], None] = lambda: None) -> dict[str, Any]:
        """Poll the case until ``done`` says so; raise ServiceError after ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            case = self.case(case_id)
            if done(case):
                return case
            if time.monotonic() > deadline:
                raise ServiceError(f"kasus {case_id} tidak berlanjut dalam {seconds:.0f} s "
                                   f"(langkah {case['current_step']}, {case['status']})")
            tick()
            time.sleep(0.4)

    def redmine_hint(self, issue_id: int, journal_id: int | None) -> None:
        """What the redmine_webhook plugin posts when an issue is updated."""
        issue = {"id": issue_id, "updated_on": datetime.now(UTC).isoformat()}
        payload: dict[str, Any] = {"action": "updated", "issue": issue}
        if journal_id is not None:
            payload["journal"] = {"id": journal_id}
        answer = self._http.post(f"{self.base_url}/webhooks/redmine/{self.redmine_secret}",
                                 json={"payload": payload}, timeout=30)
        if answer.status_code not in (200, 202):
            raise ServiceError(f"webhook Redmine ditolak ({answer.status_code})")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.intake_token}"}
