"""Where one letter's time goes: ``POST /webhooks/intake`` in one process, under cProfile.

``.venv/bin/python -m benchmarks.profile_intake [LETTERS]`` sends distinct letters through
Flask's test client to the real app on a temporary SQLite store (WAL, ``synchronous=FULL``),
prints the mean time per letter without the profiler, then the profile of as many letters
again (cumulative time, the intake's own functions). The README's "Where an intake's time
goes" is read from it. One sender at a time writes its own group commit in its own thread,
so the profile holds the store's work too. ``benchmarks.cpu_intake`` measures the real
``serve`` under waitress instead: CPU time per letter at 1 and 32 senders against bare Flask.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from connector.bootstrap import bootstrap
from connector.config.load import load_settings
from tests.conftest import INTAKE_TOKEN, sample_letter, write_config
from tests.fakes import FakeTracker
from webhooks import create_app


def main(letters: int) -> None:
    os.environ.setdefault("SOP_TEST_REDMINE_KEY", "unused")
    os.environ["SOP_TEST_INTAKE_TOKEN"] = INTAKE_TOKEN
    folder = Path(tempfile.mkdtemp(prefix="profile-intake-"))
    services = bootstrap(load_settings(write_config(folder)), tracker=FakeTracker())
    client = create_app(services).test_client()
    headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}

    def send(n: int) -> None:
        answer = client.post("/webhooks/intake", json=sample_letter(f"P-{n}/DINKES/2026"),
                             headers=headers)
        if answer.status_code != 202:
            raise SystemExit(f"letter {n}: {answer.status_code} {answer.get_data()!r}")

    for n in range(50):  # warm: imports, statement caches, the writer thread
        send(n)
    started = time.perf_counter()
    for n in range(letters):
        send(1_000_000 + n)
    print(f"{(time.perf_counter() - started) / letters * 1000:.2f} ms per letter "
          f"({letters} letters, no profiler)")
    profile = cProfile.Profile()
    profile.enable()
    for n in range(letters):
        send(2_000_000 + n)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_callees("receive_letter|_answer|_parse")
    services.engine.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
