"""Read models: tables and checkpoints for the projections (issue 3).

Revision ID: 0002
Revises: 0001

The rows are derived from the events and can be rebuilt (``tracker project --rebuild``),
except the acknowledgements on ``alerts``, which a rebuild keeps. See
``tracker/db/read_models.py`` and docs/read-models.md.
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MODELS = ("records", "aspire", "engagement", "continuity", "enforcement", "audits", "alerts")
VIEW_TABLES = ("rm_aspire", "rm_engagement", "rm_continuity", "rm_enforcement")


def _view_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("practitioner", sa.String(64), nullable=True),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("view", sa.Text, nullable=False),
        sa.Column("evaluated_at", UTCDateTime, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=True),
    )
    op.bulk_insert(
        sa.table(
            "projection_checkpoints",
            sa.column("name", sa.String),
            sa.column("position", sa.BigInteger),
        ),
        [{"name": name, "position": 0} for name in MODELS],
    )
    op.create_table(
        "rm_case_records",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("practitioner", sa.String(64), nullable=True),
        sa.Column("route", sa.String(16), nullable=True),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_rm_case_records_team", "rm_case_records", ["team", "is_open"])
    op.create_table(
        "rm_aspire",
        *_view_columns(),
        sa.Column("assessment", sa.String(16), nullable=True),
        sa.Column("planning", sa.String(16), nullable=True),
        sa.Column("delivery", sa.String(16), nullable=True),
        sa.Column("review", sa.String(16), nullable=True),
        sa.Column("overdue", sa.Integer, nullable=False),
        sa.Column("next_due", sa.Date, nullable=True),
    )
    op.create_table(
        "rm_engagement",
        *_view_columns(),
        sa.Column("attendance_rate", sa.Float, nullable=True),
        sa.Column("days_since_contact", sa.Integer, nullable=True),
        sa.Column("trend", sa.String(16), nullable=True),
        sa.Column("falling", sa.Boolean, nullable=False),
    )
    op.create_table(
        "rm_continuity",
        *_view_columns(),
        sa.Column("setting", sa.String(16), nullable=True),
        sa.Column("has_case_manager", sa.Boolean, nullable=False),
        sa.Column("changes", sa.Integer, nullable=False),
        sa.Column("without_case_manager_since", sa.Date, nullable=True),
        sa.Column("custody_first", sa.Date, nullable=True),
        sa.Column("custody_last_end", sa.Date, nullable=True),
        sa.Column("ever_custody", sa.Boolean, nullable=False),
    )
    op.create_table(
        "rm_enforcement",
        *_view_columns(),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("warnings_in_period", sa.Integer, nullable=False),
        sa.Column("breach_due", sa.Integer, nullable=False),
    )
    for table in VIEW_TABLES:
        op.create_index(f"ix_{table}_team", table, ["team", "is_open"])
        op.create_index(f"ix_{table}_practitioner", table, ["practitioner", "is_open"])
    op.create_table(
        "rm_audits",
        sa.Column("audit_event_id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("route", sa.String(16), nullable=True),
        sa.Column("audited_on", sa.Date, nullable=False),
        sa.Column("question_set", sa.String(64), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("safety_level", sa.String(16), nullable=True),
        sa.Column("harm_level", sa.String(16), nullable=True),
        sa.Column("custody_case", sa.Boolean, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rm_audits_case", "rm_audits", ["case_id"])
    op.create_index("ix_rm_audits_day", "rm_audits", ["audited_on"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(255), primary_key=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(80), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("ack_note", sa.Text, nullable=True),
        sa.Column("caused_by", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("raise_count", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="ck_alerts_status"),
    )
    op.create_index("ix_alerts_case", "alerts", ["case_id"])
    op.create_index("ix_alerts_status_team", "alerts", ["status", "team"])
    # At most one open alert per (rule, case, subject): deduplication the database enforces.
    op.create_index(
        "uq_alerts_open",
        "alerts",
        ["rule", "case_id", "subject"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("rm_audits")
    for table in VIEW_TABLES:
        op.drop_table(table)
    op.drop_table("rm_case_records")
    op.drop_table("projection_checkpoints")
