"""Checkpoints: how far each read model has applied the log, under which policy version.

Every transaction locks its checkpoints first, so two projectors never apply the same
events. With ``count`` partitions each partition has its own row per model
(``records:0/2``; one partition keeps the plain model names, as before partitions), and the
row ``partitions`` stores the count (absent: one). A projector of another count refuses to
work (``PartitionLayoutMismatch``) until ``tracker project --rebuild --processes N`` changes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from projections import source
from projections.source import Partition
from tracker.db.read_models import MODEL_NAMES, checkpoints
from tracker.kernel.errors import PartitionLayoutMismatch, UnknownReadModel

LAYOUT = "partitions"
"""The row whose position is the number of partitions (absent: one)."""
MAX_PARTITIONS = 256

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


def row_name(model: str, part: Partition) -> str:
    """The checkpoint row of ``model`` in ``part`` (the plain name when there is one)."""
    return model if part.count == 1 else f"{model}:{part.index}/{part.count}"


def _insert(conn: Connection) -> Any:
    return (postgresql.insert(checkpoints) if conn.dialect.name == "postgresql"
            else sqlite.insert(checkpoints)).on_conflict_do_nothing(index_elements=["name"])


def stored_layout(conn: Connection) -> int:
    """How many partitions the checkpoints are kept in (one when none was chosen)."""
    row = conn.execute(
        select(checkpoints.c.position).where(checkpoints.c.name == LAYOUT)).first()
    return 1 if row is None else int(row.position)


def _mismatch(stored: int, wanted: int) -> PartitionLayoutMismatch:
    return PartitionLayoutMismatch(
        f"partitions: the read models are kept in {stored} partition(s), not {wanted}; "
        f"run the workers with --partitions {stored}, or change it with "
        f"'tracker project --rebuild --processes {wanted}'"
    )


def check_layout(conn: Connection, count: int) -> None:
    """Raise ``PartitionLayoutMismatch`` unless a projector of ``count`` partitions can
    work here: the store keeps that many, or no projector has worked on it yet."""
    stored = stored_layout(conn)
    if stored == count:
        return
    progress = conn.execute(
        select(checkpoints.c.position).where(checkpoints.c.name == "records")).scalar()
    if stored != 1 or int(progress or 0) > 0:
        raise _mismatch(stored, count)


def _claim(conn: Connection, part: Partition) -> None:
    """Make ``part.count`` the layout of a store no projector has worked on yet.

    The one-partition ``records`` row is locked (created if missing) first, so a claim and
    a one-partition projector's first transaction cannot both succeed."""
    conn.execute(_insert(conn), [{"name": "records", "position": 0}])
    progress = conn.execute(
        select(checkpoints.c.position).where(checkpoints.c.name == "records")
        .with_for_update()).scalar_one()
    if int(progress) > 0:
        raise _mismatch(1, part.count)
    conn.execute(_insert(conn), [{"name": LAYOUT, "position": part.count}])
    conn.execute(delete(checkpoints).where(checkpoints.c.name.in_(MODEL_NAMES)))


def lock(conn: Connection, part: Partition = Partition(0, 1)) -> dict[str, Checkpoint]:
    """Lock this partition's checkpoint rows (in name order, so projectors cannot
    deadlock), creating missing ones; the transaction holds them until it commits.

    Keyed by model name. Raises ``PartitionLayoutMismatch`` if the store keeps another
    number of partitions (checked after the lock: a rebuild that changes the layout holds
    every row, so what is read here cannot change before this transaction ends)."""
    names = {row_name(m, part): m for m in MODEL_NAMES}
    query = (
        select(checkpoints.c.name, checkpoints.c.position, checkpoints.c.policy_version)
        .where(checkpoints.c.name.in_(sorted(names)))
        .order_by(checkpoints.c.name)
        .with_for_update()
    )
    rows = {names[r.name]: (int(r.position), r.policy_version) for r in conn.execute(query)}
    stored = stored_layout(conn)
    if stored != part.count:
        if stored != 1 or part.count == 1:
            raise _mismatch(stored, part.count)
        _claim(conn, part)
        stored = stored_layout(conn)
        if stored != part.count:
            raise _mismatch(stored, part.count)
    if len(rows) < len(MODEL_NAMES):
        conn.execute(_insert(conn), [{"name": n, "position": 0}
                                     for n, m in names.items() if m not in rows])
        rows = {names[r.name]: (int(r.position), r.policy_version)
                for r in conn.execute(query)}
    return rows


def lock_all(conn: Connection) -> int:
    """Lock every checkpoint row (name order), for work over all partitions at once (a
    sweep, a reset); returns the stored number of partitions."""
    conn.execute(select(checkpoints.c.name).order_by(checkpoints.c.name).with_for_update()
                 ).all()
    return stored_layout(conn)


def reset(conn: Connection, models: set[str], count: int, now: datetime) -> None:
    """Start ``models`` again from event 1 in ``count`` partitions (all rows locked first).

    Resetting every model may change the layout: the rows of the old one are deleted, so
    a projector still running with it finds its rows gone and stops. Resetting some
    models keeps the layout, which must then be ``count``."""
    stored = lock_all(conn)
    if set(models) != set(MODEL_NAMES):
        if stored != count:
            raise _mismatch(stored, count)
        names = [row_name(m, Partition(i, count)) for m in sorted(models)
                 for i in range(count)]
        conn.execute(update(checkpoints).where(checkpoints.c.name.in_(names))
                     .values(position=0, policy_version=None, updated_at=now))
        return
    conn.execute(delete(checkpoints))
    if count > 1:
        conn.execute(insert(checkpoints).values(name=LAYOUT, position=count, updated_at=now))
    conn.execute(insert(checkpoints), [
        {"name": row_name(m, Partition(i, count)), "position": 0, "updated_at": now}
        for m in MODEL_NAMES for i in range(count)])


def effective(checkpoint: Checkpoint, policy_version: str) -> int:
    """A checkpoint's position, or 0 if it was made under another policy version."""
    position, version = checkpoint
    return 0 if version is not None and version != policy_version else position


def save(conn: Connection, new_cps: dict[str, int], policy_version: str, now: datetime,
         part: Partition = Partition(0, 1)) -> None:
    """Move the checkpoints; the records' one is independent of the policy. One
    ``executemany`` (on PostgreSQL psycopg pipelines it: one round trip, not one a model)."""
    if not new_cps:
        return
    conn.execute(
        update(checkpoints).where(checkpoints.c.name == bindparam("b_name"))
        .values(position=bindparam("b_position"), policy_version=bindparam("b_version"),
                updated_at=now),
        [{"b_name": row_name(name, part), "b_position": position,
          "b_version": None if name == "records" else policy_version}
         for name, position in new_cps.items()],
    )


def positions(conn: Connection) -> dict[str, int]:
    """Each read model's position: the lowest over the stored layout's partitions (0 for
    a partition that has no row yet)."""
    count = stored_layout(conn)
    rows = {r.name: int(r.position) for r in conn.execute(
        select(checkpoints.c.name, checkpoints.c.position))}
    return {m: min(rows.get(row_name(m, Partition(i, count)), 0) for i in range(count))
            for m in MODEL_NAMES}


def lag(conn: Connection, now: datetime) -> dict[str, Lag]:
    """How far behind the log each read model is, as at ``now`` (with partitions, the
    partition furthest behind)."""
    head = source.head(conn)
    at = positions(conn)
    out: dict[str, Lag] = {}
    first_pending: dict[int, datetime | None] = {}
    for name in MODEL_NAMES:
        position = at[name]
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
