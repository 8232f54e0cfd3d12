"""Intake credentials: each OPD's own bearer tokens and Standard Webhooks signing keys.

A credential is read from ``intake_token_env``/``_file`` and ``intake_signing_secret_env``/
``_file``; the ``*_next_*`` keys give a second valid value of each, so a key is rotated
without a pause: configure the new one as ``next``, let the OPD switch, then move it up.
A token shorter than ``MIN_TOKEN_CHARS`` or a signing key of fewer than ``MIN_KEY_BYTES``
bytes is refused at load: both can be guessed (issue 20, finding 8).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from connector.config.reader import Section
from connector.config.secret import Secret

MIN_TOKEN_CHARS = 24
MIN_KEY_BYTES = 24  # the Standard Webhooks specification: keys of 24 to 64 bytes
TOKEN_STEMS = ("intake_token", "intake_token_next")
SIGNING_STEMS = ("intake_signing_secret", "intake_signing_secret_next")


@dataclass(frozen=True)
class IntakeCredentials:
    """The tokens and signing keys one sender may use (two of each while rotating)."""

    tokens: tuple[Secret, ...] = ()
    signing_secrets: tuple[Secret, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tokens or self.signing_secrets)


def read_credentials(sec: Section, resolve: bool) -> IntakeCredentials:
    """The intake credentials named in ``sec``; a weak or malformed one is a problem."""
    tokens = [(stem, sec.secret(stem, required=False, resolve=resolve)) for stem in TOKEN_STEMS]
    keys = [(stem, sec.secret(stem, required=False, resolve=resolve)) for stem in SIGNING_STEMS]
    for stem, token in tokens:
        if token is not None and len(token.reveal()) < MIN_TOKEN_CHARS:
            sec.problems.append(f"{sec.file}: [{sec.name}] {_given(sec, stem)}: the token is "
                                f"shorter than {MIN_TOKEN_CHARS} characters; generate one "
                                "with `openssl rand -hex 32`")
    for stem, key in keys:
        if key is not None and not _strong_key(key.reveal()):
            sec.problems.append(f"{sec.file}: [{sec.name}] {_given(sec, stem)}: expected "
                                f"whsec_<base64> of at least {MIN_KEY_BYTES} bytes")
    for first, second in (tokens, keys):
        if second[1] is not None and first[1] is None:
            sec.problems.append(f"{sec.file}: [{sec.name}] {_given(sec, second[0])}: a next "
                                f"value needs a current one ({first[0]}_env or _file)")
    return IntakeCredentials(tokens=tuple(t for _, t in tokens if t is not None),
                             signing_secrets=tuple(k for _, k in keys if k is not None))


def _given(sec: Section, stem: str) -> str:
    return f"{stem}_env" if f"{stem}_env" in sec.data else f"{stem}_file"


def _strong_key(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        return len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= MIN_KEY_BYTES
    except (binascii.Error, ValueError):
        return False
