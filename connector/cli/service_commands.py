"""``sop-connector serve``, ``worker`` and ``jobs``: run the service and inspect its queue."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

import click

from connector.cli.context import config_option, settings_from
from connector.store import jobs as queue

if TYPE_CHECKING:
    from connector.bootstrap import Services


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
    from connector.gitlab.progress import flush_progress
    from connector.sync.poll import poll_once
    from connector.workflow.automation import check_hooks

    periodic = [(services.settings.redmine.poll_interval_seconds, "poll",
                 lambda: poll_once(services)),
                (services.settings.sla.check_interval_seconds, "check-deadlines",
                 lambda: check_deadlines(services)),
                (services.settings.sla.check_interval_seconds, "check-hooks",
                 lambda: check_hooks(services)),
                (60 if services.settings.gitlab else 0, "gitlab-progress",
                 lambda: flush_progress(services))]
    for seconds, name, task in periodic:
        if seconds > 0:
            threading.Thread(target=_every, args=(seconds, task, stop, name), daemon=True,
                             name=f"sop-{name}").start()


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _recover(services: Services) -> None:
    """Rebuild an empty store from Redmine, or catch up an older backup, before any job runs."""
    from connector.errors import RemoteRejected, RemoteUnavailable
    from connector.recovery.rebuild import recover_at_start

    try:
        recover_at_start(services)
    except (RemoteUnavailable, RemoteRejected) as exc:  # the poll adopts no case with a key
        logging.getLogger(__name__).error("recovery from Redmine skipped: %s", exc)


def _recover_then_work(services: Services, count: int, stop: threading.Event) -> None:
    """Recover from Redmine, then start the workers and the poller."""
    _recover(services)
    _start_workers(services, count, stop)
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
        if server.worker_threads:  # intake answers at once; jobs wait for the recovery
            threading.Thread(target=_recover_then_work, daemon=True, name="sop-recovery",
                             args=(services, server.worker_threads, stop)).start()
        click.echo(f"sop-connector mendengarkan di http://{server.host}:{server.port}")
        waitress_serve(create_app(services), host=server.host, port=server.port, threads=8,
                       url_scheme="http", ident="sop-connector")

    @main.command()
    @config_option
    @click.option("--threads", default=1, show_default=True, help="Worker threads.")
    @click.option("--drain", is_flag=True, help="Run due jobs, then exit.")
    def worker(config_path: str | None, threads: int, drain: bool) -> None:
        """Run workers on their own (no web server)."""
        from connector.handlers import handlers_for

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        services = _services(config_path)
        _recover(services)
        if drain:
            done = queue.drain(services.engine, handlers_for(services), queue.new_worker_id())
            click.echo(f"{done} job(s) run")
            return
        stop = threading.Event()
        _stop_on_signals(stop)
        _start_poller(services, stop)
        for thread in _start_workers(services, threads, stop):
            while thread.is_alive():
                thread.join(0.5)

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
