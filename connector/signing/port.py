"""The signer port: what the SOP needs from whoever applies a signature to a PDF.

``Signer.sign`` takes the PDF, the signature block where the visible stamp goes, who signs,
and the credential for this one request (a PKCS#12 passphrase, a BSrE passphrase or TOTP).
The credential is a ``Secret``: it is passed to the signing call and dropped, never stored,
logged or echoed in an error (RELIABILITY: secrets never show in logs or documents).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connector.config.secret import Secret
from connector.errors import ConnectorError


class SigningError(ConnectorError):
    """A signature could not be made or is not valid; the message is Indonesian, for the
    signer, and names what is wrong without any secret."""


@dataclass(frozen=True)
class SignatureBox:
    """Where a signature's visible stamp goes: a field name, a page (0-based) and a
    rectangle (x1, y1, x2, y2) in PDF points from the page's bottom-left corner."""

    field: str
    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


@dataclass(frozen=True)
class SignerIdentity:
    """Who signs: the name and position printed in the stamp, and how BSrE knows them
    (their NIK or the e-mail registered there); ``peran`` is the block they sign
    ("PIHAK PERTAMA", "Mengetahui")."""

    nama: str
    jabatan: str = ""
    peran: str = ""
    nik: str | None = None
    email: str | None = None


class Signer(Protocol):
    """Applies one PAdES signature with a visible stamp, as an incremental update: the
    signatures already in the PDF stay valid."""

    def sign(self, pdf: bytes, box: SignatureBox, identity: SignerIdentity,
             credential: Secret) -> bytes:
        """The PDF with one more signature; SigningError (in Indonesian) when refused."""
        ...
