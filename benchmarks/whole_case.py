"""A whole case from letter to Berita Acara: the Redmine and GitLab calls the service makes.

The case is driven as ``tests/test_redmine_gitlab.py`` drives it: the real Redmine, people
closing their subtasks there (``tests.workflow_driver.CaseDriver``), GitLab under
``responses`` (``tests.gitlab_stubs.FakeGitLab``), documents configured, so step 8 is
provisioned and step 17's Berita Acara drawn up by the service. The service's own Redmine
calls are told from the people's by the ``X-Skip-Webhooks`` header it sends. Baselines: the
writes among those calls (what a plain script would need, without the look-ups that make a
retry safe), and for the time, the part of it spent waiting on Redmine and GitLab.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import responses

from benchmarks.http_calls import CallLog, print_breakdown, recording
from benchmarks.table import Figure
from connector.bootstrap import bootstrap
from connector.codehost.seeds import DOCUMENTS
from connector.config import load_settings
from connector.store import jobs
from connector.store.schema import CaseStatus
from tests.conftest import INTAKE_TOKEN, write_config
from tests.gitlab_stubs import BASE, GITLAB_CONFIG, ROUTES, FakeGitLab
from tests.test_redmine_documents import documents_section
from tests.workflow_driver import CaseDriver

NAME = "whole case → Berita Acara"
# Names to ids, read once per worker process and kept (``RedmineTracker``): a warm worker has
# them when a case begins, so they are shown apart (the project's own is added in ``run``).
ONCE_PER_PROCESS = ("/custom_fields.json", "/issue_statuses.json", "/trackers.json",
                    "/roles.json", "/users.json", "/users/current.json")
ENV = {"SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN, "SOP_TEST_GITLAB_TOKEN": "glpat-bench-token",
       "SOP_TEST_GITLAB_HOOK": "hook-secret-0123456789"}


@contextmanager
def timed_drains(spent: list[float]) -> Iterator[None]:
    """Add the time of every ``jobs.drain`` (the service's work) to ``spent``."""
    original: Callable[..., int] = jobs.drain

    def drain(*args: Any, **kwargs: Any) -> int:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    jobs.drain = drain  # type: ignore[assignment]
    try:
        yield
    finally:
        jobs.drain = original  # type: ignore[assignment]


def run(workdir: Path, redmine: Any) -> list[Figure]:
    """Drive one case end to end and count the service's calls."""
    from webhooks import create_app

    os.environ.update(ENV, SOP_TEST_REDMINE_KEY=redmine.admin_key)
    services = bootstrap(load_settings(write_config(
        workdir, redmine_url=redmine.url, extra=GITLAB_CONFIG + documents_section())))
    fake = FakeGitLab(users=("dev1", "dev2", "kasi"))
    spent: list[float] = []
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps, \
                recording() as log, timed_drains(spent):
            rsps.add_passthru(redmine.url)
            fake.install(rsps, ROUTES)
            driver = CaseDriver(services, redmine, create_app(services).test_client())
            _walk(driver, fake)
    finally:
        services.engine.dispose()
    once = (*ONCE_PER_PROCESS, f"/projects/{services.settings.redmine.project}.json")
    return _figures(log, sum(spent), urlsplit(redmine.url).netloc, urlsplit(BASE).netloc, once)


def _walk(driver: CaseDriver, fake: FakeGitLab) -> None:
    driver.open()
    driver.walk([2, 3, 4, 5, 6, 9, 10, 11])
    project = fake.only_project()
    files = {document.path: f"# {document.name}\n\nIsi lengkap.\n" for document in DOCUMENTS}
    fake.commit(project["id"], "Dokumentasi dan kode aplikasi",
                files | {"src/app.py": "print('SI Puskesmas')\n"})
    driver.walk([12, 13, 14, 15, 16])
    if driver.case().status is not CaseStatus.CLOSED:
        raise RuntimeError(f"the case did not close: {driver.case()}")


def _figures(log: CallLog, service_seconds: float, redmine: str, gitlab: str,
             once: tuple[str, ...]) -> list[Figure]:
    ours_redmine, ours_gitlab = log.of(redmine), log.of(gitlab, by_service=None)
    per_case = [c for c in ours_redmine if not (c.method == "GET" and c.path in once)]
    print_breakdown(f"{NAME}: Redmine calls by the service", ours_redmine)
    print(f"# of which {len(ours_redmine) - len(per_case)} look-ups once per process "
          f"(names to ids): {', '.join(once)}")
    print_breakdown(f"{NAME}: GitLab calls by the service", ours_gitlab)
    waiting = CallLog.seconds(ours_redmine) + CallLog.seconds(ours_gitlab)
    return [
        Figure(NAME, "Redmine calls by the service", len(ours_redmine),
               "of which writes", len(CallLog.writes(ours_redmine))),
        Figure(NAME, "Redmine calls, without the once-per-process look-ups", len(per_case),
               "of which writes", len(CallLog.writes(per_case))),
        Figure(NAME, "GitLab calls by the service", len(ours_gitlab),
               "of which writes", len(CallLog.writes(ours_gitlab))),
        Figure(NAME, "service time (worker jobs)", service_seconds,
               "of which waiting on Redmine/GitLab", waiting, "s"),
    ]
