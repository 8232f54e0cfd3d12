"""``sop-connector worker`` and ``jobs``: run the workers alone and inspect the queue.

``serve`` (the web server with its workers) is ``webhooks.serve``, registered by entry point.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import click

from connector import runner
from connector.cli.context import config_option, settings_from
from connector.store import jobs as queue

if TYPE_CHECKING:
    from connector.services import Services


def _services(config_path: str | None) -> Services:
    from connector.bootstrap import bootstrap

    return bootstrap(settings_from(config_path))


def register(main: click.Group) -> None:
    """Add ``worker`` and ``jobs`` to the main command."""

    @main.command()
    @config_option
    @click.option("--threads", default=1, show_default=True, help="Worker threads.")
    @click.option("--drain", is_flag=True, help="Run due jobs, then exit.")
    def worker(config_path: str | None, threads: int, drain: bool) -> None:
        """Run workers on their own (no web server)."""
        from connector.handlers import handlers_for

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        services = _services(config_path)
        runner.take_over(services)
        runner.recover(services)
        if drain:
            done = queue.drain(services.engine, handlers_for(services), queue.new_worker_id())
            click.echo(f"{done} job(s) run")
            return
        stop = threading.Event()
        runner.stop_on_signals(stop)
        runner.start_poller(services, stop)
        started = runner.start_workers(services, threads, stop)
        while not stop.is_set() and any(thread.is_alive() for thread in started):
            stop.wait(0.5)
        runner.finish(services, started)

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
