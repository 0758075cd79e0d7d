"""The account log: every change to an account (created, role, teams, deactivated,
reactivated, password reset, tokens revoked), who made it and when, kept for good.

Rows are written in the same transaction as the change they record and are only ever
inserted: the database refuses UPDATE and DELETE (triggers, as on the access log). Values
are ids, roles and team ids only: never a name or a password. Admins read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, Engine, func, insert, select

from tracker.db import tx
from tracker.db.account_tables import TABLES, account_log
from tracker.kernel.logging import current_correlation_id

Change = Literal[
    "created", "role", "teams", "display_name", "deactivated", "reactivated",
    "password_reset", "tokens_revoked", "invited", "password_set_by_invitation",
]
MAX_PAGE = 500


@dataclass(frozen=True)
class AccountChange:
    """One logged change to an account."""

    id: int
    at: datetime
    actor_id: str
    user_id: str
    change: str
    detail: str
    correlation_id: str

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "at": self.at.isoformat(), "actor_id": self.actor_id,
            "user_id": self.user_id, "change": self.change, "detail": self.detail,
            "correlation_id": self.correlation_id,
        }


def record_changes(
    conn: Connection, *, at: datetime, actor_id: str, user_id: str,
    changes: list[tuple[Change, str]],
) -> None:
    """Append one row per (change, detail), inside the caller's transaction."""
    if not changes:
        return
    cid = current_correlation_id()[:64]
    conn.execute(insert(account_log), [
        {"at": at, "actor_id": actor_id[:64], "user_id": user_id[:64], "change": change,
         "detail": detail[:256], "correlation_id": cid}
        for change, detail in changes
    ])


@dataclass(frozen=True)
class AccountLogPage:
    """A page of the account log, newest first, and how many rows matched in all."""

    entries: list[AccountChange]
    total: int

    def to_dict(self) -> dict[str, object]:
        return {"total": self.total, "entries": [e.to_dict() for e in self.entries]}


def read_account_log(
    engine: Engine, *, user_id: str | None = None, limit: int = 100, offset: int = 0
) -> AccountLogPage:
    """Changes to every account, or to one; newest first."""
    conditions = [account_log.c.user_id == user_id] if user_id else []
    query = (
        select(account_log).where(*conditions)
        .order_by(account_log.c.at.desc(), account_log.c.id.desc())
        .limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
    )
    count = select(func.count()).select_from(account_log).where(*conditions)
    with tx.read(engine, tables=TABLES) as conn:
        rows = conn.execute(query).all()
        total = int(conn.execute(count).scalar_one())
    return AccountLogPage(
        entries=[
            AccountChange(int(r.id), r.at, r.actor_id, r.user_id, r.change, r.detail,
                          r.correlation_id)
            for r in rows
        ],
        total=total,
    )
