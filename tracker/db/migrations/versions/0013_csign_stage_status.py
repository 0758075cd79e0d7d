"""ASPIRE stage statuses up to 32 characters: "done_not_countersigned" (issue 11 §2).

Revision ID: 0010_csign_stage_status
Revises: 0010_qa_dip_samples

A stage whose assessment or plan waits for a manager's countersignature is stored as
``done_not_countersigned`` (22 characters), longer than the 16 the stage columns of
``rm_aspire`` held. The columns are widened; nothing else changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_csign_stage_status"
down_revision = "0010_qa_dip_samples"
branch_labels = None
depends_on = None

STAGES = ("assessment", "planning", "delivery", "review")


def upgrade() -> None:
    with op.batch_alter_table("rm_aspire") as batch:
        for name in STAGES:
            batch.alter_column(name, type_=sa.String(32), existing_type=sa.String(16),
                               existing_nullable=True)


def downgrade() -> None:
    """Back to 16 characters: an older build knows no "done, not countersigned", so such a
    stage reads as done (the status it had before countersignature existed)."""
    aspire = sa.table("rm_aspire", sa.column("assessment", sa.String),
                      sa.column("planning", sa.String))
    for column in (aspire.c.assessment, aspire.c.planning):
        op.execute(sa.update(aspire).where(column == "done_not_countersigned")
                   .values({column: "done_on_time"}))
    with op.batch_alter_table("rm_aspire") as batch:
        for name in STAGES:
            batch.alter_column(name, type_=sa.String(16), existing_type=sa.String(32),
                               existing_nullable=True)
