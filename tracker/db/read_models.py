"""The read-model tables (created by migration 0002). Rows are derived: a rebuild remakes them.

* ``projection_checkpoints`` — one row per read model: the last event position it has
  applied, the policy version it applied, when. Updated in the same transaction as the
  model's rows, under a row lock, so two projectors never apply the same batch.
* ``rm_case_records`` — the per-case fold (``projections.record``) as JSON, with a few
  indexed columns. Every view is computed from it.
* ``rm_aspire``, ``rm_engagement``, ``rm_continuity``, ``rm_enforcement`` — each case's view
  as JSON, evaluated at ``evaluated_at`` (refreshed by catch-up and by the sweep), plus
  indexed summary columns for lists and filters.
* ``rm_audits`` — one row per case audit (for inspection-style ratings).
* ``projection_quarantine`` — the cases whose fold or evaluation failed (migration 0006q).
* ``alerts`` — raised and resolved by rules over the views. Not emptied by a rebuild (a
  rebuild reconciles it), so acknowledgements and history survive.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from events.schema import UTCDateTime, metadata

TABLES = "read-model tables"
"""What a missing-table error names (``tracker.db.tx``)."""

checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("policy_version", String(64), nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
)


def _common(name: str, *extra: Column) -> Table:  # type: ignore[type-arg]
    return Table(
        name,
        metadata,
        Column("case_id", String(64), primary_key=True),
        Column("service", String(64), nullable=True),
        Column("team", String(64), nullable=True),
        Column("practitioner", String(64), nullable=True),
        Column("is_open", Boolean, nullable=False),
        Column("view", Text, nullable=False),
        Column("evaluated_at", UTCDateTime, nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("policy_version", String(64), nullable=False),
        *extra,
        Index(f"ix_{name}_team", "team", "is_open"),
        Index(f"ix_{name}_practitioner", "practitioner", "is_open"),
    )


case_records = Table(
    "rm_case_records",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("service", String(64), nullable=True),
    Column("team", String(64), nullable=True),
    Column("practitioner", String(64), nullable=True),
    Column("route", String(16), nullable=True),
    Column("start_date", Date, nullable=True),
    Column("closed_on", Date, nullable=True),
    Column("is_open", Boolean, nullable=False),
    Column("record", Text, nullable=False),
    # the child's label as sealed with the child's key (never in clear): search opens it
    # within the reader's cases, so erasing the child leaves nothing to match (0010_web_label)
    Column("child_label", Text, nullable=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_rm_case_records_team", "team", "is_open"),
)

aspire = _common(
    "rm_aspire",
    Column("assessment", String(32), nullable=True),  # "done_not_countersigned" fits
    Column("planning", String(32), nullable=True),
    Column("delivery", String(32), nullable=True),
    Column("review", String(32), nullable=True),
    Column("overdue", Integer, nullable=False),
    Column("next_due", Date, nullable=True),
    Column("summary", Text, nullable=True),  # the case's caseload line (migration 0011p)
)
Index("ix_rm_aspire_order", aspire.c.team, aspire.c.overdue, aspire.c.next_due,
      aspire.c.case_id)

engagement = _common(
    "rm_engagement",
    Column("attendance_rate", Float, nullable=True),
    Column("days_since_contact", Integer, nullable=True),
    Column("trend", String(16), nullable=True),
    Column("falling", Boolean, nullable=False),
    Column("calendar", Text, nullable=True),  # engagement per calendar month (0011p)
)

continuity = _common(
    "rm_continuity",
    Column("setting", String(16), nullable=True),
    Column("has_case_manager", Boolean, nullable=False),
    Column("changes", Integer, nullable=False),
    Column("without_case_manager_since", Date, nullable=True),
    Column("custody_first", Date, nullable=True),
    Column("custody_last_end", Date, nullable=True),
    Column("ever_custody", Boolean, nullable=False),
)

enforcement = _common(
    "rm_enforcement",
    Column("status", String(20), nullable=True),
    Column("warnings_in_period", Integer, nullable=False),
    Column("breach_due", Integer, nullable=False),
)

audits = Table(
    "rm_audits",
    metadata,
    Column("audit_event_id", String(36), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("service", String(64), nullable=True),
    Column("team", String(64), nullable=True),
    Column("route", String(16), nullable=True),
    Column("audited_on", Date, nullable=False),
    Column("question_set", String(64), nullable=False),
    Column("answers", Text, nullable=False),
    Column("safety_level", String(16), nullable=True),
    Column("harm_level", String(16), nullable=True),
    Column("custody_case", Boolean, nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("ix_rm_audits_case", "case_id"),
    Index("ix_rm_audits_day", "audited_on"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(255), primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("owner", String(80), nullable=True),
    Column("team", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(64), nullable=True),
    Column("ack_note", Text, nullable=True),
    Column("caused_by", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("raise_count", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("close_note", Text, nullable=True),
    Column("condition_ended_at", UTCDateTime, nullable=True),
    Column("review_on", Date, nullable=True),
    Index("ix_alerts_case", "case_id"),
    Index("ix_alerts_status_team", "status", "team"),
    # At most one open alert per (rule, case, subject): deduplication the database enforces.
    Index(
        "uq_alerts_open", "rule", "case_id", "subject", unique=True,
        postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'"),
    ),
)

quarantine = Table(
    "projection_quarantine",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("stage", String(16), nullable=False),
    Column("error_type", String(64), nullable=False),
    Column("event_id", String(36), nullable=True),
    Column("event_type", String(64), nullable=True),
    Column("position", BigInteger, nullable=True),
    Column("message", Text, nullable=False),
    Column("quarantined_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
)
"""Cases the projector could not fold or evaluate: what failed, where (never the payload).
While a case is here its read-model rows are stale and its reads answer ``CaseQuarantined``;
every other case keeps projecting."""

VIEW_TABLES: dict[str, Table] = {
    "aspire": aspire,
    "engagement": engagement,
    "continuity": continuity,
    "enforcement": enforcement,
}

MODEL_NAMES = ("records", "aspire", "engagement", "continuity", "enforcement", "audits", "alerts")
"""Every read model with a checkpoint, in lock order."""
