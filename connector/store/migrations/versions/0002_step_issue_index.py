"""An index on ``case_steps.redmine_issue_id``: a hint names a subtask, the store finds its case.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_steps_redmine_issue_id", "case_steps", ["redmine_issue_id"])


def downgrade() -> None:
    op.drop_index("ix_case_steps_redmine_issue_id", table_name="case_steps")
