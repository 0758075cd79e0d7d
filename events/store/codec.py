"""Events to rows and back: sealing and chaining on the way in, upcasting and unsealing out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from events.base import STORED, Event
from events.catalogue import event_class, upcast
from events.chain import WriteHasher, canonical_payload, iso
from events.envelope import Actor, Draft, RecordedEvent
from events.sealing import Keyring, seal, unseal


class Stamp:
    """What every event of one stream write shares: where, when, by whom, why."""

    __slots__ = (
        "_occurred", "correlation_id", "hasher", "recorded_at", "recorded_at_iso",
        "recorded_at_utc", "recorded_by", "recorded_role", "stream_id",
    )

    def __init__(
        self, stream_id: str, recorded_at: datetime, actor: Actor, correlation_id: str
    ) -> None:
        self.stream_id = stream_id
        self.recorded_at = recorded_at
        self.recorded_at_utc = utc(recorded_at)
        self.recorded_at_iso = iso(self.recorded_at_utc)
        self.recorded_by = actor.user_id
        self.recorded_role = actor.role
        self.correlation_id = correlation_id
        self.hasher = WriteHasher(
            stream_id, self.recorded_at_iso, self.recorded_by, self.recorded_role, correlation_id
        )
        self._occurred: tuple[datetime, datetime, str] | None = None

    def occurred(self, moment: datetime) -> tuple[datetime, str]:
        """``moment`` in UTC and spelt by ``iso``; a write's drafts often share one."""
        last = self._occurred
        if last is not None and last[0] == moment:
            return last[1], last[2]
        moment_utc = utc(moment)
        spelt = iso(moment_utc)
        self._occurred = (moment, moment_utc, spelt)
        return moment_utc, spelt


class Link:
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

    def row(self, position: int, stamp: Stamp) -> tuple[Any, ...]:
        """The ``events`` row, in ``INSERT_COLUMNS`` order."""
        cls = type(self.draft.event)
        return (
            position, self.draft.event_id, stamp.stream_id, self.version, cls.type,
            cls.version, self.occurred_at, stamp.recorded_at_utc, stamp.recorded_by,
            stamp.recorded_role, stamp.correlation_id, self.payload, self.prev, self.hash,
        )

    def recorded(self, position: int, stamp: Stamp) -> RecordedEvent:
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


def link(draft: Draft, payload: str, stamp: Stamp, version: int, prev: str) -> Link:
    """``draft`` chained at ``version`` onto the event whose hash is ``prev``."""
    cls = type(draft.event)
    occurred_at, occurred_at_iso = stamp.occurred(draft.occurred_at)
    event_id = str(draft.event_id)
    digest = stamp.hasher.digest(
        prev, event_id, version, cls.type, cls.version, occurred_at_iso, payload
    )
    return Link(draft, occurred_at, version, payload, prev, digest, event_id, occurred_at_iso)


def sealed_payload(draft: Draft, subject_id: str | None, keyring: Keyring) -> str:
    """The stored payload text: personal fields sealed with the child's key."""
    cls = type(draft.event)
    data = draft.event.model_dump(mode="json")
    return canonical_payload(seal(cls, data, subject_id, keyring, event_class))


def decode(row: Any, keyring: Keyring) -> RecordedEvent:
    """A stored row (mapping) as the current version of its event, unsealed."""
    type_name = row["event_type"]
    cls = event_class(type_name)
    data = upcast(type_name, row["schema_version"], json.loads(row["payload"]))
    data = unseal(cls, data, keyring, event_class)
    event: Event = cls.model_validate(data, context=STORED)
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


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; use an aware UTC datetime")
    return moment.astimezone(UTC)
