"""``sop-connector serve``: the webhook service under waitress, with its in-process workers.

The command lives with the Flask app it serves; the library's command line finds it through
the ``sop_connector.commands`` entry point (pyproject.toml), so ``connector`` never imports
``webhooks``.
"""

from __future__ import annotations

import logging
import threading

import click

from connector import runner
from connector.bootstrap import bootstrap
from connector.cli.context import config_option, settings_from
from webhooks.app import create_app


@click.command()
@config_option
def serve(config_path: str | None) -> None:
    """Run the webhook service (waitress) with its in-process workers."""
    from waitress import serve as waitress_serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    services = bootstrap(settings_from(config_path))
    server = services.settings.server
    stop = threading.Event()
    runner.take_over(services)
    threads: list[threading.Thread] = []  # filled once the recovery has run
    if server.worker_threads:  # intake answers at once; jobs wait for the recovery
        threading.Thread(target=runner.recover_then_work, daemon=True, name="sop-recovery",
                         args=(services, server.worker_threads, stop, threads)).start()
    click.echo(f"sop-connector mendengarkan di http://{server.host}:{server.port}")
    try:
        runner.stop_on_signals(stop, leave=True)
        waitress_serve(create_app(services), host=server.host, port=server.port,
                       url_scheme="http", ident="sop-connector", **server.waitress_options())
    finally:
        stop.set()
        runner.stop_on_signals(stop)  # a second signal no longer cuts the grace short
        runner.finish(services, threads)
