"""Corrections: the only way to change the record is to add to it.

A correction supersedes an earlier event with a replacement of the same type, or retracts
it. The original stays in the log, so an auditor sees both and when each was recorded.
Applying them to a history is a domain rule: ``tracker.domain.corrections``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from events.base import BoundedMoment, Event, PersonalReason


class EventSuperseded(Event):
    """An earlier event was wrong; ``replacement`` (same type) stands in its place."""

    type = "event_superseded"
    family = "correction"

    target_event_id: UUID
    reason: PersonalReason
    replacement_type: str
    replacement: dict[str, Any]
    replacement_occurred_at: BoundedMoment | None = None


class EventRetracted(Event):
    """An earlier event should not have been recorded at all."""

    type = "event_retracted"
    family = "correction"

    target_event_id: UUID
    reason: PersonalReason
