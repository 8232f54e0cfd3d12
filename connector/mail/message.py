"""Build one mail: plain-text Indonesian body, one PDF, headers a letter cannot break.

A letter's text (the contact's name, the application's name) is hostile. It reaches the
headers only through ``email.headerregistry.Address`` and a ``Subject`` cleaned of every line
break and control character first, so a CR/LF in a name can never start a header of its own
(``Bcc:``) or a second message; the ``email`` package's SMTP policy then folds and encodes.
The body is ``text/plain``: nothing in it is ever interpreted as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from connector.errors import ConnectorError

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_MAX_HEADER_TEXT = 300


class BadAddress(ConnectorError):
    """An address cannot be put in a header as one mailbox."""


@dataclass(frozen=True)
class Attachment:
    """A file to attach."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    """Everything one message says; ``build`` makes it an ``EmailMessage``."""

    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    body: str
    message_id: str
    reply_to: str = ""
    attachment: Attachment | None = None


def header_text(value: str) -> str:
    """One line of header text: line breaks and control characters become one space."""
    return " ".join(_UNSAFE.sub(" ", value).split())[:_MAX_HEADER_TEXT]


def mailbox(name: str, address: str) -> Address:
    """``"Name" <address>`` as one mailbox; a malformed address is refused."""
    if _UNSAFE.search(address) or address.count("@") != 1 or "," in address:
        raise BadAddress(f"alamat surel tidak valid: {address!r}")
    if not address.isascii():  # would need SMTPUTF8, which few office servers offer
        raise BadAddress(f"alamat surel dengan huruf di luar ASCII tidak didukung: {address!r}")
    local, domain = address.strip().rsplit("@", 1)
    try:
        return Address(display_name=header_text(name), username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise BadAddress(f"alamat surel tidak valid: {address!r}") from exc


def build(out: Outgoing) -> EmailMessage:
    """The message, ready for ``as_bytes(policy=SMTP)``."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = mailbox(out.from_name, out.from_address)
    msg["To"] = mailbox(out.to_name, out.to_address)
    if out.reply_to:
        msg["Reply-To"] = mailbox("", out.reply_to)
    msg["Subject"] = header_text(out.subject)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = out.message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    msg.set_content(_body_text(out.body), subtype="plain", charset="utf-8")
    if out.attachment is not None:
        maintype, _, subtype = out.attachment.content_type.partition("/")
        msg.add_attachment(out.attachment.content, maintype=maintype, subtype=subtype,
                           filename=header_text(out.attachment.filename))
    return msg


def _body_text(body: str) -> str:
    """Plain text with ordinary line ends; other control characters dropped."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
