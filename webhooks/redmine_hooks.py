"""Redmine webhooks: a change in Redmine queues a ``sync_issue`` job for the changed issue.

Two senders, one outcome:
- ``POST /webhooks/redmine/<secret>``: the redmine_webhook plugin (suer, v0.0.5), which cannot
  sign, so the shared secret is part of the URL it is configured with;
- ``POST /webhooks/redmine``: Redmine 7 native webhooks, signed with
  ``X-Redmine-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>``.
Both use ``[webhooks] redmine_secret`` and fail closed when it is not configured. Neither
sender gives a delivery id (Redmine 7's ``Webhook::Executor`` sends only Accept, Content-Type,
User-Agent and the signature), so a delivery is known by its sender and the body's SHA-256.

A webhook is only a hint (RELIABILITY.md): nothing in the body is trusted beyond the issue id,
and the job re-reads the issue over REST. The delivery and its job are committed together
before the 202 (a hint for an issue whose sync job is still waiting joins that job and makes
it urgent instead: ``connector.store.coalesce``); a repeated delivery answers 200; an event we
do not use answers 200 with ``{"ignored": ...}`` and stores nothing; a wrong secret or
signature answers 401 and stores nothing; a body that is not JSON answers 422.

A wrong URL secret answers 401, not 404: hiding the route would not hide the service (the
signed route beside it answers anyway), and the house rule is one answer for "not
authenticated". The secret in the URL can show in a proxy's access log; prefer the signed
native webhooks where Redmine 7 is available.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request

from connector.signatures import SignatureError, verify_hmac_sha256, verify_token
from connector.store.audit import Delivery, record_inbox
from connector.store.coalesce import enqueue_once_per_subject
from connector.store.kinds import SYNC_ISSUE
from webhooks.context import services

log = logging.getLogger(__name__)
blueprint = Blueprint("redmine_hooks", __name__)

PLUGIN, NATIVE = "redmine-plugin", "redmine"
# (sender, event) routed to sync_issue; the plugin's event is payload.action, Redmine 7's is
# the top-level "type". Anything else is answered {"ignored": ...}.
ROUTES: Mapping[tuple[str, str], str] = {
    (PLUGIN, "opened"): SYNC_ISSUE,
    (PLUGIN, "updated"): SYNC_ISSUE,
    (NATIVE, "issue.created"): SYNC_ISSUE,
    (NATIVE, "issue.updated"): SYNC_ISSUE,
}
KEPT_HEADERS = ("Content-Type", "User-Agent")
_MAX_ID = 2**53  # ids beyond what JSON numbers hold exactly are not Redmine's
_TIMESTAMP = re.compile(r"[0-9][0-9T:.+\-Z ]{9,39}")


@dataclass(frozen=True)
class Hint:
    """What a delivery tells us: which issue changed, and a name for the change."""

    issue_id: int
    change: str  # "journal:<id>", "updated_on:<time>" or "sha256:<hex of the body>"

    @property
    def payload(self) -> dict[str, int]:
        """The sync job's payload; a journal's id lets the job wait for Redmine's commit."""
        kind, _, value = self.change.partition(":")
        journal = {"journal_id": int(value)} if kind == "journal" else {}
        return {"issue_id": self.issue_id} | journal


@blueprint.post("/webhooks/redmine/<secret>")
def receive_plugin(secret: str) -> Any:
    """The redmine_webhook plugin: the URL's secret, then ``payload.issue.id``."""
    body = request.get_data(cache=True)
    try:
        verify_token(secret, _configured_secret(), header="secret in the webhook URL")
    except SignatureError as exc:
        return _unauthorized(exc)
    return _accept(PLUGIN, body, "payload", _event_of_plugin,
                   f"{PLUGIN}:sha256:{_sha256(body)}")


@blueprint.post("/webhooks/redmine")
def receive_native() -> Any:
    """Redmine 7 native webhooks: ``X-Redmine-Signature-256``, then ``data.issue.id``."""
    body = request.get_data(cache=True)
    try:
        verify_hmac_sha256(request.headers.get("X-Redmine-Signature-256"),
                           _configured_secret(), body)
    except SignatureError as exc:
        return _unauthorized(exc)
    return _accept(NATIVE, body, "data", _event_of_native, f"{NATIVE}:sha256:{_sha256(body)}")


def _accept(source: str, body: bytes, envelope: str, event_of: Callable[[Any], str],
            delivery_key: str) -> Any:
    """Parse, route, then store the delivery and its job in one transaction."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return jsonify({"error": "invalid_request", "message": "the body is not JSON"}), 422
    event = event_of(document)
    hint = parse_hint(document, envelope, body)
    if ROUTES.get((source, event)) != SYNC_ISSUE or hint is None:
        reason = "no issue in the delivery" if hint is None else f"event {event[:60]!r}"
        log.info("ignored a %s delivery: %s", source, reason)
        return jsonify({"ignored": reason}), 200
    delivery = Delivery(source, delivery_key, _kept_headers(), body)
    clock = services().clock
    with services().engine.begin() as conn:
        inbox_id = record_inbox(conn, delivery, clock=clock)
        if inbox_id is not None:
            enqueue_once_per_subject(
                conn, SYNC_ISSUE, hint.payload, subject=f"{SYNC_ISSUE}:{hint.issue_id}",
                change=hint.change, routine=False, inbox_id=inbox_id, clock=clock)
    answer = {"accepted": True, "issue_id": hint.issue_id, "duplicate": inbox_id is None}
    return jsonify(answer), 200 if inbox_id is None else 202


def parse_hint(document: Any, envelope: str, body: bytes) -> Hint | None:
    """The issue id under ``<envelope>.issue.id`` and the change's name, or None.

    The change is the journal's id when there is one, else the issue's ``updated_on``, else
    the body's hash; malformed values are not used, so they cannot shape the job's key.
    """
    inner = _get(document, envelope)
    issue_id = _positive_int(_get(_get(inner, "issue"), "id"))
    if issue_id is None:
        return None
    journal_id = _positive_int(_get(_get(inner, "journal"), "id"))
    updated_on = _get(_get(inner, "issue"), "updated_on")
    if journal_id is not None:
        return Hint(issue_id, f"journal:{journal_id}")
    if isinstance(updated_on, str) and _TIMESTAMP.fullmatch(updated_on):
        return Hint(issue_id, f"updated_on:{updated_on}")
    return Hint(issue_id, f"sha256:{_sha256(body)}")


def _event_of_plugin(document: Any) -> str:
    action = _get(_get(document, "payload"), "action")
    return action if isinstance(action, str) else ""


def _event_of_native(document: Any) -> str:
    kind = _get(document, "type")
    return kind if isinstance(kind, str) else ""


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _MAX_ID:
        return None
    return value


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _configured_secret() -> str | None:
    secret = services().settings.webhooks.redmine_secret
    return secret.reveal() if secret is not None else None


def _unauthorized(exc: SignatureError) -> Any:
    log.warning("refused a Redmine delivery: %s", exc)
    return jsonify({"error": "unauthorized", "message": str(exc)}), 401


def _kept_headers() -> dict[str, str]:
    return {h: request.headers[h][:500] for h in KEPT_HEADERS if h in request.headers}
