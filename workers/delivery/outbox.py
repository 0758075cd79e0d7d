"""The outbox: one ``deliveries`` row per alert and channel, claimed, sent once, retried.

See the package docstring for the flow. Reads and writes go through ``tracker.db.tx``, so a
missing table or a lost database reads the same here as everywhere else.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from events.schema import events as events_table
from tracker.db import tx
from tracker.db.read_models import alerts
from tracker.db.worker_tables import FAILED, PENDING, SENT, STATUSES, TABLES, deliveries
from tracker.kernel.clock import Clock
from tracker.kernel.config import Settings
from workers.delivery.channels import EMAIL


def backoff_ms(settings: Settings, attempts: int) -> int:
    """Exponential backoff after ``attempts`` tries, with up to 10% jitter, capped."""
    exponent = max(0, min(attempts - 1, 30))
    base: int = min(settings.delivery_min_backoff_ms << exponent, settings.delivery_max_backoff_ms)
    return base + secrets.randbelow(max(1, base // 10))


@dataclass(frozen=True)
class Claim:
    """A row this worker may send now (until ``claimed_until``)."""

    key: str
    kind: str
    alert_id: str | None
    owner: str | None
    channel: str
    attempts: int
    token: str
    created_at: datetime


@dataclass(frozen=True)
class Queued:
    """A delivery to enqueue: its key and the correlation id of what caused it."""

    key: str
    correlation_id: str


class Outbox:
    """Every operation on the ``deliveries`` table."""

    def __init__(self, engine: Engine, clock: Clock, settings: Settings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings

    def _write(self) -> AbstractContextManager[Connection]:
        """A transaction that may read then write (``BEGIN IMMEDIATE`` on SQLite)."""
        return tx.write(self.engine, tables=TABLES)

    def _read(self) -> AbstractContextManager[Connection]:
        return tx.read(self.engine, tables=TABLES)

    def _insert(self) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(deliveries)

    def create_for_open_alerts(self, channels: Sequence[str], correlation_id: str) -> list[Queued]:
        """One row per channel for each open alert that has none; returns the new ones."""
        if not channels:
            return []
        d = deliveries.alias("d")
        query = (
            select(alerts.c.alert_id, alerts.c.owner, alerts.c.team, alerts.c.caused_by)
            .where(alerts.c.status == "open")
            .where(~exists().where(d.c.alert_id == alerts.c.alert_id))
            .order_by(alerts.c.raised_at)
            .limit(5000)
        )
        now = self.clock.now()
        with self._write() as conn:
            found = conn.execute(query).all()
            if not found:
                return []
            cids = _correlations(conn, [_last_cause(r.caused_by) for r in found])
            rows = []
            for r in found:
                cause = _last_cause(r.caused_by)
                cid = cids.get(cause, correlation_id) if cause else correlation_id
                for channel in channels:
                    rows.append(self._row(
                        f"{r.alert_id}:{channel}", "alert", r.alert_id, r.owner, r.team,
                        channel, cid, now,
                    ))
            stmt = self._insert().values(rows).on_conflict_do_nothing(
                index_elements=["key"]
            ).returning(deliveries.c.key, deliveries.c.correlation_id)
            return [Queued(k, c) for k, c in conn.execute(stmt).all()]

    def create_digest(self, owner: str, day: date, correlation_id: str) -> Queued | None:
        """The day's digest row for one owner (None if it exists already)."""
        key = f"digest:{owner}:{day.isoformat()}:{EMAIL}"
        row = self._row(key, "digest", None, owner, None, EMAIL, correlation_id, self.clock.now())
        stmt = self._insert().values(row).on_conflict_do_nothing(index_elements=["key"])
        with self._write() as conn:
            created = conn.execute(stmt.returning(deliveries.c.key)).first()
        return Queued(key, correlation_id) if created else None

    @staticmethod
    def _row(
        key: str, kind: str, alert_id: str | None, owner: str | None, team: str | None,
        channel: str, correlation_id: str, now: datetime,
    ) -> dict[str, Any]:
        return {
            "key": key, "kind": kind, "alert_id": alert_id, "owner": owner, "team": team,
            "channel": channel, "status": PENDING, "attempts": 0, "last_error": None,
            "correlation_id": correlation_id[:64], "created_at": now, "updated_at": now,
            "next_attempt_at": now, "claim_token": None, "claimed_until": None, "sent_at": None,
        }

    def claim(self, key: str) -> Claim | None:
        """Take the row for one send, or None if it is sent, failed or in another's hands."""
        now = self.clock.now()
        token = secrets.token_hex(8)
        until = now + timedelta(seconds=self.settings.delivery_claim_seconds)
        stmt = (
            update(deliveries)
            .where(
                deliveries.c.key == key,
                deliveries.c.status == PENDING,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
            )
            .values(
                claim_token=token, claimed_until=until, attempts=deliveries.c.attempts + 1,
                updated_at=now,
            )
        )
        with self._write() as conn:
            if conn.execute(stmt).rowcount != 1:
                return None
            r = conn.execute(select(deliveries).where(deliveries.c.key == key)).one()
        return Claim(
            key=r.key, kind=r.kind, alert_id=r.alert_id, owner=r.owner, channel=r.channel,
            attempts=r.attempts, token=token, created_at=r.created_at,
        )

    def sent(self, claim: Claim) -> bool:
        """Record the send; False if the claim had expired and another worker took it."""
        now = self.clock.now()
        return self._finish(claim, status=SENT, sent_at=now, last_error=None)

    def retry(self, claim: Claim, error: str, delay_ms: int) -> bool:
        """Release the claim; the row waits ``delay_ms`` for its next attempt."""
        when = self.clock.now() + timedelta(milliseconds=delay_ms)
        return self._finish(claim, status=PENDING, next_attempt_at=when, last_error=error[:300])

    def failed(self, claim: Claim, error: str) -> bool:
        """Give up on the row: it stays, ``failed``, with the last error."""
        return self._finish(claim, status=FAILED, last_error=error[:300])

    def _finish(self, claim: Claim, **values: Any) -> bool:
        stmt = (
            update(deliveries)
            .where(deliveries.c.key == claim.key, deliveries.c.claim_token == claim.token)
            .values(claim_token=None, claimed_until=None, updated_at=self.clock.now(), **values)
        )
        with self._write() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def stale(self, grace: timedelta, limit: int = 500) -> list[Queued]:
        """Pending rows whose message should have run by now (lost with Redis, or a crash)."""
        now = self.clock.now()
        query = (
            select(deliveries.c.key, deliveries.c.correlation_id)
            .where(
                deliveries.c.status == PENDING,
                deliveries.c.next_attempt_at < now - grace,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
        )
        with self._read() as conn:
            return [Queued(k, c) for k, c in conn.execute(query).all()]

    def counts(self) -> dict[str, int]:
        """Rows per status (every status present, zero if none)."""
        query = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        with self._read() as conn:
            found = {s: int(n) for s, n in conn.execute(query).all()}
        return {s: found.get(s, 0) for s in STATUSES}

    def oldest_pending(self) -> datetime | None:
        query = select(func.min(deliveries.c.created_at)).where(deliveries.c.status == PENDING)
        with self._read() as conn:
            value: datetime | None = conn.execute(query).scalar_one()
        return value

    def rows(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Rows for display, newest first (no personal data is stored in them)."""
        query = select(
            deliveries.c.key, deliveries.c.kind, deliveries.c.alert_id, deliveries.c.owner,
            deliveries.c.channel, deliveries.c.status, deliveries.c.attempts,
            deliveries.c.last_error, deliveries.c.created_at, deliveries.c.updated_at,
            deliveries.c.sent_at,
        ).order_by(deliveries.c.created_at.desc(), deliveries.c.key).limit(limit)
        if status:
            query = query.where(deliveries.c.status == status)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def requeue_failed(self, keys: Iterable[str] | None) -> list[Queued]:
        """Make failed rows pending again (all, or the given keys) with fresh attempts."""
        now = self.clock.now()
        cond = [deliveries.c.status == FAILED]
        if keys is not None:
            cond.append(deliveries.c.key.in_(list(keys)))
        with self._write() as conn:
            found = conn.execute(
                select(deliveries.c.key, deliveries.c.correlation_id).where(and_(*cond))
            ).all()
            if found:
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.key.in_([k for k, _ in found]))
                    .values(status=PENDING, attempts=0, next_attempt_at=now, updated_at=now)
                )
        return [Queued(k, c) for k, c in found]


def _last_cause(value: Any) -> str | None:
    """The last event id in an alert's ``caused_by`` (JSON list, or its text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list) and value:
        return str(value[-1])
    return None


def _correlations(conn: Any, causes: Sequence[str | None]) -> dict[str, str]:
    ids: list[UUID] = []
    for c in causes:
        try:
            if c:
                ids.append(UUID(c))
        except ValueError:
            continue
    if not ids:
        return {}
    query = select(events_table.c.event_id, events_table.c.correlation_id).where(
        events_table.c.event_id.in_(ids)
    )
    return {str(e): str(c) for e, c in conn.execute(query).all()}
