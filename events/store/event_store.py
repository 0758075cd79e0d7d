"""The store's API: append (``writer``), read back (``codec``), driver errors translated."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError

from events.base import BASIC
from events.envelope import Actor, Draft, RecordedEvent, StreamWrite
from events.schema import child_keys
from events.schema import events as T  # noqa: N812 - the table, read like SQL
from events.sealing import Keyring, Scope, SqlKeyring
from events.store.backends import backend_for
from events.store.base import StaleConnection
from events.store.codec import decode
from events.store.writer import Appender, KnownHeads
from tracker.kernel.clock import Clock
from tracker.kernel.errors import CaseAlreadyExists

AppendListener = Callable[[Sequence[RecordedEvent]], None]


_STREAM = select(T).where(T.c.stream_id == bindparam("stream_id")).order_by(T.c.stream_version)
_STREAM_FROM = _STREAM.where(T.c.stream_version >= bindparam("from_version"))
"""A case's events (from a version on): built once, because every command reads its case's
tail and building the expression each time cost more than SQLite's whole read of it."""


class _NoKeys:
    """A keyring that opens nothing: personal fields read as erased."""

    def key_for(self, child_id: str, *, create: bool, tier: str = BASIC) -> bytes | None:
        return None

    def tier_destroyed(self, child_id: str, tier: str) -> bool:
        return True


NO_KEYS = _NoKeys()


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
        self._listeners: list[AppendListener] = []
        self._heads = KnownHeads()
        self._appender = Appender(engine, keyring, clock, self._heads, trust_recorded_at)

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
        with self._translated():
            recorded, replayed = self._appender.append(writes, actor, correlation_id)
        if not replayed:
            for listener in self._listeners:
                listener(recorded)
        return recorded

    def adopt_stream(
        self, stream_id: str, rows: Sequence[Mapping[str, Any]],
        key_row: Mapping[str, Any] | None = None,
    ) -> list[RecordedEvent]:
        """Store another database's verified events of one stream verbatim (same ids, times,
        authors, sealed payloads and hashes: the chain goes on unbroken), with the child's
        key row, in one transaction under the writer lock. Only into an empty stream.

        For a transfer bundle (``tracker.services.bundle``), which verifies the chain first;
        the events were decided where they were recorded, so they are copied, not decided."""
        with self._translated(), backend_for(self.engine).writer(self.engine) as writer:
            position, heads = writer.lock_and_read_heads([stream_id])
            if heads[stream_id].version != 0:
                raise CaseAlreadyExists(f"case {stream_id} already exists here")
            if key_row is not None:
                writer.conn.execute(insert(child_keys).values(**key_row))
            out: list[tuple[Any, ...]] = []
            for row in rows:
                position += 1
                out.append((
                    position, UUID(str(row["event_id"])), stream_id, row["stream_version"],
                    row["event_type"], row["schema_version"], row["occurred_at"],
                    row["recorded_at"], row["recorded_by"], row["recorded_role"],
                    row["correlation_id"], row["payload"], row["prev_hash"], row["hash"],
                ))
            writer.insert(out)
        self._heads.forget(stream_id)
        recorded = self.read_stream(stream_id)
        for listener in self._listeners:
            listener(recorded)
        return recorded

    def raw_stream(self, stream_id: str) -> list[dict[str, Any]]:
        """One stream's rows exactly as stored (sealed payloads, hashes), in order: what a
        transfer bundle carries."""
        query = select(T).where(T.c.stream_id == stream_id).order_by(T.c.stream_version)
        return [dict(r._mapping) for r in self._rows(query)]

    def destroy_key(self, child_id: str, now: datetime, scope: Scope = "all") -> bool:
        """Crypto-shred a child's keys (``scope``: the detail key only, or both) under the
        writer lock; False if there was none.

        Holding the lock, the destruction is ordered with every append: one that sealed
        with the key commits before it (and is erased with the rest) or is refused after
        it (``KeyUnavailable``), never stored under a key already gone.
        """
        with self._translated(), backend_for(self.engine).writer(self.engine) as writer:
            writer.lock_and_read_heads([])
            done = SqlKeyring.destroy_in(writer.conn, child_id, now, scope)
        if isinstance(self._keyring, SqlKeyring):
            self._keyring.destroyed(child_id, scope)
        return done

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The driver's errors as ours (the hot write path bypasses SQLAlchemy's wrapping)."""
        try:
            yield
        except (DBAPIError, self.engine.dialect.loaded_dbapi.Error) as exc:
            raise backend_for(self.engine).translate(exc) from None
        except StaleConnection as exc:
            raise backend_for(self.engine).translate(exc.error) from None

    # -- reading -----------------------------------------------------------------------

    def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        recorded_before: datetime | None = None,
        unseal: bool = True,
        from_version: int | None = None,
    ) -> list[RecordedEvent]:
        """One case's events in order: all, up to a version, or as recorded before a time;
        ``from_version`` starts at that version (a cached state's last event, then its tail).

        ``unseal=False`` leaves personal fields unopened (they read as erased): for deciding
        who may see a case, which needs no personal data, and must not open a child's key
        (nor cost more) for a case the reader may not see.
        """
        keyring = self._keyring if unseal else NO_KEYS
        if to_version is None and recorded_before is None:
            rows = (self._rows(_STREAM, {"stream_id": stream_id}) if from_version is None
                    else self._rows(_STREAM_FROM, {"stream_id": stream_id,
                                                   "from_version": from_version}))
            events = [decode(r._mapping, keyring) for r in rows]
            if events:
                self._heads.saw(stream_id, events[-1].stream_version, events[-1].hash)
            return events
        query = select(T).where(T.c.stream_id == stream_id).order_by(T.c.stream_version)
        if from_version is not None:
            query = query.where(T.c.stream_version >= from_version)
        if to_version is not None:
            query = query.where(T.c.stream_version <= to_version)
        if recorded_before is not None:
            query = query.where(T.c.recorded_at < recorded_before)
        return [decode(r._mapping, keyring) for r in self._rows(query)]

    def read_event(self, stream_id: str, event_id: UUID) -> RecordedEvent | None:
        """One event of a stream by its id, unsealed (None if the stream has no such event)."""
        query = select(T).where(T.c.stream_id == stream_id, T.c.event_id == event_id)
        rows = self._rows(query)
        return decode(rows[0]._mapping, self._keyring) if rows else None

    def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events of all streams in global order, after a position."""
        query = select(T).where(T.c.position > after).order_by(T.c.position).limit(limit)
        return [decode(r._mapping, self._keyring) for r in self._rows(query)]

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

    def streams_of_subject(self, child_id: str) -> list[str]:
        """The cases opened for a child, in the order they were opened.

        The child id is pseudonymous and stored in clear in ``case_opened``; the payload
        is read as text (no key is opened), filtered by a prefix match, then exactly.
        """
        query = (
            select(T.c.stream_id, T.c.payload)
            .where(T.c.event_type == "case_opened", T.c.payload.contains(child_id, autoescape=True))
            .order_by(T.c.position)
        )
        return [
            stream for stream, payload in self._rows(query)
            if json.loads(payload).get("child_id") == child_id
        ]

    def streams_allocated_to(self, practitioner_id: str) -> list[str]:
        """The cases that ever allocated ``practitioner_id`` (ended or not), read as text like
        ``streams_of_subject``: a keyworker's list starts here, then each case is judged."""
        query = (
            select(T.c.stream_id, T.c.payload)
            .where(T.c.event_type == "case_manager_allocated",
                   T.c.payload.contains(practitioner_id, autoescape=True))
            .order_by(T.c.position)
        )
        found = [stream for stream, payload in self._rows(query)
                 if json.loads(payload).get("practitioner_id") == practitioner_id]
        return list(dict.fromkeys(found))

    def subject_of(self, stream_id: str) -> str | None:
        """The child a case was opened for (read from the payload text: no key opened)."""
        query = select(T.c.payload).where(
            T.c.stream_id == stream_id, T.c.event_type == "case_opened"
        )
        rows = self._rows(query)
        child = json.loads(rows[0][0]).get("child_id") if rows else None
        return str(child) if child else None

    def _rows(self, query: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        for attempt in range(2):
            try:
                with self.engine.connect() as conn:
                    return list(conn.execute(query, params).all())
            except DBAPIError as exc:
                if attempt == 0 and exc.connection_invalidated:
                    continue  # a pooled connection had died; a read can simply go again
                raise backend_for(self.engine).translate(exc) from None
        raise AssertionError("unreachable")
