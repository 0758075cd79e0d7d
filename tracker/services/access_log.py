"""The access log: every read of a case by anyone, and every refused attempt, kept for good.

One row per case per request: who (user id and role, never a name), which case, when,
through which page or endpoint, the outcome, the server's correlation id, and apart from
it the id the client sent (``client_request_id``, bound by the HTTP edge only when it is
well-formed: it is the client's word, not the server's). Rows are
only ever inserted; the database refuses UPDATE and DELETE (triggers, as on ``events``).
Auditors and admins search it.

A read is logged *before* the case's data is returned: if the log cannot be written, the
read fails rather than going unrecorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import structlog
from sqlalchemy import (
    func,
    insert,
    select,
)

from tracker.db import tx
from tracker.db.access_log_table import access_log
from tracker.kernel.logging import current_correlation_id
from tracker.services.app import App

Outcome = Literal["allowed", "refused", "not_found"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
_TABLES = "access log"  # what a read or write needs, named if it is missing
CLIENT_REQUEST_ID = "client_request_id"
"""The context variable (bound beside ``correlation_id``) holding the client's request id."""

@dataclass(frozen=True)
class AccessEntry:
    """One logged access."""

    id: int
    at: datetime
    user_id: str
    role: str
    case_id: str
    action: str
    outcome: str
    correlation_id: str
    client_request_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "user_id": self.user_id,
            "role": self.role,
            "case_id": self.case_id,
            "action": self.action,
            "outcome": self.outcome,
            "correlation_id": self.correlation_id,
            "client_request_id": self.client_request_id,
        }


@dataclass(frozen=True)
class AccessPage:
    """A page of search results and how many rows matched in all."""

    entries: list[AccessEntry]
    total: int

    def to_dict(self) -> dict[str, object]:
        return {"total": self.total, "entries": [e.to_dict() for e in self.entries]}


def record_access(
    app: App,
    *,
    user_id: str,
    role: str,
    case_ids: Iterable[str],
    action: str,
    outcome: Outcome,
) -> None:
    """Append one row per case; several cases (a caseload page) go in one statement."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        return
    now = app.clock.now()
    cid = current_correlation_id()[:64]
    client = structlog.contextvars.get_contextvars().get(CLIENT_REQUEST_ID)
    rows = [
        {
            "at": now, "user_id": user_id[:64], "role": role[:32], "case_id": case_id[:64],
            "action": action[:128], "outcome": outcome, "correlation_id": cid,
            "client_request_id": str(client)[:64] if client else None,
        }
        for case_id in ids
    ]
    with tx.write(app.engine, tables=_TABLES) as conn:
        conn.execute(insert(access_log), rows)


def search(
    app: App,
    *,
    user_id: str | None = None,
    case_id: str | None = None,
    outcome: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> AccessPage:
    """Rows matching every filter given, newest first; ``since`` inclusive, ``until`` not.
    At most ``limit`` rows (by default the settings' ``page_size``, never more than their
    ``max_page_size``), counted and cut by the database."""
    conditions = []
    if user_id:
        conditions.append(access_log.c.user_id == user_id)
    if case_id:
        conditions.append(access_log.c.case_id == case_id)
    if outcome:
        conditions.append(access_log.c.outcome == outcome)
    if action:
        conditions.append(access_log.c.action == action)
    if since is not None:
        conditions.append(access_log.c.at >= since)
    if until is not None:
        conditions.append(access_log.c.at < until)
    settings = app.settings
    limit = max(1, min(limit or settings.page_size, settings.max_page_size))
    query = (
        select(access_log).where(*conditions)
        .order_by(access_log.c.at.desc(), access_log.c.id.desc())
        .limit(limit).offset(max(0, offset))
    )
    count = select(func.count()).select_from(access_log).where(*conditions)
    with tx.read(app.engine, tables=_TABLES) as conn:
        rows = conn.execute(query).all()
        total = int(conn.execute(count).scalar_one())
    return AccessPage(
        entries=[
            AccessEntry(
                id=int(r.id), at=r.at, user_id=r.user_id, role=r.role, case_id=r.case_id,
                action=r.action, outcome=r.outcome, correlation_id=r.correlation_id,
                client_request_id=r.client_request_id,
            )
            for r in rows
        ],
        total=total,
    )

