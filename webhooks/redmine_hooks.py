"""Redmine webhooks: a change in Redmine queues a ``sync_issue`` job for the changed issue.

Two senders, one outcome:
- ``POST /webhooks/redmine/<secret>``: the redmine_webhook plugin (suer, v0.0.5), which cannot
  sign, so the shared secret is part of the URL it is configured with;
- ``POST /webhooks/redmine``: Redmine 7 native webhooks, signed with
  ``X-Redmine-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>``.
Both use ``[webhooks] redmine_secret`` and fail closed when it is not configured. Neither
sender gives a delivery id (Redmine 7's ``Webhook::Executor`` sends only Accept, Content-Type,
User-Agent and the signature), so a delivery is known by its sender and the body's SHA-256.

A webhook is only a hint (RELIABILITY.md): nothing in the body is trusted beyond the issue id
(read by ``connector.redmine.events``), and the job re-reads the issue over REST. The delivery
and its job are committed together before the 202 (a hint for an issue whose sync job is still
waiting joins that job and makes it urgent instead: ``connector.store.coalesce``); a repeated
delivery answers 200; an event we do not use answers 200 with ``{"ignored": ...}`` and stores
nothing; a wrong secret or signature answers 401 and stores nothing; a body that is not JSON
answers 422 (``webhooks.deliveries``).

A wrong URL secret answers 401, not 404: hiding the route would not hide the service (the
signed route beside it answers anyway), and the house rule is one answer for "not
authenticated". The secret in the URL can show in a proxy's access log; prefer the signed
native webhooks where Redmine 7 is available.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, request

from connector.redmine.events import NATIVE, PLUGIN, Ignored, classify, sha256_hex
from connector.signatures import SignatureError, verify_hmac_sha256, verify_token
from connector.store.audit import Delivery
from connector.store.coalesce import enqueue_once_per_subject
from connector.store.kinds import SYNC_ISSUE
from webhooks.context import services
from webhooks.deliveries import (
    NotJson,
    accept_delivery,
    ignored,
    kept_headers,
    not_json,
    read_json,
    unauthorized,
)

log = logging.getLogger(__name__)
blueprint = Blueprint("redmine_hooks", __name__)

KEPT_HEADERS = ("Content-Type", "User-Agent")


@blueprint.post("/webhooks/redmine/<secret>")
def receive_plugin(secret: str) -> Any:
    """The redmine_webhook plugin: the URL's secret, then ``payload.issue.id``."""
    body = request.get_data(cache=True)
    try:
        verify_token(secret, _configured_secret(), header="secret in the webhook URL")
    except SignatureError as exc:
        return unauthorized("Redmine", exc)
    return _accept(PLUGIN, body)


@blueprint.post("/webhooks/redmine")
def receive_native() -> Any:
    """Redmine 7 native webhooks: ``X-Redmine-Signature-256``, then ``data.issue.id``."""
    body = request.get_data(cache=True)
    try:
        verify_hmac_sha256(request.headers.get("X-Redmine-Signature-256"),
                           _configured_secret(), body)
    except SignatureError as exc:
        return unauthorized("Redmine", exc)
    return _accept(NATIVE, body)


def _accept(source: str, body: bytes) -> Any:
    """Parse, route, then store the delivery and its job in one transaction."""
    try:
        document = read_json(body)
    except NotJson:
        return not_json()
    hint = classify(source, document, body)
    if isinstance(hint, Ignored):
        return ignored(source, hint.reason)
    clock = services().clock

    def enqueue(conn: Any, inbox_id: int) -> None:
        enqueue_once_per_subject(
            conn, SYNC_ISSUE, hint.payload, subject=f"{SYNC_ISSUE}:{hint.issue_id}",
            change=hint.change, routine=False, inbox_id=inbox_id, clock=clock)

    delivery = Delivery(source, f"{source}:sha256:{sha256_hex(body)}",
                        kept_headers(KEPT_HEADERS), body)
    return accept_delivery(delivery, enqueue, {"accepted": True, "issue_id": hint.issue_id})


def _configured_secret() -> str | None:
    secret = services().settings.webhooks.redmine_secret
    return secret.reveal() if secret is not None else None
