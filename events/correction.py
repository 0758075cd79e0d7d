"""Corrections: the only way to change the record is to add to it.

A correction supersedes an earlier event with a replacement of the same type, or retracts
it. The original stays in the log, so an auditor sees both and when each was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from events.base import Event, PersonalReason

if TYPE_CHECKING:
    from events.envelope import RecordedEvent


def event_class(type_name: str) -> type[Event]:
    """Late import of the catalogue (it imports this module)."""
    from events.catalogue import event_class as lookup

    return lookup(type_name)


class EventSuperseded(Event):
    """An earlier event was wrong; ``replacement`` (same type) stands in its place."""

    type = "event_superseded"
    family = "correction"

    target_event_id: UUID
    reason: PersonalReason
    replacement_type: str
    replacement: dict[str, Any]
    replacement_occurred_at: datetime | None = None


class EventRetracted(Event):
    """An earlier event should not have been recorded at all."""

    type = "event_retracted"
    family = "correction"

    target_event_id: UUID
    reason: PersonalReason


def apply_corrections(recorded: Sequence[RecordedEvent]) -> list[RecordedEvent]:
    """The effective history: retracted events dropped, superseded ones replaced in place.

    Only corrections present in ``recorded`` apply, so a history read "as known at" a
    time shows the record as it stood then. The correction events themselves stay in the
    result (after the event they correct), so readers can mark what was changed.
    """
    retracted: set[UUID] = set()
    replaced: dict[UUID, RecordedEvent] = {}
    for rec in recorded:
        ev = rec.event
        if isinstance(ev, EventRetracted):
            retracted.add(ev.target_event_id)
        elif isinstance(ev, EventSuperseded):
            replaced[ev.target_event_id] = rec
    if not retracted and not replaced:
        return list(recorded)
    out: list[RecordedEvent] = []
    for rec in recorded:
        if rec.event_id in retracted:
            continue
        correction = replaced.get(rec.event_id)
        if correction is not None:
            sup = correction.event
            assert isinstance(sup, EventSuperseded)
            rec = replace(
                rec,
                event=event_class(sup.replacement_type).model_validate(sup.replacement),
                occurred_at=sup.replacement_occurred_at or rec.occurred_at,
            )
        out.append(rec)
    return out
