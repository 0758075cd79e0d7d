"""An alert resolved by hand while its condition holds carries a review date.

Revision ID: 0010_lead_alert_review
Revises: 0009_tiered_child_keys

On that date the alert is raised again if its condition still holds (issue 12 §3).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_lead_alert_review"
down_revision = "0009_tiered_child_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("review_on", sa.Date, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("review_on")
