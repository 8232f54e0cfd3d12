"""``POST /webhooks/gitlab``: a GitLab project hook's delivery queues one progress job.

Authentication uses ``[webhooks] gitlab_token`` and fails closed when it is not configured:
- a plain token: ``X-Gitlab-Token`` must equal it (constant time). GitLab sends that header in
  clear text with every delivery; Standard Webhooks headers, if any, are not checked, since a
  plain token cannot be their key.
- a ``whsec_<base64>`` value can also be GitLab 19's signing token (the hook's
  ``signing_token``). Provisioning always sets it as the hook's ``token`` too, because a
  GitLab without signed webhooks ignores ``signing_token`` and would otherwise send no
  secret at all. So a delivery that carries ``webhook-signature`` must have a valid one
  over ``webhook-id.webhook-timestamp.body`` at most five minutes old, and one without it
  must carry the secret in ``X-Gitlab-Token``. With ``[gitlab] signed_webhooks = true`` the
  operator says GitLab signs: then only a valid signature is accepted, and the secret in
  clear text is refused (the replay window of the timestamp then holds).
Why one setting rather than two: a hook has one secret we choose; its prefix says which kind.

Then, as for every sender (RELIABILITY.md): a body that is not JSON answers 422; an event the
table in ``connector.gitlab.events`` does not use, or one caused by the service's own GitLab
user, answers 200 ``{"ignored": ...}`` and stores nothing; otherwise the delivery and its
``gitlab_progress`` job are committed together and answered 202. A delivery is known by its
``Idempotency-Key`` (stable across GitLab's retries and resends; ``webhook-id`` carries the same
value), else ``webhook-id``, else the SHA-256 of event and body; ``X-Gitlab-Event-UUID`` is not
a delivery id. A repeated delivery answers 200 and changes nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, request

from connector.gitlab.events import Ignored, classify
from connector.signatures import SignatureError, verify_standard_webhook, verify_token
from connector.store.audit import Delivery
from connector.store.jobs import enqueue
from connector.store.kinds import GITLAB_PROGRESS
from connector.workflow.identity import service_username
from webhooks.context import services
from webhooks.deliveries import (
    NotJson,
    accept_delivery,
    ignored,
    kept_headers,
    not_json,
    read_json,
    sender_delivery_id,
    unauthorized,
)

blueprint = Blueprint("gitlab_hooks", __name__)

SOURCE = "gitlab"
SIGNING_PREFIX = "whsec_"
KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Gitlab-Event", "X-Gitlab-Instance",
                "X-Gitlab-Webhook-UUID", "X-Gitlab-Event-UUID", "Idempotency-Key",
                "webhook-id", "webhook-timestamp")


@blueprint.post("/webhooks/gitlab")
def receive_event() -> Any:
    """Authenticate, read, store, answer."""
    body = request.get_data(cache=True)
    denied = _authenticate(body)
    if denied is not None:
        return denied
    try:
        document = read_json(body)
    except NotJson:
        return not_json()
    event = request.headers.get("X-Gitlab-Event", "")
    outcome = classify(event, document, received_at=services().clock(),
                       service_username=service_username(services()))
    if isinstance(outcome, Ignored):
        return ignored("GitLab", outcome.reason)
    key = _delivery_key(event, body)
    clock = services().clock

    def enqueue_job(conn: Any, inbox_id: int) -> None:
        enqueue(conn, GITLAB_PROGRESS, outcome.as_payload() | {"event_key": key},
                inbox_id=inbox_id, dedupe_key=f"{GITLAB_PROGRESS}:{key}", clock=clock)

    delivery = Delivery(SOURCE, key, kept_headers(KEPT_HEADERS), body)
    return accept_delivery(delivery, enqueue_job, {"accepted": True, "kind": outcome.kind})


def _authenticate(body: bytes) -> Any | None:
    """The signing token's signature, or the plain token; 401 otherwise."""
    configured = services().settings.webhooks.gitlab_token
    secret = configured.reveal() if configured is not None else None
    gitlab = services().settings.gitlab
    strict = gitlab is not None and gitlab.signed_webhooks
    try:
        if secret is not None and secret.startswith(SIGNING_PREFIX) and (
                strict or "webhook-signature" in request.headers):
            verify_standard_webhook(dict(request.headers.items()), body, secret,
                                    now=services().clock().timestamp())
        else:
            verify_token(request.headers.get("X-Gitlab-Token"), secret, header="X-Gitlab-Token")
    except SignatureError as exc:
        return unauthorized("GitLab", exc)
    return None


def _delivery_key(event: str, body: bytes) -> str:
    """``gitlab:id:<Idempotency-Key or webhook-id>``, else ``gitlab:sha256:<event and body>``.

    Both headers carry the same value when GitLab signs, so they share one prefix.
    """
    given = sender_delivery_id()
    if given is not None:
        return f"{SOURCE}:id:{given[1]}"
    digest = hashlib.sha256(event.encode("utf-8", "replace") + b"\n" + body).hexdigest()
    return f"{SOURCE}:sha256:{digest}"
