"""A stand-in for BSrE's eSign API v2 over ``responses``, following the observed shapes.

Every stub cites ``../shared/REFERENCE.md``, section "Electronic signatures (TTE) and BSrE"
(no official specification is stored; the shapes are those of public integrations): HTTP
Basic auth with the application's client credentials; ``POST /api/v2/sign/pdf`` with ``nik``
or ``email``, ``passphrase`` or ``totp``, ``signatureProperties`` and ``file`` answering
``{"file": [<base64 signed PDF>]}``; ``POST /api/v2/sign/get/totp``; ``POST
/api/v2/user/check/status``; errors as JSON with a status and a message, and a 500 on the
provider's side.

The stand-in signs for real, with pyHanko and a certificate of its own test CA (the "BSrE"
trust root the verification is given), at the rectangle the request names.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import requests
import responses

from connector.config.secret import Secret
from connector.signing.local import PyhankoSigner
from connector.signing.port import SignatureBox, SignerIdentity

BASE = "http://bsre.test"
CLIENT_ID = "sop-connector"
CLIENT_SECRET = "bsre-client-secret-for-tests"
P12_PASSPHRASE = "standin-p12-passphrase"
Json = dict[str, Any]


@dataclass
class StandInUser:
    """A registered signer: their NIK, passphrase, and the PKCS#12 BSrE signs with."""

    nik: str
    passphrase: str
    p12: bytes
    totp: str | None = None


@dataclass
class BsreStandIn:
    """BSrE's eSign API v2 as observed; ``server_error`` makes every call answer 500."""

    users: dict[str, StandInUser]
    server_error: bool = False
    echo_credential: bool = False  # a careless provider quoting the passphrase back
    requests_seen: list[Json] = field(default_factory=list)

    def install(self, mock: responses.RequestsMock) -> None:
        """Register the three endpoints on ``mock`` (not asserted as all fired)."""
        for path, handler in (("/api/v2/sign/pdf", self.sign_pdf),
                              ("/api/v2/sign/get/totp", self.get_totp),
                              ("/api/v2/user/check/status", self.check_status)):
            mock.add_callback(responses.POST, BASE + path, callback=self._guarded(handler),
                              content_type="application/json")

    def _guarded(self, handler: Any) -> Any:
        """Basic auth first (REFERENCE: "HTTP Basic auth with the application's client
        credentials"), then a 500 when the provider is down ("a 500 is possible")."""
        def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            expected = "Basic " + base64.b64encode(
                f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("Authorization") != expected:
                return _error(401, "Unauthorized")
            if self.server_error:
                return _error(500, "Internal Server Error")
            body = json.loads(request.body or b"{}")
            self.requests_seen.append(body)
            return handler(body)  # type: ignore[no-any-return]
        return callback

    def _user(self, body: Json) -> StandInUser | None:
        return self.users.get(str(body.get("nik") or body.get("email") or ""))

    def sign_pdf(self, body: Json) -> tuple[int, dict[str, str], str]:
        """REFERENCE: ``POST /api/v2/sign/pdf`` -> ``{"file": [<base64 signed PDF>]}``;
        errors as JSON with a status and a message."""
        user = self._user(body)
        if user is None:
            return _error(400, "User tidak terdaftar")
        given = body.get("passphrase") if "passphrase" in body else body.get("totp")
        expected = user.passphrase if "passphrase" in body else user.totp
        if given != expected:
            text = f"Passphrase salah: {given}" if self.echo_credential else "Passphrase salah"
            return _error(400, text)
        props = body["signatureProperties"][0]
        box = SignatureBox(f"BSrE-{len(self.requests_seen)}", int(props["page"]) - 1,
                           float(props["originX"]), float(props["originY"]),
                           float(props["originX"]) + float(props["width"]),
                           float(props["originY"]) + float(props["height"]))
        pdf = base64.b64decode(body["file"][0])
        signed = PyhankoSigner(user.p12).sign(pdf, box, SignerIdentity(user.nik),
                                              Secret(P12_PASSPHRASE))
        return 200, {}, json.dumps({"file": [base64.b64encode(signed).decode()]})

    def get_totp(self, body: Json) -> tuple[int, dict[str, str], str]:
        """REFERENCE: ``POST /api/v2/sign/get/totp`` (``nik`` or ``email``, ``data``)."""
        if self._user(body) is None:
            return _error(400, "User tidak terdaftar")
        return 200, {}, json.dumps({"message": "TOTP telah dikirim"})

    def check_status(self, body: Json) -> tuple[int, dict[str, str], str]:
        """REFERENCE: ``POST /api/v2/user/check/status`` (``nik`` or ``email``)."""
        if self._user(body) is None:
            return _error(400, "User tidak terdaftar")
        return 200, {}, json.dumps({"status": "ISSUE", "message": "Sertifikat aktif"})


def _error(status: int, message: str) -> tuple[int, dict[str, str], str]:
    """REFERENCE: "Errors come as JSON with a status and message"."""
    return status, {}, json.dumps({"status": status, "message": message})
