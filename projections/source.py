"""The projector's reader: events in global order, as ``RawEvent`` (payload dicts).

Read models never show notes, reasons or objective descriptions, so this reader does not
decrypt anything: personal values stay sealed tokens in the payload, and only the date of
birth is opened, later, by the fold that needs it (``projections.record``). Nor does it
re-validate payloads: the write side validated each one, the hash chain guards them, and
the catalogue's upcasters bring older schema versions to the current shape. Skipping the
decryption of every note and the re-validation of every payload is what makes a rebuild
fast; ``EventStore.read_stream`` still gives the full, validated, decrypted event.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    String,
    and_,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import BIT

from events.catalogue import event_class, upcast
from events.schema import events as T  # noqa: N812 - the table, read like SQL
from projections.record import RawEvent, day_of_us
from tracker.db import tx

SEALED = "[sealed]"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)  # noqa: DTZ001 - SQLite hands back naive UTC
_US = timedelta(microseconds=1)
_VERSIONS: dict[str, int] = {}


def _columns(dialect: str) -> tuple[Any, ...]:
    moment: Any = String if dialect == "sqlite" else DateTime(timezone=True)
    return (
        T.c.position, cast(T.c.event_id, String), T.c.stream_id, T.c.stream_version,
        T.c.event_type, T.c.schema_version, type_coerce(T.c.occurred_at, moment),
        type_coerce(T.c.recorded_at, moment), T.c.recorded_by, T.c.recorded_role, T.c.payload,
    )


def us(value: Any) -> int:
    """A stored moment (aware datetime, naive UTC datetime, or SQLite text) in microseconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return int((value - _EPOCH_NAIVE) // _US)
    return int((value - _EPOCH) // _US)


def _event_id(value: str) -> str:
    if len(value) == 32:  # SQLite keeps a UUID as 32 hex digits
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value


_SEALED_TOKEN = re.compile(r'"sealed:v1:[^"]*"')


def _payload(type_name: str, schema_version: int, text: str, masked: bool = False
             ) -> dict[str, Any]:
    if masked and type_name != "case_opened" and "sealed:v1:" in text:
        text = _SEALED_TOKEN.sub('"[sealed]"', text)
    data: dict[str, Any] = orjson.loads(text)
    current = _VERSIONS.get(type_name)
    if current is None:
        current = _VERSIONS[type_name] = event_class(type_name).version
    if schema_version != current:
        data = upcast(type_name, schema_version, data)
    return data


@dataclass(frozen=True, slots=True)
class Partition:
    """One share of the cases (``index`` of ``count``), chosen by a stable hash of the case
    id, so each projector process folds its own cases over the one global order."""

    index: int
    count: int

    def owns(self, case_id: str) -> bool:
        return self.count == 1 or partition_key(case_id) % self.count == self.index


def partition_key(case_id: str) -> int:
    """The case's stable hash: the first 28 bits of the MD5 of its id. PostgreSQL computes
    the same in SQL (``md5``), SQLite through a function registered on the connection."""
    return int(hashlib.md5(case_id.encode(), usedforsecurity=False).hexdigest()[:7], 16)


def _sqlite_key(value: str | None) -> int | None:
    return None if value is None else partition_key(value)


def _in_partition(conn: Connection, part: Partition | None) -> ColumnElement[bool] | None:
    """The SQL condition "this event's case is in ``part``" (None: every case)."""
    if part is None or part.count == 1:
        return None
    if conn.dialect.name == "sqlite":
        raw: Any = conn.connection.dbapi_connection
        raw.create_function("tracker_partition_key", 1, _sqlite_key, deterministic=True)
        key: Any = func.tracker_partition_key(T.c.stream_id)
    else:
        digits = literal("x").concat(func.substr(func.md5(T.c.stream_id), 1, 7))
        key = cast(cast(digits, BIT(28)), Integer)
    mine: ColumnElement[bool] = (key % part.count) == part.index
    return mine


@dataclass(frozen=True, slots=True)
class Envelope:
    """A raw event with who recorded it and when (for replay timelines)."""

    event: RawEvent
    recorded_us: int
    recorded_by: str
    recorded_role: str
    schema_version: int


def _raw(row: Any, masked: bool = False) -> RawEvent:
    t = us(row[6])
    return RawEvent(row[0], _event_id(row[1]), row[2], row[3], row[4], t, day_of_us(t),
                    _payload(row[4], row[5], row[10], masked), row[8])


def read_after(
    conn: Connection, after: int, limit: int, *, upto: int | None = None,
    partition: Partition | None = None,
) -> list[RawEvent]:
    """Up to ``limit`` events after position ``after`` (and at or before ``upto``), of the
    cases in ``partition`` only if one is given (the others are skipped in SQL)."""
    cond = T.c.position > after
    if upto is not None:
        cond = and_(cond, T.c.position <= upto)
    mine = _in_partition(conn, partition)
    if mine is not None:
        cond = and_(cond, mine)
    query = (
        select(*_columns(conn.dialect.name)).where(cond).order_by(T.c.position).limit(limit)
    )
    return [_raw(r) for r in _run(conn, query)]


def read_case(
    conn: Connection, case_id: str, *, after: int = 0, masked: bool = False
) -> list[Envelope]:
    """One case's events in stream order (those after a global position, if given).

    ``masked`` replaces every sealed value but the date of birth by ``"[sealed]"`` before
    parsing (for timelines: quicker, and nothing sealed is handed on)."""
    query = select(*_columns(conn.dialect.name)).where(T.c.stream_id == case_id)
    if after:
        query = query.where(T.c.position > after)
    rows = _run(conn, query.order_by(T.c.stream_version))
    return [Envelope(_raw(r, masked), us(r[7]), r[8], r[9], r[5]) for r in rows]


def streams_between(conn: Connection, after: int, upto: int,
                    partition: Partition | None = None) -> list[str]:
    """The cases (of ``partition``, if given) with an event at a position in ``(after, upto]``."""
    if upto <= after:
        return []
    query = select(T.c.stream_id).where(T.c.position > after, T.c.position <= upto)
    mine = _in_partition(conn, partition)
    if mine is not None:
        query = query.where(mine)
    query = query.distinct()
    return sorted(r[0] for r in _run(conn, query))


def head(conn: Connection) -> int:
    """The last committed position (0 when the store is empty)."""
    return int(_run(conn, select(func.coalesce(func.max(T.c.position), 0)))[0][0])


def recorded_at_of(conn: Connection, position: int) -> datetime | None:
    rows = _run(conn, select(T.c.recorded_at).where(T.c.position == position))
    return rows[0][0] if rows else None


def mask(value: Any) -> Any:
    """A payload with every sealed personal value shown as ``"[sealed]"``."""
    if isinstance(value, str):
        return SEALED if value.startswith("sealed:") else value
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _run(conn: Connection, query: Any) -> Sequence[Any]:
    with tx.translated(conn.engine, tables="event store or read models"):
        return conn.execute(query).all()
