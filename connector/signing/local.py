"""The local-certificate adapter: a PKCS#12 file of the office, PAdES signatures by pyHanko.

For offices without BSrE, and for the demo (``sop-connector documents demo-cert`` makes a
CA and one certificate per signer). Each call adds one signature as an incremental update,
in a new signature field at the block's rectangle, with a visible text stamp.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from connector.config.secret import Secret
from connector.signing.port import SignatureBox, SignerIdentity, SigningError
from connector.signing.stamp import ascii_text, stamp_style

LOCATION = "Sumbawa Besar"


class PyhankoSigner:
    """Signs with the key and certificate of one PKCS#12 file (``p12``, its bytes)."""

    def __init__(self, p12: bytes, *, location: str = LOCATION) -> None:
        self.p12 = p12
        self.location = location

    def sign(self, pdf: bytes, box: SignatureBox, identity: SignerIdentity,
             credential: Secret) -> bytes:
        """``pdf`` with one more PAdES signature at ``box``; the credential opens the file."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.sign import fields, signers
        from pyhanko.sign.general import SigningError as PyhankoSigningError

        try:
            key = signers.SimpleSigner.load_pkcs12_data(
                self.p12, other_certs=[], passphrase=credential.reveal().encode("utf-8"))
        except ValueError:
            raise SigningError("Passphrase sertifikat salah, atau berkas PKCS#12 rusak; "
                               "dokumen tidak ditandatangani.") from None
        meta = signers.PdfSignatureMetadata(
            field_name=box.field, name=identity.nama, location=self.location,
            reason=_reason(identity), subfilter=fields.SigSeedSubFilter.PADES)
        spec = fields.SigFieldSpec(sig_field_name=box.field, on_page=box.page,
                                   box=(round(box.x1), round(box.y1), round(box.x2),
                                        round(box.y2)))
        pdf_signer = signers.PdfSigner(meta, signer=key, stamp_style=stamp_style(),
                                       new_field_spec=spec)
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            out = pdf_signer.sign_pdf(writer, appearance_text_params=_stamp_params(identity))
        except (PdfError, PyhankoSigningError, ValueError) as exc:
            raise SigningError(f"Dokumen tidak dapat ditandatangani: {exc}") from None
        return bytes(out.getbuffer())


def _reason(identity: SignerIdentity) -> str:
    return f"Ditandatangani sebagai {identity.peran}" if identity.peran else "Ditandatangani"


def _stamp_params(identity: SignerIdentity) -> dict[str, str]:
    moment = datetime.now(UTC).strftime("%d-%m-%Y %H:%M UTC")
    return {"nama": ascii_text(identity.nama),
            "jabatan": ascii_text(identity.jabatan or identity.peran), "waktu": moment}

