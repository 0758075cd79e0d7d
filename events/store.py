"""The append-only event store on SQLAlchemy Core: SQLite (embedded) or PostgreSQL.

Global order is gap-safe: every append takes one writer lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``) *before* it reads the log
head, and keeps it until commit. Positions are therefore handed out, and become visible,
strictly in order: a reader following ``position > checkpoint`` can never see position
n+1 while n is still in flight, and a rolled-back append leaves no hole at all.
PostgreSQL makes a transaction visible before it releases its locks, so the next writer
always reads the committed head. The cost is that appends are serialised, which a
youth justice service's write rate (tens per second at peak) never notices.

Appends take one of two paths, with the same guarantees (``docs/benchmarks.md`` has the
figures). The general path: lock, read both heads, chain, insert, commit. On PostgreSQL,
a command appending to a case at a head this process has just read or written goes in a
single round trip instead: the chain is computed first, and the lock and one prepared
``INSERT ... SELECT`` that re-checks the head under the lock travel as one message. The
hot statements go to the driver connection directly; SQLAlchemy still begins and ends
every transaction (its events see them) and reads the rest.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from events.base import Event
from events.catalogue import event_class, upcast
from events.chain import GENESIS, canonical_payload, envelope_hash, iso
from events.envelope import Actor, Draft, RecordedEvent, StreamWrite
from events.schema import events as T  # noqa: N812 - the table, read like SQL
from events.sealing import Keyring, seal, unseal
from tracker.kernel.clock import Clock
from tracker.kernel.errors import (
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


class _Stamp:
    """What every event of one stream write shares: where, when, by whom, why."""

    __slots__ = (
        "correlation_id", "recorded_at", "recorded_at_iso", "recorded_at_utc", "recorded_by",
        "recorded_role", "stream_id",
    )

    def __init__(
        self, stream_id: str, recorded_at: datetime, actor: Actor, correlation_id: str
    ) -> None:
        self.stream_id = stream_id
        self.recorded_at = recorded_at
        self.recorded_at_utc = _utc(recorded_at)
        self.recorded_at_iso = iso(self.recorded_at_utc)
        self.recorded_by = actor.user_id
        self.recorded_role = actor.role
        self.correlation_id = correlation_id


class _KnownHeads:
    """The last (version, hash) this process saw of recently read or written streams.

    Each entry is a fact that never changes once committed (events are append-only), so
    it can only be out of date, never wrong; the append that relies on it re-checks it
    under the writer lock, inside its own insert, and falls back when it has moved on.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._heads: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._lock = threading.Lock()

    def hash_at(self, stream_id: str, version: int) -> str | None:
        """The hash of the stream's event at ``version``, if that is its known head."""
        if version == 0:
            return GENESIS
        head = self._heads.get(stream_id)
        return head[1] if head is not None and head[0] == version else None

    def saw(self, stream_id: str, version: int, digest: str) -> None:
        with self._lock:
            self._heads[stream_id] = (version, digest)
            self._heads.move_to_end(stream_id)
            if len(self._heads) > self._size:
                self._heads.popitem(last=False)

    def forget(self, stream_id: str) -> None:
        with self._lock:
            self._heads.pop(stream_id, None)


class _Link:
    """One event chained onto its stream, before it has a global position."""

    __slots__ = (
        "draft", "event_id", "hash", "occurred_at", "occurred_at_iso", "payload", "prev",
        "version",
    )

    def __init__(
        self, draft: Draft, occurred_at: datetime, version: int, payload: str, prev: str,
        digest: str, event_id: str, occurred_at_iso: str,
    ) -> None:
        self.draft = draft
        self.event_id = event_id
        self.occurred_at = occurred_at
        self.occurred_at_iso = occurred_at_iso
        self.version = version
        self.payload = payload
        self.prev = prev
        self.hash = digest

    def row(self, position: int, stamp: _Stamp) -> tuple[Any, ...]:
        """The ``events`` row, in ``_INSERT_COLUMNS`` order."""
        cls = type(self.draft.event)
        return (
            position, self.draft.event_id, stamp.stream_id, self.version, cls.type,
            cls.version, self.occurred_at, stamp.recorded_at_utc, stamp.recorded_by,
            stamp.recorded_role, stamp.correlation_id, self.payload, self.prev, self.hash,
        )

    def recorded(self, position: int, stamp: _Stamp) -> RecordedEvent:
        cls = type(self.draft.event)
        return RecordedEvent(
            position=position,
            event_id=self.draft.event_id,
            stream_id=stamp.stream_id,
            stream_version=self.version,
            type=cls.type,
            schema_version=cls.version,
            occurred_at=self.draft.occurred_at,
            recorded_at=stamp.recorded_at,
            recorded_by=stamp.recorded_by,
            recorded_role=stamp.recorded_role,
            correlation_id=stamp.correlation_id,
            event=self.draft.event,
            prev_hash=self.prev,
            hash=self.hash,
        )


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
        self._heads = _KnownHeads()

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
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            recorded, replayed = self._append(writes, actor, correlation_id)
        except (IntegrityError, dbapi.IntegrityError):
            # An event id already stored elsewhere: find out whether it is a retry.
            recorded = self._existing_or_raise(writes)
            replayed = True
        except (OperationalError, ProgrammingError) as exc:
            raise _translate(exc) from None
        except DBAPIError as exc:
            raise _translate(exc) from None
        except dbapi.Error as exc:  # from the driver itself, on the hot path
            raise _translate_driver(exc) from None
        except _StaleConnection as exc:
            raise _translate_driver(exc.error) from None
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
        known = self._append_at_known_head(writes, payloads, actor, correlation_id)
        if known is not None:
            return known, False
        stream_ids = list(dict.fromkeys(w.stream_id for w in writes if w.drafts))
        try:
            return self._append_locked(writes, payloads, stream_ids, actor, correlation_id)
        except _StaleConnection:
            # The pooled connection had died before anything was sent: go again, afresh.
            return self._append_locked(writes, payloads, stream_ids, actor, correlation_id)

    def _append_locked(
        self,
        writes: Sequence[StreamWrite],
        payloads: Sequence[Sequence[str]],
        stream_ids: Sequence[str],
        actor: Actor,
        correlation_id: str,
    ) -> tuple[list[RecordedEvent], bool]:
        with _writer(self.engine) as writer:
            # The lock first, in its own statement; then both heads in one statement.
            position, heads = writer.lock_and_read_heads(stream_ids)
            rows: list[tuple[Any, ...]] = []
            recorded: list[RecordedEvent] = []
            replayed: list[RecordedEvent] = []
            for write, write_payloads in zip(writes, payloads, strict=True):
                if not write.drafts:
                    continue
                head = heads[write.stream_id]
                if write.expected_version is None or write.expected_version != head.version:
                    existing = self._existing(writer.conn, write.drafts)
                    if existing is not None and _same_all(existing, write):
                        replayed.extend(existing)
                        continue
                    if write.expected_version is not None:
                        raise ConcurrencyConflict(
                            write.stream_id, write.expected_version, head.version
                        )
                stamp = _Stamp(write.stream_id, self._recorded_at(write), actor, correlation_id)
                version, prev = head.version, head.hash
                for draft, payload in zip(write.drafts, write_payloads, strict=True):
                    position += 1
                    version += 1
                    row, rec = self._row(draft, payload, stamp, position, version, prev)
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
            writer.insert(rows)
        for stream_id, head in heads.items():
            self._heads.saw(stream_id, head.version, head.hash)
        return recorded, False

    def _append_at_known_head(
        self,
        writes: Sequence[StreamWrite],
        payloads: Sequence[Sequence[str]],
        actor: Actor,
        correlation_id: str,
    ) -> list[RecordedEvent] | None:
        """The usual command, in one round trip: one stream, at a head this process knows.

        A command appends to the case it has just read, at the version it read, and that
        read (or this process's last append) told us the hash at that version. The hash
        chain can then be computed before the transaction, and lock, check and insert go
        to the server as one message, which is also the whole transaction (unless
        something listens for SQLAlchemy's commit event, which must run before COMMIT).
        The insert itself checks, under the lock, that the stream's head is still that
        version and hash; if it is not (or nothing is known), returns None and the
        general path takes over, which reports the conflict, recognises a replay or
        appends as usual. ``recorded_at`` is read just before the message is sent
        rather than once the lock is held (within a stream it still rises with the
        version: the next append can only be chained after this one is read back).
        """
        live = [(w, p) for w, p in zip(writes, payloads, strict=True) if w.drafts]
        if len(live) != 1 or self.engine.dialect.name != "postgresql":
            return None
        write, write_payloads = live[0]
        expected = write.expected_version
        if expected is None or len(write.drafts) > _PostgresWriter.KNOWN_HEAD_MAX:
            return None
        prev = self._heads.hash_at(write.stream_id, expected)
        if prev is None:
            return None
        stamp = _Stamp(write.stream_id, self._recorded_at(write), actor, correlation_id)
        links: list[_Link] = []
        version, link_prev = expected, prev
        for draft, payload in zip(write.drafts, write_payloads, strict=True):
            version += 1
            link = self._link(draft, payload, stamp, version, link_prev)
            links.append(link)
            link_prev = link.hash
        try:
            with _writer(self.engine) as writer:
                assert isinstance(writer, _PostgresWriter)
                first = writer.insert_at_head(stamp, expected, prev, links)
        except (_HeadMoved, _StaleConnection):
            self._heads.forget(write.stream_id)
            return None
        self._heads.saw(write.stream_id, version, link_prev)
        return [link.recorded(first + i, stamp) for i, link in enumerate(links)]

    def _recorded_at(self, write: StreamWrite) -> datetime:
        """The server clock, unless this store trusts the writer's own (the seeders)."""
        if self._trust_recorded_at and write.recorded_at is not None:
            return write.recorded_at
        return self._clock.now()

    def _payload(self, draft: Draft, subject_id: str | None) -> str:
        cls = type(draft.event)
        data = draft.event.model_dump(mode="json")
        return canonical_payload(seal(cls, data, subject_id, self._keyring, event_class))

    def _link(
        self, draft: Draft, payload: str, stamp: _Stamp, version: int, prev: str
    ) -> _Link:
        cls = type(draft.event)
        occurred_at = _utc(draft.occurred_at)
        event_id, occurred_at_iso = str(draft.event_id), iso(occurred_at)
        digest = envelope_hash(
            prev, event_id, stamp.stream_id, version, cls.type, cls.version,
            occurred_at_iso, stamp.recorded_at_iso, stamp.recorded_by, stamp.recorded_role,
            stamp.correlation_id, payload,
        )
        return _Link(draft, occurred_at, version, payload, prev, digest, event_id, occurred_at_iso)

    def _row(
        self,
        draft: Draft,
        payload: str,
        stamp: _Stamp,
        position: int,
        version: int,
        prev: str,
    ) -> tuple[tuple[Any, ...], RecordedEvent]:
        link = self._link(draft, payload, stamp, version, prev)
        return link.row(position, stamp), link.recorded(position, stamp)

    def _existing(self, conn: Connection, drafts: Sequence[Draft]) -> list[RecordedEvent] | None:
        ids = [d.event_id for d in drafts]
        rows = conn.execute(
            select(T).where(T.c.event_id.in_(ids)).order_by(T.c.position)
        ).all()
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
        events = [self._decode(r._mapping) for r in self._rows(query)]
        if events and to_version is None and recorded_before is None:
            self._heads.saw(stream_id, events[-1].stream_version, events[-1].hash)
        return events

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
        for attempt in range(2):
            try:
                with self.engine.connect() as conn:
                    return list(conn.execute(query).all())
            except DBAPIError as exc:
                if attempt == 0 and exc.connection_invalidated:
                    continue  # a pooled connection had died; a read can simply go again
                raise _translate(exc) from None
        raise AssertionError("unreachable")

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


class _HeadMoved(Exception):
    """The stream's head was not the one the append was chained onto."""


class _StaleConnection(Exception):
    """The pooled connection was dead when the append began (nothing was written)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _Writer:
    """A transaction holding the single writer lock until it commits or rolls back.

    The hot statements (lock, heads, insert) go straight to the driver connection, inside
    a transaction that SQLAlchemy begins and ends: no SQL compilation or type processing
    per append, prepared statements (psycopg prepares a statement after five uses), and
    SQLAlchemy's events and pool still see every begin, commit and rollback.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> _Writer:
        conn = self._engine.connect()
        try:
            self.conn = self._options(conn)
            self._tx = self.conn.begin()  # SQLite: BEGIN IMMEDIATE, which may time out
            self.driver: Any = self.conn.connection.driver_connection
        except BaseException:
            conn.close()
            raise
        return self

    def _options(self, conn: Connection) -> Connection:
        return conn

    def lock_and_read_heads(self, stream_ids: Sequence[str]) -> tuple[int, dict[str, StreamHead]]:
        """Take the writer lock, then read the log head and each stream's head.

        Raises ``_StaleConnection`` if the connection turns out to be dead: nothing has
        been written yet, so the append may safely start again on another.
        """
        try:
            return self._lock_and_read_heads(stream_ids)
        except self._engine.dialect.loaded_dbapi.Error as exc:
            if self._engine.dialect.is_disconnect(exc, self.driver, None):
                raise _StaleConnection(exc) from exc
            raise

    def _lock_and_read_heads(
        self, stream_ids: Sequence[str]
    ) -> tuple[int, dict[str, StreamHead]]:
        raise NotImplementedError

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows in ``_INSERT_COLUMNS`` order (Python values, aware UTC datetimes)."""
        raise NotImplementedError

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                try:
                    self._tx.commit()
                except BaseException:
                    self._discard()
                    raise
            elif isinstance(exc, _StaleConnection) or (
                isinstance(exc, self._engine.dialect.loaded_dbapi.Error)
                and self._engine.dialect.is_disconnect(exc, self.driver, None)
            ):
                self.conn.invalidate()
            else:
                self._tx.rollback()
        finally:
            try:
                self._finish()
            finally:
                self.conn.close()

    def _finish(self) -> None:
        """Put the connection back as the pool lent it."""

    def _discard(self) -> None:
        # A commit that failed (or was refused by an event hook) leaves SQLAlchemy's
        # transaction inactive, and it would hand the connection back to the pool with
        # its transaction, and the writer lock, still open. Roll it back here, or drop it.
        try:
            self.driver.rollback()
        except Exception:
            self.conn.invalidate()


# The statements below name the ``events`` table and its columns as ``events.schema``
# defines them; ``tests`` append and read through both SQLite and PostgreSQL.
_INSERT_COLUMNS = (
    "position, event_id, stream_id, stream_version, event_type, schema_version, "
    "occurred_at, recorded_at, recorded_by, recorded_role, correlation_id, payload, "
    "prev_hash, hash"
)


class _PostgresWriter(_Writer):
    """PostgreSQL: ``BEGIN``, the advisory lock and the heads in one round trip.

    psycopg would send its own ``BEGIN`` and wait for it; instead the connection is put
    in autocommit mode for the duration and ``BEGIN`` leads the pipeline. The server
    runs the pipelined statements one after the other, each with its own snapshot, so
    the heads are read only once the lock statement has returned holding the lock.
    ``COMMIT`` and ``ROLLBACK`` still go through SQLAlchemy (psycopg sends them
    whenever the server is in a transaction, autocommit or not).
    """

    LOCK = "SELECT pg_advisory_xact_lock(%d)" % APPEND_LOCK_KEY  # noqa: UP031
    HEADS = (
        "SELECT (SELECT coalesce(max(position), 0) FROM events), h.stream_version, h.hash"
        " FROM (SELECT 1) AS one LEFT JOIN (SELECT stream_version, hash FROM events"
        " WHERE stream_id = %s ORDER BY stream_version DESC LIMIT 1) AS h ON true"
    )
    HEAD = (
        "SELECT stream_version, hash FROM events WHERE stream_id = %s "
        "ORDER BY stream_version DESC LIMIT 1"
    )
    INSERT = (
        "INSERT INTO events (" + _INSERT_COLUMNS + ") "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )

    def __enter__(self) -> _Writer:
        super().__enter__()
        driver = self.driver
        # Only with the server's default transaction characteristics; otherwise let
        # psycopg begin the transaction as configured (one more round trip).
        self._own_begin = not driver.autocommit and (
            driver.isolation_level is None
            and driver.read_only is None
            and driver.deferrable is None
        )
        if self._own_begin:
            driver.autocommit = True
        return self

    def _lock_and_read_heads(
        self, stream_ids: Sequence[str]
    ) -> tuple[int, dict[str, StreamHead]]:
        driver = self.driver
        with driver.pipeline():
            if driver.autocommit:  # ours, or an AUTOCOMMIT engine's: begin explicitly
                driver.execute("BEGIN")
            driver.execute(self.LOCK)
            cursors = [
                driver.execute(self.HEADS if i == 0 else self.HEAD, (sid,))
                for i, sid in enumerate(stream_ids)
            ]
        position = 0
        heads: dict[str, StreamHead] = {}
        for i, (sid, cursor) in enumerate(zip(stream_ids, cursors, strict=True)):
            row = cursor.fetchone()
            if i == 0:
                position, row = row[0], row[1:]
            heads[sid] = StreamHead(0, GENESIS) if row is None or row[0] is None else (
                StreamHead(row[0], row[1])
            )
        return int(position), heads

    COPY = "COPY events (" + _INSERT_COLUMNS + ") FROM STDIN"
    COPY_FROM = 16  # rows from which COPY beats a pipelined executemany (about 2x)

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        with self.driver.cursor() as cursor:
            if len(rows) == 1:
                cursor.execute(self.INSERT, rows[0])
            elif len(rows) < self.COPY_FROM:
                cursor.executemany(self.INSERT, rows)  # pipelined: one round trip
            else:
                with cursor.copy(self.COPY) as copy:
                    for row in rows:
                        copy.write_row(row)

    KNOWN_HEAD_MAX = 8  # events in one append that ``insert_at_head`` takes

    def insert_at_head(
        self, stamp: _Stamp, expected: int, prev: str, links: Sequence[_Link]
    ) -> int:
        """Lock, check the head and insert in one round trip; the first position taken.

        One simple-protocol message, one packet each way: the lock, in its own
        statement; then ``EXECUTE`` of an ``INSERT ... SELECT`` prepared on this
        connection, which reads the log head and the stream head (with a snapshot taken
        once the lock is held) and inserts only if the stream's head is still
        ``(expected, prev)``. psycopg binds the values client-side, as quoted literals.
        Raises ``_HeadMoved`` when nothing was inserted.
        """
        # Moments and ids go as the text already spelt for the hash (the statement casts).
        params: list[Any] = [
            stamp.stream_id, stamp.recorded_at_iso, stamp.recorded_by, stamp.recorded_role,
            stamp.correlation_id, expected, prev,
        ]
        for link in links:
            cls = type(link.draft.event)
            params += [
                link.event_id, link.version, cls.type, cls.version, link.occurred_at_iso,
                link.payload, link.prev, link.hash,
            ]
        # Without a commit listener, the message is its own transaction: PostgreSQL runs
        # the statements of one simple query as one implicit transaction, committed once
        # the last succeeds (and rolled back if one fails). Otherwise BEGIN explicitly and
        # leave COMMIT to SQLAlchemy. (With an isolation level configured, psycopg has
        # begun the transaction itself and SQLAlchemy commits it.)
        begin = "BEGIN; " if self.driver.autocommit and self.conn.dispatch.commit else ""
        placeholders = ", ".join(["%s"] * len(params))
        for attempt in range(2):
            name = self._prepared(len(links))
            message = f"{begin}EXECUTE {self.LOCK_NAME}; EXECUTE {name}({placeholders})"
            try:
                with psycopg.ClientCursor(self.driver) as cursor:
                    cursor.execute(message, params)
                    for _ in range(2 if begin else 1):
                        cursor.nextset()
                    positions = [r[0] for r in cursor.fetchall()]
                break
            except psycopg.errors.InvalidSqlStatementName:
                # psycopg sends DEALLOCATE ALL after a rollback once it has prepared
                # statements of its own, and that takes ours too: prepare them again.
                self.driver.rollback()
                self._prepared_here().clear()
                if attempt:
                    raise _HeadMoved from None
            except self._engine.dialect.loaded_dbapi.Error as exc:
                if self._engine.dialect.is_disconnect(exc, self.driver, None):
                    raise _StaleConnection(exc) from exc
                raise
        if not positions:
            raise _HeadMoved
        return int(min(positions))

    def _prepared_here(self) -> set[str]:
        names: set[str] = self.conn.connection.info.setdefault(_PREPARED, set())
        return names

    LOCK_NAME = "tracker_append_lock_v1"

    def _prepared(self, n: int) -> str:
        """The name of the insert of ``n`` events at a known head, prepared on this
        connection with the lock statement (once; the pool keeps the connection, and
        this note with it)."""
        name = f"tracker_append_at_head_v2_{n}"
        names = self._prepared_here()
        for wanted, sql in ((self.LOCK_NAME, self.LOCK), (name, None)):
            if wanted not in names:
                with contextlib.suppress(psycopg.errors.DuplicatePreparedStatement):
                    self.driver.execute(f"PREPARE {wanted} AS {sql or _known_head_insert(n)}")
                names.add(wanted)
        return name

    def _finish(self) -> None:
        if self._own_begin and not self.conn.invalidated:
            try:
                if self.driver.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    self.driver.rollback()
                self.driver.autocommit = False
            except Exception:
                self.conn.invalidate()


class _SqliteWriter(_Writer):
    """SQLite: ``BEGIN IMMEDIATE`` is the lock; statements run in-process."""

    POSITION = "SELECT coalesce(max(position), 0) FROM events"
    HEAD = (
        "SELECT stream_version, hash FROM events WHERE stream_id = ? "
        "ORDER BY stream_version DESC LIMIT 1"
    )
    INSERT = (
        "INSERT INTO events (" + _INSERT_COLUMNS + ") "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def _options(self, conn: Connection) -> Connection:
        return conn.execution_options(sqlite_begin="IMMEDIATE")

    def _lock_and_read_heads(
        self, stream_ids: Sequence[str]
    ) -> tuple[int, dict[str, StreamHead]]:
        driver = self.driver
        position = driver.execute(self.POSITION).fetchone()[0]
        heads: dict[str, StreamHead] = {}
        for sid in stream_ids:
            row = driver.execute(self.HEAD, (sid,)).fetchone()
            heads[sid] = StreamHead(0, GENESIS) if row is None else StreamHead(row[0], row[1])
        return int(position), heads

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        # The spellings SQLAlchemy's types store on SQLite: hex UUIDs, naive UTC datetimes.
        stored = [
            (p, e.hex, s, v, t, sv, _sqlite_time(o), _sqlite_time(r), *rest)
            for p, e, s, v, t, sv, o, r, *rest in rows
        ]
        if len(stored) == 1:
            self.driver.execute(self.INSERT, stored[0])
        else:
            self.driver.executemany(self.INSERT, stored)


@functools.cache
def _known_head_insert(n: int) -> str:
    """The insert of ``n`` events at a known stream head, for ``PREPARE`` (see
    ``_PostgresWriter.insert_at_head``): $1-$5 the envelope the events share, $6 and $7
    the head they are chained onto, then eight values per event."""
    values = ", ".join(
        f"({i + 1}, ${8 + 8 * i}::uuid, ${9 + 8 * i}::integer, ${10 + 8 * i}::text,"
        f" ${11 + 8 * i}::smallint, ${12 + 8 * i}::timestamptz, ${13 + 8 * i}::text,"
        f" ${14 + 8 * i}::text, ${15 + 8 * i}::text)"
        for i in range(n)
    )
    # Only constants are spliced in: every value travels as a parameter.
    return (
        "INSERT INTO events (position, event_id, stream_id, stream_version, event_type,"  # noqa: S608
        " schema_version, occurred_at, recorded_at, recorded_by, recorded_role,"
        " correlation_id, payload, prev_hash, hash)"
        " SELECT m.p + v.n, v.event_id, $1::text, v.stream_version, v.event_type,"
        " v.schema_version, v.occurred_at, $2::timestamptz, $3::text, $4::text, $5::text,"
        " v.payload, v.prev_hash, v.hash"
        " FROM (SELECT coalesce(max(position), 0) AS p FROM events) AS m,"
        f" (VALUES {values})"
        " AS v (n, event_id, stream_version, event_type, schema_version, occurred_at,"
        " payload, prev_hash, hash)"
        " WHERE (SELECT coalesce(max(e.stream_version), 0) FROM events AS e"
        " WHERE e.stream_id = $1::text) = $6::integer"
        " AND ($6::integer = 0 OR EXISTS (SELECT 1 FROM events AS e"
        " WHERE e.stream_id = $1::text AND e.stream_version = $6::integer"
        " AND e.hash = $7::text))"
        " RETURNING position"
    )


_PREPARED = "tracker_prepared_statements"  # on a pooled connection: names prepared


def _writer(engine: Engine) -> _Writer:
    if engine.dialect.name == "postgresql":
        return _PostgresWriter(engine)
    if engine.dialect.name == "sqlite":
        return _SqliteWriter(engine)
    raise StoreUnavailable(f"the event store does not support {engine.dialect.name}")


def _sqlite_time(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; use an aware UTC datetime")
    return moment.astimezone(UTC)


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


def _translate_driver(exc: Exception) -> Exception:
    message = str(exc)
    if "no such table" in message or ("relation" in message and "does not exist" in message):
        return SchemaNotReady("the database has no event store yet: run 'tracker db upgrade'")
    return StoreUnavailable(f"database error: {type(exc).__name__}")
