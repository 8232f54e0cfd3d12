"""``sop-connector serve`` for real: waitress, its in-process worker, and the real Redmine."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.cli import main
from tests.conftest import INTAKE_TOKEN, sample_letter, write_config

pytestmark = pytest.mark.redmine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={
        "Authorization": f"Bearer {INTAKE_TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_serve_acknowledges_a_letter_and_its_worker_opens_the_case(
        tmp_path: Path, redmine: Any) -> None:
    port = _free_port()
    config = write_config(tmp_path, redmine_url=redmine.url).read_text()
    config = config.replace('public_url = "http://sop.test"',
                            f'public_url = "http://127.0.0.1:{port}"\nport = {port}')
    path = tmp_path / "config.toml"
    path.write_text(config)
    env = dict(os.environ, SOP_TEST_REDMINE_KEY=redmine.admin_key,
               SOP_TEST_INTAKE_TOKEN=INTAKE_TOKEN)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--config",
                               str(path)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        status, body = _call(f"{base}/webhooks/intake",
                             sample_letter(f"{uuid.uuid4().hex[:8]}/DINKES/2026"))
        assert status == 202
        assert body["status_url"].startswith(base)
        for _ in range(150):
            status, case = _call(body["status_url"])
            if case["status"] == "open":
                break
            time.sleep(0.2)
        assert case["status"] == "open" and case["current_step"] == 2
        assert [e["action"] for e in case["timeline"]] == ["case_received", "case_opened"]
        assert _call(f"{base}/healthz")[1]["queue"]["done"] == 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    export = CliRunner().invoke(main, ["cases", "export", "--config", str(path)],
                                env={"SOP_TEST_REDMINE_KEY": "x"})
    assert export.exit_code == 0, export.output
    rows = list(csv.DictReader(io.StringIO(export.output)))
    assert [r["action"] for r in rows] == ["case_received", "case_opened"]
    assert rows[1]["step_from"] == "1" and rows[1]["step_to"] == "2"
