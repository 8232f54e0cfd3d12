"""Claims of changes being carried out, per case: a first attempt may trust the store (issue 18).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

UTCDateTime = sa.DateTime(timezone=True)  # as in 0001: written out, not imported

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_claims",
        sa.Column("change_key", sa.String(255), primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_case_claims_case_id", "case_claims", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_claims_case_id", table_name="case_claims")
    op.drop_table("case_claims")
