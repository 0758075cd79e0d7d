"""What wraps an event in the log: its id, place, times, author and chain link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from events.base import Event

ENVELOPE_FIELDS = (
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "recorded_role",
    "correlation_id",
)
"""The envelope a link of the hash chain covers, by name: ``RecordedEvent``, the chain's
``ChainFields`` and the ``events`` table (``type`` is stored as ``event_type``) all carry
these. The append path spells them out for speed; a test holds it to this list."""

STORED_AS = {"type": "event_type"}
"""Envelope fields whose column in the ``events`` table has another name."""


def column_of(field: str) -> str:
    """The ``events`` column that stores an envelope field."""
    return STORED_AS.get(field, field)


@dataclass(frozen=True)
class Actor:
    """Who is recording: a user id (never a name) and the role they act in."""

    user_id: str
    role: str


@dataclass(frozen=True)
class Draft:
    """An event about to be appended, with when it happened (may be back-dated)."""

    event: Event
    occurred_at: datetime
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True)
class StreamWrite:
    """Drafts for one case, the version the writer last saw, and whose key seals them.

    ``expected_version`` None means "append whatever the version" (used by tests and by
    bulk tools that checked already); commands always pass the version they decided on.
    ``recorded_at`` is honoured only by a store built with ``trust_recorded_at`` (the
    synthetic seeder, which writes a year of history as if recorded as it happened).
    """

    stream_id: str
    drafts: Sequence[Draft]
    expected_version: int | None
    subject_id: str | None = None
    recorded_at: datetime | None = None
    actor: Actor | None = None
    """Who recorded these drafts, when not the append's actor (a seeder writing managers'
    decisions beside practitioners' work in one transaction)."""


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored: the fact plus its envelope."""

    position: int
    event_id: UUID
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    recorded_role: str
    correlation_id: str
    event: Event
    prev_hash: str
    hash: str
