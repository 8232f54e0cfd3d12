"""The service's background work, for ``serve`` and ``worker``: workers, the poller, the checks.

At start the store is recovered from Redmine (``recover``) before any job runs; a running
service hands back the holdings of processes that are gone (``take_over``); a stop lets each
worker finish its job in hand (``finish``). Nothing here knows of the web server.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from connector.services import Services
from connector.store import jobs as queue


def start_workers(services: Services, count: int,
                   stop: threading.Event) -> list[threading.Thread]:
    from connector.handlers import handlers_for

    threads = []
    for _ in range(count):
        thread = threading.Thread(
            target=queue.run_worker, daemon=True, name="sop-worker",
            kwargs={"engine": services.engine, "handlers": handlers_for(services),
                    "worker_id": queue.new_worker_id(), "stop": stop})
        thread.start()
        threads.append(thread)
    return threads


def every(seconds: int, task: Callable[[], object], stop: threading.Event, name: str) -> None:
    """Run ``task`` every ``seconds`` until stopped; outages are only logged."""
    from connector.errors import ConnectorError

    log = logging.getLogger(f"connector.{name}")
    while not stop.wait(seconds):
        try:
            task()
        except ConnectorError as exc:
            log.warning("%s failed: %s", name, exc)


def start_poller(services: Services, stop: threading.Event) -> None:
    """Poll Redmine and check deadlines periodically, in the background."""
    from connector.deadlines.check import check_deadlines
    from connector.sync.poll import poll_once
    from connector.workflow.automation import check_hooks
    from connector.workflow.progress import flush_progress

    periodic = [(services.settings.redmine.poll_interval_seconds, "poll",
                 lambda: poll_once(services)),
                (services.settings.sla.check_interval_seconds, "check-deadlines",
                 lambda: check_deadlines(services)),
                (services.settings.sla.check_interval_seconds, "check-hooks",
                 lambda: check_hooks(services)),
                (60 if services.settings.gitlab else 0, "gitlab-progress",
                 lambda: flush_progress(services)),
                (TAKE_OVER_SECONDS, "take-over", lambda: take_over(services))]
    for seconds, name, task in periodic:
        if seconds > 0:
            threading.Thread(target=every, args=(seconds, task, stop, name), daemon=True,
                             name=f"sop-{name}").start()


def stop_on_signals(stop: threading.Event, *, leave: bool = False) -> None:
    """SIGTERM and SIGINT stop the workers after the job in hand (``leave``: and the server).

    ``leave`` raises SystemExit in the main thread, which is how waitress's loop is ended
    (its ``run`` catches it and shuts its task threads down).
    """
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        if leave:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def take_over(services: Services) -> None:
    """Hand back the leases and locks of this host's processes that are gone."""
    from sqlalchemy.exc import SQLAlchemyError

    from connector.store.holders import hand_back

    log = logging.getLogger("connector.worker")
    try:
        released = hand_back(services.engine, clock=services.clock)
    except SQLAlchemyError as exc:  # the store is down: the next round tries again
        log.warning("take-over failed: %s", type(exc).__name__)
        return
    if released:
        log.info("took over %d lease(s)/lock(s) of stopped processes", released)


def finish(services: Services, threads: list[threading.Thread]) -> None:
    """Let each worker finish its job in hand, then hand back whatever is still held.

    A job outlasting ``STOP_GRACE_SECONDS`` is given back (its lease and its case's lock):
    every side effect is idempotent, so the next worker simply does it again.
    """
    from connector.store.holders import hand_back

    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        hand_back(services.engine, only_this_process=True, clock=services.clock)
    logging.getLogger("connector.worker").info("stopped")


STOP_GRACE_SECONDS = 60  # below systemd's default TimeoutStopSec (90 s)
TAKE_OVER_SECONDS = 5  # how often a running service looks for a gone process's holdings


def recover(services: Services) -> None:
    """Rebuild an empty store from Redmine, or catch up an older backup, before any job runs."""
    from connector.errors import RemoteRejected, RemoteUnavailable
    from connector.recovery.rebuild import recover_at_start

    try:
        recover_at_start(services)
    except (RemoteUnavailable, RemoteRejected) as exc:  # the poll adopts no case with a key
        logging.getLogger(__name__).error("recovery from Redmine skipped: %s", exc)


def recover_then_work(services: Services, count: int, stop: threading.Event,
                       threads: list[threading.Thread]) -> None:
    """Recover from Redmine, then start the workers (into ``threads``) and the poller."""
    recover(services)
    if stop.is_set():  # stopped while recovering: nothing to start
        return
    threads.extend(start_workers(services, count, stop))
    start_poller(services, stop)
