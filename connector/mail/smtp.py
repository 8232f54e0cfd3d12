"""One SMTP session with the configured server: TLS, AUTH, then one message in steps.

The steps are separate so the sender can record "attempted" between the envelope and the
DATA command (``connector/store/mail.py``). Failures are sorted the way the queue needs:

- ``MailUnavailable`` (a ``RemoteUnavailable``: retried with backoff): the server cannot be
  reached, the connection broke before DATA, or it answered 4xx (try later);
- ``MailRefused`` (a ``RemoteRejected``: not retried): a permanent 5xx answer, also a
  refused login or an address the server will not take;
- ``MailUncertain``: the connection broke after DATA was sent and before the answer, so
  the server may or may not have taken the message.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import SMTP

from connector.config.secret import redact
from connector.config.settings import EmailSettings
from connector.errors import ConnectorError, RemoteRejected, RemoteUnavailable


class MailUnavailable(RemoteUnavailable):
    """Not sent, and it may work later: retry with backoff."""


class MailRefused(RemoteRejected):
    """Not sent, and the server said it never will (5xx)."""


class MailUncertain(ConnectorError):
    """DATA was sent but its answer never came: the message may have been taken."""


_OUTAGES = (OSError, smtplib.SMTPServerDisconnected, socket.timeout)


def _answer(code: int, text: bytes | str, what: str) -> None:
    """Raise for anything but a 2xx/3xx answer to ``what``."""
    if code < 400:
        return
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    described = f"server SMTP menjawab {code} pada {what}: {redact(message)[:300]}"
    if code >= 500:
        raise MailRefused(described)
    raise MailUnavailable(described)


class Session:
    """An open, authenticated SMTP connection."""

    def __init__(self, client: smtplib.SMTP) -> None:
        self._client = client

    def envelope(self, sender: str, recipient: str) -> None:
        """MAIL FROM and RCPT TO for one recipient."""
        try:
            code, text = self._client.mail(sender)
            _answer(code, text, "MAIL FROM")
            code, text = self._client.rcpt(recipient)
            _answer(code, text, "RCPT TO")
        except _OUTAGES as exc:
            raise MailUnavailable(f"koneksi SMTP terputus sebelum DATA: "
                                  f"{type(exc).__name__}") from exc

    def data(self, message: EmailMessage) -> None:
        """DATA with the message; returns once the server answered 250."""
        try:
            code, text = self._client.data(message.as_bytes(policy=SMTP))
        except smtplib.SMTPDataError as exc:  # the server answered the DATA command itself
            _answer(exc.smtp_code, exc.smtp_error, "DATA")
            raise MailUnavailable(f"server SMTP menolak DATA ({exc.smtp_code})") from exc
        except _OUTAGES as exc:
            raise MailUncertain(f"koneksi SMTP terputus setelah DATA dikirim, sebelum "
                                f"jawabannya: {type(exc).__name__}") from exc
        _answer(code, text, "akhir DATA")


@contextmanager
def session(settings: EmailSettings) -> Iterator[Session]:
    """Connect, secure (STARTTLS or TLS) and log in as configured; QUIT at the end."""
    client = _open(settings)
    try:
        yield Session(client)
    finally:
        try:
            client.quit()
        except (*_OUTAGES, smtplib.SMTPException):
            client.close()


def _open(settings: EmailSettings) -> smtplib.SMTP:
    """The connected, secured, logged-in client; closed again when any step fails."""
    context = _tls_context(settings)
    client: smtplib.SMTP | None = None
    try:
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(settings.host, settings.port,
                                      timeout=settings.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port,
                                  timeout=settings.timeout_seconds)
        code, text = client.ehlo()
        _answer(code, text, "EHLO")
        if settings.security == "starttls":
            if not client.has_extn("starttls"):
                raise MailRefused("server SMTP tidak menawarkan STARTTLS, padahal "
                                  "[email] security = \"starttls\"")
            code, text = client.starttls(context=context)
            _answer(code, text, "STARTTLS")
            client.ehlo()
        if settings.username and settings.password is not None:
            _login(client, settings.username, settings.password.reveal())
        return client
    except BaseException as exc:
        if client is not None:
            client.close()
        _raise_translated(settings, exc)
        raise


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH with one mechanism, PLAIN or else LOGIN (``smtplib.login`` would try each in
    turn after a refusal, and a server may not answer the second try)."""
    offered = client.esmtp_features.get("auth", "").upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPNotSupportedError("no PLAIN or LOGIN among " + " ".join(offered))
    client.user, client.password = username, password
    authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
    client.auth(mechanism, authobject, initial_response_ok=True)


def _raise_translated(settings: EmailSettings, exc: BaseException) -> None:
    """Raise the mail error that ``exc`` from opening a session means (if it is one)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):  # 535: refused; 454: try later
        _answer(exc.smtp_code, exc.smtp_error, f"login {settings.username!r}")
        raise MailRefused(f"server SMTP menolak login {settings.username!r}") from exc
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        raise MailRefused(f"server SMTP tidak mendukung AUTH: {exc}") from exc
    if isinstance(exc, smtplib.SMTPResponseException):
        _answer(exc.smtp_code, exc.smtp_error, "pembukaan sesi")
        raise MailUnavailable(f"server SMTP menjawab {exc.smtp_code}") from exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        raise MailUnavailable(f"sertifikat TLS server SMTP tidak dapat diverifikasi: "
                              f"{exc.verify_message}") from exc
    if isinstance(exc, _OUTAGES):
        raise MailUnavailable(f"server SMTP {settings.host}:{settings.port} tidak dapat "
                              f"dihubungi: {type(exc).__name__}") from exc


def _tls_context(settings: EmailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file is not None else None)
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
