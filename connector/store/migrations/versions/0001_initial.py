"""The store as it was when migrations began: every table, written out.

``schema()`` is this revision's schema, frozen here, not imported from the application: later
revisions change the application's tables, never this file. It is also what a store made before
migrations (by ``metadata.create_all``) is compared with before it is stamped as 0001.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _moment() -> sa.DateTime:
    """A UTC time: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite."""
    return sa.DateTime(timezone=True)


def _document() -> sa.types.TypeEngine[Any]:
    """JSON that is JSONB on PostgreSQL."""
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True),
                                                   "postgresql")


def schema() -> sa.MetaData:
    """Every table of revision 0001."""
    meta = sa.MetaData()
    sa.Table(
        "inbox", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("delivery_key", sa.String(255), nullable=False, unique=True),
        sa.Column("received_at", _moment(), nullable=False),
        sa.Column("headers", _document(), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    sa.Table(
        "jobs", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", _document(), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=True, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("run_after", _moment(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_until", _moment(), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", _moment(), nullable=False),
        sa.Column("updated_at", _moment(), nullable=False),
        sa.Column("inbox_id", sa.Integer, sa.ForeignKey("inbox.id"), nullable=True),
        sa.Index("ix_jobs_status_run_after", "status", "run_after"),
    )
    sa.Table(
        "cases", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_key", sa.String(255), nullable=False, unique=True),
        sa.Column("opd", sa.String(64), nullable=False),
        sa.Column("nomor_surat", sa.String(255), nullable=False),
        sa.Column("nama_aplikasi", sa.String(255), nullable=False),
        sa.Column("letter", _document(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_step", sa.Integer, nullable=True),
        sa.Column("redmine_issue_id", sa.Integer, nullable=True),
        sa.Column("created_at", _moment(), nullable=False),
        sa.Column("updated_at", _moment(), nullable=False),
    )
    sa.Table(
        "case_steps", meta,
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("redmine_issue_id", sa.Integer, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_on", sa.Date, nullable=True),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("completed_on", sa.Date, nullable=True),
        sa.PrimaryKeyConstraint("case_id", "step"),
    )
    sa.Table(
        "attachments", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("redmine_token", sa.String(255), nullable=True),
        sa.Column("redmine_attachment_id", sa.Integer, nullable=True),
        sa.UniqueConstraint("case_id", "filename"),
    )
    sa.Table(
        "audit", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True, index=True),
        sa.Column("at", _moment(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("step_from", sa.Integer, nullable=True),
        sa.Column("step_to", sa.Integer, nullable=True),
        sa.Column("journal_id", sa.Integer, nullable=True),
        sa.Column("detail", _document(), nullable=True),
    )
    sa.Table(
        "processed_changes", meta,
        sa.Column("change_key", sa.String(255), primary_key=True),
        sa.Column("processed_at", _moment(), nullable=False),
    )
    sa.Table(
        "cursors", meta,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", _moment(), nullable=False),
    )
    sa.Table(
        "locks", meta,
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("until", _moment(), nullable=False),
    )
    sa.Table(
        "case_projects", meta,
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False, unique=True),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("web_url", sa.String(500), nullable=False),
        sa.Column("wiki_url", sa.String(500), nullable=False),
    )
    sa.Table(
        "document_numbers", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("number", sa.String(255), nullable=False),
        sa.Column("issued_at", _moment(), nullable=False),
        sa.UniqueConstraint("kind", "year", "seq", name="uq_document_numbers_seq"),
        sa.UniqueConstraint("kind", "case_id", name="uq_document_numbers_case"),
        sa.UniqueConstraint("number", name="uq_document_numbers_number"),
    )
    sa.Table(
        "gitlab_progress", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("pending_lines", sa.JSON, nullable=False),
        sa.Column("pending_count", sa.Integer, nullable=False),
        sa.Column("pending_since", _moment(), nullable=True),
        sa.Column("last_note_at", _moment(), nullable=True),
        sa.Column("note_seq", sa.Integer, nullable=False),
        sa.Column("outgoing_note", sa.Text, nullable=True),
        sa.UniqueConstraint("case_id", "kind"),
    )
    return meta


def upgrade() -> None:
    """Create every table (and index) of this revision."""
    schema().create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    """Drop every table of this revision."""
    schema().drop_all(op.get_bind(), checkfirst=False)
