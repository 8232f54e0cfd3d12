"""Acknowledgement of ``POST /webhooks/intake`` under waitress, and the memory of ``serve``.

The real ``sop-connector serve`` runs in a subprocess on a temporary SQLite store (WAL,
``synchronous=FULL``, as the service configures it), with its in-process worker opening the
cases in the benchmark's Redmine while the letters arrive, as in production. 1, 8 and 32
senders post distinct letters (each a new case) over keep-alive connections. Baselines, in
the same run: a bare Flask endpoint under the same waitress settings that stores nothing,
with the same senders; and one-row fsync'd commits (SQLite WAL+FULL, and os.write+fsync) of
the letter's stored size on the same disk, one writer: the limit of a durable answer.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import durable, load
from benchmarks.table import Figure, percentile
from tests.conftest import INTAKE_TOKEN, sample_letter, write_config

NAME = "intake ack"
LEVELS = (1, 8, 32)
MIB = 1024
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {INTAKE_TOKEN}"}
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Served:
    """One server's results: a load per sender count, and its memory."""

    loads: dict[int, load.LoadResult]
    idle_kib: int
    peak_kib: int


def letter_body(tag: str) -> load.Body:
    return load.json_body(lambda sender, n: sample_letter(f"B-{tag}-{sender}-{n}/DINKES/2026"))


def run(workdir: Path, *, seconds: float, redmine: Any | None) -> list[Figure]:
    """Measure the baselines, the bare server, then ``serve``; return the figures."""
    size = 2 * len(letter_body("size")(0, 0))  # the raw delivery and the parsed letter
    sqlite = durable.sqlite_commits(workdir, size, seconds)
    fsync = durable.fsync_writes(workdir, size, seconds)
    bare = _measure([sys.executable, str(Path(__file__).with_name("bare_app.py"))], workdir,
                    "bare", seconds, env={})
    serve = _measure_serve(workdir, seconds, redmine)
    return _figures(serve, bare, sqlite, fsync, size, seconds)


def _measure_serve(workdir: Path, seconds: float, redmine: Any | None) -> Served:
    folder = workdir / "serve"
    folder.mkdir()
    url = redmine.url if redmine is not None else "http://127.0.0.1:9"  # nothing listens
    config = write_config(folder, redmine_url=url)
    port = load.free_port()
    text = config.read_text().replace("[server]\n", f"[server]\nport = {port}\n", 1)
    config.write_text(text)
    env = {"SOP_TEST_INTAKE_TOKEN": INTAKE_TOKEN,
           "SOP_TEST_REDMINE_KEY": redmine.admin_key if redmine is not None else "none"}
    return _measure([str(VENV_BIN / "sop-connector"), "serve", "--config", str(config)],
                    workdir, "serve", seconds, env=env, port=port)


def _measure(command: list[str], workdir: Path, tag: str, seconds: float,
             env: dict[str, str], port: int | None = None) -> Served:
    port = port or load.free_port()
    if tag == "bare":
        command = [*command, str(port)]
    loads: dict[int, load.LoadResult] = {}
    with load.server_process(command, port, env=env, log=workdir / f"{tag}.log") as process:
        time.sleep(1)
        idle = load.memory_kib(process.pid)["VmRSS"]
        _check(load.send_load(port, "/webhooks/intake", HEADERS, letter_body(f"{tag}-warm"),
                              senders=1, seconds=min(seconds, 1.0)), tag)
        for senders in LEVELS:
            body = letter_body(f"{tag}-{senders}")
            with load.sampling_rss(process.pid) as samples:  # the last level is the peak's
                loads[senders] = _check(load.send_load(
                    port, "/webhooks/intake", HEADERS, body, senders=senders,
                    seconds=seconds), tag)
        peak = max(samples)
    return Served(loads, idle, peak)


def _check(result: load.LoadResult, tag: str) -> load.LoadResult:
    if result.errors or not result.latencies:
        raise RuntimeError(f"{tag}: {len(result.errors)} failed requests, e.g. "
                           f"{result.errors[:3]}")
    return result


def _figures(serve: Served, bare: Served, sqlite: list[float], fsync: list[float], size: int,
             seconds: float) -> list[Figure]:
    commit = f"fsync'd SQLite commit, {size} B"
    commits = f"fsync'd SQLite commits, {size} B"
    figures = []
    for senders in LEVELS:
        ours, theirs = serve.loads[senders], bare.loads[senders]
        label = f"{senders} sender{'s' if senders > 1 else ''}"
        for q in (50, 99):
            value = percentile(ours.latencies, q) * 1000
            figures += [
                Figure(NAME, f"{label}: p{q}", value, "bare Flask, same waitress",
                       percentile(theirs.latencies, q) * 1000, "ms"),
                Figure(NAME, f"{label}: p{q}", value, commit, percentile(sqlite, q) * 1000,
                       "ms")]
        figures += [
            Figure(NAME, f"{label}: throughput", ours.throughput, "bare Flask, same waitress",
                   theirs.throughput, "/s"),
            Figure(NAME, f"{label}: throughput", ours.throughput, commits,
                   len(sqlite) / seconds, "/s"),
            Figure(NAME, f"{label}: throughput", ours.throughput, f"os.write+fsync, {size} B",
                   len(fsync) / seconds, "/s")]
    figures += [
        Figure("memory", "serve + worker, idle: RSS", serve.idle_kib / MIB,
               "bare Flask+waitress, idle", bare.idle_kib / MIB, "MiB"),
        Figure("memory", "serve + worker, 32 senders: peak RSS", serve.peak_kib / MIB,
               "bare Flask+waitress, 32 senders", bare.peak_kib / MIB, "MiB")]
    return figures
