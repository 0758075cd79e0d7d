"""Alerts a manager closes by hand: who, when, why, and when the condition ended.

Revision ID: 0005
Revises: 0004

A closed alert is ``resolved`` (with ``closed_by`` set) and stays closed while its
condition still holds; ``condition_ended_at`` records when the rule stopped holding, after
which the same condition holding again raises a new alert.
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("closed_at", UTCDateTime, nullable=True))
    op.add_column("alerts", sa.Column("closed_by", sa.String(64), nullable=True))
    op.add_column("alerts", sa.Column("close_note", sa.Text, nullable=True))
    op.add_column("alerts", sa.Column("condition_ended_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        for column in ("condition_ended_at", "close_note", "closed_by", "closed_at"):
            batch.drop_column(column)
