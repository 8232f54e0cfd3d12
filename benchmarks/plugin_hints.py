"""Close-to-next-step latency: the sop_connector plugin against poll-only and redmine_webhook.

One real Redmine with the plugin (``scripts/redmine-test-server start --plugin``), the service
in this process (its app on a loopback port and one worker), and for each way of learning of
a change one case walked to step 9, then ``transitions`` saves around the re-plan loop (9
closed with its document, 10 closed, 11 rejected: back to 9), each timed from the moment
the save is sent until the service has moved the case to its next step. The three modes take
turns, one transition each, on one service (so a machine that gets busier slows them alike):

- plugin: the plugin's signed hint, posted after Redmine commits (the route of Redmine 7);
- redmine_webhook format: the plugin switched off, and the unsigned body of the redmine_webhook
  plugin posted as the save is sent, i.e. before Redmine has committed it (as that plugin does
  from its controller hook), naming the journal the save will create: the service's job then
  waits for the journal to show (``HINT_WAIT_SECONDS``);
- poll-only: no hint at all, the poll every ``poll_seconds`` (the default is 60 s; a shorter
  one keeps the run short, and the wait scales with it).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from benchmarks.table import Figure, percentile
from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.services import Services
from connector.sync.poll import poll_once
from tests.conftest import INTAKE_TOKEN
from tests.plugin_service import SECRET, plugin_config, serving
from tests.redmine_plugin import configure_plugin
from tests.workflow_driver import CaseDriver

NAME = "close → next step"
PLUGIN, WEBHOOK, POLL = "plugin (after commit)", "redmine_webhook format", "poll-only"
PAYLOAD = Path(__file__).resolve().parent.parent / "tests" / "payloads" / \
    "redmine_plugin__issue_updated.json"
TIMEOUT = 120.0  # seconds for one transition before the benchmark gives up


def run(workdir: Path, *, transitions: int, poll_seconds: float) -> list[Figure]:
    """Start a Redmine with the plugin, time ``transitions`` moves per mode, destroy it."""
    from tests.redmine_server import cannot_start_reason, start_redmine_server

    reason = cannot_start_reason()
    if reason is not None:
        raise RuntimeError(f"the plugin benchmark needs a real Redmine: {reason}")
    redmine = start_redmine_server(plugin=True)
    try:
        latencies = _interleaved(workdir, redmine, transitions, poll_seconds)
    finally:
        redmine.destroy()
    ours = latencies[PLUGIN]
    figures = []
    for q in (50, 99):
        for mode in (POLL, WEBHOOK):
            baseline = mode if mode == WEBHOOK else f"{POLL}, poll every {poll_seconds:g} s"
            figures.append(Figure(NAME, f"plugin: p{q} of {transitions}",
                                  percentile(ours, q), baseline,
                                  percentile(latencies[mode], q), "s"))
    return figures


MODES = (PLUGIN, WEBHOOK, POLL)


def _interleaved(workdir: Path, redmine: Any, transitions: int,
                 poll_seconds: float) -> dict[str, list[float]]:
    """One case per mode, one service; the modes take turns, so a busy machine slows all."""
    os.environ.update(SOP_TEST_REDMINE_KEY=redmine.admin_key,
                      SOP_TEST_INTAKE_TOKEN=INTAKE_TOKEN, SOP_TEST_PLUGIN_SECRET=SECRET)
    services = bootstrap(load_settings(plugin_config(workdir, redmine)))
    from webhooks import create_app

    client = create_app(services).test_client()
    drivers = {mode: CaseDriver(services, redmine, client) for mode in MODES}
    configure_plugin(redmine, service_url="", secret="")  # quiet while the cases are prepared
    latencies: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for driver in drivers.values():
            driver.open()
            driver.walk([2, 3, 4, 5, 6, 8])
        plugin = _PluginSwitch(redmine)
        polling, stop = threading.Event(), threading.Event()
        poller = threading.Thread(target=_poll, args=(services, poll_seconds, polling, stop),
                                  daemon=True)
        with serving(services) as url:
            poll_once(services)  # the cursor starts now: later polls read a short window
            poller.start()
            hint = {WEBHOOK: _webhook_hint(drivers[WEBHOOK], url, list(drivers.values()))}
            try:
                for step in _steps(transitions):
                    for mode in MODES:
                        plugin.set(url if mode == PLUGIN else "")
                        (polling.set if mode == POLL else polling.clear)()
                        latencies[mode].append(
                            _transition(drivers[mode], step, hint.get(mode)))
            finally:
                stop.set()
                poller.join(30)
    finally:
        configure_plugin(redmine, service_url="", secret="")
        services.engine.dispose()
    return latencies


class _PluginSwitch:
    """Turns the plugin's hints on and off through its settings page (as an admin would)."""

    def __init__(self, redmine: Any) -> None:
        from tests.redmine_plugin import form_token, signed_in

        self.redmine, self.web = redmine, signed_in(redmine)
        page = self.web.get(f"{redmine.url}/settings/plugin/sop_connector", timeout=30)
        self.token, self.current = form_token(page.text), None

    def set(self, service_url: str) -> None:
        if service_url == self.current:
            return
        answer = self.web.post(
            f"{self.redmine.url}/settings/plugin/sop_connector", allow_redirects=False,
            timeout=30, data={"authenticity_token": self.token,
                              "settings[service_url]": service_url,
                              "settings[secret]": SECRET if service_url else "",
                              "settings[projects]": "permohonan-aplikasi",
                              "settings[timeout]": "2"})
        if answer.status_code != 302:
            raise RuntimeError(f"the plugin's settings page answered {answer.status_code}")
        self.current = service_url


LOOP = {9: 10, 10: 11, 11: 9}  # 11 "tidak" sends the plan back to 9


def _steps(transitions: int) -> list[int]:
    return [(9, 10, 11)[n % 3] for n in range(transitions)]


def _transition(driver: CaseDriver, step: int,
                hint: Callable[[int], threading.Thread] | None) -> float:
    """Send the save of ``step`` and wait until the case is at the step that follows it."""
    target = LOOP[step]
    assert driver.case().current_step == step, (step, driver.case().current_step)
    status = "Rejected" if step == 11 else "Closed"
    driver.status_id(status)  # warm the look-up, so only the save is timed
    started = time.monotonic()
    sender = hint(step) if hint is not None else None
    driver.act(step, status=status, notes="Disusun ulang." if step == 11 else "")
    while driver.case().current_step != target:
        if time.monotonic() - started > TIMEOUT:
            raise RuntimeError(f"step {step} did not move the case in {TIMEOUT:g} s: "
                               f"{_trail(driver)[-3:]}")
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    if sender is not None:
        sender.join(10)
    _settle(driver)
    return elapsed


def _trail(driver: CaseDriver) -> list[tuple[str, int | None, Any]]:
    from connector.store import audit

    with driver.services.engine.connect() as conn:
        return [(e.action, e.step_from, e.detail)
                for e in audit.list_audit(conn, driver.case().id)]


def _webhook_hint(driver: CaseDriver, url: str,
                  every: list[CaseDriver]) -> Callable[[int], threading.Thread]:
    """A sender of redmine_webhook's unsigned body, racing the save it tells of."""
    template = json.loads(PAYLOAD.read_text())

    def send(step: int) -> threading.Thread:
        body = json.loads(json.dumps(template))
        issue_id = driver.step_issue(step)
        body["payload"]["issue"]["id"] = issue_id
        body["payload"]["journal"]["id"] = _next_journal_id(every)
        thread = threading.Thread(target=requests.post, daemon=True, kwargs={
            "url": f"{url}/webhooks/redmine/{SECRET}", "json": body, "timeout": 10})
        thread.start()
        return thread

    return send


def _next_journal_id(every: list[CaseDriver]) -> int:
    """The id the next journal will get: the benchmark is this Redmine's only writer, and
    between transitions only the cases' parents and loop steps get journals."""
    issues = [i for d in every for i in (d.case().redmine_issue_id, *map(d.step_issue, LOOP))]
    api = every[0].api("admin")
    ids = [j.id for i in issues for j in api.issue.get(i, include=["journals"]).journals]
    return max(ids) + 1


def _settle(driver: CaseDriver) -> None:
    """Wait until no job is waiting, so the next save starts from a quiet service."""
    from connector.store import jobs

    deadline = time.monotonic() + TIMEOUT
    while jobs.list_jobs(driver.services.engine, ["pending", "running", "failed"]):
        if time.monotonic() > deadline:
            raise RuntimeError("jobs still waiting after a transition")
        time.sleep(0.05)


def _poll(services: Services, seconds: float, polling: threading.Event,
          stop: threading.Event) -> None:
    """Poll every ``seconds`` while ``polling`` is set (only the poll-only mode's turns)."""
    while not stop.wait(seconds):
        if polling.is_set():
            poll_once(services)
