"""The dip samples drawn (revision 0010_qa_dip_samples): who drew each, when, with which
parameters, and the cases it chose, so an auditor can later show which cases were chosen
and why (issue 11 §3; seed 004). Append-only: a sample is never redrawn in place."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from events.schema import UTCDateTime, metadata

TABLES = "dip sample tables"
"""What a missing-table error names (``tracker.db.tx``)."""

dip_samples = Table(
    "dip_samples",
    metadata,
    Column("sample_id", String(36), primary_key=True),
    Column("drawn_by", String(64), nullable=False),
    Column("drawn_at", UTCDateTime, nullable=False),
    Column("preset", String(16), nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("window_from", Date, nullable=False),
    Column("window_to", Date, nullable=False),
    Column("team", String(64), nullable=True),
    Column("parameters", Text, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("in_scope_court", Integer, nullable=False),
    Column("in_scope_out_of_court", Integer, nullable=False),
    Index("ix_dip_samples_drawn_at", "drawn_at"),
)

dip_sample_cases = Table(
    "dip_sample_cases",
    metadata,
    Column("sample_id", String(36), ForeignKey("dip_samples.sample_id"), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("route", String(16), nullable=False),
    Column("stratum", String(200), nullable=False),
    Column("ordinal", Integer, nullable=False),
)
