"""The projector's reader: events in global order, decoded without their free text.

Read models never show notes, reasons or objective descriptions, so this reader leaves
every sealed personal field sealed (a present value reads as ``"[sealed]"``) and opens only
the date of birth, which the 17½ rule needs. Skipping the decryption of every note is also
what makes a rebuild fast. The envelope fields a projection does not use (hashes,
correlation id) are left blank; ``EventStore.read_stream`` gives the full event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, and_, select
from sqlalchemy.exc import DBAPIError

from events.case import CaseOpened
from events.catalogue import event_class, upcast
from events.envelope import RecordedEvent
from events.schema import events as T  # noqa: N812 - the table, read like SQL
from events.sealing import Keyring, plan, unseal
from tracker.errors import SchemaNotReady, StoreUnavailable

SEALED = "[sealed]"

_COLUMNS = (
    T.c.position, T.c.event_id, T.c.stream_id, T.c.stream_version, T.c.event_type,
    T.c.schema_version, T.c.occurred_at, T.c.recorded_at, T.c.recorded_by, T.c.recorded_role,
    T.c.payload,
)


def lean(model: type[BaseModel], data: dict[str, Any], keyring: Keyring | None) -> dict[str, Any]:
    """``data`` with personal fields left sealed, except a case's date of birth."""
    if model is CaseOpened:
        if keyring is None:
            out = dict(data)
            if out.get("date_of_birth") is not None and not _is_date(out["date_of_birth"]):
                out["date_of_birth"] = None
            return out
        return unseal(model, data, keyring, event_class)
    slots = plan(model)
    if not slots:
        return data
    out = dict(data)
    for slot in slots:
        value = out.get(slot.name)
        if value is None:
            continue
        if slot.kind == "personal":
            out[slot.name] = SEALED
        elif slot.kind == "model" and slot.model:
            out[slot.name] = lean(slot.model, value, keyring)
        elif slot.kind == "model_list" and slot.model:
            out[slot.name] = [lean(slot.model, v, keyring) for v in value]
        elif slot.kind == "replacement":
            out[slot.name] = lean(event_class(str(out["replacement_type"])), value, keyring)
    return out


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 10 and value[4] == "-"


def decode(row: Any, keyring: Keyring | None) -> RecordedEvent:
    """One ``events`` row (with at least ``_COLUMNS``) as a lean ``RecordedEvent``."""
    type_name = row[4]
    cls = event_class(type_name)
    data = json.loads(row[10])
    if row[5] != cls.version:
        data = upcast(type_name, row[5], data)
    event = cls.model_validate(lean(cls, data, keyring))
    return RecordedEvent(
        position=row[0], event_id=row[1], stream_id=row[2], stream_version=row[3],
        type=type_name, schema_version=row[5], occurred_at=row[6], recorded_at=row[7],
        recorded_by=row[8], recorded_role=row[9], correlation_id="", event=event,
        prev_hash="", hash="",
    )


def read_after(
    conn: Connection, after: int, limit: int, keyring: Keyring | None, *, upto: int | None = None
) -> list[RecordedEvent]:
    """Up to ``limit`` events after position ``after`` (and at or before ``upto``)."""
    cond = T.c.position > after
    if upto is not None:
        cond = and_(cond, T.c.position <= upto)
    query = select(*_COLUMNS).where(cond).order_by(T.c.position).limit(limit)
    rows = _run(conn, query)
    return [decode(r, keyring) for r in rows]


def read_case(
    conn: Connection,
    case_id: str,
    keyring: Keyring | None,
    *,
    recorded_before: datetime | None = None,
) -> list[RecordedEvent]:
    """One case's events in stream order (optionally only those recorded before a time)."""
    query = select(*_COLUMNS).where(T.c.stream_id == case_id)
    if recorded_before is not None:
        query = query.where(T.c.recorded_at < recorded_before)
    rows = _run(conn, query.order_by(T.c.stream_version))
    return [decode(r, keyring) for r in rows]


def streams_between(conn: Connection, after: int, upto: int) -> list[str]:
    """The cases with an event at a position in ``(after, upto]``."""
    if upto <= after:
        return []
    query = (
        select(T.c.stream_id)
        .where(T.c.position > after, T.c.position <= upto)
        .distinct()
    )
    return sorted(r[0] for r in _run(conn, query))


def head(conn: Connection) -> int:
    """The last committed position (0 when the store is empty)."""
    from sqlalchemy import func

    return int(_run(conn, select(func.coalesce(func.max(T.c.position), 0)))[0][0])


def recorded_at_of(conn: Connection, position: int) -> datetime | None:
    rows = _run(conn, select(T.c.recorded_at).where(T.c.position == position))
    return rows[0][0] if rows else None


def _run(conn: Connection, query: Any) -> Sequence[Any]:
    try:
        return conn.execute(query).all()
    except DBAPIError as exc:
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if "no such table" in message or ("does not exist" in message):
            raise SchemaNotReady(
                "the database has no event store or read models yet: run 'tracker db upgrade'"
            ) from None
        raise StoreUnavailable(
            f"database error: {type(exc.orig).__name__ if exc.orig else 'unknown'}"
        ) from None
