"""Issued documents and their signatures (issue 17): the verification page's records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _moment() -> sa.DateTime:
    """A UTC time: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite."""
    return sa.DateTime(timezone=True)


def _document() -> sa.types.TypeEngine[Any]:
    """JSON that is JSONB on PostgreSQL."""
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True),
                                                   "postgresql")


def upgrade() -> None:
    op.create_table(
        "issued_documents",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("nomor", sa.String(255), nullable=False),
        sa.Column("tanggal", sa.Date, nullable=False),
        sa.Column("case_key", sa.String(255), nullable=False),
        sa.Column("parties", _document(), nullable=False),
        sa.Column("slots", _document(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column("issued_at", _moment(), nullable=False),
        sa.UniqueConstraint("kind", "nomor", name="uq_issued_documents_kind_nomor"),
    )
    op.create_table(
        "document_signatures",
        sa.Column("token", sa.String(64), sa.ForeignKey("issued_documents.token"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("nama", sa.String(255), nullable=False),
        sa.Column("signed_at", _moment(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("token", "seq"),
        sa.UniqueConstraint("token", "slot", name="uq_document_signatures_slot"),
    )


def downgrade() -> None:
    op.drop_table("document_signatures")
    op.drop_table("issued_documents")
