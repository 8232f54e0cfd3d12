"""The tables of the durable store, in SQLAlchemy Core, portable to SQLite and PostgreSQL.

Every timestamp is an aware UTC ``datetime`` on the Python side (see ``UTCDateTime``), so the
two databases compare and return times the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


class JobStatus(StrEnum):
    """Where a job is; ``failed`` waits for a retry, ``dead`` is the dead-letter list."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"


class CaseStatus(StrEnum):
    """Where a request letter's case is."""

    RECEIVED = "received"
    OPEN = "open"
    REJECTED = "rejected"
    CLOSED = "closed"


class StepState(StrEnum):
    """Where one SOP step of a case is."""

    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime: naive values are refused, results always carry ``UTC``.

    SQLite has no time zones, so UTC is stored there as naive text (which sorts correctly);
    PostgreSQL gets ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC, refusing naive datetimes whose zone would be a guess."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json() -> TypeEngine[Any]:
    """JSON that becomes JSONB on PostgreSQL; Python ``None`` is SQL NULL."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


metadata = MetaData()

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("delivery_key", String(255), nullable=False, unique=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("headers", _json(), nullable=False),
    Column("body", LargeBinary, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", _json(), nullable=False),
    Column("dedupe_key", String(255), nullable=True, unique=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", UTCDateTime, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("inbox_id", Integer, ForeignKey("inbox.id"), nullable=True),
    Index("ix_jobs_status_run_after", "status", "run_after"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_key", String(255), nullable=False, unique=True),
    Column("opd", String(64), nullable=False),
    Column("nomor_surat", String(255), nullable=False),
    Column("nama_aplikasi", String(255), nullable=False),
    Column("letter", _json(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("current_step", Integer, nullable=True),
    Column("redmine_issue_id", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

case_steps = Table(
    "case_steps",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("redmine_issue_id", Integer, nullable=True),
    Column("state", String(16), nullable=False),
    Column("started_on", Date, nullable=True),
    Column("due_on", Date, nullable=True),
    Column("completed_on", Date, nullable=True),
    PrimaryKeyConstraint("case_id", "step"),
    Index("ix_case_steps_redmine_issue_id", "redmine_issue_id"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("redmine_token", String(255), nullable=True),
    Column("redmine_attachment_id", Integer, nullable=True),
    UniqueConstraint("case_id", "filename"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=True, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("step_from", Integer, nullable=True),
    Column("step_to", Integer, nullable=True),
    Column("journal_id", Integer, nullable=True),
    Column("detail", _json(), nullable=True),
)

processed_changes = Table(
    "processed_changes",
    metadata,
    Column("change_key", String(255), primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False),
)

# A change of a case being carried out: claimed before its first write to Redmine, settled
# when it is recorded as processed. A row left means an attempt died or failed between the
# two, so Redmine may show what the store does not (``connector.store.claims``).
case_claims = Table(
    "case_claims",
    metadata,
    Column("change_key", String(255), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("claimed_at", UTCDateTime, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

locks = Table(
    "locks", metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)

case_projects = Table(
    "case_projects", metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True),
    Column("project_id", Integer, nullable=False, unique=True),
    Column("path", String(255), nullable=False),
    Column("web_url", String(500), nullable=False),
    Column("wiki_url", String(500), nullable=False),
)

document_numbers = Table(
    "document_numbers", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("number", String(255), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "year", "seq", name="uq_document_numbers_seq"),
    UniqueConstraint("kind", "case_id", name="uq_document_numbers_case"),
    UniqueConstraint("number", name="uq_document_numbers_number"),
)

gitlab_progress = Table(
    "gitlab_progress", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("pending_lines", JSON, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("pending_since", UTCDateTime, nullable=True),
    Column("last_note_at", UTCDateTime, nullable=True),
    Column("note_seq", Integer, nullable=False),
    Column("outgoing_note", Text, nullable=True),
    UniqueConstraint("case_id", "kind"),
)

issued_documents = Table(
    # Issue 17: each document we issue for signing, found by its unguessable token (the QR
    # code's /verifikasi/<token>); ``pdf`` is the latest verified version, ``sha256`` and
    # ``size`` the document as drawn up, before any signature.
    "issued_documents", metadata,
    Column("token", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("nomor", String(255), nullable=False),
    Column("tanggal", Date, nullable=False),
    Column("case_key", String(255), nullable=False),
    Column("parties", _json(), nullable=False),
    Column("slots", _json(), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "nomor", name="uq_issued_documents_kind_nomor"),
)

document_signatures = Table(
    # One verified signature of an issued document, in signing order; ``sha256`` is the whole
    # file as it was once this signature was added.
    "document_signatures", metadata,
    Column("token", String(64), ForeignKey("issued_documents.token"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("slot", String(64), nullable=False),
    Column("nama", String(255), nullable=False),
    Column("signed_at", UTCDateTime, nullable=False),
    Column("sha256", String(64), nullable=False),
    PrimaryKeyConstraint("token", "seq"),
    UniqueConstraint("token", "slot", name="uq_document_signatures_slot"),
)


class MailState(StrEnum):
    """Where one mail of the outbox is (``connector/store/mail.py``).

    ``attempted`` is written before the SMTP DATA command, ``sent`` after the server's 250;
    a mail found ``attempted`` by a later attempt may or may not have gone out, so it becomes
    ``uncertain`` and is never sent again without a person's ``sop-connector mail resend``.
    """

    QUEUED = "queued"
    ATTEMPTED = "attempted"
    SENT = "sent"
    UNCERTAIN = "uncertain"
    REFUSED = "refused"


mail_outbox = Table(
    "mail_outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("mail_key", String(600), nullable=False, unique=True),  # document | recipient
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # tanda_terima, surat, berita_acara
    Column("document", String(255), nullable=False),  # "tanda-terima" or the file's name
    Column("recipient", String(320), nullable=False),
    Column("recipient_name", String(255), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("resends", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
)
