"""Run ``sop-connector worker --drain`` as a separate process, for the SIGKILL tests."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
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


@dataclass(frozen=True)
class Ended:
    """How a fault worker ended: its exit code and what it wrote to stderr."""

    exitcode: int | None
    output: str

    @property
    def killed_at(self) -> str | None:
        """The fault point it says it was killed at (``connector.faults.fault_point``)."""
        found = re.findall(r"killed at fault point (\S+)", self.output)
        return found[-1] if found else None


def run_fault_worker(config: Path, gitlab_state: Path, fault: str | None, *,
                     task: str = "drain", today: date | None = None) -> Ended:
    """A worker (``tests.fault_worker``) in a forked process that dies at ``fault``.

    Forked rather than started afresh, since importing the service costs more than the
    worker's work: the child builds its own services (database connections, HTTP
    sessions) from the configuration and shares nothing with the test but the files.
    """
    output = gitlab_state.with_name(f"worker-{uuid.uuid4().hex[:8]}.log")
    process = multiprocessing.get_context("fork").Process(
        target=_fault_child, args=(config, gitlab_state, fault, task, today, output))
    process.start()
    process.join(300)
    if process.is_alive():
        process.kill()
        process.join()
    return Ended(process.exitcode, output.read_text(errors="replace"))


def _fault_child(config: Path, gitlab_state: Path, fault: str | None, task: str,
                 today: date | None, output: Path) -> None:
    from tests.fault_worker import work

    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    sys.stdout = sys.stderr = os.fdopen(os.dup(2), "w", buffering=1)  # not pytest's capture
    work(config, gitlab_state, fault, task, today)
