"""GitLab webhook deliveries read into progress events: pure functions, no I/O.

Step 12 (development) is followed in Redmine through short notes about what happened in the
case's GitLab project. A delivery is routed by ``ROUTES``, a table keyed by the
``X-Gitlab-Event`` header and the event's action (Zulip's GitLab integration does the same);
what is not in the table is ignored, and ``SUPPORTED`` is derived from it. Only the fields a
summary needs are read, each checked for its type; no URL of the payload is ever used, so
nothing is fetched because a payload named it (RELIABILITY promise 8). Payload shapes: GitLab's
"Webhook events" documentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.codehost.events import MAX_LINE, ProgressEvent
from connector.payloads import MAX_ID, positive_int
from connector.payloads import get as _get

ZERO_SHA = "0" * 40
MAX_FIELD = 80
_WIKI_VERBS = {"create": "dibuat", "update": "diperbarui"}
_PIPELINE_OUTCOMES = {"success": "berhasil", "failed": "gagal"}


@dataclass(frozen=True)
class Ignored:
    """A delivery we do not act on, and why (answered 2xx and logged)."""

    reason: str


Parser = Callable[[Mapping[str, Any]], "str | Ignored"]


def classify(event: str, document: Any, *, received_at: datetime,
             service_username: str = "") -> ProgressEvent | Ignored:
    """Route a delivery by (event, action) and read it, or say why it is ignored.

    Events caused by ``service_username`` (our own provisioning at step 8) are ignored, so
    the service never reports its own work back to itself (RELIABILITY promise 7).
    """
    if not isinstance(document, dict):
        return Ignored("the body is not a JSON object")
    action = action_of(event, document)
    parse = ROUTES.get((event, action))
    if parse is None:
        return Ignored(f"event {event[:60]!r} with action {action[:30]!r} is not used")
    actor = actor_of(document)
    if service_username and actor is not None and actor.casefold() == service_username.casefold():
        return Ignored("caused by the service's own GitLab user")
    project_id = positive_int(_get(document, "project", "id"))
    if project_id is None:
        return Ignored("no project id in the delivery")
    line = parse(document)
    if isinstance(line, Ignored):
        return line
    return ProgressEvent(project_id, _KIND[event], _clip(str(line), MAX_LINE), received_at)


def action_of(event: str, document: Mapping[str, Any]) -> str:
    """Where each event keeps what happened; pushes that delete a ref are "delete"."""
    if event in ("Push Hook", "Tag Push Hook"):
        created = "push" if event == "Push Hook" else "create"
        return "delete" if document.get("after") == ZERO_SHA else created
    if event == "Pipeline Hook":
        value = _get(document, "object_attributes", "status")
    elif event == "Release Hook":
        value = document.get("action")
    else:
        value = _get(document, "object_attributes", "action")
    return value if isinstance(value, str) else ""


def actor_of(document: Mapping[str, Any]) -> str | None:
    """The username of who caused the event: ``user_username`` or ``user.username``."""
    for value in (document.get("user_username"), _get(document, "user", "username")):
        if isinstance(value, str) and value:
            return value
    return None


def _push(d: Mapping[str, Any]) -> str | Ignored:
    branch = _get(d, "project", "default_branch")
    if not isinstance(branch, str) or not branch or d.get("ref") != f"refs/heads/{branch}":
        return Ignored("a push to a branch other than the default branch")
    count = _count(d.get("total_commits_count"))
    head = [c for c in _list(d.get("commits")) if isinstance(c, dict)
            and c.get("id") == d.get("after")]
    title = _text(head[0].get("title")) if head else ""
    line = f"{count} commit ke {_text(branch)} oleh {_who(d)}"
    return f'{line}: "{title}"' if title else line


def _merged(d: Mapping[str, Any]) -> str:
    mr = _get(d, "object_attributes")
    return (f'MR !{_count(_get(mr, "iid"))} "{_text(_get(mr, "title"))}" digabung ke '
            f'{_text(_get(mr, "target_branch"))} oleh {_who(d)}')


def _wiki(d: Mapping[str, Any]) -> str:
    page = _get(d, "object_attributes")
    verb = _WIKI_VERBS.get(str(_get(page, "action")), "diubah")
    return f'Halaman wiki "{_text(_get(page, "title"))}" {verb} oleh {_who(d)}'


def _pipeline(d: Mapping[str, Any]) -> str:
    run = _get(d, "object_attributes")
    outcome = _PIPELINE_OUTCOMES.get(str(_get(run, "status")), "selesai")
    return f"Pipeline #{_count(_get(run, 'id'))} pada {_text(_get(run, 'ref'))} {outcome}"


def _tag(d: Mapping[str, Any]) -> str:
    name = _text(str(d.get("ref") or "").removeprefix("refs/tags/"))
    return f"Tag {name} dibuat oleh {_who(d)}"


def _release(d: Mapping[str, Any]) -> str:
    return f'Rilis "{_text(d.get("name"))}" (tag {_text(d.get("tag"))}) diterbitkan'


ROUTES: Mapping[tuple[str, str], Parser] = {
    ("Push Hook", "push"): _push,
    ("Merge Request Hook", "merge"): _merged,
    ("Wiki Page Hook", "create"): _wiki,
    ("Wiki Page Hook", "update"): _wiki,
    ("Pipeline Hook", "success"): _pipeline,
    ("Pipeline Hook", "failed"): _pipeline,
    ("Tag Push Hook", "create"): _tag,
    ("Release Hook", "create"): _release,
}
_KIND = {"Push Hook": "push", "Merge Request Hook": "merge", "Wiki Page Hook": "wiki",
         "Pipeline Hook": "pipeline", "Tag Push Hook": "tag", "Release Hook": "release"}
SUPPORTED: tuple[str, ...] = tuple(f"{event}: {action}" for event, action in ROUTES)
"""What is handled, for the README and the log, derived from the table."""


def _who(d: Mapping[str, Any]) -> str:
    name = actor_of(d) or d.get("user_name")
    return _text(name) or "?"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) \
        and 0 <= value < MAX_ID else 0


def _text(value: Any) -> str:
    """Untrusted text made one harmless line: no images, no macros, no line breaks."""
    if not isinstance(value, str):
        return ""
    flat = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return _clip(_defuse(flat), MAX_FIELD)


def _defuse(text: str) -> str:
    """Break Redmine's image (``!url!``, ``![](url)``) and macro (``{{ }}``) syntax."""
    return re.sub(r"!(?=\S)", "! ", text).replace("{{", "{ {").replace("}}", "} }")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
