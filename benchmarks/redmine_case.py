"""A letter to a complete case in the real Redmine, against a plain python-redmine loop.

The service (in this process, with the real ``RedmineTracker``) takes a letter through the
intake endpoint and its worker opens the case: the parent issue, the letter's attachment and
one subtask per step on the main path, each looked up by its key before it is created. The
baseline replays the very writes the service made for that case (create the parent, upload,
attach, create each subtask, the same updates), directly with python-redmine in a plain loop:
what the case costs without the look-ups that make it safe to retry.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from redminelib import Redmine

from benchmarks.http_calls import Call, CallLog, recording
from benchmarks.table import Figure
from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.handlers import handlers_for
from connector.store import jobs
from tests.conftest import INTAKE_TOKEN, auth, sample_letter, write_config

NAME = "letter → case (Redmine)"
PLAIN = "plain python-redmine loop, same writes"


def run(workdir: Path, redmine: Any, *, cases: int) -> list[Figure]:
    """Open ``cases`` cases (the first with cold caches), replaying each warm one directly."""
    from webhooks import create_app

    os.environ.update(SOP_TEST_REDMINE_KEY=redmine.admin_key, SOP_TEST_INTAKE_TOKEN=INTAKE_TOKEN)
    services = bootstrap(load_settings(write_config(workdir, redmine_url=redmine.url)))
    client = create_app(services).test_client()
    host = urlsplit(redmine.url).netloc
    ours: list[tuple[float, int]] = []
    plain: list[tuple[float, int]] = []
    try:
        with recording() as log:
            for number in range(max(cases, 2)):
                log.clear()
                ours.append(_open_case(services, client, log, host))
                if number:  # the cold case makes the same writes as a warm one
                    writes = CallLog.writes(log.of(host))
                    log.clear()
                    plain.append(_replay(redmine, writes, log, host))
    finally:
        services.engine.dispose()
    (cold_s, cold_calls), warm = ours[0], ours[1:]
    plain_s = statistics.median(s for s, _ in plain)
    plain_calls = statistics.median(n for _, n in plain)
    return [
        Figure(NAME, "warm worker: wall time", statistics.median(s for s, _ in warm), PLAIN,
               plain_s, "s"),
        Figure(NAME, "warm worker: Redmine calls", statistics.median(n for _, n in warm),
               PLAIN, plain_calls),
        Figure(NAME, "first case after start: wall time", cold_s, PLAIN, plain_s, "s"),
        Figure(NAME, "first case after start: Redmine calls", cold_calls, PLAIN, plain_calls),
    ]


def _open_case(services: Any, client: Any, log: CallLog, host: str) -> tuple[float, int]:
    """POST a new letter and run the worker until its case is open: (seconds, calls)."""
    nomor = f"{uuid.uuid4().hex[:8]}/DINKES/2026"
    started = time.perf_counter()
    answer = client.post("/webhooks/intake", json=sample_letter(nomor), headers=auth())
    if answer.status_code != 202:
        raise RuntimeError(f"intake answered {answer.status_code}: {answer.get_json()}")
    done = jobs.drain(services.engine, handlers_for(services), "bench-worker")
    took = time.perf_counter() - started
    left = jobs.list_jobs(services.engine, ["pending", "failed", "running", "dead"])
    if done != 1 or left:
        raise RuntimeError(f"the case did not open in one job: {done} run, left {left}")
    return took, len(log.of(host))


def _replay(redmine: Any, writes: list[Call], log: CallLog, host: str) -> tuple[float, int]:
    """Make the same writes directly with python-redmine: (seconds, calls)."""
    api = Redmine(redmine.url, key=redmine.admin_key)
    issues: dict[int, int] = {}  # the service's issue id -> the replayed one
    token = ""
    started = time.perf_counter()
    for call in writes:
        if call.path.endswith("/uploads.json"):
            name = parse_qs(urlsplit(call.url).query)["filename"][0]
            token = api.upload(io.BytesIO(call.body), filename=name)["token"]
            continue
        fields = json.loads(call.body)["issue"]
        if "parent_issue_id" in fields:
            fields["parent_issue_id"] = issues[fields["parent_issue_id"]]
        for upload in fields.get("uploads", ()):
            upload["token"] = token
        if call.method == "POST":
            fields["project_id"] = int(call.path.split("/")[-2])  # /projects/<id>/issues.json
            created = api.issue.create(**fields)
            issues[json.loads(call.answer)["issue"]["id"]] = created.id
        else:
            api.issue.update(issues[int(Path(call.path).stem)], **fields)
    return time.perf_counter() - started, len(log.of(host, by_service=None))
