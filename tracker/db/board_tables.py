"""The management board's meetings (issue 13, KPI 7; revision 0010_kpidata_board_meetings):
service level, one row per meeting, no personal data."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Index, String, Table

from events.schema import UTCDateTime, metadata

board_meetings = Table(
    "board_meetings",
    metadata,
    Column("meeting_id", String(36), primary_key=True),
    Column("service", String(64), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("agencies_invited", JSON, nullable=False),
    Column("agencies_attending", JSON, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_board_meetings_service", "service", "held_on"),
)
