"""The dip samples drawn, and their cases (issue 11 §3).

Revision ID: 0010_qa_dip_samples
Revises: 0011_lead_invitations
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0010_qa_dip_samples"
down_revision = "0011_lead_invitations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dip_samples",
        sa.Column("sample_id", sa.String(36), primary_key=True),
        sa.Column("drawn_by", sa.String(64), nullable=False),
        sa.Column("drawn_at", UTCDateTime, nullable=False),
        sa.Column("preset", sa.String(16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=False),
        sa.Column("window_to", sa.Date(), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("in_scope_court", sa.Integer(), nullable=False),
        sa.Column("in_scope_out_of_court", sa.Integer(), nullable=False),
    )
    op.create_index("ix_dip_samples_drawn_at", "dip_samples", ["drawn_at"])
    op.create_table(
        "dip_sample_cases",
        sa.Column("sample_id", sa.String(36), sa.ForeignKey("dip_samples.sample_id"),
                  primary_key=True),
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("stratum", sa.String(200), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dip_sample_cases")
    op.drop_index("ix_dip_samples_drawn_at", table_name="dip_samples")
    op.drop_table("dip_samples")
