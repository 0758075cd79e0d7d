"""Replay for auditors: a case as it stood on a date, and as it was known at a moment.

* ``as_of`` (valid time): what had *happened* by the end of that day, judged on that day.
* ``as_known_at`` (record time): only what had been *recorded* before that moment, so a
  back-dated entry or a correction recorded later does not count, and is listed as
  recorded later. Without ``as_of`` the state is judged as at ``as_known_at``.

The replay reads the case's events from the store and folds them on the spot: it never
reads the read-model tables, so its answer is the same whether or not the projector is up
to date. The timeline marks back-dated entries (recorded more than
``replay.back_dated_after_hours`` after they happened), corrections, and the events they
corrected. Personal free text stays sealed (``"[sealed]"``); the store's history gives it
to readers allowed to see it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from events.correction import EventRetracted, EventSuperseded
from events.envelope import RecordedEvent
from projections import source
from projections.asat import AsAt
from projections.policy import Policy
from projections.record import fold
from projections.views import evaluate_all
from tracker.bootstrap import App
from tracker.errors import CaseNotFound, FieldProblem, InvalidInput


def replay_events(
    case_id: str,
    events: list[RecordedEvent],
    policy: Policy,
    *,
    as_of: date | None = None,
    as_known_at: datetime | None = None,
    now: datetime,
) -> dict[str, Any]:
    """The replay of a case from all its stored events (pure; see the module docstring)."""
    if as_known_at is not None and as_known_at.tzinfo is None:
        raise InvalidInput([FieldProblem("as_known_at", "must include a time zone")])
    known = [e for e in events if as_known_at is None or e.recorded_at < as_known_at]
    if not known:
        if events and as_known_at is not None:
            raise CaseNotFound(
                f"case {case_id} had not been recorded by {as_known_at.isoformat()}"
            )
        raise CaseNotFound(f"case {case_id} not found")
    if as_of is not None:
        at = AsAt.end_of(as_of)
    elif as_known_at is not None:
        at = AsAt.at(as_known_at)
    else:
        at = AsAt.at(now)
    record = fold(case_id, known)
    views = evaluate_all(record, at, policy)
    timeline, summary = _timeline(events, known, at, as_known_at, policy)
    return {
        "case_id": case_id,
        "as_of": as_of.isoformat() if as_of else None,
        "as_known_at": as_known_at.isoformat() if as_known_at else None,
        "evaluated_as_at": at.moment.isoformat(),
        "policy_version": policy.version,
        "case": views.header,
        "aspire": views.aspire,
        "engagement": views.engagement,
        "continuity": views.continuity,
        "enforcement": views.enforcement,
        "summary": summary,
        "timeline": timeline,
    }


def _timeline(
    events: list[RecordedEvent],
    known: list[RecordedEvent],
    at: AsAt,
    as_known_at: datetime | None,
    policy: Policy,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    known_ids = {e.event_id for e in known}
    threshold = timedelta(hours=policy.replay.back_dated_after_hours)
    corrected_by: dict[Any, RecordedEvent] = {}
    for e in events:
        if isinstance(e.event, EventSuperseded | EventRetracted):
            corrected_by[e.event.target_event_id] = e
    entries: list[dict[str, Any]] = []
    counts = {"events_known": len(known), "events_in_view": 0, "back_dated": 0,
              "corrections": 0, "recorded_later": 0, "corrected_later": 0}
    for e in events:
        is_known = e.event_id in known_ids
        happened = e.occurred_at <= at.moment
        back_dated = e.recorded_at - e.occurred_at > threshold
        entry: dict[str, Any] = {
            "position": e.position,
            "stream_version": e.stream_version,
            "event_id": str(e.event_id),
            "type": e.type,
            "occurred_at": e.occurred_at.isoformat(),
            "recorded_at": e.recorded_at.isoformat(),
            "recorded_by": e.recorded_by,
            "recorded_role": e.recorded_role,
            "back_dated": back_dated,
            "known": is_known,
            "in_view": is_known and happened,
            "status": "effective",
            "data": e.event.model_dump(mode="json"),
        }
        if isinstance(e.event, EventSuperseded | EventRetracted):
            entry["corrects"] = str(e.event.target_event_id)
            if is_known:
                counts["corrections"] += 1
        correction = corrected_by.get(e.event_id)
        if correction is not None:
            kind = "superseded" if isinstance(correction.event, EventSuperseded) else "retracted"
            if correction.event_id in known_ids:
                entry["status"] = kind
                entry["corrected_by"] = str(correction.event_id)
            else:
                entry["corrected_later"] = {
                    "by": str(correction.event_id), "kind": kind,
                    "recorded_at": correction.recorded_at.isoformat(),
                }
                if is_known:
                    counts["corrected_later"] += 1
        if not is_known:
            entry["recorded_later"] = True
            if happened:
                counts["recorded_later"] += 1
        if entry["in_view"]:
            counts["events_in_view"] += 1
        if back_dated and is_known:
            counts["back_dated"] += 1
        entries.append(entry)
    if as_known_at is None:
        counts.pop("recorded_later")
        counts.pop("corrected_later")
    return entries, counts


def replay(
    app: App,
    case_id: str,
    policy: Policy,
    *,
    as_of: date | None = None,
    as_known_at: datetime | None = None,
) -> dict[str, Any]:
    """Read the case's events (free text left sealed) and replay them."""
    with app.engine.connect() as conn:
        events = source.read_case(conn, case_id, app.keyring)
    return replay_events(
        case_id, events, policy, as_of=as_of, as_known_at=as_known_at, now=app.clock.now()
    )
