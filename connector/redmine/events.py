"""Redmine's webhook deliveries read into hints: pure functions, no I/O (as ``gitlab.events``).

Two senders, one outcome: the redmine_webhook plugin (and our own plugin's older format),
whose event is ``payload.action``, and Redmine 7's native webhooks (and our plugin), whose
event is the top-level ``type``. ``ROUTES`` names the events that mean "an issue changed";
anything else is ``Ignored``. A hint is only a hint (RELIABILITY.md): nothing beyond the
issue id is trusted, and the job re-reads the issue over REST.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connector.payloads import get, positive_int

PLUGIN, NATIVE = "redmine-plugin", "redmine"
# (sender, event) that tell of a changed issue; the plugin's event is payload.action, Redmine
# 7's the top-level "type". Anything else is ignored.
ROUTES: frozenset[tuple[str, str]] = frozenset({
    (PLUGIN, "opened"), (PLUGIN, "updated"),
    (NATIVE, "issue.created"), (NATIVE, "issue.updated"),
})
ENVELOPE = {PLUGIN: "payload", NATIVE: "data"}  # where each sender puts the issue
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


@dataclass(frozen=True)
class Ignored:
    """A delivery we do not act on, and why (answered 2xx and logged)."""

    reason: str


def classify(source: str, document: Any, body: bytes) -> Hint | Ignored:
    """The hint of a delivery from ``source`` (``PLUGIN`` or ``NATIVE``), or why it is ignored."""
    event = _EVENT_OF[source](document)
    hint = parse_hint(document, ENVELOPE[source], body)
    if hint is None:
        return Ignored("no issue in the delivery")
    if (source, event) not in ROUTES:
        return Ignored(f"event {event[:60]!r}")
    return hint


def parse_hint(document: Any, envelope: str, body: bytes) -> Hint | None:
    """The issue id under ``<envelope>.issue.id`` and the change's name, or None.

    The change is the journal's id when there is one, else the issue's ``updated_on``, else
    the body's hash; malformed values are not used, so they cannot shape the job's key.
    """
    inner = get(document, envelope)
    issue_id = positive_int(get(inner, "issue", "id"))
    if issue_id is None:
        return None
    journal_id = positive_int(get(inner, "journal", "id"))
    updated_on = get(inner, "issue", "updated_on")
    if journal_id is not None:
        return Hint(issue_id, f"journal:{journal_id}")
    if isinstance(updated_on, str) and _TIMESTAMP.fullmatch(updated_on):
        return Hint(issue_id, f"updated_on:{updated_on}")
    return Hint(issue_id, f"sha256:{sha256_hex(body)}")


def sha256_hex(body: bytes) -> str:
    """The body's SHA-256, which names a delivery that carries no id of its own."""
    return hashlib.sha256(body).hexdigest()


def _text_at(*keys: str) -> Callable[[Any], str]:
    def read(document: Any) -> str:
        value = get(document, *keys)
        return value if isinstance(value, str) else ""
    return read


_EVENT_OF: Mapping[str, Callable[[Any], str]] = {
    PLUGIN: _text_at("payload", "action"), NATIVE: _text_at("type")}
