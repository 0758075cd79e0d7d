"""The access log's table (revision 0003): append-only, every read of a case by anyone;
``client_request_id`` (revision 0006_account_log) is the id a client sent, kept apart from
the server's own correlation id."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from events.schema import UTCDateTime, metadata

access_log = Table(
    "access_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("action", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("client_request_id", String(64), nullable=True),
    Index("ix_access_log_case", "case_id", "at"),
    Index("ix_access_log_user", "user_id", "at"),
    Index("ix_access_log_at", "at"),
)
