"""The dashboard forms' CSRF token: one random value per session, checked on every POST.

SameSite=Lax keeps the session cookie off another site's POST, but the sign-in POST needs
no cookie to work, so without a token a foreign page could sign a visitor in under an
account of its choosing (login CSRF). The token lives in the session and in each form.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session


def csrf_token() -> str:
    """This session's CSRF token for the forms (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok() -> bool:
    """True when the POSTed form carries this session's CSRF token."""
    given, expected = request.form.get("csrf", ""), session.get("csrf")
    return isinstance(expected, str) and hmac.compare_digest(
        given.encode("utf-8"), expected.encode("utf-8"))
