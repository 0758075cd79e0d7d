"""The workers' own tables (revision 0004): alert deliveries and scheduled-job bookkeeping.

``deliveries`` is an outbox keyed by an idempotency key (``<alert_id>:<channel>`` for an
alert, ``digest:<owner>:<day>:email`` for a digest). A row is created once, whatever number
of times the projection or the sweep notices the alert, and a send is claimed by one worker
at a time, so a redelivered message sends nothing twice. Status is ``pending`` (to send or
to retry), ``sent`` or ``failed`` (retries exhausted: kept, counted and shown).

``worker_jobs`` records when each scheduled job last ran, so ``tracker status`` can show a
scheduler that has stopped.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from events.schema import UTCDateTime, metadata

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENT, FAILED)
TABLES = "workers' tables"
"""What a missing-table error names (``tracker.db.tx``)."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("alert_id", String(255), nullable=True),
    Column("owner", String(80), nullable=True),
    Column("team", String(64), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(300), nullable=True),
    Column("correlation_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claim_token", String(32), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    Index("ix_deliveries_alert", "alert_id"),
)

worker_jobs = Table(
    "worker_jobs",
    metadata,
    Column("job", String(32), primary_key=True),
    Column("last_as_at", UTCDateTime, nullable=True),
    Column("last_finished_at", UTCDateTime, nullable=False),
    Column("runs", Integer, nullable=False),
)
