"""Application factory: ``create_app(services)`` registers the blueprints and error pages."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from flask import Flask, Request, abort, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from connector.services import Services
from connector.store.group_commit import BatchCommitter
from connector.store.intakes import record_intakes
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
    app.session_interface = CookieSessions()
    app.config["MAX_CONTENT_LENGTH"] = services.settings.server.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    if test_config:
        app.config.update(test_config)
    hops = services.settings.server.proxy_hops
    if hops:  # the client's address as the proxy saw it; Host and scheme stay untrusted
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=0, x_host=0)
    app.extensions["sop_services"] = services
    app.extensions["sop_intake_writer"] = BatchCommitter(
        services.engine, partial(record_intakes, clock=services.clock))
    hooks = services.settings.webhooks
    app.extensions["sop_throttle"] = Throttle(hooks.throttle_failures,
                                              hooks.throttle_window_seconds)
    for module in (intake, redmine_hooks, gitlab_hooks, health, cases_api, openapi, dashboard,
                   plugin_panel, verification, signing_page):
        app.register_blueprint(module.blueprint)
    _register_errors(app)
    app.before_request(_refuse_a_body_over_the_limit)
    return app


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (the dashboard's), with one serializer per secret key.

    Flask builds an itsdangerous serializer for every request, one without a cookie too
    (every webhook delivery): a fifth of a bare view's time in this app. A request without
    a cookie gets a new, empty session, as Flask gives it, without parsing cookies.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(keys)
        if found is None:
            found = super().get_signing_serializer(app)
            assert found is not None
            self._serializers = {keys: found}  # only the keys in use now
        return found

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


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
