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

from datetime import date, datetime
from typing import Any, NotRequired, TypedDict

from events.envelope import RecordedEvent
from projections import source
from projections.asat import AsAt
from projections.record import DobOpener, fold_raw, folding, from_us, gc_paused, raw, to_us
from projections.sealer import KeyringDob
from projections.source import Envelope, mask
from projections.views import Views, evaluate_all
from tracker.domain.policy import Policy
from tracker.kernel.errors import CaseNotFound, FieldProblem, InvalidInput
from tracker.services.app import App


class CorrectedLater(TypedDict):
    by: str
    kind: str
    recorded_at: str


class Stamp(TypedDict):
    """An event's id and type, when it happened and when and by whom it was recorded."""

    event_id: str
    type: str
    occurred_at: str
    recorded_at: str
    recorded_by: str
    recorded_role: str


class TimelineEntry(Stamp):
    """One stored event of the case, with what the replay makes of it."""

    position: int
    stream_version: int
    back_dated: bool
    known: bool
    in_view: bool
    status: str
    data: dict[str, Any]  # the payload as stored, sealed values masked: shaped by its type
    corrects: NotRequired[str]
    corrected_by: NotRequired[str]
    corrected_later: NotRequired[CorrectedLater]
    recorded_later: NotRequired[bool]


class ReplayView(Views):
    """A case replayed as of a date and/or as known at a moment."""

    case_id: str
    as_of: str | None
    as_known_at: str | None
    evaluated_as_at: str
    policy_version: str
    summary: dict[str, int]
    timeline: NotRequired[list[TimelineEntry]]  # not required: the history moves it out


def envelopes(recorded: list[RecordedEvent]) -> list[Envelope]:
    """``RecordedEvent`` objects in the replay's shape (for callers holding full events)."""
    return [
        Envelope(raw(r), to_us(r.recorded_at), r.recorded_by, r.recorded_role,
                 r.schema_version)
        for r in recorded
    ]


def replay_events(
    case_id: str,
    events: list[RecordedEvent] | list[Envelope],
    policy: Policy,
    *,
    as_of: date | None = None,
    as_known_at: datetime | None = None,
    now: datetime,
    open_dob: DobOpener | None = None,
    premasked: bool = False,
) -> ReplayView:
    """The replay of a case from all its stored events (pure; see the module docstring).

    ``premasked``: the events were read with their sealed values already masked."""
    if as_known_at is not None and as_known_at.tzinfo is None:
        raise InvalidInput([FieldProblem("as_known_at", "must include a time zone")])
    with folding(case_id):
        envs: list[Envelope] = [
            e if isinstance(e, Envelope) else envelopes([e])[0] for e in events
        ]
    cutoff = to_us(as_known_at) if as_known_at is not None else None
    known = [e for e in envs if cutoff is None or e.recorded_us < cutoff]
    if not known:
        if envs and as_known_at is not None:
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
    with folding(case_id):
        record = fold_raw(case_id, (e.event for e in known), open_dob)
        views = evaluate_all(record, at, policy)
        timeline, summary = _timeline(envs, known, at, as_known_at, policy, premasked)
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


CORRECTIONS = ("event_superseded", "event_retracted")


def _timeline(
    events: list[Envelope],
    known: list[Envelope],
    at: AsAt,
    as_known_at: datetime | None,
    policy: Policy,
    premasked: bool = False,
) -> tuple[list[TimelineEntry], dict[str, int]]:
    known_ids = {e.event.event_id for e in known}
    threshold = int(policy.replay.back_dated_after_hours * 3600 * 1_000_000)
    corrected_by: dict[str, Envelope] = {}
    for e in events:
        if e.event.type in CORRECTIONS:
            corrected_by[str(e.event.data["target_event_id"])] = e
    entries: list[TimelineEntry] = []
    counts = {"events_known": len(known), "events_in_view": 0, "back_dated": 0,
              "corrections": 0, "recorded_later": 0, "corrected_later": 0}
    for e in events:
        ev = e.event
        is_known = ev.event_id in known_ids
        happened = ev.t <= at.us
        back_dated = e.recorded_us - ev.t > threshold
        entry: TimelineEntry = {
            "position": ev.position,
            "stream_version": ev.stream_version,
            "event_id": ev.event_id,
            "type": ev.type,
            "occurred_at": from_us(ev.t).isoformat(),
            "recorded_at": from_us(e.recorded_us).isoformat(),
            "recorded_by": e.recorded_by,
            "recorded_role": e.recorded_role,
            "back_dated": back_dated,
            "known": is_known,
            "in_view": is_known and happened,
            "status": "effective",
            "data": mask(ev.data) if not premasked or ev.type == "case_opened" else ev.data,
        }
        if ev.type in CORRECTIONS:
            entry["corrects"] = str(ev.data["target_event_id"])
            if is_known:
                counts["corrections"] += 1
        correction = corrected_by.get(ev.event_id)
        if correction is not None:
            kind = "superseded" if correction.event.type == "event_superseded" else "retracted"
            if correction.event.event_id in known_ids:
                entry["status"] = kind
                entry["corrected_by"] = correction.event.event_id
            else:
                entry["corrected_later"] = {
                    "by": correction.event.event_id, "kind": kind,
                    "recorded_at": from_us(correction.recorded_us).isoformat(),
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
) -> ReplayView:
    """Read the case's events (free text left sealed) and replay them."""
    with gc_paused():
        with app.engine.connect() as conn:
            events = source.read_case(conn, case_id, masked=True)
        return replay_events(
            case_id, events, policy, as_of=as_of, as_known_at=as_known_at,
            now=app.clock.now(), open_dob=KeyringDob.for_app(app).open, premasked=True,
        )
