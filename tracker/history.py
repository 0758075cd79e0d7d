"""A case's history for people: the timeline, bitemporally.

Two separate questions an auditor asks:
- *as of* a date: what had happened by then (valid time, ``occurred_at``), with every
  correction known now applied;
- *as known at* a moment: only what had been recorded by then (``recorded_at``), so a
  back-dated entry or a later correction is absent, exactly as the record stood.
Both can be combined. Marks say what is unusual about an entry: back-dated, corrected,
retracted, a correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from events.correction import EventRetracted, EventSuperseded
from events.envelope import RecordedEvent
from tracker.bootstrap import App
from tracker.clock import local_date
from tracker.errors import CaseNotFound

BACKDATED_AFTER = timedelta(hours=24)
"""An entry recorded more than this after it happened is marked back-dated."""


def timeline(
    recorded: Sequence[RecordedEvent], *, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Every stored event (up to ``as_of`` by occurrence), with its marks."""
    by_id = {r.event_id: r for r in recorded}
    corrected_by: dict[Any, tuple[str, int]] = {}
    for rec in recorded:
        ev = rec.event
        if isinstance(ev, EventSuperseded):
            corrected_by[ev.target_event_id] = ("superseded", rec.stream_version)
        elif isinstance(ev, EventRetracted):
            corrected_by[ev.target_event_id] = ("retracted", rec.stream_version)
    out: list[dict[str, Any]] = []
    for rec in recorded:
        ev = rec.event
        target = getattr(ev, "target_event_id", None)
        if as_of is not None:
            subject = by_id.get(target) if target is not None else rec
            if subject is None or local_date(subject.occurred_at) > as_of:
                continue
        marks: list[str] = []
        if rec.recorded_at - rec.occurred_at > BACKDATED_AFTER:
            marks.append(f"back-dated ({(rec.recorded_at - rec.occurred_at).days} days)")
        if rec.event_id in corrected_by:
            how, version = corrected_by[rec.event_id]
            marks.append(f"{how} by v{version}")
        if target is not None and target in by_id:
            marks.append(f"corrects v{by_id[target].stream_version}")
        out.append({
            "version": rec.stream_version,
            "position": rec.position,
            "event_id": str(rec.event_id),
            "type": rec.type,
            "occurred_at": rec.occurred_at.isoformat(),
            "recorded_at": rec.recorded_at.isoformat(),
            "recorded_by": rec.recorded_by,
            "recorded_role": rec.recorded_role,
            "data": ev.model_dump(mode="json"),
            "marks": marks,
        })
    return out


def case_history(
    app: App, case_id: str, *, as_of: date | None = None, as_known_at: datetime | None = None
) -> dict[str, Any]:
    """The timeline, and (where the read models are installed) the replayed state."""
    recorded = app.store.read_stream(case_id, recorded_before=as_known_at)
    if not recorded:
        if as_known_at is not None and app.store.stream_version(case_id):
            raise CaseNotFound(f"case {case_id} had not been recorded by {as_known_at.isoformat()}")
        raise CaseNotFound(f"case {case_id} not found")
    result: dict[str, Any] = {
        "case_id": case_id,
        "as_of": as_of.isoformat() if as_of else None,
        "as_known_at": as_known_at.isoformat() if as_known_at else None,
        "events": timeline(recorded, as_of=as_of),
    }
    try:
        from projections.queries import replay
    except ImportError:  # read models not installed: the timeline is the history
        return result
    result["state"] = replay(app, case_id, as_of=as_of, as_known_at=as_known_at)
    return result
