"""Electronic signatures (TTE) on the documents we issue: a signer port, its two adapters
(a local PKCS#12 certificate with pyHanko, and BSrE's eSign API v2), and the verification
every signed file passes before it is kept (issue 17).

Importing this package loads nothing heavy; pyHanko is imported by the modules that use it.
"""

from connector.signing.port import (
    SignatureBox,
    Signer,
    SignerIdentity,
    SigningError,
)

__all__ = ["SignatureBox", "Signer", "SignerIdentity", "SigningError"]
