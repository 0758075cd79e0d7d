"""The management board's meetings (issue 13, KPI 7).

Revision ID: 0010_kpidata_board_meetings
Revises: 0009_tiered_child_keys

Service level, not case events: one row per meeting with the partner agencies invited and
attending (JSON lists), who recorded it and when. No personal data.
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0010_kpidata_board_meetings"
down_revision = "0009_tiered_child_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_meetings",
        sa.Column("meeting_id", sa.String(36), primary_key=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("agencies_invited", sa.JSON(), nullable=False),
        sa.Column("agencies_attending", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_board_meetings_service", "board_meetings", ["service", "held_on"])


def downgrade() -> None:
    op.drop_index("ix_board_meetings_service", table_name="board_meetings")
    op.drop_table("board_meetings")
