"""``sop-connector serve``, ``worker`` and ``jobs``: run the service and inspect its queue."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

import click

from connector.cli.context import config_option, settings_from
from connector.store import jobs as queue

if TYPE_CHECKING:
    from connector.services import Services


def _services(config_path: str | None) -> Services:
    from connector.bootstrap import bootstrap

    return bootstrap(settings_from(config_path))


def _start_workers(services: Services, count: int,
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


def _every(seconds: int, task: Callable[[], object], stop: threading.Event, name: str) -> None:
    """Run ``task`` every ``seconds`` until stopped; outages are only logged."""
    from connector.errors import ConnectorError

    log = logging.getLogger(f"connector.{name}")
    while not stop.wait(seconds):
        try:
            task()
        except ConnectorError as exc:
            log.warning("%s failed: %s", name, exc)


def _start_poller(services: Services, stop: threading.Event) -> None:
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
                (TAKE_OVER_SECONDS, "take-over", lambda: _take_over(services))]
    for seconds, name, task in periodic:
        if seconds > 0:
            threading.Thread(target=_every, args=(seconds, task, stop, name), daemon=True,
                             name=f"sop-{name}").start()


def _stop_on_signals(stop: threading.Event, *, leave: bool = False) -> None:
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


def _take_over(services: Services) -> None:
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


def _finish(services: Services, threads: list[threading.Thread]) -> None:
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
def _recover(services: Services) -> None:
    """Rebuild an empty store from Redmine, or catch up an older backup, before any job runs."""
    from connector.errors import RemoteRejected, RemoteUnavailable
    from connector.recovery.rebuild import recover_at_start

    try:
        recover_at_start(services)
    except (RemoteUnavailable, RemoteRejected) as exc:  # the poll adopts no case with a key
        logging.getLogger(__name__).error("recovery from Redmine skipped: %s", exc)


def _recover_then_work(services: Services, count: int, stop: threading.Event,
                       threads: list[threading.Thread]) -> None:
    """Recover from Redmine, then start the workers (into ``threads``) and the poller."""
    _recover(services)
    if stop.is_set():  # stopped while recovering: nothing to start
        return
    threads.extend(_start_workers(services, count, stop))
    _start_poller(services, stop)


def register(main: click.Group) -> None:
    """Add ``serve``, ``worker`` and ``jobs`` to the main command."""

    @main.command()
    @config_option
    def serve(config_path: str | None) -> None:
        """Run the webhook service (waitress) with its in-process workers."""
        from waitress import serve as waitress_serve

        from webhooks import create_app

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        services = _services(config_path)
        server = services.settings.server
        stop = threading.Event()
        _take_over(services)
        threads: list[threading.Thread] = []  # filled once the recovery has run
        if server.worker_threads:  # intake answers at once; jobs wait for the recovery
            threading.Thread(target=_recover_then_work, daemon=True, name="sop-recovery",
                             args=(services, server.worker_threads, stop, threads)).start()
        click.echo(f"sop-connector mendengarkan di http://{server.host}:{server.port}")
        try:
            _stop_on_signals(stop, leave=True)
            waitress_serve(create_app(services), host=server.host, port=server.port,
                           url_scheme="http", ident="sop-connector",
                           **server.waitress_options())
        finally:
            stop.set()
            _stop_on_signals(stop)  # a second signal no longer cuts the grace short
            _finish(services, threads)

    @main.command()
    @config_option
    @click.option("--threads", default=1, show_default=True, help="Worker threads.")
    @click.option("--drain", is_flag=True, help="Run due jobs, then exit.")
    def worker(config_path: str | None, threads: int, drain: bool) -> None:
        """Run workers on their own (no web server)."""
        from connector.handlers import handlers_for

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        services = _services(config_path)
        _take_over(services)
        _recover(services)
        if drain:
            done = queue.drain(services.engine, handlers_for(services), queue.new_worker_id())
            click.echo(f"{done} job(s) run")
            return
        stop = threading.Event()
        _stop_on_signals(stop)
        _start_poller(services, stop)
        started = _start_workers(services, threads, stop)
        while not stop.is_set() and any(thread.is_alive() for thread in started):
            stop.wait(0.5)
        _finish(services, started)

    @main.group()
    def jobs() -> None:
        """List the job queue, and replay failed or dead jobs."""

    @jobs.command("list")
    @config_option
    @click.option("--status", "statuses", multiple=True,
                  type=click.Choice(["pending", "running", "done", "failed", "dead"]),
                  help="Only these statuses (default: pending, running, failed, dead).")
    def list_jobs(config_path: str | None, statuses: tuple[str, ...]) -> None:
        """One line per job: id, status, kind, attempts, next run, last error."""
        from connector.store.db import make_engine

        engine = make_engine(settings_from(config_path).database.url)
        chosen = statuses or ("pending", "running", "failed", "dead")
        for job in queue.list_jobs(engine, chosen):
            error = (job.last_error or "").splitlines()[0][:100] if job.last_error else ""
            click.echo(f"{job.id}\t{job.status}\t{job.kind}\t{job.attempts}/{job.max_attempts}"
                       f"\t{job.run_after.isoformat(timespec='seconds')}\t{error}")

    @jobs.command("replay")
    @config_option
    @click.argument("job_id", type=int)
    def replay(config_path: str | None, job_id: int) -> None:
        """Put a failed or dead job back in the queue, due now."""
        from connector.store.db import make_engine

        job = queue.replay(make_engine(settings_from(config_path).database.url), job_id)
        click.echo(f"job {job.id} ({job.kind}) is pending again")
