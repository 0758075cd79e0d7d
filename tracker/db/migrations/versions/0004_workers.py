"""Workers: alert deliveries and scheduler bookkeeping (issue 4).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("alert_id", sa.String(255), nullable=True),
        sa.Column("owner", sa.String(80), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("claimed_until", UTCDateTime, nullable=True),
        sa.Column("sent_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_deliveries_status_next", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_alert", "deliveries", ["alert_id"])
    op.create_table(
        "worker_jobs",
        sa.Column("job", sa.String(32), primary_key=True),
        sa.Column("last_as_at", UTCDateTime, nullable=True),
        sa.Column("last_finished_at", UTCDateTime, nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("worker_jobs")
    op.drop_index("ix_deliveries_alert", table_name="deliveries")
    op.drop_index("ix_deliveries_status_next", table_name="deliveries")
    op.drop_table("deliveries")
