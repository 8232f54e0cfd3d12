"""Signers in turn: one signature per call, verified before it is kept (issue 17, 1 and 2).

``sign_slot`` takes the latest verified version of an issued document, has the signer add
one signature at the slot's block, verifies the whole result (every signature, the document
as drawn up) and only then keeps it. A refusal keeps nothing: the stored version stays the
one before, and the caller attaches nothing. The credential is passed to the signer and
dropped; this module logs who signed what, never the credential.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from connector.config.secret import Secret
from connector.signing.port import SignatureBox, Signer, SignerIdentity, SigningError
from connector.signing.verify import verify_signed
from connector.store.db import Clock, StoreError, utc_now
from connector.store.issued import IssuedDocument, get_issued, record_signature, sha256_hex

log = logging.getLogger(__name__)


def field_name(slot: str) -> str:
    """The PDF signature field of a slot."""
    return f"TTD-{slot}"


def sign_slot(engine: Engine, token: str, slot: str, *, signer: Signer,
              identity: SignerIdentity, credential: Secret, trust_roots: Sequence[Any],
              clock: Clock = utc_now) -> IssuedDocument:
    """Add ``identity``'s signature at ``slot`` of the document ``token``, verified and kept.

    SigningError (Indonesian, for the signer) when the document or the slot is unknown, the
    slot is signed already, the signer refuses, or the result does not verify.
    """
    document = get_issued(engine, token)
    if document is None:
        raise SigningError("Dokumen tidak ditemukan.")
    try:
        where = document.slot(slot)
    except StoreError as exc:
        raise SigningError(str(exc)) from None
    if slot not in {s.slot for s in document.unsigned_slots}:
        raise SigningError(f"Blok {where.peran} dokumen {document.nomor} sudah ditandatangani.")
    box = SignatureBox(field_name(slot), where.page, *where.box)
    signed = signer.sign(document.pdf, box, identity, credential)
    verify_signed(signed, issued_sha256=document.sha256, issued_size=document.size,
                  trust_roots=trust_roots, expected=len(document.signatures) + 1)
    try:
        kept = record_signature(engine, token, slot=slot, nama=identity.nama, pdf=signed,
                                previous_sha256=sha256_hex(document.pdf), clock=clock)
    except StoreError as exc:
        raise SigningError(str(exc)) from None
    log.info("signing: %s %s signed at %s by %s (%d of %d)", document.kind, document.nomor,
             slot, identity.nama, len(kept.signatures), len(kept.slots))
    return kept
