"""``GET /healthz``: the store and the queue, for monitoring."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from connector import __version__
from connector.store.db import ping
from connector.store.jobs import queue_stats
from webhooks.context import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Any:
    """200 when the store answers, 503 otherwise; queue counts per status."""
    engine = services().engine
    if not ping(engine):
        return jsonify({"status": "error", "store": "unavailable"}), 503
    stats = queue_stats(engine)
    return jsonify({"status": "ok", "version": __version__, "store": "ok", "queue": stats})
