"""Checkpoints: how far each read model has applied the log, under which policy version.

Every transaction locks all of them first, so two projectors never apply the same events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from projections import source
from tracker.db.read_models import MODEL_NAMES, checkpoints
from tracker.kernel.errors import UnknownReadModel

Checkpoint = tuple[int, str | None]
"""A read model's position and the policy version it was computed under."""


@dataclass(frozen=True)
class Lag:
    """How far a read model is behind the log: events, and seconds since the oldest one
    it has not applied was recorded (0.0 when caught up; None when the log is empty)."""

    events: int
    seconds: float | None


def selected(only: str | None) -> frozenset[str]:
    """The models a catch-up works on: all, or one and the records it is computed from."""
    if only is None:
        return frozenset(MODEL_NAMES)
    if only not in MODEL_NAMES:
        raise UnknownReadModel(
            f"only: unknown read model '{only}'; known: {', '.join(MODEL_NAMES)}"
        )
    return frozenset({"records", only})


def lock(conn: Connection) -> dict[str, Checkpoint]:
    """Lock every checkpoint row (in name order, so two projectors cannot deadlock),
    creating missing ones; the transaction holds them until it commits."""
    query = (
        select(checkpoints.c.name, checkpoints.c.position, checkpoints.c.policy_version)
        .where(checkpoints.c.name.in_(MODEL_NAMES))
        .order_by(checkpoints.c.name)
        .with_for_update()
    )
    rows = {r.name: (int(r.position), r.policy_version) for r in conn.execute(query)}
    if len(rows) < len(MODEL_NAMES):
        missing = [m for m in MODEL_NAMES if m not in rows]
        stmt: Any = (
            postgresql.insert(checkpoints) if conn.dialect.name == "postgresql"
            else sqlite.insert(checkpoints)
        )
        conn.execute(
            stmt.on_conflict_do_nothing(index_elements=["name"]),
            [{"name": m, "position": 0} for m in missing],
        )
        rows = {r.name: (int(r.position), r.policy_version) for r in conn.execute(query)}
    return rows


def effective(checkpoint: Checkpoint, policy_version: str) -> int:
    """A checkpoint's position, or 0 if it was made under another policy version."""
    position, version = checkpoint
    return 0 if version is not None and version != policy_version else position


def save(conn: Connection, new_cps: dict[str, int], policy_version: str, now: datetime) -> None:
    """Move the checkpoints; the records' one is independent of the policy."""
    for name, position in new_cps.items():
        version = None if name == "records" else policy_version
        conn.execute(
            update(checkpoints).where(checkpoints.c.name == name)
            .values(position=position, policy_version=version, updated_at=now)
        )


def lag(conn: Connection, now: datetime) -> dict[str, Lag]:
    """How far behind the log each read model is, as at ``now``."""
    head = source.head(conn)
    rows = {r.name: r for r in conn.execute(select(checkpoints))}
    out: dict[str, Lag] = {}
    first_pending: dict[int, datetime | None] = {}
    for name in MODEL_NAMES:
        row = rows.get(name)
        position = int(row.position) if row is not None else 0
        behind = max(0, head - position)
        if head == 0:
            out[name] = Lag(0, None)
        elif behind == 0:
            out[name] = Lag(0, 0.0)
        else:
            if position not in first_pending:
                first_pending[position] = source.recorded_at_of(conn, position + 1)
            moment = first_pending[position]
            seconds = (now - moment).total_seconds() if moment else None
            out[name] = Lag(behind, max(0.0, seconds) if seconds is not None else None)
    return out
