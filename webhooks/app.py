"""Application factory: ``create_app(services)`` registers the blueprints and error pages."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from connector.services import Services
from connector.store.group_commit import GroupCommitter
from webhooks import (
    cases_api,
    dashboard,
    gitlab_hooks,
    health,
    intake,
    openapi,
    plugin_panel,
    redmine_hooks,
    signing_page,
    verification,
)
from webhooks.throttle import Throttle

log = logging.getLogger(__name__)


def create_app(services: Services, test_config: dict[str, Any] | None = None) -> Flask:
    """The WSGI app over ``services``; ``test_config`` overrides Flask settings in tests."""
    app = Flask(__name__, static_folder=None)  # no static files: the route would only 404
    app.config["MAX_CONTENT_LENGTH"] = services.settings.server.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    if test_config:
        app.config.update(test_config)
    hops = services.settings.server.proxy_hops
    if hops:  # the client's address as the proxy saw it; Host and scheme stay untrusted
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=0, x_host=0)
    app.extensions["sop_services"] = services
    app.extensions["sop_intake_writer"] = GroupCommitter(services.engine)
    hooks = services.settings.webhooks
    app.extensions["sop_throttle"] = Throttle(hooks.throttle_failures,
                                              hooks.throttle_window_seconds)
    for module in (intake, redmine_hooks, gitlab_hooks, health, cases_api, openapi, dashboard,
                   plugin_panel, verification, signing_page):
        app.register_blueprint(module.blueprint)
    _register_errors(app)
    app.before_request(_refuse_a_body_over_the_limit)
    return app


def _refuse_a_body_over_the_limit() -> None:
    """413 for a declared body over ``[server] max_body_bytes``, whatever the view: one that
    answers without reading its body (an unknown verification token) refuses it all the same."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        body = {"error": (exc.name or "error").lower().replace(" ", "_"),
                "message": exc.description}
        return jsonify(body), exc.code or 500

    @app.errorhandler(SQLAlchemyError)
    def store_down(exc: SQLAlchemyError) -> Any:
        log.error("store unavailable: %s", type(exc).__name__)
        body = {"error": "store_unavailable",
                "message": "Penyimpanan sementara tidak tersedia; kirim ulang nanti."}
        return jsonify(body), 503, {"Retry-After": "30"}
