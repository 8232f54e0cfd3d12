"""Run ``sop-connector worker --drain`` as a separate process, for the SIGKILL tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from connector.faults import ENV_VAR


def run_worker(config: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    """One worker process that drains the due jobs (and dies at ``fault``, if given)."""
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if fault:
        env[ENV_VAR] = fault
    return subprocess.run([sys.executable, "-m", "connector.cli", "worker", "--drain",
                           "--config", str(config)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def run_worker_until_killed(config: Path, fault: str, *, tries: int = 6) -> None:
    """Start workers until one is killed at ``fault``.

    A busy Redmine may fail a first attempt before the fault point is reached; the job is
    then retried after a short backoff, as a restarted worker would.
    """
    outputs = []
    for _ in range(tries):
        done = run_worker(config, fault)
        if done.returncode == -9:
            return
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stderr[-500:])
        time.sleep(3)
    raise AssertionError(f"the worker never reached {fault}:\n" + "\n".join(outputs))
