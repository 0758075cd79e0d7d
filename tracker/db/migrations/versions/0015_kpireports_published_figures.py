"""Management information figures as published (issue 13): a quarter's KPI figures, kept
once produced after the quarter ended, so a later erasure never changes them.

Revision ID: 0010_kpireports_figures
Revises: 0010_kpidata_board_meetings (the lead re-chains the 0010s when merging)

Service-wide aggregates only: no case ids, no personal data.
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0010_kpireports_figures"
down_revision = "0010_kpidata_board_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_figures",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("produced_at", UTCDateTime, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "period", name="pk_published_figures"),
    )


def downgrade() -> None:
    op.drop_table("published_figures")
