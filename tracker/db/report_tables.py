"""Management information figures as published (issue 13; revision
0010_kpireports_figures): a quarter's KPI figures are stored the first time they
are produced after the quarter has ended, and read back from here ever after, so a later
erasure never changes figures a board has already seen (nothing about an erased child is
computed again, and the earlier aggregate stays as a figure). Service-wide figures only:
no case ids, no personal data."""

from __future__ import annotations

from sqlalchemy import JSON, Column, PrimaryKeyConstraint, String, Table

from events.schema import UTCDateTime, metadata

published_figures = Table(
    "published_figures",
    metadata,
    Column("kind", String(32), nullable=False),
    Column("period", String(16), nullable=False),
    Column("produced_at", UTCDateTime, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("figures", JSON, nullable=False),
    PrimaryKeyConstraint("kind", "period", name="pk_published_figures"),
)
