"""The real Redmine the benchmarks talk to: the caller's, or one started for the run.

``SOP_BENCH_REDMINE`` may hold a JSON object with ``url``, ``admin_key`` and ``user_keys`` of
a running test Redmine (tests/test_benchmarks.py passes the suite's); otherwise one is started
with ``scripts/redmine-test-server`` (Debian packages, as root) and destroyed afterwards.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.redmine_server import RedmineServer, cannot_start_reason, start_redmine_server

ENV = "SOP_BENCH_REDMINE"


def describe(server: RedmineServer) -> str:
    """The JSON that ``SOP_BENCH_REDMINE`` takes, for this server."""
    return json.dumps({"url": server.url, "admin_key": server.admin_key,
                       "user_keys": server.user_keys})


@contextmanager
def real_redmine() -> Iterator[RedmineServer | None]:
    """The given or a new Redmine; None (with a printed reason) when none can run here."""
    given = os.environ.get(ENV)
    if given:
        data = json.loads(given)
        yield RedmineServer(data["url"], data["admin_key"], 0, 0, Path("."), Path("."),
                            user_keys=data["user_keys"])
        return
    reason = cannot_start_reason()
    if reason is not None:
        print(f"no Redmine: {reason}", file=sys.stderr)
        yield None
        return
    print("starting a test Redmine (scripts/redmine-test-server)", file=sys.stderr)
    server = start_redmine_server()
    try:
        yield server
    finally:
        server.destroy()
