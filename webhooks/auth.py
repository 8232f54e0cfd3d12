"""Sign-in to the dashboard: a Redmine account checked against Redmine, or the access token.

Nothing of the dashboard is public: a page asks an anonymous visitor to sign in (302 to
``/dashboard/masuk``), ``/api/cases`` answers 401. A sign-in lives in Flask's signed session
cookie (HttpOnly, SameSite=Lax, Secure when ``public_url`` is https), valid for
``[dashboard] session_hours``; the signature is checked on every request, expiry included.

Who gets in once Redmine knows the account is ``webhooks.access``'s call: SOP role holders,
SOP project members and OPD technical teams (who see only their OPD's cases).

The sign-in and sign-out forms carry a CSRF token bound to the session (``csrf``), checked
on every POST: SameSite=Lax alone would still let another site sign a visitor in under an
account of its choosing (login CSRF), since the sign-in POST needs no cookie. The access
token is taken from a POSTed form only, never from the URL (proxy logs, history). Each
sign-in gets a random session id; "Keluar" writes it to the store
(``connector.store.sessions``), so the old cookie is refused from then on. The password
goes to Redmine and nowhere else: it is never stored, logged or put in an error message.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import requests
from flask import Blueprint, g, redirect, request, session, url_for
from flask.sansio.blueprints import BlueprintSetupState
from requests.auth import HTTPBasicAuth
from werkzeug.wrappers import Response

from connector.rendering import html_env
from connector.store.sessions import is_revoked, revoke_session
from webhooks.access import REFUSED, Scope, configured_scope, is_project_member
from webhooks.context import services
from webhooks.csrf import csrf_ok, csrf_token
from webhooks.throttle import throttled_sign_in

log = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)  # registered under the dashboard blueprint
SIGN_IN = "dashboard.auth.sign_in"
HOME = "dashboard.case_list"
REDMINE_TIMEOUT_SECONDS = 10
F = TypeVar("F", bound=Callable[..., Any])
STALE_FORM = ("Formulir ini kedaluwarsa atau tidak berasal dari dasbor ini; muat ulang "
              "halaman lalu coba lagi.")


class RedmineUnavailable(Exception):
    """Redmine could not say whether the credentials are right."""


@blueprint.record_once
def _configure_session(state: BlueprintSetupState) -> None:
    app = state.app
    settings = app.extensions["sop_services"].settings
    dash = settings.dashboard
    if dash.session_secret is not None:
        app.secret_key = dash.session_secret.reveal()
    elif not app.secret_key:  # a restart signs everyone out
        app.secret_key = secrets.token_hex(32)
    app.config.update(
        SESSION_COOKIE_NAME="sop_dashboard", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.server.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=dash.session_hours))


def current_login() -> str | None:
    """Who is signed in on this request's session, or None (also once signed out)."""
    if "sop_login" not in g:
        g.sop_login = _session_login()
    login: str | None = g.sop_login
    return login


def _session_login() -> str | None:
    login, sid = session.get("login"), session.get("sid")
    if not isinstance(login, str) or not isinstance(sid, str) or current_scope() is None:
        return None
    return None if is_revoked(services().engine, sid) else login


def current_scope() -> Scope | None:
    """The OPDs this session's login sees (``Scope(None)``: all), or None if not signed in."""
    if "login" not in session or "scope" not in session:  # no sign-in, or an old cookie
        return None
    return Scope.from_session(session["scope"])


def token_matches(given: str | None) -> bool:
    """True when ``given`` is the configured access token (constant-time comparison)."""
    token = services().settings.dashboard.access_token
    if token is None or not given:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.reveal().encode("utf-8"))


def page_requires_sign_in(view: F) -> F:
    """Send an anonymous visitor to the sign-in page, then back here."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_login() is None:
            return redirect(url_for(SIGN_IN, next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return cast(F, wrapper)


def render_page(name: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A dashboard page from ``templates/dashboard/`` (autoescaped, strict undefined)."""
    template = html_env().get_template(f"dashboard/{name}")
    scope = current_scope()
    return template.render(url_for=url_for, login=current_login(), csrf=csrf_token(),
                           sees_all=scope is not None and scope.opds is None,
                           **context), status


def check_redmine_account(base_url: str, login: str, password: str) -> str | None:
    """The Redmine login these credentials belong to; None when Redmine refuses them.

    ``GET /users/current.json`` with HTTP basic auth on the configured Redmine URL only;
    Redmine answers 401 for a wrong password and 403 when its REST API is switched off.
    """
    try:
        answer = requests.get(f"{base_url}/users/current.json",  # UTF-8 Basic auth
                              auth=HTTPBasicAuth(login.encode("utf-8"), password.encode("utf-8")),
                              timeout=REDMINE_TIMEOUT_SECONDS, allow_redirects=False,
                              headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        log.warning("dashboard sign-in: Redmine unreachable (%s)", type(exc).__name__)
        raise RedmineUnavailable from None
    if answer.status_code in (401, 403):
        log.info("dashboard sign-in refused by Redmine (%s)", answer.status_code)
        return None
    try:
        found = answer.json()["user"]["login"] if answer.status_code == 200 else None
    except (ValueError, KeyError, TypeError):
        found = None
    if not isinstance(found, str) or not found:
        log.warning("dashboard sign-in: unexpected Redmine answer %s", answer.status_code)
        raise RedmineUnavailable
    return found


@blueprint.route("/dashboard/masuk", methods=["GET", "POST"])
@throttled_sign_in
def sign_in() -> Any:
    """The sign-in form; a POST signs in with a Redmine account or the access token."""
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if "token" in request.args:
            return _form(target, "Token akses tidak diterima di alamat (URL); isikan pada "
                                 "formulir di bawah.", 400)
        if current_login() is not None:
            return redirect(target)
        return _form(target)
    if not csrf_ok():
        return _form(target, STALE_FORM, 403)
    given_token = request.form.get("token")
    if given_token is not None:
        if token_matches(given_token):
            return _signed_in("token akses", target, Scope(None))
        return _form(target, "Token akses salah.", 403)
    return _redmine_sign_in(target)


def _redmine_sign_in(target: str) -> Any:
    settings = services().settings
    login, password = request.form.get("login", "").strip(), request.form.get("password", "")
    if not settings.dashboard.redmine_login:
        return _form(target, "Masuk dengan akun Redmine tidak diaktifkan.", 403)
    if not login or not password:
        return _form(target, "Isi login dan kata sandi Redmine.", 400)
    try:
        found = check_redmine_account(settings.redmine.url, login, password)
    except RedmineUnavailable:
        return _form(target, "Redmine tidak dapat dihubungi; coba lagi nanti.", 503)
    if found is None:
        return _form(target, "Login atau kata sandi Redmine salah.", 403)
    try:
        scope = configured_scope(settings, found) or _member_scope(found, password)
    except RedmineUnavailable:
        return _form(target, "Redmine tidak dapat dihubungi; coba lagi nanti.", 503)
    if scope is None:
        log.info("dashboard: %r refused (no SOP role, membership or OPD team)", found)
        return _form(target, REFUSED.format(login=found), 403)
    return _signed_in(found, target, scope)


def _member_scope(login: str, password: str) -> Scope | None:
    """Every OPD for a member of the SOP project in Redmine, else None."""
    try:
        member = is_project_member(services().settings, login, password.encode("utf-8"))
    except (requests.RequestException, ValueError, KeyError, TypeError):
        raise RedmineUnavailable from None
    return Scope(None) if member else None


def _signed_in(login: str, target: str, scope: Scope) -> Response:
    session.clear()
    session.permanent = True
    session.update(login=login, sid=secrets.token_hex(16), scope=scope.as_session())
    log.info("dashboard: %r signed in", login)
    return redirect(target)


@blueprint.post("/dashboard/keluar")
def sign_out() -> Any:
    """Forget the sign-in, refuse its cookie from now on, and show the sign-in page again."""
    if not csrf_ok():
        return render_page("error.html", 403, message=STALE_FORM)
    sid = session.get("sid")
    if isinstance(sid, str):
        s = services()
        revoke_session(s.engine, sid, timedelta(hours=s.settings.dashboard.session_hours),
                       clock=s.clock)
    session.clear()
    return redirect(url_for(SIGN_IN))


def _form(target: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    dash = services().settings.dashboard
    return render_page("sign_in.html", status, next=target, error=error,
                       redmine_login=dash.redmine_login,
                       token_login=dash.access_token is not None)


def _safe_next(value: str | None) -> str:
    """Only a path of this dashboard: never another site (``//host``, ``/\\host``).

    Control characters, spaces and non-ASCII text are no path of ours either.
    """
    if value and value.startswith("/dashboard") and "\\" not in value and "//" not in value \
            and all(0x20 < ord(c) < 0x7f for c in value):
        return value
    return url_for(HOME)
