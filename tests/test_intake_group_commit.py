"""Group commit at intake: concurrent letters share one transaction and one fsync.

The committer's own promises on SQLite and PostgreSQL (batching, a faulty item fails alone,
an answer only after the commit), then the service's: ``serve`` killed with SIGKILL while 16
senders post letters, again and again, never loses a letter it acknowledged, and never
keeps half of one (a case without its delivery, attachment, audit line or job).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from connector.store.group_commit import GroupCommitter
from connector.store.schema import attachments, audit, cases, inbox, jobs, processed_changes
from tests.conftest import INTAKE_TOKEN, sample_letter, write_config
from tests.serve_process import _wait_healthy, free_port


def _mark(key: str):  # type: ignore[no-untyped-def]
    def work(conn: Connection) -> str:
        conn.execute(insert(processed_changes).values(change_key=key, processed_at=func.now()))
        return key
    return work


def _count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_work_waiting_together_is_committed_in_one_batch(engine: Engine) -> None:
    """31 callers queued while the first batch runs are committed together, in one batch."""
    committer = GroupCommitter(engine)
    started, release = threading.Event(), threading.Event()

    def first(conn: Connection) -> str:
        started.set()
        release.wait(10)
        return _mark("first")(conn)

    results: dict[str, str] = {}
    threads = [threading.Thread(target=lambda: results.update(x=committer.run(first)))]
    threads[0].start()
    assert started.wait(10)
    for n in range(31):
        key = f"k{n}"
        threads.append(threading.Thread(
            target=lambda key=key: results.update({key: committer.run(_mark(key))})))
        threads[-1].start()
    deadline = time.monotonic() + 10
    while committer._waiting.qsize() < 31 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    committer.close()
    assert results == {"x": "first", **{f"k{n}": f"k{n}" for n in range(31)}}
    assert (committer.batches, committer.items) == (2, 32)
    assert _count(engine, processed_changes) == 32


def test_a_faulty_item_fails_alone_and_the_rest_of_its_batch_is_stored(engine: Engine) -> None:
    committer = GroupCommitter(engine)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    done: list[str] = []

    def blocker(conn: Connection) -> str:
        started.set()
        release.wait(10)
        return _mark("blocker")(conn)

    def run(work) -> None:  # type: ignore[no-untyped-def]
        try:
            done.append(committer.run(work))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(blocker,))]
    threads[0].start()
    assert started.wait(10)
    works = [_mark("a"), _mark("a"), _mark("b")]  # the second "a" breaks the unique key
    for work in works:
        threads.append(threading.Thread(target=run, args=(work,)))
        threads[-1].start()
    while committer._waiting.qsize() < 3:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    committer.close()
    assert sorted(done) == ["a", "b", "blocker"]
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    with engine.connect() as conn:
        keys = set(conn.execute(select(processed_changes.c.change_key)).scalars())
    assert keys == {"a", "b", "blocker"}


def test_a_caller_is_answered_only_once_its_batch_is_committed(engine: Engine) -> None:
    """When ``run`` returns, another connection already sees the row (it is committed)."""
    committer = GroupCommitter(engine)
    for n in range(5):
        committer.run(_mark(f"seen{n}"))
        with engine.connect() as conn:
            found = conn.execute(select(processed_changes.c.change_key)
                                 .where(processed_changes.c.change_key == f"seen{n}")).all()
        assert len(found) == 1
    committer.close()


# -- serve killed under load --------------------------------------------------------------

SENDERS = 16
ROUNDS = 3


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    config = tmp_path / "config.toml"
    env = dict(os.environ, SOP_TEST_REDMINE_KEY="unused", SOP_TEST_INTAKE_TOKEN=INTAKE_TOKEN)
    with (tmp_path / "serve.log").open("a") as log:
        server = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--config",
                                   str(config)], env=env, stdout=log, stderr=subprocess.STDOUT)
    _wait_healthy(f"http://127.0.0.1:{port}", server)
    return server


def _post(base: str, nomor: str) -> int | None:
    body = json.dumps(sample_letter(nomor)).encode()
    request = urllib.request.Request(f"{base}/webhooks/intake", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {INTAKE_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(json.load(answer)["case_id"]) if answer.status == 202 else None
    except (OSError, http.client.HTTPException, ValueError):
        return None  # the server died under this request: not acknowledged


def test_serve_killed_under_load_loses_no_acknowledged_letter(
    tmp_path: Path, engine: Engine, db_url: str
) -> None:
    port = free_port()
    config = write_config(tmp_path, redmine_url=f"http://127.0.0.1:{free_port()}").read_text()
    config = config.replace('public_url = "http://sop.test"',
                            f'public_url = "http://127.0.0.1:{port}"\nport = {port}\n'
                            'worker_threads = 0')
    config = config.replace(f'url = "sqlite:///{tmp_path / "store.db"}"', f'url = "{db_url}"')
    (tmp_path / "config.toml").write_text(config)
    base = f"http://127.0.0.1:{port}"
    acknowledged: set[int] = set()
    for round_ in range(ROUNDS):
        server = _serve(tmp_path, port)
        stop = threading.Event()
        lock = threading.Lock()
        answered = [0]

        def sender(n: int, round_: int = round_, stop: threading.Event = stop,
                   lock: threading.Lock = lock, answered: list[int] = answered) -> None:
            sent = 0
            while not stop.is_set():
                case_id = _post(base, f"K{round_}-{n}-{sent}/DINKES/2026")
                sent += 1
                if case_id is not None:
                    with lock:
                        acknowledged.add(case_id)
                        answered[0] += 1

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while answered[0] < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)  # in the middle of the senders' batches
        server.wait()
        stop.set()
        for thread in threads:
            thread.join(20)
        assert answered[0] >= 150, "serve acknowledged too few letters to kill it under load"
    with engine.connect() as conn:
        stored = set(conn.execute(select(cases.c.id)).scalars())
        job_cases = {payload["case_id"] for payload in conn.execute(select(jobs.c.payload))
                     .scalars()}
        with_audit = set(conn.execute(select(audit.c.case_id)
                                      .where(audit.c.action == "case_received")).scalars())
        with_file = set(conn.execute(select(attachments.c.case_id)).scalars())
        deliveries = int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())
    assert acknowledged <= stored, f"acknowledged but lost: {sorted(acknowledged - stored)}"
    assert stored == job_cases == with_audit == with_file, "a letter half stored"
    assert deliveries == len(stored)
