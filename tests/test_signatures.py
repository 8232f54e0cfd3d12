"""Authentication of deliveries on their raw bytes: known answers first, then every way to fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
from contextlib import AbstractContextManager

import pytest

from connector.errors import ConnectorError
from connector.signatures import (
    TOLERANCE_SECONDS,
    SignatureError,
    hmac_sha256_hex,
    standard_webhook_signature,
    verify_bearer,
    verify_hmac_sha256,
    verify_standard_webhook,
    verify_token,
)

# The Standard Webhooks specification's own example (standard-webhooks/standard-webhooks).
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_STAMP = "1614265330"
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
NOW = 1614265330.0

# GitHub's documented example for X-Hub-Signature-256.
GH_SECRET = "It's a Secret to Everybody"
GH_BODY = b"Hello, World!"
GH_HEX = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def sw_headers(**changes: str | None) -> dict[str, str]:
    headers = {"webhook-id": SW_ID, "webhook-timestamp": SW_STAMP,
               "webhook-signature": SW_SIGNATURE}
    for name, value in changes.items():
        key = name.replace("_", "-")
        if value is None:
            del headers[key]
        else:
            headers[key] = value
    return headers


def fails(message: str) -> AbstractContextManager[pytest.ExceptionInfo[SignatureError]]:
    return pytest.raises(SignatureError, match=message)


def test_signature_error_is_a_connector_error() -> None:
    assert issubclass(SignatureError, ConnectorError)


# --- known answers --------------------------------------------------------------------------


def test_standard_webhooks_known_answer() -> None:
    assert standard_webhook_signature(SW_SECRET, SW_ID, SW_STAMP, SW_BODY) == SW_SIGNATURE
    assert verify_standard_webhook(sw_headers(), SW_BODY, SW_SECRET, now=NOW) == SW_ID


def test_github_style_hmac_known_answer() -> None:
    assert hmac_sha256_hex(GH_SECRET, GH_BODY) == GH_HEX
    verify_hmac_sha256(f"sha256={GH_HEX}", GH_SECRET, GH_BODY)
    verify_hmac_sha256(f"sha256={GH_HEX.upper()}", GH_SECRET, GH_BODY)  # hex in any case


# --- Standard Webhooks: every way to fail -----------------------------------------------------


def test_tampered_body_fails() -> None:
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(), b'{"test": 2432232315}', SW_SECRET, now=NOW)
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(), SW_BODY + b" ", SW_SECRET, now=NOW)


def test_tampered_id_or_timestamp_fails() -> None:
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(webhook_id="msg_other"), SW_BODY, SW_SECRET, now=NOW)
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(webhook_timestamp="1614265331"), SW_BODY, SW_SECRET,
                                now=NOW)


def test_wrong_secret_fails() -> None:
    other = "whsec_" + base64.b64encode(b"another key of 24 bytes!").decode()
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(), SW_BODY, other, now=NOW)


@pytest.mark.parametrize("secret", [None, ""])
def test_missing_secret_fails_closed(secret: str | None) -> None:
    with fails("no signing secret is configured"):
        verify_standard_webhook(sw_headers(), SW_BODY, secret, now=NOW)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", "whsec_ÄÖÜ", "MfKQ9r8G=x"])
def test_unusable_secret_fails_closed(secret: str) -> None:
    with fails("not whsec_<base64>"):
        verify_standard_webhook(sw_headers(), SW_BODY, secret, now=NOW)


@pytest.mark.parametrize("offset", [TOLERANCE_SECONDS + 1, 3600, 10**9])
def test_stale_and_future_timestamps_fail(offset: int) -> None:
    with fails("too old or too far in the future"):
        verify_standard_webhook(sw_headers(), SW_BODY, SW_SECRET, now=NOW + offset)
    with fails("too old or too far in the future"):
        verify_standard_webhook(sw_headers(), SW_BODY, SW_SECRET, now=NOW - offset)


def test_timestamps_at_the_edge_of_the_tolerance_pass() -> None:
    for now in (NOW + TOLERANCE_SECONDS, NOW - TOLERANCE_SECONDS):
        assert verify_standard_webhook(sw_headers(), SW_BODY, SW_SECRET, now=now) == SW_ID
    with fails("too old"):
        verify_standard_webhook(sw_headers(), SW_BODY, SW_SECRET, now=NOW + 10, tolerance=5)


@pytest.mark.parametrize("header", ["webhook_id", "webhook_timestamp", "webhook_signature"])
@pytest.mark.parametrize("value", [None, ""])
def test_each_missing_header_fails(header: str, value: str | None) -> None:
    with fails("missing webhook-id, webhook-timestamp or webhook-signature"):
        verify_standard_webhook(sw_headers(**{header: value}), SW_BODY, SW_SECRET, now=NOW)


@pytest.mark.parametrize("stamp", ["-1614265330", "1614265330.0", " 1614265330", "0x60376F72",
                                   "١٦١٤٢٦٥٣٣٠", "1" * 400, "9" * 5000, "yesterday"])
def test_timestamps_that_are_not_seconds_fail(stamp: str) -> None:
    with fails("webhook-timestamp is not a number of seconds"):
        verify_standard_webhook(sw_headers(webhook_timestamp=stamp), SW_BODY, SW_SECRET, now=NOW)


@pytest.mark.parametrize("signature", [
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OÉ=",
    "v1,ö",
    "v1,😀",
    "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    "v2," + SW_SIGNATURE[3:],
    SW_SIGNATURE[3:],
    SW_SIGNATURE.lower(),
    SW_SIGNATURE + "=",
])
def test_wrong_or_non_ascii_signatures_fail_without_crashing(signature: str) -> None:
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(webhook_signature=signature), SW_BODY, SW_SECRET,
                                now=NOW)


def test_non_ascii_message_id_is_signed_as_utf8_not_a_crash() -> None:
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(webhook_id="msg_ümlaut"), SW_BODY, SW_SECRET, now=NOW)
    signature = standard_webhook_signature(SW_SECRET, "msg_ümlaut", SW_STAMP, SW_BODY)
    headers = sw_headers(webhook_id="msg_ümlaut", webhook_signature=signature)
    assert verify_standard_webhook(headers, SW_BODY, SW_SECRET, now=NOW) == "msg_ümlaut"


@pytest.mark.parametrize("signatures", [
    f"v1,bm90IGl0 {SW_SIGNATURE}",
    f"{SW_SIGNATURE} v1,bm90IGl0",
    f"v1a,ignored  v1,ö {SW_SIGNATURE}",
])
def test_one_of_several_signatures_may_match(signatures: str) -> None:
    headers = sw_headers(webhook_signature=signatures)
    assert verify_standard_webhook(headers, SW_BODY, SW_SECRET, now=NOW) == SW_ID


def test_several_signatures_none_matching_fail() -> None:
    with fails("no webhook-signature matches"):
        verify_standard_webhook(sw_headers(webhook_signature="v1,bm90IGl0 v1,YWxzbyBub3Q="),
                                SW_BODY, SW_SECRET, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    headers = {"Webhook-Id": SW_ID, "WEBHOOK-TIMESTAMP": SW_STAMP,
               "Webhook-Signature": SW_SIGNATURE}
    assert verify_standard_webhook(headers, SW_BODY, SW_SECRET, now=NOW) == SW_ID


def test_the_signature_is_hmac_sha256_of_id_dot_timestamp_dot_body() -> None:
    """Independent of the module: the spec's construction, computed here by hand."""
    key = base64.b64decode(SW_SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{SW_ID}.{SW_STAMP}.".encode() + SW_BODY, hashlib.sha256).digest()
    assert "v1," + base64.b64encode(mac).decode() == SW_SIGNATURE


# --- sha256= signatures (Redmine 7, GitHub style) ----------------------------------------------


@pytest.mark.parametrize(("signature", "secret", "body", "message"), [
    (f"sha256={GH_HEX}", GH_SECRET, b"Hello, World?", "bad signature"),
    (f"sha256={GH_HEX}", "It's a secret to everybody", GH_BODY, "bad signature"),
    (GH_HEX, GH_SECRET, GH_BODY, "missing sha256= signature"),
    (f"sha1={GH_HEX}", GH_SECRET, GH_BODY, "missing sha256= signature"),
    (None, GH_SECRET, GH_BODY, "missing sha256= signature"),
    ("", GH_SECRET, GH_BODY, "missing sha256= signature"),
    (f"sha256={GH_HEX}", None, GH_BODY, "no signing secret is configured"),
    (f"sha256={GH_HEX}", "", GH_BODY, "no signing secret is configured"),
    ("sha256=" + "é" * 64, GH_SECRET, GH_BODY, "bad signature"),
    (f"sha256={GH_HEX} ", GH_SECRET, GH_BODY, "bad signature"),
])
def test_hmac_sha256_failures(signature: str | None, secret: str | None, body: bytes,
                              message: str) -> None:
    with fails(message):
        verify_hmac_sha256(signature, secret, body)


def test_hmac_with_a_non_ascii_secret() -> None:
    secret = "rahasia-ñ-😀"
    signature = "sha256=" + hmac.new(secret.encode(), GH_BODY, hashlib.sha256).hexdigest()
    verify_hmac_sha256(signature, secret, GH_BODY)


# --- bearer tokens and plain tokens --------------------------------------------------------------

TOKEN = "intake-token-0123456789"


def test_right_bearer_token_passes() -> None:
    verify_bearer(f"Bearer {TOKEN}", TOKEN)
    verify_bearer(f"bearer {TOKEN}", TOKEN)  # RFC 7235: the scheme is case-insensitive


@pytest.mark.parametrize(("authorization", "message"), [
    (None, "missing bearer token"),
    ("", "missing bearer token"),
    ("Bearer", "missing bearer token"),
    ("Bearer ", "missing bearer token"),
    (TOKEN, "missing bearer token"),
    (f"Basic {TOKEN}", "missing bearer token"),
    (f"Token {TOKEN}", "missing bearer token"),
    (f"Bearer{TOKEN}", "missing bearer token"),
    ("Bearer intake-token-0123456788", "wrong bearer token"),
    (f"Bearer {TOKEN}x", "wrong bearer token"),
    (f"Bearer {TOKEN[:-1]}", "wrong bearer token"),
    ("Bearer tökén-ünïcode", "wrong bearer token"),
    ("Bearer 😀", "wrong bearer token"),
])
def test_bad_bearer_tokens_fail(authorization: str | None, message: str) -> None:
    with fails(message):
        verify_bearer(authorization, TOKEN)


@pytest.mark.parametrize("token", [None, ""])
def test_no_configured_token_fails_closed(token: str | None) -> None:
    with fails("no token is configured"):
        verify_bearer(f"Bearer {TOKEN}", token)
    with fails("no token is configured"):
        verify_bearer("Bearer ", token)


def test_non_ascii_configured_token() -> None:
    verify_bearer("Bearer tökén", "tökén")
    with fails("wrong bearer token"):
        verify_bearer("Bearer token", "tökén")


def test_plain_shared_token() -> None:
    verify_token(TOKEN, TOKEN, header="X-Gitlab-Token")
    with fails("wrong X-Gitlab-Token"):
        verify_token(TOKEN + "x", TOKEN, header="X-Gitlab-Token")
    with fails("wrong X-Gitlab-Token"):
        verify_token("tökén", TOKEN, header="X-Gitlab-Token")
    with fails("missing X-Gitlab-Token"):
        verify_token(None, TOKEN, header="X-Gitlab-Token")
    with fails("missing X-Gitlab-Token"):
        verify_token("", TOKEN, header="X-Gitlab-Token")
    with fails("no secret is configured for X-Gitlab-Token"):
        verify_token(TOKEN, None, header="X-Gitlab-Token")
    with fails("no secret is configured for X-Gitlab-Token"):
        verify_token(TOKEN, "", header="X-Gitlab-Token")


def test_messages_never_contain_secrets_or_tokens() -> None:
    cases = [
        lambda: verify_bearer("Bearer guess", TOKEN),
        lambda: verify_token("guess", TOKEN, header="X-Gitlab-Token"),
        lambda: verify_hmac_sha256("sha256=00", GH_SECRET, GH_BODY),
        lambda: verify_standard_webhook(sw_headers(webhook_signature="v1,AA=="), SW_BODY,
                                        SW_SECRET, now=NOW),
        lambda: verify_standard_webhook(sw_headers(), SW_BODY, "whsec_%%%", now=NOW),
    ]
    for case in cases:
        with pytest.raises(SignatureError) as caught:
            case()
        text = str(caught.value)
        for secret in (TOKEN, GH_SECRET, GH_HEX, SW_SECRET, SW_SIGNATURE, "whsec_%%%", "guess"):
            assert secret not in text
