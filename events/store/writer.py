"""The append paths: the general one, under the writer lock, and the known-head one, in a
single round trip where the back end offers it (``Writer.KNOWN_HEAD_MAX``). The package's
docstring says why both are gap-safe."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from events.base import BASIC, DETAIL
from events.chain import GENESIS
from events.envelope import Actor, Draft, RecordedEvent, StreamWrite
from events.schema import events as T  # noqa: N812 - the table, read like SQL
from events.sealing import PREFIX, Keyring, detail_token_of, key_slot
from events.store.backends import backend_for
from events.store.base import HeadMoved, StaleConnection, StreamHead, Writer
from events.store.codec import Link, Stamp, decode, link, sealed_payload
from tracker.kernel.clock import Clock
from tracker.kernel.errors import (
    ConcurrencyConflict,
    DuplicateEventConflict,
    KeyUnavailable,
    StoreUnavailable,
)


class KnownHeads:
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


class Appender:
    """Seals, chains and inserts stream writes; recognises a retry of stored events."""

    def __init__(
        self, engine: Engine, keyring: Keyring, clock: Clock, heads: KnownHeads,
        trust_recorded_at: bool,
    ) -> None:
        self.engine = engine
        self._new_writer = backend_for(engine).append_writer(engine)
        self._keyring = keyring
        self._clock = clock
        self._heads = heads
        self._trust_recorded_at = trust_recorded_at

    def append(
        self, writes: Sequence[StreamWrite], actor: Actor, correlation_id: str
    ) -> tuple[list[RecordedEvent], bool]:
        """The recorded events, and whether they were stored before (a replayed retry).

        Driver errors other than a refused duplicate are left to the caller to translate.
        """
        try:
            return self._append(writes, actor, correlation_id)
        except (IntegrityError, self.engine.dialect.loaded_dbapi.IntegrityError):
            # An event id already stored elsewhere: find out whether it is a retry.
            return self._existing_or_raise(writes), True

    def _append(
        self, writes: Sequence[StreamWrite], actor: Actor, correlation_id: str
    ) -> tuple[list[RecordedEvent], bool]:
        # Seal first, outside the writer lock: it may create a child's key (its own write).
        payloads = [
            [sealed_payload(d, w.subject_id, self._keyring) for d in w.drafts] for w in writes
        ]
        known = self._append_at_known_head(writes, payloads, actor, correlation_id)
        if known is not None:
            return known, False
        stream_ids = list(dict.fromkeys(w.stream_id for w in writes if w.drafts))
        try:
            return self._append_locked(writes, payloads, stream_ids, actor, correlation_id)
        except StaleConnection:
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
        with self._new_writer() as writer:
            # The lock first, in its own statement; then both heads in one statement.
            slots = _sealed_for(writes, payloads)
            position, heads = writer.lock_and_read_heads(stream_ids, _children(slots))
            _refuse_destroyed(writer, slots)
            rows: list[tuple[Any, ...]] = []
            recorded: list[RecordedEvent] = []
            replayed: list[RecordedEvent] = []
            for write, write_payloads in zip(writes, payloads, strict=True):
                if not write.drafts:
                    continue
                head = heads[write.stream_id]
                if write.expected_version is None or write.expected_version != head.version:
                    with writer.reading() as conn:
                        existing = self._existing(conn, write.drafts)
                    if existing is not None and _same_all(existing, write):
                        replayed.extend(existing)
                        continue
                    if write.expected_version is not None:
                        raise ConcurrencyConflict(
                            write.stream_id, write.expected_version, head.version
                        )
                stamp = Stamp(write.stream_id, self._recorded_at(write),
                              write.actor or actor, correlation_id)
                version, prev = head.version, head.hash
                for draft, payload in zip(write.drafts, write_payloads, strict=True):
                    position += 1
                    version += 1
                    chained = link(draft, payload, stamp, version, prev)
                    rows.append(chained.row(position, stamp))
                    recorded.append(chained.recorded(position, stamp))
                    prev = chained.hash
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
        writer_class = backend_for(self.engine).writer
        if len(live) != 1 or not writer_class.KNOWN_HEAD_MAX:
            return None
        write, write_payloads = live[0]
        live_w, live_p = [write], [write_payloads]
        expected = write.expected_version
        if expected is None or len(write.drafts) > writer_class.KNOWN_HEAD_MAX:
            return None
        prev = self._heads.hash_at(write.stream_id, expected)
        if prev is None:
            return None
        stamp = Stamp(write.stream_id, self._recorded_at(write), write.actor or actor,
                      correlation_id)
        links: list[Link] = []
        version, link_prev = expected, prev
        for draft, payload in zip(write.drafts, write_payloads, strict=True):
            version += 1
            chained = link(draft, payload, stamp, version, link_prev)
            links.append(chained)
            link_prev = chained.hash
        try:
            with writer_class(self.engine) as writer:
                first = writer.insert_at_head(
                    stamp, expected, prev, links, next(iter(_sealed_for(live_w, live_p)), None)
                )
        except (HeadMoved, StaleConnection):
            self._heads.forget(write.stream_id)
            return None
        self._heads.saw(write.stream_id, version, link_prev)
        return [chained.recorded(first + i, stamp) for i, chained in enumerate(links)]

    def _recorded_at(self, write: StreamWrite) -> datetime:
        """The server clock, unless this store trusts the writer's own (the seeders)."""
        if self._trust_recorded_at and write.recorded_at is not None:
            return write.recorded_at
        return self._clock.now()

    def _existing(self, conn: Connection, drafts: Sequence[Draft]) -> list[RecordedEvent] | None:
        ids = [d.event_id for d in drafts]
        rows = conn.execute(
            select(T).where(T.c.event_id.in_(ids)).order_by(T.c.position)
        ).all()
        if not rows:
            return None
        return [decode(r._mapping, self._keyring) for r in rows]

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


def _sealed_for(
    writes: Sequence[StreamWrite], payloads: Sequence[Sequence[str]]
) -> list[str]:
    """The keys that sealed some of these payloads, which must still live: per child,
    ``<child>:detail`` if a narrative value was sealed, else ``<child>`` (erasure destroys
    the detail key with the basic one, so the detail key's check covers both)."""
    return sorted({
        key_slot(w.subject_id, DETAIL if any(detail_token_of(w.subject_id) in p for p in ps)
                 else BASIC)
        for w, ps in zip(writes, payloads, strict=True)
        if w.subject_id is not None and any(PREFIX in p for p in ps)
    })


def _children(slots: Sequence[str]) -> list[str]:
    """The children whose keys ``slots`` name, in ``_refuse_destroyed``'s order."""
    return list(dict.fromkeys(slot.partition(":")[0] for slot in slots))


def _refuse_destroyed(writer: Writer, slots: Sequence[str]) -> None:
    """Under the writer lock: refuse to store values sealed under a key destroyed since.

    Erasure destroys a key under the same lock (``EventStore.destroy_key``), so a write
    either commits before the erasure (and is erased with the rest) or is refused here;
    it can never be stored, and answered as saved, under a key that is already gone.
    """
    if not slots:
        return
    detail: dict[str, bool] = {}  # child -> whether a narrative value was sealed
    for slot in slots:
        child, _, tier = slot.partition(":")
        detail[child] = detail.get(child, False) or tier == DETAIL
    for child, gone, detail_gone in writer.destroyed_keys(list(detail)):
        if gone or (detail[child] and detail_gone):
            raise KeyUnavailable(f"child {child}: personal data key was destroyed")


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
