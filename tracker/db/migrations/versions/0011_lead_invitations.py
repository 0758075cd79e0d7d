"""One-time set-password links: an admin invites a user instead of choosing their password.

Revision ID: 0011_lead_invitations
Revises: 0010_lead_alert_review
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0011_lead_invitations"
down_revision = "0010_lead_alert_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.user_id"), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_invitations_user", "invitations", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_invitations_user", table_name="invitations")
    op.drop_table("invitations")
