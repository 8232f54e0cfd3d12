"""CPU time per letter of the real ``serve`` against the bare Flask endpoint, per thread.

``.venv/bin/python -m benchmarks.cpu_intake [SECONDS]`` starts the bare endpoint, then
``sop-connector serve`` (SQLite in WAL with ``synchronous=FULL``; ``[server] worker_threads =
0``, so only the intake is measured), sends distinct letters from 1 and from 32 keep-alive
senders, and prints for each server the letters per second and the CPU it spent per letter
(user and system, from ``/proc/<pid>/stat``), with its busiest threads. On a shared machine
a server gets the cores it can, so throughput moves with the load; CPU time per letter
moves much less, and says what the service costs against bare Flask under the same waitress.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks import load
from benchmarks.intake import HEADERS, VENV_BIN, letter_body
from tests.conftest import INTAKE_TOKEN, write_config

TICK = os.sysconf("SC_CLK_TCK")


def _times(stat: Path) -> tuple[float, float]:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def _threads(pid: int) -> dict[str, float]:
    found: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            user, system = _times(task / "stat")
        except OSError:  # the thread ended meanwhile
            continue
        found[task.name] = user + system
    return found


def measure(command: list[str], port: int, folder: Path, env: dict[str, str],
            seconds: float) -> None:
    name = Path(command[1]).name if command[1].endswith(".py") else command[1]
    with load.server_process(command, port, env=env, log=folder / "server.log") as process:
        load.send_load(port, "/webhooks/intake", HEADERS, letter_body(f"{name}-warm"),
                       senders=1, seconds=1)
        for senders in (1, 32):
            stat = Path(f"/proc/{process.pid}/stat")
            (user0, sys0), threads0 = _times(stat), _threads(process.pid)
            result = load.send_load(port, "/webhooks/intake", HEADERS,
                                    letter_body(f"{name}-{senders}"), senders=senders,
                                    seconds=seconds)
            (user1, sys1), threads1 = _times(stat), _threads(process.pid)
            letters = len(result.latencies)
            busiest = sorted(((threads1[t] - threads0.get(t, 0.0), t) for t in threads1),
                             reverse=True)[:4]
            print(f"{name}, {senders:2d} sender(s): {result.throughput:7.1f} letters/s, CPU "
                  f"{(user1 - user0) / letters * 1000:.3f} ms user + "
                  f"{(sys1 - sys0) / letters * 1000:.3f} ms system per letter; busiest "
                  f"threads (s): {', '.join(f'{s:.2f}' for s, _ in busiest)}; load "
                  f"{os.getloadavg()[0]:.1f}", flush=True)


def main(seconds: float) -> None:
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"cpu-intake-{os.getpid()}"
    (work / "serve").mkdir(parents=True)
    bare_port = load.free_port()
    measure([sys.executable, str(Path(__file__).with_name("bare_app.py")), str(bare_port)],
            bare_port, work, {}, seconds)
    port = load.free_port()
    config = write_config(work / "serve", redmine_url="http://127.0.0.1:9")
    config.write_text(config.read_text().replace(
        "[server]\n", f"[server]\nport = {port}\nworker_threads = 0\n", 1))
    env = {"SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN, "SOP_TEST_REDMINE_KEY": "unused"}
    measure([str(VENV_BIN / "sop-connector"), "serve", "--config", str(config)], port,
            work / "serve", env, seconds)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
