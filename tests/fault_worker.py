"""A worker process for the SIGKILL tests, with GitLab faked in a file it shares with the test.

``responses`` can only stub the process it runs in, so a killed worker cannot share the
test's ``FakeGitLab`` object. Here the fake's whole state lives in a pickle file: every
request made to the fake GitLab, in whichever process, loads the state, applies the
request and saves the state again before answering. An object created by a worker that is
killed a moment later is therefore "already on GitLab" for the next worker and for the
test's assertions, just as it would be on a real GitLab, so "exactly one project, hook,
milestone" means that no worker created a second one.

Run as ``python -m tests.fault_worker CONFIG STATE FAULT [TASK]`` or, cheaper, forked from
the test by ``tests.worker_process.run_fault_worker``.
"""

from __future__ import annotations

import itertools
import os
import pickle
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import requests
import responses

from connector.faults import ENV_VAR
from tests.gitlab_stubs import API, ROUTES, FakeGitLab, Reply

TASKS = ("drain", "check-deadlines")


def save(fake: FakeGitLab, path: Path) -> None:
    """Write the fake's state to ``path`` atomically (a kill never leaves half a file)."""
    state = {k: v for k, v in vars(fake).items() if k != "_ids"}
    state["next_id"] = next(fake._ids)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(state))
    os.replace(partial, path)


def load(path: Path) -> FakeGitLab:
    """The fake as the last request (of any process) left it."""
    state = pickle.loads(path.read_bytes())
    fake = FakeGitLab(users=())
    next_id = state.pop("next_id")
    vars(fake).update(state)
    fake._ids = itertools.count(next_id)
    return fake


def install(rsps: responses.RequestsMock, path: Path) -> None:
    """Serve every documented GitLab route from the state in ``path``."""
    for name, (method, pattern, handler) in ROUTES.items():
        def callback(request: requests.PreparedRequest, name: str = name,
                     pattern: str = pattern, handler: Any = handler) -> Reply:
            match = re.match(API + pattern, str(request.url))
            assert match is not None, (name, request.url)
            fake = load(path)
            reply = handler(fake, request, match)
            save(fake, path)
            return reply
        rsps.add_callback(method, re.compile(API + pattern), callback=callback)


@contextmanager
def gitlab_from(path: Path, *passthru: str) -> Iterator[responses.RequestsMock]:
    """The fake GitLab of ``path`` for this process; requests to ``passthru`` go out."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for prefix in passthru:
            rsps.add_passthru(prefix)
        install(rsps, path)
        yield rsps


def work(config: Path, state: Path, fault: str | None, task: str = "drain",
         today: date | None = None) -> None:
    """One worker (or one ``check-deadlines``) that dies at ``fault``, if it reaches it."""
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.deadlines.check import check_deadlines
    from connector.handlers import handlers_for
    from connector.store import jobs

    os.environ.pop(ENV_VAR, None)
    if fault:
        os.environ[ENV_VAR] = fault
    settings = load_settings(config)
    with gitlab_from(state, settings.redmine.url):
        services = bootstrap(settings)
        try:
            if task == "drain":
                jobs.drain(services.engine, handlers_for(services), jobs.new_worker_id())
            else:
                check_deadlines(services, today)
        finally:
            services.engine.dispose()


def main(argv: list[str]) -> None:
    """``CONFIG STATE FAULT [TASK [TODAY]]``; FAULT ``-`` for none."""
    config, state, fault = Path(argv[0]), Path(argv[1]), argv[2]
    task = argv[3] if len(argv) > 3 else "drain"
    if task not in TASKS:
        raise SystemExit(f"unknown task {task!r}: one of {TASKS}")
    today = date.fromisoformat(argv[4]) if len(argv) > 4 else None
    work(config, state, None if fault == "-" else fault, task, today)


if __name__ == "__main__":
    main(sys.argv[1:])
