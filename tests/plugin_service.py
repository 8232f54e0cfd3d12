"""The service as the plugin meets it: the Flask app on a loopback port and one live worker.

No poller runs here (the tests set the poll interval to an hour and never call it), so a case
that moves was moved by a hint.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from connector.handlers import handlers_for
from connector.services import Services
from connector.store import jobs
from tests.conftest import write_config

SECRET = "plugin-hint-secret-0123456789abcdef"


def plugin_config(tmp_path: Path, redmine: Any) -> Path:
    """A configuration on that Redmine: the plugin's secret, the poll at one hour."""
    path = write_config(tmp_path, redmine_url=redmine.url,
                        extra='redmine_secret_env = "SOP_TEST_PLUGIN_SECRET"\n')
    text = path.read_text().replace('api_key_env = "SOP_TEST_REDMINE_KEY"\n',
                                    'api_key_env = "SOP_TEST_REDMINE_KEY"\n'
                                    "poll_interval_seconds = 3600\n", 1)
    path.write_text(text)
    return path


@contextmanager
def serving(services: Services) -> Iterator[str]:
    """Serve the app and run a worker until the block ends; yield the base URL."""
    from webhooks import create_app

    server = make_server("127.0.0.1", 0, create_app(services), threaded=True)
    stop = threading.Event()
    web = threading.Thread(target=server.serve_forever, daemon=True)
    worker = threading.Thread(
        target=jobs.run_worker, args=(services.engine, handlers_for(services)),
        kwargs={"worker_id": "plugin-test-worker", "stop": stop, "poll_interval": 0.05},
        daemon=True)
    web.start()
    worker.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop.set()
        server.shutdown()
        web.join(10)
        worker.join(10)
        server.server_close()
