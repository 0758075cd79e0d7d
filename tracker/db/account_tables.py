"""The accounts tables (revision 0003): users, their teams, sessions and API tokens; the
account log (revision 0006_account_log): every change to an account, append-only."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table

from events.schema import UTCDateTime, metadata

TABLES = "accounts tables"
"""What a missing-table error names (``tracker.db.tx``)."""

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

user_teams = Table(
    "user_teams",
    metadata,
    Column("user_id", String(64), ForeignKey("users.user_id"), primary_key=True),
    Column("team", String(64), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_sessions_user", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("token_id", String(16), nullable=False, unique=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_api_tokens_user", "user_id"),
)

account_log = Table(
    "account_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("change", String(32), nullable=False),
    Column("detail", String(256), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Index("ix_account_log_user", "user_id", "at"),
    Index("ix_account_log_at", "at"),
)


invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Index("ix_invitations_user", "user_id"),
)
"""One-time set-password links (revision 0011_lead_invitations): stored only as their
SHA-256, used once, and void after their expiry or once a newer one is issued."""
