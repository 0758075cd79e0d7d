"""The append-only event store on SQLAlchemy Core: SQLite (embedded) or PostgreSQL.

Global order is gap-safe: every append takes one writer lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``) *before* it reads the log
head, and keeps it until commit. Positions are therefore handed out, and become visible,
strictly in order: a reader following ``position > checkpoint`` can never see position
n+1 while n is still in flight, and a rolled-back append leaves no hole at all.
PostgreSQL makes a transaction visible before it releases its locks, so the next writer
always reads the committed head. The cost is that appends are serialised, which a
youth justice service's write rate (tens per second at peak) never notices.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from events.base import Event
from events.catalogue import event_class, upcast
from events.chain import GENESIS, ChainFields, canonical_payload, link_hash
from events.envelope import Actor, Draft, RecordedEvent, StreamWrite
from events.schema import events as T  # noqa: N812 - the table, read like SQL
from events.sealing import Keyring, seal, unseal
from tracker.clock import Clock
from tracker.errors import (
    ConcurrencyConflict,
    DuplicateEventConflict,
    SchemaNotReady,
    StoreUnavailable,
)

APPEND_LOCK_KEY = 0x74726B72  # "trkr": the advisory lock every appender takes on PostgreSQL

AppendListener = Callable[[Sequence[RecordedEvent]], None]


@dataclass(frozen=True)
class StreamHead:
    """Where a stream stands: its last version and the hash of that event."""

    version: int
    hash: str


class EventStore:
    """Append and read events; the only code that writes the ``events`` table."""

    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        clock: Clock,
        *,
        trust_recorded_at: bool = False,
    ) -> None:
        self.engine = engine
        self._keyring = keyring
        self._clock = clock
        self._trust_recorded_at = trust_recorded_at
        self._listeners: list[AppendListener] = []

    # -- writing -----------------------------------------------------------------------

    def on_append(self, listener: AppendListener) -> None:
        """Call ``listener`` after each committed append (e.g. to wake the projector)."""
        self._listeners.append(listener)

    def append(
        self,
        stream_id: str,
        drafts: Sequence[Draft],
        *,
        expected_version: int | None,
        actor: Actor,
        correlation_id: str,
        subject_id: str | None = None,
    ) -> list[RecordedEvent]:
        """Append drafts to one stream if it is at ``expected_version``; see ``append_many``."""
        write = StreamWrite(stream_id, drafts, expected_version, subject_id)
        return self.append_many([write], actor=actor, correlation_id=correlation_id)

    def append_many(
        self, writes: Sequence[StreamWrite], *, actor: Actor, correlation_id: str
    ) -> list[RecordedEvent]:
        """Append to several streams in one transaction: all of it, or none of it.

        Re-appending events whose ids are stored with the same content is a no-op that
        returns the stored events; the same id with other content is an error.
        """
        if not any(w.drafts for w in writes):
            return []
        try:
            recorded, replayed = self._append(writes, actor, correlation_id)
        except IntegrityError:
            # An event id already stored elsewhere: find out whether it is a retry.
            recorded = self._existing_or_raise(writes)
            replayed = True
        except (OperationalError, ProgrammingError) as exc:
            raise _translate(exc) from None
        except DBAPIError as exc:
            raise _translate(exc) from None
        if not replayed:
            for listener in self._listeners:
                listener(recorded)
        return recorded

    def _append(
        self, writes: Sequence[StreamWrite], actor: Actor, correlation_id: str
    ) -> tuple[list[RecordedEvent], bool]:
        # Seal first, outside the writer lock: it may create a child's key (its own write).
        payloads = [
            [self._payload(d, w.subject_id) for d in w.drafts] for w in writes
        ]
        with _Writer(self.engine) as conn:
            position = conn.execute(select(func.coalesce(func.max(T.c.position), 0))).scalar_one()
            heads: dict[str, StreamHead] = {}
            rows: list[dict[str, Any]] = []
            recorded: list[RecordedEvent] = []
            replayed: list[RecordedEvent] = []
            for write, write_payloads in zip(writes, payloads, strict=True):
                if not write.drafts:
                    continue
                head = heads.get(write.stream_id) or self._head(conn, write.stream_id)
                if write.expected_version is None or write.expected_version != head.version:
                    existing = self._existing(conn, write.drafts)
                    if existing is not None and _same_all(existing, write):
                        replayed.extend(existing)
                        continue
                    if write.expected_version is not None:
                        raise ConcurrencyConflict(
                            write.stream_id, write.expected_version, head.version
                        )
                recorded_at = (
                    write.recorded_at
                    if self._trust_recorded_at and write.recorded_at is not None
                    else self._clock.now()
                )
                version, prev = head.version, head.hash
                for draft, payload in zip(write.drafts, write_payloads, strict=True):
                    position += 1
                    version += 1
                    row, rec = self._row(
                        draft, payload, write.stream_id, position, version, prev, recorded_at,
                        actor, correlation_id,
                    )
                    rows.append(row)
                    recorded.append(rec)
                    prev = rec.hash
                heads[write.stream_id] = StreamHead(version, prev)
            if replayed and rows:
                raise DuplicateEventConflict(
                    replayed[0].event_id, "companions (part of this batch was recorded before)"
                )
            if replayed:
                return replayed, True
            conn.execute(insert(T), rows)
        return recorded, False

    def _payload(self, draft: Draft, subject_id: str | None) -> str:
        cls = type(draft.event)
        data = draft.event.model_dump(mode="json")
        return canonical_payload(seal(cls, data, subject_id, self._keyring, event_class))

    def _row(
        self,
        draft: Draft,
        payload: str,
        stream_id: str,
        position: int,
        version: int,
        prev: str,
        recorded_at: datetime,
        actor: Actor,
        correlation_id: str,
    ) -> tuple[dict[str, Any], RecordedEvent]:
        cls = type(draft.event)
        fields = ChainFields(
            event_id=str(draft.event_id),
            stream_id=stream_id,
            stream_version=version,
            type=cls.type,
            schema_version=cls.version,
            occurred_at=draft.occurred_at,
            recorded_at=recorded_at,
            recorded_by=actor.user_id,
            recorded_role=actor.role,
            correlation_id=correlation_id,
            payload=payload,
        )
        digest = link_hash(prev, fields)
        row = {
            "position": position,
            "event_id": draft.event_id,
            "stream_id": stream_id,
            "stream_version": version,
            "event_type": cls.type,
            "schema_version": cls.version,
            "occurred_at": draft.occurred_at,
            "recorded_at": recorded_at,
            "recorded_by": actor.user_id,
            "recorded_role": actor.role,
            "correlation_id": correlation_id,
            "payload": payload,
            "prev_hash": prev,
            "hash": digest,
        }
        rec = RecordedEvent(
            position=position,
            event_id=draft.event_id,
            stream_id=stream_id,
            stream_version=version,
            type=cls.type,
            schema_version=cls.version,
            occurred_at=draft.occurred_at,
            recorded_at=recorded_at,
            recorded_by=actor.user_id,
            recorded_role=actor.role,
            correlation_id=correlation_id,
            event=draft.event,
            prev_hash=prev,
            hash=digest,
        )
        return row, rec

    def _head(self, conn: Connection, stream_id: str) -> StreamHead:
        row = conn.execute(
            select(T.c.stream_version, T.c.hash)
            .where(T.c.stream_id == stream_id)
            .order_by(T.c.stream_version.desc())
            .limit(1)
        ).first()
        return StreamHead(0, GENESIS) if row is None else StreamHead(row[0], row[1])

    def _existing(self, conn: Connection, drafts: Sequence[Draft]) -> list[RecordedEvent] | None:
        ids = [d.event_id for d in drafts]
        rows = conn.execute(select(T).where(T.c.event_id.in_(ids))).all()
        if not rows:
            return None
        return [self._decode(r._mapping) for r in rows]

    def _existing_or_raise(self, writes: Sequence[StreamWrite]) -> list[RecordedEvent]:
        with self.engine.connect() as conn:
            found: list[RecordedEvent] = []
            for write in writes:
                existing = self._existing(conn, write.drafts) or []
                if not _same_all(existing, write):
                    break
                found.extend(existing)
            else:
                return found
        raise StoreUnavailable("the append was refused by a database constraint")

    # -- reading -----------------------------------------------------------------------

    def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        recorded_before: datetime | None = None,
    ) -> list[RecordedEvent]:
        """One case's events in order: all, up to a version, or as recorded before a time."""
        query = select(T).where(T.c.stream_id == stream_id).order_by(T.c.stream_version)
        if to_version is not None:
            query = query.where(T.c.stream_version <= to_version)
        if recorded_before is not None:
            query = query.where(T.c.recorded_at < recorded_before)
        return [self._decode(r._mapping) for r in self._rows(query)]

    def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events of all streams in global order, after a position."""
        query = select(T).where(T.c.position > after).order_by(T.c.position).limit(limit)
        return [self._decode(r._mapping) for r in self._rows(query)]

    def iter_all(self, after: int = 0, batch_size: int = 1000) -> Iterator[list[RecordedEvent]]:
        """Every event after ``after`` in global order, in batches."""
        while True:
            batch = self.read_all(after, batch_size)
            if not batch:
                return
            yield batch
            after = batch[-1].position

    def head_position(self) -> int:
        """The position of the last committed event (0 when empty)."""
        query = select(func.coalesce(func.max(T.c.position), 0))
        return int(self._rows(query)[0][0])

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 if it has no events)."""
        query = select(func.coalesce(func.max(T.c.stream_version), 0)).where(
            T.c.stream_id == stream_id
        )
        return int(self._rows(query)[0][0])

    def stream_ids(self) -> list[str]:
        """Every stream, in the order it was opened."""
        query = select(T.c.stream_id).where(T.c.stream_version == 1).order_by(T.c.position)
        return [r[0] for r in self._rows(query)]

    def _rows(self, query: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(query).all())
        except DBAPIError as exc:
            raise _translate(exc) from None

    def decode_rows(self, rows: Iterable[Any]) -> list[RecordedEvent]:
        """Decode raw ``events`` rows (for readers that run their own query)."""
        return [self._decode(r._mapping) for r in rows]

    def _decode(self, row: Any) -> RecordedEvent:
        type_name = row["event_type"]
        cls = event_class(type_name)
        data = upcast(type_name, row["schema_version"], json.loads(row["payload"]))
        data = unseal(cls, data, self._keyring, event_class)
        event: Event = cls.model_validate(data)
        return RecordedEvent(
            position=row["position"],
            event_id=row["event_id"],
            stream_id=row["stream_id"],
            stream_version=row["stream_version"],
            type=type_name,
            schema_version=row["schema_version"],
            occurred_at=row["occurred_at"],
            recorded_at=row["recorded_at"],
            recorded_by=row["recorded_by"],
            recorded_role=row["recorded_role"],
            correlation_id=row["correlation_id"],
            event=event,
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )


class _Writer:
    """A transaction holding the single writer lock until it commits or rolls back."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Connection:
        conn = self._engine.connect()
        if self._engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        self._conn = conn
        self._tx = conn.begin()
        if self._engine.dialect.name == "postgresql":
            # Its own statement, so the next statement's snapshot is taken with the lock held.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK_KEY})
        return conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self._conn.close()


def _same_all(existing: Sequence[RecordedEvent], write: StreamWrite) -> bool:
    """Whether every draft is already stored with the same content (a safe retry).

    Raises if an id is stored with other content, or if only some of the drafts are.
    """
    by_id = {e.event_id: e for e in existing}
    if not by_id:
        return False
    for draft in write.drafts:
        stored = by_id.get(draft.event_id)
        if stored is None:
            raise DuplicateEventConflict(
                next(iter(by_id)), "companions (it was appended in another batch)"
            )
        difference = _difference(stored, write.stream_id, draft)
        if difference:
            raise DuplicateEventConflict(draft.event_id, difference)
    return True


def _difference(stored: RecordedEvent, stream_id: str, draft: Draft) -> str:
    if stored.stream_id != stream_id:
        return "case"
    if stored.type != draft.event.type:
        return "type"
    if stored.occurred_at != draft.occurred_at:
        return "occurred_at"
    if stored.event != draft.event:
        return "content"
    return ""


def _translate(exc: DBAPIError) -> Exception:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if "no such table" in message or ("relation" in message and "does not exist" in message):
        return SchemaNotReady("the database has no event store yet: run 'tracker db upgrade'")
    return StoreUnavailable(f"database error: {type(exc.orig).__name__ if exc.orig else 'unknown'}")
