"""The job queue: enqueue, leases, retries, dead letters, replay, and concurrent claimers."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from connector.store import (
    Job,
    JobNotReplayable,
    PermanentFailure,
    RetryLater,
    RetryPolicy,
    claim,
    complete,
    create_all,
    drain,
    enqueue,
    extend_lease,
    fail,
    get_job,
    list_jobs,
    make_engine,
    new_worker_id,
    ping,
    queue_stats,
    replay,
    run_worker,
)
from connector.store.db import reading
from connector.store.schema import jobs, processed_changes

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class MaxJitter:
    """A jitter source that always picks the top of the range, to see the bare backoff."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _enqueue(engine: Engine, clock: FakeClock, kind: str = "open_case", **kwargs: Any) -> int:
    with engine.begin() as conn:
        job_id = enqueue(conn, kind, {"case_id": 1}, clock=clock, **kwargs)
    assert job_id is not None
    return job_id


def _claimed(engine: Engine, clock: FakeClock, worker: str = "w1", **kwargs: Any) -> Job:
    job = claim(engine, worker, clock=clock, **kwargs)
    assert job is not None
    return job


# --- the database itself ---------------------------------------------------------------------


def test_sqlite_connections_use_wal_full_sync_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }
    engine.dispose()


def test_sqlite_writers_take_the_write_lock_at_begin_and_readers_do_not(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite:///{path}")
    create_all(engine)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with engine.begin() as conn:
        conn.execute(select(1)).scalar_one()  # no write yet, yet the lock is held
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        with reading(engine) as reader:
            assert reader.execute(select(func.count()).select_from(jobs)).scalar_one() == 0
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    engine.dispose()


def _write_in_thread(engine: Engine, seconds: float = 10) -> bool:
    """Enqueue one job from another thread; True when it finished within ``seconds``."""
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            enqueue(conn, "k", {})
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(seconds)


def test_sqlite_writers_of_one_process_take_turns_and_every_ending_gives_the_turn_back(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    create_all(engine)
    with engine.begin() as conn:  # holds the turn: another writer waits for it
        enqueue(conn, "k", {})
        waiting = threading.Thread(target=_write_in_thread, args=(engine, 30), daemon=True)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()
        with reading(engine) as reader:  # readers never wait for a turn
            assert reader.execute(select(func.count()).select_from(jobs)).scalar_one() == 0
    waiting.join(10)
    assert not waiting.is_alive()
    # A rollback, and a transaction that failed, each give the turn back too (a leaked turn
    # would hold the next writer for the whole 30 s busy timeout).
    with engine.connect() as conn:
        enqueue(conn, "k", {})
        conn.rollback()
    assert _write_in_thread(engine)
    with pytest.raises(ZeroDivisionError), engine.begin() as conn:
        enqueue(conn, "k", {})
        raise ZeroDivisionError
    assert _write_in_thread(engine)
    with engine.connect() as conn:
        enqueue(conn, "k", {})  # closed without commit: rolled back on close
    assert _write_in_thread(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 5
    engine.dispose()


def test_sixteen_sqlite_writer_threads_each_commit_every_row(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'many.db'}")
    create_all(engine)

    def write(n: int) -> None:
        for _ in range(n):
            with engine.begin() as conn:
                enqueue(conn, "k", {})

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, [20] * 16))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 320
    engine.dispose()


def test_ping_answers_true_when_up_and_false_when_the_database_cannot_open(
    engine: Engine, tmp_path: Path
) -> None:
    assert ping(engine)
    broken = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    assert not ping(broken)


def test_naive_datetimes_are_refused_and_others_come_back_in_utc(engine: Engine) -> None:
    plus8 = datetime(2025, 1, 6, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    with engine.begin() as conn:
        conn.execute(insert(processed_changes).values(change_key="a", processed_at=plus8))
    with engine.connect() as conn:
        stored = conn.execute(select(processed_changes.c.processed_at)).scalar_one()
    assert stored == T0 and stored.tzinfo == UTC
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as conn:
        conn.execute(
            insert(processed_changes).values(change_key="b", processed_at=datetime(2025, 1, 6))
        )


# --- enqueue ----------------------------------------------------------------------------------


def test_enqueue_stores_a_pending_job_due_now(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock, max_attempts=5)
    job = get_job(engine, job_id)
    assert job is not None
    assert (job.kind, dict(job.payload), job.status) == ("open_case", {"case_id": 1}, "pending")
    assert (job.attempts, job.max_attempts, job.run_after, job.created_at) == (0, 5, T0, T0)
    assert job.lease_owner is None and job.dedupe_key is None


def test_enqueue_with_a_known_dedupe_key_adds_nothing(engine: Engine, clock: FakeClock) -> None:
    first = _enqueue(engine, clock, dedupe_key="open_case:1")
    with engine.begin() as conn:
        assert enqueue(conn, "open_case", {"case_id": 1}, dedupe_key="open_case:1") is None
    assert [job.id for job in list_jobs(engine)] == [first]


def test_jobs_without_dedupe_key_are_all_kept(engine: Engine, clock: FakeClock) -> None:
    _enqueue(engine, clock)
    _enqueue(engine, clock)
    assert len(list_jobs(engine)) == 2


def test_enqueue_is_part_of_the_callers_transaction(engine: Engine, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        enqueue(conn, "open_case", {}, clock=clock)
        raise RuntimeError("the caller's work failed")
    assert list_jobs(engine) == []


# --- claim, complete, leases ------------------------------------------------------------------


def test_claim_leases_the_oldest_due_job(engine: Engine, clock: FakeClock) -> None:
    later = _enqueue(engine, clock, run_after=T0 + timedelta(seconds=10))
    first = _enqueue(engine, clock)
    job = _claimed(engine, clock, lease_seconds=30)
    assert job.id == first
    assert (job.status, job.attempts, job.lease_owner) == ("running", 1, "w1")
    assert job.lease_until == T0 + timedelta(seconds=30)
    assert claim(engine, "w1", clock=clock) is None  # `later` is not due yet
    clock.advance(10)
    assert _claimed(engine, clock).id == later


def test_claim_filters_by_kind(engine: Engine, clock: FakeClock) -> None:
    _enqueue(engine, clock, kind="open_case")
    wanted = _enqueue(engine, clock, kind="provision_repository")
    assert _claimed(engine, clock, kinds=["provision_repository"]).id == wanted
    assert claim(engine, "w1", ["provision_repository"], clock=clock) is None


def test_complete_marks_done_and_frees_the_lease(engine: Engine, clock: FakeClock) -> None:
    _enqueue(engine, clock)
    job = _claimed(engine, clock)
    assert complete(engine, job.id, "w1", clock=clock)
    done = get_job(engine, job.id)
    assert done is not None and (done.status, done.lease_owner) == ("done", None)
    assert claim(engine, "w1", clock=clock) is None


def test_only_the_lease_owner_may_complete_or_fail(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock)
    _claimed(engine, clock, "w1")
    assert not complete(engine, job_id, "intruder", clock=clock)
    assert not fail(engine, job_id, "intruder", "x", clock=clock)
    assert not extend_lease(engine, job_id, "intruder", clock=clock)
    job = get_job(engine, job_id)
    assert job is not None and (job.status, job.lease_owner) == ("running", "w1")


def test_expired_lease_is_taken_over_and_the_stale_owner_cannot_finish(
    engine: Engine, clock: FakeClock
) -> None:
    job_id = _enqueue(engine, clock)
    _claimed(engine, clock, "crashed", lease_seconds=60)
    clock.advance(59)
    assert claim(engine, "w2", clock=clock) is None
    clock.advance(1)
    taken = _claimed(engine, clock, "w2")
    assert (taken.id, taken.attempts, taken.lease_owner) == (job_id, 2, "w2")
    assert not complete(engine, job_id, "crashed", clock=clock)
    assert not fail(engine, job_id, "crashed", "late", clock=clock)
    assert complete(engine, job_id, "w2", clock=clock)


def test_extend_lease_keeps_the_job_from_being_taken(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock)
    _claimed(engine, clock, lease_seconds=60)
    clock.advance(50)
    assert extend_lease(engine, job_id, "w1", 60, clock=clock)
    clock.advance(50)
    assert claim(engine, "w2", clock=clock) is None
    job = get_job(engine, job_id)
    assert job is not None and job.lease_until == T0 + timedelta(seconds=110)


def test_a_lost_last_attempt_goes_dead_instead_of_running_again(
    engine: Engine, clock: FakeClock
) -> None:
    job_id = _enqueue(engine, clock, max_attempts=1)
    _claimed(engine, clock, "crashed", lease_seconds=5)
    clock.advance(5)
    assert claim(engine, "w2", clock=clock) is None
    job = get_job(engine, job_id)
    assert job is not None and job.status == "dead"
    assert job.last_error is not None and "lease expired" in job.last_error


# --- fail, backoff, dead letters --------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap(engine: Engine, clock: FakeClock) -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=20)
    job_id = _enqueue(engine, clock)
    delays = []
    for _ in range(6):
        job = _claimed(engine, clock)
        assert fail(engine, job_id, "w1", "503", clock=clock, policy=policy, rng=MaxJitter())
        failed = get_job(engine, job_id)
        assert failed is not None and failed.status == "failed" and failed.last_error == "503"
        delays.append((failed.run_after - clock.now).total_seconds())
        assert claim(engine, "w1", clock=clock) is None
        clock.now = failed.run_after
        assert job.attempts == len(delays)
    assert delays == [2, 4, 8, 16, 20, 20]


def test_backoff_is_jittered_within_bounds_and_reproducible() -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=3600)

    def delays(seed: int) -> list[float]:
        rng = random.Random(seed)
        return [policy.delay(n, rng) for n in range(1, 16)]

    first = delays(7)
    assert first == delays(7)
    assert first != delays(8)
    for attempt, delay in enumerate(first, start=1):
        assert 0 <= delay <= min(3600, 2 * 2 ** (attempt - 1))
    assert any(delay < min(3600, 2 * 2 ** (n - 1)) * 0.9 for n, delay in enumerate(first, 1))


@given(
    attempts=st.integers(min_value=1, max_value=10_000),
    seed=st.integers(min_value=0, max_value=2**32),
    retry_after=st.none() | st.floats(min_value=0, max_value=10**6),
)
def test_delay_stays_between_the_retry_after_floor_and_the_cap(
    attempts: int, seed: int, retry_after: float | None
) -> None:
    delay = RetryPolicy().delay(attempts, random.Random(seed), retry_after)
    assert delay >= (retry_after or 0.0)
    assert delay <= max(3600.0, retry_after or 0.0)


def test_retry_after_is_a_floor_for_the_next_attempt(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock)
    _claimed(engine, clock)
    assert fail(engine, job_id, "w1", "429", retry_after=120, clock=clock, rng=random.Random(1))
    job = get_job(engine, job_id)
    assert job is not None and job.run_after == T0 + timedelta(seconds=120)
    clock.advance(119)
    assert claim(engine, "w1", clock=clock) is None
    clock.advance(1)
    assert _claimed(engine, clock).id == job_id


def test_permanent_failure_goes_dead_at_once(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock)
    _claimed(engine, clock)
    assert fail(engine, job_id, "w1", "HTTP 422", permanent=True, clock=clock)
    job = get_job(engine, job_id)
    assert job is not None and (job.status, job.attempts, job.last_error) == ("dead", 1, "HTTP 422")
    clock.advance(10**6)
    assert claim(engine, "w1", clock=clock) is None


def test_the_last_allowed_attempt_failing_goes_dead(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock, max_attempts=3)
    for attempt in range(1, 4):
        clock.advance(3600)
        assert _claimed(engine, clock).attempts == attempt
        assert fail(engine, job_id, "w1", f"boom {attempt}", clock=clock)
    job = get_job(engine, job_id)
    assert job is not None and (job.status, job.last_error) == ("dead", "boom 3")
    assert [j.id for j in list_jobs(engine, ["dead"])] == [job_id]


def test_replay_sends_a_dead_job_back_due_now(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock)
    _claimed(engine, clock)
    fail(engine, job_id, "w1", "HTTP 404", permanent=True, clock=clock)
    clock.advance(60)
    job = replay(engine, job_id, clock=clock)
    assert (job.status, job.attempts, job.last_error, job.run_after) == (
        "pending", 0, None, clock.now,
    )  # fmt: skip
    assert _claimed(engine, clock).id == job_id


def test_replay_refuses_unknown_and_live_jobs(engine: Engine, clock: FakeClock) -> None:
    job_id = _enqueue(engine, clock)
    with pytest.raises(JobNotReplayable, match=f"job {job_id} is pending"):
        replay(engine, job_id, clock=clock)
    with pytest.raises(JobNotReplayable, match="job 999 does not exist"):
        replay(engine, 999, clock=clock)


def test_list_jobs_filters_by_status(engine: Engine, clock: FakeClock) -> None:
    running = _enqueue(engine, clock)
    pending = _enqueue(engine, clock)
    _claimed(engine, clock)
    assert [j.id for j in list_jobs(engine, ["pending"])] == [pending]
    assert [j.id for j in list_jobs(engine, ["running", "pending"])] == [running, pending]
    assert list_jobs(engine, ["dead"]) == []


def test_queue_stats_counts_every_status_and_the_lag(engine: Engine, clock: FakeClock) -> None:
    assert queue_stats(engine, clock=clock) == {
        "pending": 0, "running": 0, "done": 0, "failed": 0, "dead": 0,
        "oldest_pending_age_seconds": 0,
    }  # fmt: skip
    _enqueue(engine, clock)
    _enqueue(engine, clock)
    _enqueue(engine, clock, run_after=T0 + timedelta(hours=1))
    _claimed(engine, clock)
    clock.advance(90)
    stats = queue_stats(engine, clock=clock)
    assert (stats["pending"], stats["running"], stats["oldest_pending_age_seconds"]) == (2, 1, 90)


# --- the worker loop --------------------------------------------------------------------------


def test_drain_applies_the_exception_protocol(engine: Engine, clock: FakeClock) -> None:
    ran: list[str] = []

    def handler(job: Job) -> None:
        ran.append(job.kind)
        outcome = job.payload["outcome"]
        if outcome == "retry":
            raise RetryLater("Redmine 503", retry_after=30)
        if outcome == "permanent":
            raise PermanentFailure("HTTP 422 from GitLab")
        if outcome == "crash":
            raise ValueError("unexpected")

    ids = {}
    with engine.begin() as conn:
        for outcome in ("ok", "retry", "permanent", "crash"):
            ids[outcome] = enqueue(conn, "work", {"outcome": outcome}, clock=clock)
        ids["unknown"] = enqueue(conn, "mystery", {}, clock=clock)
    handlers = {"work": handler}
    assert drain(engine, handlers, "w1", clock=clock, policy=RetryPolicy(base_seconds=10)) == 5
    jobs_now = {name: get_job(engine, job_id) for name, job_id in ids.items() if job_id}
    summary = {name: (j.status, j.last_error) for name, j in jobs_now.items() if j}
    assert summary == {
        "ok": ("done", None),
        "retry": ("failed", "RetryLater: Redmine 503"),
        "permanent": ("dead", "PermanentFailure: HTTP 422 from GitLab"),
        "crash": ("failed", "ValueError: unexpected"),
        "unknown": ("dead", "no handler for job kind 'mystery'"),
    }
    retry = jobs_now["retry"]
    assert retry is not None and retry.run_after >= T0 + timedelta(seconds=30)
    assert len(ran) == 4


def test_run_worker_runs_jobs_until_stopped(engine: Engine) -> None:
    stop = threading.Event()
    done: list[int] = []
    everything_done = threading.Event()

    def handler(job: Job) -> None:
        done.append(job.payload["n"])
        if len(done) == 10:
            everything_done.set()

    with engine.begin() as conn:
        for n in range(10):
            enqueue(conn, "count", {"n": n})
    worker = threading.Thread(
        target=run_worker,
        args=(engine, {"count": handler}),
        kwargs={"worker_id": new_worker_id(), "stop": stop, "poll_interval": 0.01},
    )
    worker.start()
    try:
        assert everything_done.wait(10)
    finally:
        stop.set()
        worker.join(5)
    assert not worker.is_alive()
    assert sorted(done) == list(range(10))
    assert queue_stats(engine)["done"] == 10


def test_run_worker_survives_a_store_it_cannot_reach(tmp_path: Path) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    run_worker(broken, {}, worker_id="w1", stop=stop, poll_interval=0.02)
    timer.join()


# --- concurrency ------------------------------------------------------------------------------


def _fill(engine: Engine, count: int) -> list[int]:
    now = datetime.now(UTC)
    rows = [
        {"kind": "work", "payload": {"n": n}, "status": "pending", "attempts": 0,
         "max_attempts": 5, "run_after": now, "created_at": now, "updated_at": now}
        for n in range(count)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(jobs), rows)
        return list(conn.execute(select(jobs.c.id).order_by(jobs.c.id)).scalars())


def _claim_until_empty(url: str, worker: str, start: Any, out: Any) -> None:
    """Claim and complete jobs until none is left; report the ids (runs in a child process)."""
    engine = make_engine(url)
    start.wait(30)  # a barrier: every process is up before any claims
    claimed: list[int] = []
    try:
        while (job := claim(engine, worker)) is not None:
            assert complete(engine, job.id, worker)
            claimed.append(job.id)
    except Exception as exc:  # report it: the parent would otherwise wait for nothing
        out.put(repr(exc))
    else:
        out.put(claimed)
    finally:
        engine.dispose()


def _assert_each_claimed_once(engine: Engine, ids: list[int], claimed: list[list[int]]) -> None:
    flat = [job_id for per_worker in claimed for job_id in per_worker]
    assert sorted(flat) == ids  # every job, none twice
    with engine.connect() as conn:
        rows = conn.execute(select(jobs.c.status, jobs.c.attempts).distinct()).all()
    assert [tuple(row) for row in rows] == [("done", 1)]


def test_four_processes_claim_each_of_500_jobs_exactly_once(engine: Engine, db_url: str) -> None:
    ids = _fill(engine, 500)
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=_claim_until_empty, args=(db_url, f"proc-{n}", start, out))
        for n in range(4)
    ]
    for proc in procs:
        proc.start()
    claimed = [out.get(timeout=60) for _ in procs]
    assert all(isinstance(per_process, list) for per_process in claimed), claimed
    for proc in procs:
        proc.join(10)
        assert proc.exitcode == 0
    _assert_each_claimed_once(engine, ids, claimed)
    assert sum(1 for per_process in claimed if per_process) >= 2  # they did run side by side


def test_eight_threads_claim_each_of_200_jobs_exactly_once(engine: Engine) -> None:
    ids = _fill(engine, 200)
    barrier = threading.Barrier(8)

    def work(worker: str) -> list[int]:
        barrier.wait()
        claimed = []
        while (job := claim(engine, worker)) is not None:
            assert complete(engine, job.id, worker)
            claimed.append(job.id)
        return claimed

    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(work, [f"thread-{n}" for n in range(8)]))
    _assert_each_claimed_once(engine, ids, claimed)
