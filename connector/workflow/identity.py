"""The service's own code-host user: configured, or learned from the token (GitLab: ``GET /user``).

Events our own writes cause (the seed commit, the wiki pages, the Beranda's links) come back
as deliveries; they are ignored by the user who caused them (RELIABILITY promise 7). When
``[gitlab] service_username`` is absent, the name is learned from the token before step 8
writes anything (Users API, "Get the current user": ``GET /user``) and kept in the
``cursors`` table, where the webhook receiver reads it without calling GitLab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.store.cursors import get_cursor, set_cursor

if TYPE_CHECKING:
    from connector.services import Services

LEARNED = "gitlab_service_username"


def service_username(services: Services) -> str:
    """``[gitlab] service_username``, else the name learned from the token, else ""."""
    gitlab = services.settings.gitlab
    if gitlab is None:
        return ""
    return gitlab.service_username or get_cursor(services.engine, LEARNED) or ""


def learn_service_username(services: Services) -> None:
    """Ask the code host who the token belongs to, once, unless the configuration says it."""
    gitlab, host = services.settings.gitlab, services.codehost
    if gitlab is None or gitlab.service_username or host is None:
        return
    if get_cursor(services.engine, LEARNED):
        return
    name = host.service_username()
    if not name:  # a host without users of its own (local git)
        return
    with services.engine.begin() as conn:
        set_cursor(conn, LEARNED, name, clock=services.clock)
