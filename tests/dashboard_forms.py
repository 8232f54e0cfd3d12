"""Posting the dashboard's forms as a browser does: with the session's CSRF token."""

from __future__ import annotations

import re
from typing import Any

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: Any) -> str:
    """The CSRF token of ``client``'s session, read from a page's form like a browser."""
    page = client.get("/dashboard/masuk")
    if page.status_code == 302:  # signed in: the sign-out form is on every page
        page = client.get("/dashboard")
    found = CSRF.search(page.get_data(as_text=True))
    assert found is not None, page.get_data(as_text=True)[:500]
    return found[1]


def post_form(client: Any, path: str, data: dict[str, str] | None = None) -> Any:
    """POST ``data`` to ``path`` with the session's CSRF token, as the page's form would."""
    return client.post(path, data={**(data or {}), "csrf": csrf_of(client)})


def sign_in_with_token(client: Any, token: str, target: str | None = None) -> Any:
    """Sign in with the access token through the sign-in form (POST)."""
    return post_form(client, "/dashboard/masuk",
                     {"token": token, **({"next": target} if target else {})})
