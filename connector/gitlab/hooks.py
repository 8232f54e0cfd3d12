"""Our project hook: installed with a secret GitLab sends, complete, and enabled (step 8).

GitLab never returns a hook's token, so our hook is known by its URL. A hook GitLab has
disabled after failed deliveries (``alert_status``; RELIABILITY "Facts about the senders")
is re-enabled by a successful test delivery (Project webhooks API, "Trigger a test project
webhook", GitLab 16.11+).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import gitlab
from gitlab.v4.objects import Project

from connector.codehost import ProjectRequest

Todo = tuple[str, Callable[[], object]]
TEST_TRIGGER = "push_events"  # Project webhooks API, "Trigger a test project webhook"
HOOK_EVENTS = ("push_events", "merge_requests_events", "wiki_page_events", "pipeline_events",
               "tag_push_events", "releases_events")


def todo(project: Project, request: ProjectRequest, signed: bool, *,
         fresh: bool = False) -> list[Todo]:
    """Our hook is known by its URL: GitLab never returns a hook's token.

    The secret always goes in ``token``, which every GitLab sends back as ``X-Gitlab-Token``.
    With ``signed_webhooks`` a ``whsec_`` secret also goes in ``signing_token`` (GitLab 19
    signs deliveries with it where signed webhooks are enabled, and ignores it elsewhere). A
    hook GitLab disabled after failures is re-enabled by a successful test delivery (16.11+).
    A ``fresh`` project (created by this run) has no hooks, so none are listed.
    """
    secret = request.hook_token.reveal()
    signing = {"signing_token": secret} if signed and secret.startswith("whsec_") else {}
    body: dict[str, Any] = {"url": request.hook_url, "token": secret, **signing,
                            **dict.fromkeys(HOOK_EVENTS, True), "enable_ssl_verification": True}
    listed = [] if fresh else project.hooks.list(get_all=True)
    ours = [h for h in listed if h.url == request.hook_url]
    if not ours:
        return [(f"Pasang webhook ke {request.hook_url}", lambda: project.hooks.create(body))]
    todos: list[Todo] = []
    if not all(getattr(ours[0], event, False) for event in HOOK_EVENTS):
        todos.append((f"Lengkapi event webhook {request.hook_url}",
                      lambda: project.hooks.update(ours[0].id, body)))
    if not hook_enabled(ours[0].attributes):
        todos.append((f"Aktifkan kembali webhook {request.hook_url} dengan kiriman uji",
                      partial(reenable, project, int(ours[0].id))))
    return todos


def reenable(project: Project, hook_id: int) -> bool:
    """Send a test delivery (``POST /projects/:id/hooks/:hook_id/test/:trigger``), re-read it.

    GitLab re-enables a disabled hook when its test delivery succeeds; a failed one
    (our service down, or refusing) leaves it disabled, which the caller reports.
    """
    try:
        project.hooks.get(hook_id, lazy=True).test(TEST_TRIGGER)
    except gitlab.exceptions.GitlabHookTestError as exc:
        if exc.response_code in (404, 405):
            raise  # a GitLab before 16.11 has no test endpoint: say so
    return hook_enabled(project.hooks.get(hook_id).attributes)


def hook_enabled(hook: Mapping[str, Any], *, now: datetime | None = None) -> bool:
    """False when GitLab has disabled a hook after failures (``alert_status``, 15.x+)."""
    if hook.get("alert_status", "executable") != "executable":
        return False
    until = hook.get("disabled_until")
    if not until:
        return True
    when = datetime.fromisoformat(str(until).replace("Z", "+00:00"))
    return when <= (now or datetime.now(UTC))
