"""Verify a signed PDF before it is kept: every signature valid, trusted, and covering the
document exactly as we drew it up (issue 17, item 2).

pyHanko validates each signature: integrity (the signed bytes are unchanged), the signer's
certificate against the configured trust roots (for a local certificate, its own CA; no
network is used), and the changes after each signed revision (only further signatures may
follow). On top of that the file must begin with the very bytes we issued: every signature is
an incremental update of our document, so a document drawn up anew elsewhere and signed
validly is still refused.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.signing.port import SigningError


@dataclass(frozen=True)
class VerifiedSignature:
    """One valid signature: its field, the signer's certificate name, and when it says."""

    field: str
    signer: str
    signed_at: datetime | None


def load_trust_roots(pem: bytes) -> list[Any]:
    """The certificates of a PEM (or DER) file, as pyHanko's trust roots."""
    from pyhanko.keys import load_certs_from_pemder_data

    roots = list(load_certs_from_pemder_data(pem))
    if not roots:
        raise SigningError("berkas akar kepercayaan (trust root) tidak memuat sertifikat")
    return roots


def verify_signed(pdf: bytes, *, issued_sha256: str, issued_size: int,
                  trust_roots: Sequence[Any], expected: int | None = None
                  ) -> list[VerifiedSignature]:
    """The signatures of ``pdf``, each verified; SigningError (Indonesian) otherwise.

    ``issued_sha256`` and ``issued_size`` name the document as drawn up; ``expected`` is how
    many signatures it must carry (None: at least one).
    """
    if len(pdf) < issued_size or hashlib.sha256(pdf[:issued_size]).hexdigest() != issued_sha256:
        raise SigningError("Dokumen yang ditandatangani bukan dokumen yang diterbitkan, atau "
                           "isinya telah diubah; tanda tangan ditolak.")
    signatures = _embedded(pdf)
    if not signatures or (expected is not None and len(signatures) != expected):
        raise SigningError(f"Dokumen memuat {len(signatures)} tanda tangan, seharusnya "
                           f"{expected if expected is not None else 'sedikitnya 1'}.")
    context = _context(trust_roots)
    return [_verify_one(sig, context, issued_size) for sig in signatures]


def _embedded(pdf: bytes) -> list[Any]:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return list(PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures)
    except (PdfError, ValueError, KeyError) as exc:
        raise SigningError(f"Berkas PDF tidak dapat dibaca: {exc}") from None


def _context(trust_roots: Sequence[Any]) -> Any:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=list(trust_roots), allow_fetching=False,
                             revocation_mode="soft-fail")


def _verify_one(sig: Any, context: Any, issued_size: int) -> VerifiedSignature:
    """One signature: intact, valid, trusted, covering our document, followed by nothing
    but further signatures."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature

    field = str(sig.field_name)
    try:
        status = validate_pdf_signature(sig, context)
    except Exception as exc:  # pyHanko raises many kinds for a malformed signature
        raise SigningError(f"Tanda tangan {field} tidak dapat diperiksa: {exc}") from None
    name = status.signing_cert.subject.native.get("common_name", "?")
    if not status.intact or not status.valid:
        raise SigningError(f"Tanda tangan {field} ({name}) tidak utuh: dokumen telah diubah "
                           f"setelah ditandatangani.")
    if not status.trusted:
        raise SigningError(f"Sertifikat penanda tangan {field} ({name}) tidak dipercaya "
                           f"(bukan dari akar kepercayaan yang dikonfigurasi).")
    ranges = list(sig.byte_range)
    if ranges[0] != 0 or ranges[2] + ranges[3] < issued_size:
        raise SigningError(f"Tanda tangan {field} ({name}) tidak mencakup seluruh dokumen "
                           f"yang diterbitkan.")
    allowed = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
               ModificationLevel.FORM_FILLING)
    covered = status.coverage in (SignatureCoverageLevel.ENTIRE_FILE,
                                  SignatureCoverageLevel.ENTIRE_REVISION)
    if not covered or status.modification_level not in allowed or not status.bottom_line:
        raise SigningError(f"Dokumen telah diubah setelah tanda tangan {field} ({name}); "
                           f"tanda tangan ditolak.")
    return VerifiedSignature(field, str(name), sig.self_reported_timestamp)
