"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, a free port, in this process.

It keeps every message it accepted (envelope and bytes). With ``tls=True`` it offers
STARTTLS (required) with a self-signed certificate made here with ``cryptography``, or,
with ``implicit_tls=True``, speaks TLS from the first byte (SMTPS); ``password`` requires
AUTH (only over TLS) with user ``USER``. ``answers`` makes it refuse on purpose: a
``{"RCPT": "451 ..."}`` or ``{"DATA": "554 ..."}`` reply, given once per entry in the list.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "sop-mailer"


@dataclass
class Received:
    """One accepted message."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Accepts (or, as told, refuses) and records."""

    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[str]] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)

    def _planned(self, command: str) -> str | None:
        planned = self.answers.get(command) or []
        return planned.pop(0) if planned else None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self._planned("RCPT")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        refusal = self._planned("DATA")
        if refusal:
            return refusal
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """The running server and what it took."""

    host: str
    port: int
    handler: Handler
    cert_file: Path | None
    password: str | None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def config(self, *, security: str = "none", **extra: str) -> str:
        """An ``[email]`` section for this server (``ca_file`` trusts its certificate)."""
        lines = ["[email]", f'host = "{self.host}"', f"port = {self.port}",
                 f'security = "{security}"', 'from_address = "bidang.ti@kominfo.sumbawakab.go.id"',
                 'from_name = "Bidang TI Diskominfo Sumbawa"']
        if self.cert_file is not None:
            lines.append(f'ca_file = "{self.cert_file}"')
        if self.password is not None:
            lines += [f'username = "{USER}"', 'password_env = "SOP_TEST_SMTP_PASSWORD"']
        lines += [f'{key} = "{value}"' for key, value in extra.items()]
        return "\n" + "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def smtp_server(folder: Path, *, tls: bool = False, implicit_tls: bool = False,
                password: str | None = None) -> Iterator[SmtpServer]:
    """Run the server until the block ends."""
    handler = Handler()
    kwargs: dict[str, Any] = {}
    cert_file = None
    if tls or implicit_tls:
        cert_file, key_file = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        if implicit_tls:
            kwargs["ssl_context"] = context
        else:
            kwargs |= {"tls_context": context, "require_starttls": True}
    if password is not None:
        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         auth_data: Any) -> AuthResult:
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
                  and auth_data.password == password.encode())
            handler.logins.append(f"{mechanism}:{'ok' if ok else 'refused'}")
            return AuthResult(success=ok, handled=False)  # False: the server answers 535
        # SMTPS is TLS throughout, but aiosmtpd's auth_require_tls knows only STARTTLS.
        kwargs |= {"authenticator": authenticate, "auth_required": True,
                   "auth_require_tls": not implicit_tls}
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler, cert_file, password)
    finally:
        controller.stop()

