"""Cases the projector quarantined: one row per case whose fold or evaluation failed.

Revision ID: 0006q
Revises: 0005

A case is isolated instead of halting the projector for every case: the row says at which
stage, which error type, which event (id, type, position) and when, never the payload.
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0006q"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_quarantine",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("event_type", sa.String(64), nullable=True),
        sa.Column("position", sa.BigInteger, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("quarantined_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_quarantine")
