"""Verify inbound deliveries on their raw bytes, with no I/O (gidgethub's sans-I/O style).

Every check compares in constant time and fails closed: a missing secret, header or
signature is a failure, never a pass (RELIABILITY promise 1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from connector.errors import ConnectorError

TOLERANCE_SECONDS = 300
# Seconds since 1970 fit in 11 digits until the year 5138; a longer header is not a time
# (and converting thousands of digits would raise instead of failing the check).
_MAX_TIMESTAMP_DIGITS = 12


class SignatureError(ConnectorError):
    """A delivery failed authentication; the message says why without revealing secrets."""


def verify_bearer(authorization: str | None, token: str | None) -> None:
    """``Authorization: Bearer <token>`` must carry exactly the configured token."""
    if not token:
        raise SignatureError("no token is configured for this endpoint")
    _same(bearer_token(authorization), token, "wrong bearer token")


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; SignatureError if none."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():  # RFC 7235: the scheme ignores case
        raise SignatureError("missing bearer token")
    return given.strip()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of two texts, compared as UTF-8 bytes (non-ASCII safe)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def verify_token(given: str | None, token: str | None, *, header: str) -> None:
    """A plain shared token (GitLab's ``X-Gitlab-Token``, a secret in a URL)."""
    if not token:
        raise SignatureError(f"no secret is configured for {header}")
    if not given:
        raise SignatureError(f"missing {header}")
    _same(given, token, f"wrong {header}")


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the body (GitHub-style and Redmine 7 signatures)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_hmac_sha256(signature: str | None, secret: str | None, body: bytes) -> None:
    """``sha256=<hex HMAC-SHA256(secret, body)>`` (``X-Redmine-Signature-256``)."""
    if not secret:
        raise SignatureError("no signing secret is configured")
    if not signature or not signature.startswith("sha256="):
        raise SignatureError("missing sha256= signature")
    _same(signature[len("sha256="):].lower(), hmac_sha256_hex(secret, body), "bad signature")


def standard_webhook_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`` per the Standard Webhooks spec.

    The key is the base64 part of ``whsec_<base64>``.
    """
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("the configured signing secret is not whsec_<base64>") from exc
    if not key:  # an empty HMAC key would let anyone sign
        raise SignatureError("the configured signing secret is not whsec_<base64>")
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_standard_webhook(headers: Mapping[str, str], body: bytes, secret: str | None,
                            *, now: float, tolerance: int = TOLERANCE_SECONDS) -> str:
    """Check ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``; return the id.

    The timestamp must be within ``tolerance`` seconds of ``now`` either way, so a captured
    delivery cannot be replayed later; any of the space-separated signatures may match.
    """
    if not secret:
        raise SignatureError("no signing secret is configured")
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp, signatures = (lowered.get(h) for h in
                                 ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not stamp or not signatures:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > _MAX_TIMESTAMP_DIGITS:
        raise SignatureError("webhook-timestamp is not a number of seconds")
    if abs(now - int(stamp)) > tolerance:
        raise SignatureError("webhook-timestamp is too old or too far in the future")
    expected = standard_webhook_signature(secret, msg_id, stamp, body)
    for candidate in signatures.split():
        if candidate.isascii() and hmac.compare_digest(candidate, expected):
            return msg_id
    raise SignatureError("no webhook-signature matches")


def _same(given: str, expected: str, message: str) -> None:
    """Raise SignatureError(message) unless the two texts are equal (constant time)."""
    if not same_secret(given, expected):
        raise SignatureError(message)
