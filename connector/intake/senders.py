"""Who sent a letter: the OPD whose own credential authenticates the request.

Each ``[opd.agencies.X]`` has its own bearer token(s) or Standard Webhooks signing key(s);
the one that matches names the sender, and a letter is accepted only for that OPD. The
shared gateway (``[webhooks] shared_gateway = true``) is the one sender that may send for
every OPD. Pure functions over the headers and raw body, no I/O (STYLE.md, point 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connector.config.credentials import IntakeCredentials
from connector.config.secret import Secret
from connector.config.settings import Settings
from connector.signatures import (
    SignatureError,
    bearer_token,
    same_secret,
    verify_standard_webhook,
)


@dataclass(frozen=True)
class Sender:
    """An authenticated sender: one OPD, or (``opd`` None) the shared gateway."""

    opd: str | None

    def may_act_for(self, opd: str) -> bool:
        """True when this sender may send letters of, and read the cases of, ``opd``."""
        return self.opd is None or self.opd == opd

    @property
    def label(self) -> str:
        """How the sender is named in the audit trail and in messages."""
        return self.opd if self.opd is not None else "gateway"


def _candidates(settings: Settings) -> list[tuple[Sender, IntakeCredentials]]:
    found = [(Sender(code), agency.credentials)
             for code, agency in sorted(settings.opd.agencies.items()) if agency.credentials]
    hooks = settings.webhooks
    if hooks.shared_gateway and hooks.gateway:
        found.append((Sender(None), hooks.gateway))
    return found


def identify_sender(settings: Settings, headers: Mapping[str, str], body: bytes, *,
                    now: float, allow_signature: bool = True) -> Sender:
    """The sender whose credential the request carries; SignatureError when none does.

    A request with ``webhook-signature`` is checked against every signing key (and must
    match one); otherwise its bearer token against every token, each in constant time and
    all of them, so the time taken does not tell which OPD's token came close.
    """
    candidates = _candidates(settings)
    if not candidates:
        raise SignatureError("no intake credential is configured")
    lowered = {name.lower(): value for name, value in headers.items()}
    keyed = [(s, k) for s, c in candidates for k in c.signing_secrets]
    if allow_signature and "webhook-signature" in lowered and keyed:
        return _signed_by(keyed, headers, body, now)
    given = bearer_token(lowered.get("authorization"))
    matches = [sender for sender, creds in candidates for token in creds.tokens
               if same_secret(given, token.reveal())]
    if not matches:
        raise SignatureError("wrong bearer token")
    return matches[0]


def _signed_by(keyed: list[tuple[Sender, Secret]], headers: Mapping[str, str], body: bytes,
               now: float) -> Sender:
    problem = SignatureError("no webhook-signature matches")
    for sender, key in keyed:
        try:
            verify_standard_webhook(headers, body, key.reveal(), now=now)
        except SignatureError as exc:
            problem = exc
            continue
        return sender
    raise problem
