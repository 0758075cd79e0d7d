"""A case's history for people allowed to read it: the replay's timeline, unsealed.

Two separate questions an auditor asks:
- *as of* a date: what had happened by then (valid time, ``occurred_at``), with every
  correction known now applied;
- *as known at* a moment: only what had been recorded by then (``recorded_at``), so a
  back-dated entry or a later correction is absent, exactly as the record stood.
Both can be combined. The timeline, its marks and the state come from the read models'
replay (``projections.replay.replay_events``: one place decides what is back-dated or
corrected), run on the case's events read once from the store; this module adds the
events' own data, with personal fields opened by the child's key.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, TypedDict

from projections.alert_rules import read_policy
from projections.replay import ReplayView, Stamp, TimelineEntry, replay_events
from projections.sealer import KeyringDob
from tracker.services.app import App


class HistoryEvent(Stamp):
    """An event in view, its data unsealed, with the replay's marks in words."""

    version: int
    position: int
    data: dict[str, Any]  # the event's own payload, personal fields opened: shaped by its type
    marks: list[str]


class CaseHistory(TypedDict):
    case_id: str
    as_of: str | None
    as_known_at: str | None
    events: list[HistoryEvent]
    state: ReplayView


def case_history(
    app: App, case_id: str, *, as_of: date | None = None, as_known_at: datetime | None = None
) -> CaseHistory:
    """The events in view (with marks and unsealed data) and the replayed state."""
    recorded = app.store.read_stream(case_id)  # all of it: the replay marks what came later
    state = replay_events(
        case_id, recorded, read_policy(app), as_of=as_of, as_known_at=as_known_at,
        now=app.clock.now(), open_dob=KeyringDob.for_app(app).open,
    )
    timeline = state.pop("timeline")
    stored = {str(r.event_id): r for r in recorded}
    version_of = {e["event_id"]: e["stream_version"] for e in timeline}
    in_view = {e["event_id"] for e in timeline if e["in_view"]}
    events: list[HistoryEvent] = []
    for entry in timeline:
        shown = entry["in_view"] or (entry["known"] and entry.get("corrects") in in_view)
        rec = stored.get(entry["event_id"])
        if not shown or rec is None:
            continue
        events.append({
            "version": entry["stream_version"],
            "position": entry["position"],
            "event_id": entry["event_id"],
            "type": entry["type"],
            "occurred_at": entry["occurred_at"],
            "recorded_at": entry["recorded_at"],
            "recorded_by": entry["recorded_by"],
            "recorded_role": entry["recorded_role"],
            "data": rec.event.model_dump(mode="json"),
            "marks": _marks(entry, rec.recorded_at - rec.occurred_at, version_of),
        })
    history: CaseHistory = {
        "case_id": case_id,
        "as_of": state["as_of"],
        "as_known_at": state["as_known_at"],
        "events": events,
        "state": state,
    }
    return history


def _marks(entry: TimelineEntry, delay: timedelta, version_of: dict[str, int]) -> list[str]:
    marks: list[str] = []
    if entry["back_dated"]:
        marks.append(f"back-dated ({delay.days} days)")
    if entry["status"] in ("superseded", "retracted"):
        marks.append(f"{entry['status']} by v{version_of.get(entry['corrected_by'], '?')}")
    later = entry.get("corrected_later")
    if later:
        marks.append(f"{later['kind']} later (recorded {later['recorded_at'][:10]})")
    if entry.get("corrects") in version_of:
        marks.append(f"corrects v{version_of[entry['corrects']]}")
    return marks
