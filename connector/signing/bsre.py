"""The BSrE adapter: a client of BSrE's eSign API v2 (Balai Sertifikasi Elektronik, BSSN).

No official specification is at hand; the shapes below are those observed in public
integrations (``../shared/REFERENCE.md``, "Electronic signatures (TTE) and BSrE") and are
kept in this one module so they are easy to adjust:

- HTTP Basic auth with the application's client credentials (from the configuration);
- ``POST /api/v2/sign/pdf`` with ``nik`` or ``email``, ``passphrase`` or ``totp``,
  ``signatureProperties`` and ``file`` (a list of base64 PDFs), answering ``{"file": [...]}``;
- ``POST /api/v2/sign/get/totp`` (``nik`` or ``email``, ``data``) has a TOTP sent;
- ``POST /api/v2/user/check/status`` (``nik`` or ``email``);
- errors as JSON with a status and a message; a 500 on the provider's side is possible.

The signer's passphrase or TOTP is sent in that one request body and nowhere else: it is
never logged, never stored, and every message that reaches a log or the signer is built
from our own words plus the provider's message with the credential removed.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

import requests

from connector.config.secret import Secret, redact
from connector.signing.port import SignatureBox, SignerIdentity, SigningError

log = logging.getLogger(__name__)

SIGN_PATH = "/api/v2/sign/pdf"
TOTP_PATH = "/api/v2/sign/get/totp"
STATUS_PATH = "/api/v2/user/check/status"
MAX_MESSAGE = 200  # of the provider's message quoted to the signer

WRONG_CREDENTIAL = ("Passphrase atau TOTP BSrE salah; dokumen tidak ditandatangani. "
                    "Periksa lalu ulangi.")
NOT_REGISTERED = ("Penanda tangan belum terdaftar (atau sertifikatnya tidak aktif) di BSrE; "
                  "dokumen tidak ditandatangani.")
SERVER_ERROR = ("Layanan BSrE sedang tidak dapat melayani (galat di sisi BSrE); dokumen "
                "tidak ditandatangani. Coba lagi nanti.")
UNREACHABLE = "Layanan BSrE tidak dapat dihubungi; dokumen tidak ditandatangani."


class BsreSigner:
    """Signs through BSrE; ``totp=True`` sends the credential as a TOTP, not a passphrase."""

    def __init__(self, base_url: str, client_id: str, client_secret: Secret, *,
                 session: requests.Session | None = None, timeout: float = 60.0,
                 totp: bool = False, location: str = "Sumbawa Besar") -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.session = session or requests.Session()
        self.timeout = timeout
        self.totp = totp
        self.location = location

    def sign(self, pdf: bytes, box: SignatureBox, identity: SignerIdentity,
             credential: Secret) -> bytes:
        """``pdf`` signed by BSrE at ``box``; SigningError (Indonesian) when refused."""
        body = _who(identity) | {
            ("totp" if self.totp else "passphrase"): credential.reveal(),
            "signatureProperties": [{
                "tampilan": "VISIBLE", "page": box.page + 1,
                "originX": round(box.x1, 2), "originY": round(box.y1, 2),
                "width": round(box.width, 2), "height": round(box.height, 2),
                "location": self.location,
                "reason": f"Ditandatangani sebagai {identity.peran}" if identity.peran
                          else "Ditandatangani",
                "contactInfo": identity.email or "",
            }],
            "file": [base64.b64encode(pdf).decode("ascii")],
        }
        answer = self._post(SIGN_PATH, body, credential)
        files = answer.get("file")
        if not isinstance(files, list) or len(files) != 1 or not isinstance(files[0], str):
            raise SigningError("Jawaban BSrE tidak memuat berkas yang ditandatangani.")
        try:
            return base64.b64decode(files[0], validate=True)
        except (binascii.Error, ValueError):
            raise SigningError("Jawaban BSrE memuat berkas yang tidak dapat dibaca.") from None

    def request_totp(self, identity: SignerIdentity) -> None:
        """Have BSrE send the signer a TOTP for one document."""
        self._post(TOTP_PATH, _who(identity) | {"data": 1}, None)

    def user_status(self, identity: SignerIdentity) -> str:
        """The signer's status at BSrE as it says it (``ISSUE`` when a certificate is active,
        in observed integrations); SigningError when BSrE does not know them."""
        answer = self._post(STATUS_PATH, _who(identity), None)
        return str(answer.get("status", ""))

    def _post(self, path: str, body: dict[str, Any], credential: Secret | None
              ) -> dict[str, Any]:
        """POST JSON; the answer's JSON object, or SigningError in the signer's words."""
        try:
            response = self.session.post(
                self.base_url + path, json=body, timeout=self.timeout,
                auth=(self.client_id, self.client_secret.reveal()))
        except requests.RequestException as exc:
            log.warning("bsre: %s unreachable (%s)", path, type(exc).__name__)
            raise SigningError(UNREACHABLE) from None
        answer = _json(response)
        if response.status_code >= 300:
            message = _clean(_message(answer), credential)
            log.warning("bsre: %s answered %d: %s", path, response.status_code, message)
            raise SigningError(_explain(response.status_code, message))
        return answer


def _who(identity: SignerIdentity) -> dict[str, str]:
    if identity.nik:
        return {"nik": identity.nik}
    if identity.email:
        return {"email": identity.email}
    raise SigningError(f"{identity.nama} belum punya NIK atau e-mail BSrE di konfigurasi.")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _message(answer: dict[str, Any]) -> str:
    for key in ("message", "error", "pesan"):
        if isinstance(answer.get(key), str):
            return str(answer[key])
    return ""


def _clean(message: str, credential: Secret | None) -> str:
    """The provider's message with the credential and every known secret removed."""
    if credential is not None and credential.reveal():
        message = message.replace(credential.reveal(), "********")
    return redact(message)[:MAX_MESSAGE]


def _explain(status: int, message: str) -> str:
    """What the signer is told, in Indonesian, for an error answer."""
    lowered = message.lower()
    if status >= 500:
        return SERVER_ERROR
    if "passphrase" in lowered or "totp" in lowered or "otp" in lowered:
        return WRONG_CREDENTIAL
    if "terdaftar" in lowered or "registered" in lowered or "not found" in lowered:
        return NOT_REGISTERED
    if status == 401:
        return ("BSrE menolak kredensial aplikasi (client id/secret di konfigurasi); "
                "dokumen tidak ditandatangani.")
    return f"BSrE menolak permintaan ({status}): {message or 'tanpa keterangan'}"
