"""The effective history of a case: its corrections applied (retractions and supersessions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from events.catalogue import event_class
from events.correction import EventRetracted, EventSuperseded
from events.envelope import RecordedEvent


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
