"""``GET /healthz``: the store and the queue, for monitoring."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from connector import __version__
from connector.store.cursors import get_cursor
from connector.store.db import ping
from connector.store.jobs import queue_stats
from connector.workflow.automation import UNHEALTHY_HOOKS
from webhooks.context import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Any:
    """200 when the store answers, 503 otherwise; queue counts per status."""
    engine = services().engine
    if not ping(engine):
        return jsonify({"status": "error", "store": "unavailable"}), 503
    stats = queue_stats(engine)
    body = {"status": "ok", "version": __version__, "store": "ok", "queue": stats}
    if services().codehost is not None:
        broken = get_cursor(engine, UNHEALTHY_HOOKS)
        body["gitlab_hooks_disabled"] = [p for p in (broken or "").split(",") if p]
    return jsonify(body)
