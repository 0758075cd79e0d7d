"""The case record: one pure fold of a case's events into the facts every read model reads.

ASPIRE, engagement, continuity and enforcement read overlapping facts (a missed contact is
delivery, engagement and enforcement at once), so the fold keeps each fact once, keyed by
the event that recorded it, and each read model is a pure function of
``(record, as_at, policy)`` (see ``projections.views``). That makes three things simple:

* **Corrections.** A retraction removes the fact its target recorded; a supersession
  replaces it in place (same position, the replacement's occurred-at if it gives one).
  Folding the raw log therefore equals folding ``events.correction.apply_corrections`` of
  it, and a correction arriving long after its target needs no re-read of the stream.
* **Back-dated entries.** Facts keep when they happened (``t``, UTC microseconds, and
  ``d``, the London calendar day); the views sort and filter by those, so the order in
  which entries were recorded never changes the answer.
* **Idempotence.** A record remembers the last position it applied; an event at or
  before it is ignored, so applying an event twice changes nothing.

The record holds no free text: notes, reasons and objective descriptions are never read
(the projector's reader leaves them sealed). The one personal field it needs, the date of
birth (for the 17½ rule), is sealed again with the child's key when the record is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from events.allocation import CaseManagerAllocated, CaseManagerAllocationEnded
from events.assessment import AssessmentCompleted, SignificantChangeNoted
from events.audit import CaseAudited
from events.base import Event
from events.case import CaseClosed, CaseOpened
from events.catalogue import event_class
from events.correction import EventRetracted, EventSuperseded
from events.delivery import (
    ContactAttended,
    ContactMissed,
    ContactScheduled,
    MissedContactFollowedUp,
)
from events.enforcement import BreachInitiated, ExceptionalCircumstancesRecorded, WarningIssued
from events.envelope import RecordedEvent
from events.planning import PlanAgreed, PlanRevised
from events.review import ReviewCompleted
from events.transition import TransitionCompleted, TransitionPlanned
from tracker.clock import LONDON

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """An aware moment as whole microseconds since the Unix epoch (exact)."""
    return (moment - EPOCH) // _US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def local_ordinal(moment: datetime) -> int:
    """The London calendar day of a moment, as a date ordinal."""
    return moment.astimezone(LONDON).date().toordinal()


# -- facts --------------------------------------------------------------------------------
# Every fact starts with the recording event's id, its position, and when it happened.


class Opened(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    child_id: str
    disposal: str
    route: str
    start: int
    expected_end: int | None
    setting: str
    level: str
    service: str
    team: str
    dob: int | None


class Closed(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    reason: str


class Alloc(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    practitioner: str
    agency: str
    role: str
    team: str | None
    manager: str | None


class AllocEnd(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    practitioner: str
    role: str
    reason: str


class Assess(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    kind: str
    reoffending: str
    safety: str
    harm: str
    strengths: bool
    child: bool
    parent: bool
    victim: bool
    agencies: bool


class Change(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    domains: tuple[str, ...]


class Plan(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    revised: bool
    domains: tuple[str, ...]
    contingency_safety: bool
    contingency_risk: bool
    child: bool
    parent: bool


class Sched(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    contact_id: str
    kind: str
    for_t: int
    for_d: int


class Attend(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    contact_id: str | None
    kind: str
    participation: int
    noted: tuple[str, ...]
    addressed: tuple[str, ...]
    parent: bool


class Miss(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    contact_id: str | None
    kind: str
    acceptable: bool
    reason: str


class FollowUp(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    missed_id: str
    method: str
    reached: bool


class Review(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    trigger: str
    changed: tuple[str, ...]
    adjusted: bool
    child: bool
    parent: bool


class TPlan(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    transition_id: str
    kind: str
    planned: int
    receiving_cm: str | None
    receiving_service: str | None
    accommodation: bool
    plan: bool
    info: bool
    handover: bool


class TDone(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    transition_id: str | None
    kind: str
    receiving_cm: str | None
    receiving_service: str | None
    info: bool
    handover: bool
    accommodation: bool


class Warn(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    failure_id: str


class Breach(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    failure_ids: tuple[str, ...]
    serious: bool


class Excuse(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    failure_id: str
    manager: str


class Audit(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    auditor: str
    question_set: str
    answers: tuple[tuple[str, str, bool], ...]
    safety: str | None
    harm: str | None


class Corr(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    target: str
    kind: str  # "superseded" | "retracted"


LIST_KINDS: dict[str, type[NamedTuple]] = {
    "allocs": Alloc,
    "alloc_ends": AllocEnd,
    "assessments": Assess,
    "changes": Change,
    "plans": Plan,
    "scheduled": Sched,
    "attended": Attend,
    "missed": Miss,
    "followups": FollowUp,
    "reviews": Review,
    "tplans": TPlan,
    "tdone": TDone,
    "warnings": Warn,
    "breaches": Breach,
    "excuses": Excuse,
    "audits": Audit,
    "corrections": Corr,
}
"""The record's fact lists by name, and the fact type each holds."""

_TUPLE_FIELDS: dict[type[NamedTuple], tuple[int, ...]] = {}


@dataclass(frozen=True)
class CaseRecord:
    """Everything the read models know about one case (immutable; see ``evolve``)."""

    case_id: str
    position: int = 0
    version: int = 0
    opened: Opened | None = None
    closed: Closed | None = None
    allocs: tuple[Alloc, ...] = ()
    alloc_ends: tuple[AllocEnd, ...] = ()
    assessments: tuple[Assess, ...] = ()
    changes: tuple[Change, ...] = ()
    plans: tuple[Plan, ...] = ()
    scheduled: tuple[Sched, ...] = ()
    attended: tuple[Attend, ...] = ()
    missed: tuple[Miss, ...] = ()
    followups: tuple[FollowUp, ...] = ()
    reviews: tuple[Review, ...] = ()
    tplans: tuple[TPlan, ...] = ()
    tdone: tuple[TDone, ...] = ()
    warnings: tuple[Warn, ...] = ()
    breaches: tuple[Breach, ...] = ()
    excuses: tuple[Excuse, ...] = ()
    audits: tuple[Audit, ...] = ()
    corrections: tuple[Corr, ...] = ()

    @property
    def exists(self) -> bool:
        return self.opened is not None


class _Builder:
    """A mutable copy of a record, to apply many events and freeze once."""

    def __init__(self, record: CaseRecord) -> None:
        self.case_id = record.case_id
        self.position = record.position
        self.version = record.version
        self.opened = record.opened
        self.closed = record.closed
        self.lists: dict[str, list[Any]] = {
            name: list(getattr(record, name)) for name in LIST_KINDS
        }

    def freeze(self) -> CaseRecord:
        return CaseRecord(
            case_id=self.case_id,
            position=self.position,
            version=self.version,
            opened=self.opened,
            closed=self.closed,
            **{name: tuple(items) for name, items in self.lists.items()},
        )

    def apply(self, rec: RecordedEvent) -> None:
        if rec.position <= self.position:
            return
        self.position = rec.position
        self.version = rec.stream_version
        ev = rec.event
        if isinstance(ev, EventRetracted):
            target = str(ev.target_event_id)
            self._remove(target)
            self._add_correction(rec, target, "retracted")
            return
        if isinstance(ev, EventSuperseded):
            target = str(ev.target_event_id)
            self._supersede(rec, ev, target)
            self._add_correction(rec, target, "superseded")
            return
        t = to_us(rec.occurred_at)
        self._put(ev, str(rec.event_id), rec.position, t, local_ordinal(rec.occurred_at))

    def _add_correction(self, rec: RecordedEvent, target: str, kind: str) -> None:
        self.lists["corrections"].append(
            Corr(str(rec.event_id), rec.position, to_us(rec.occurred_at),
                 local_ordinal(rec.occurred_at), target, kind)
        )

    def _find(self, target: str) -> tuple[str, int, Any] | None:
        if self.opened is not None and self.opened.id == target:
            return "opened", -1, self.opened
        if self.closed is not None and self.closed.id == target:
            return "closed", -1, self.closed
        for name, items in self.lists.items():
            for i, fact in enumerate(items):
                if fact.id == target:
                    return name, i, fact
        return None

    def _remove(self, target: str) -> None:
        found = self._find(target)
        if found is None:
            return
        name, index, _fact = found
        if name == "opened":
            self.opened = None
        elif name == "closed":
            self.closed = None
        else:
            del self.lists[name][index]

    def _supersede(self, rec: RecordedEvent, ev: EventSuperseded, target: str) -> None:
        found = self._find(target)
        if found is None:
            return
        name, index, fact = found
        replacement = event_class(ev.replacement_type).model_validate(ev.replacement)
        if ev.replacement_occurred_at is not None:
            t = to_us(ev.replacement_occurred_at)
            d = local_ordinal(ev.replacement_occurred_at)
        else:
            t, d = fact.t, fact.d
        if name == "opened":
            self.opened = None
        elif name == "closed":
            self.closed = None
        else:
            del self.lists[name][index]
        self._put(replacement, target, fact.pos, t, d, index=index)

    def _put(self, ev: Event, eid: str, pos: int, t: int, d: int, index: int = -1) -> None:
        made = make_fact(ev, eid, pos, t, d)
        if made is None:
            return
        name, fact = made
        if name == "opened":
            self.opened = fact
        elif name == "closed":
            self.closed = fact
        elif index >= 0:
            self.lists[name].insert(index, fact)
        else:
            self.lists[name].append(fact)


def _day(value: date | None) -> int | None:
    return value.toordinal() if value is not None else None


def make_fact(ev: Event, eid: str, pos: int, t: int, d: int) -> tuple[str, Any] | None:
    """The fact an event records (None for event types no read model reads)."""
    maker = _MAKERS.get(type(ev))
    return maker(ev, eid, pos, t, d) if maker is not None else None


def _opened(ev: Any, eid: str, pos: int, t: int, d: int) -> tuple[str, Any]:
    dob = ev.date_of_birth if isinstance(ev.date_of_birth, date) else None
    return "opened", Opened(
        eid, pos, t, d, ev.child_id, ev.disposal_type, ev.route, ev.start_date.toordinal(),
        _day(ev.expected_end_date), ev.setting, ev.intervention_level, ev.service, ev.team,
        _day(dob),
    )


def _plan(ev: Any, eid: str, pos: int, t: int, d: int) -> tuple[str, Any]:
    domains = tuple(sorted({o.domain for o in ev.objectives}))
    return "plans", Plan(
        eid, pos, t, d, isinstance(ev, PlanRevised), domains, ev.contingency_for_safety,
        ev.contingency_for_risk, ev.child_involved, ev.parent_carer_involved,
    )


_MAKERS: dict[type[Event], Callable[[Any, str, int, int, int], tuple[str, Any]]] = {
    CaseOpened: _opened,
    CaseClosed: lambda ev, i, p, t, d: ("closed", Closed(i, p, t, d, ev.reason)),
    CaseManagerAllocated: lambda ev, i, p, t, d: ("allocs", Alloc(
        i, p, t, d, ev.practitioner_id, ev.agency, ev.role, ev.team, ev.manager_id)),
    CaseManagerAllocationEnded: lambda ev, i, p, t, d: ("alloc_ends", AllocEnd(
        i, p, t, d, ev.practitioner_id, ev.role, ev.reason)),
    AssessmentCompleted: lambda ev, i, p, t, d: ("assessments", Assess(
        i, p, t, d, ev.kind, ev.likelihood_of_reoffending, ev.safety_and_wellbeing,
        ev.risk_of_serious_harm, ev.strengths_recorded, ev.child_involved,
        ev.parent_carer_involved, ev.victim_considered, ev.other_agencies_information_used)),
    SignificantChangeNoted: lambda ev, i, p, t, d: ("changes", Change(
        i, p, t, d, tuple(ev.domains))),
    PlanAgreed: _plan,
    PlanRevised: _plan,
    ContactScheduled: lambda ev, i, p, t, d: ("scheduled", Sched(
        i, p, t, d, ev.contact_id, ev.kind, to_us(ev.scheduled_for),
        local_ordinal(ev.scheduled_for))),
    ContactAttended: lambda ev, i, p, t, d: ("attended", Attend(
        i, p, t, d, ev.contact_id, ev.kind, ev.participation, tuple(ev.barriers_noted),
        tuple(ev.barriers_addressed), ev.parent_carer_present)),
    ContactMissed: lambda ev, i, p, t, d: ("missed", Miss(
        i, p, t, d, ev.contact_id, ev.kind, ev.acceptable, ev.reason)),
    MissedContactFollowedUp: lambda ev, i, p, t, d: ("followups", FollowUp(
        i, p, t, d, str(ev.missed_event_id), ev.method, ev.child_reached)),
    ReviewCompleted: lambda ev, i, p, t, d: ("reviews", Review(
        i, p, t, d, ev.trigger, tuple(ev.changed_domains), ev.plan_adjusted, ev.child_involved,
        ev.parent_carer_involved)),
    TransitionPlanned: lambda ev, i, p, t, d: ("tplans", TPlan(
        i, p, t, d, ev.transition_id, ev.kind, ev.planned_date.toordinal(),
        ev.receiving_case_manager, ev.receiving_service, ev.accommodation_arranged,
        ev.resettlement_plan_agreed, ev.information_shared, ev.handover_meeting_held)),
    TransitionCompleted: lambda ev, i, p, t, d: ("tdone", TDone(
        i, p, t, d, ev.transition_id, ev.kind, ev.receiving_case_manager, ev.receiving_service,
        ev.information_shared, ev.handover_meeting_held, ev.accommodation_arranged)),
    WarningIssued: lambda ev, i, p, t, d: ("warnings", Warn(
        i, p, t, d, str(ev.failure_event_id))),
    BreachInitiated: lambda ev, i, p, t, d: ("breaches", Breach(
        i, p, t, d, tuple(str(f) for f in ev.failure_event_ids), ev.serious_failure)),
    ExceptionalCircumstancesRecorded: lambda ev, i, p, t, d: ("excuses", Excuse(
        i, p, t, d, str(ev.failure_event_id), ev.manager_id)),
    CaseAudited: lambda ev, i, p, t, d: ("audits", Audit(
        i, p, t, d, ev.auditor_id, ev.question_set,
        tuple((a.standard, a.lens, a.answer) for a in ev.answers),
        ev.safety_and_wellbeing, ev.risk_of_serious_harm)),
}


# -- the fold -------------------------------------------------------------------------------


def evolve(record: CaseRecord, rec: RecordedEvent) -> CaseRecord:
    """The record after one more event. Pure; an event already applied is ignored."""
    builder = _Builder(record)
    builder.apply(rec)
    return builder.freeze()


def evolve_many(record: CaseRecord, recs: Iterable[RecordedEvent]) -> CaseRecord:
    """``evolve`` over several events of the same case, copying the record only once."""
    builder = _Builder(record)
    for rec in recs:
        builder.apply(rec)
    return builder.freeze()


def fold(case_id: str, recs: Iterable[RecordedEvent]) -> CaseRecord:
    """The record of a case from its events (raw log order; corrections handled)."""
    return evolve_many(CaseRecord(case_id=case_id), recs)


# -- storage --------------------------------------------------------------------------------


class DobSealer(Protocol):
    """Seals and opens the one personal value a record keeps (the date of birth)."""

    def seal(self, child_id: str, dob: date) -> str | None: ...

    def open(self, token: str) -> date | None: ...


class PlainDob:
    """For pure tests: keeps the date as ISO text (never used against a real database)."""

    def seal(self, child_id: str, dob: date) -> str | None:
        return dob.isoformat()

    def open(self, token: str) -> date | None:
        return date.fromisoformat(token)


def _tuple_fields(cls: type[NamedTuple]) -> tuple[int, ...]:
    found = _TUPLE_FIELDS.get(cls)
    if found is None:
        hints = cls.__annotations__
        found = tuple(
            i for i, name in enumerate(cls._fields)
            if getattr(hints[name], "__forward_arg__", str(hints[name])).startswith("tuple")
        )
        _TUPLE_FIELDS[cls] = found
    return found


def _revive(cls: type[NamedTuple], raw: list[Any]) -> Any:
    for i in _tuple_fields(cls):
        value = raw[i]
        if isinstance(value, list):
            raw[i] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return cls(*raw)


def dumps(record: CaseRecord, sealer: DobSealer) -> str:
    """The record as compact JSON; the date of birth sealed with the child's key."""
    doc: dict[str, Any] = {"case_id": record.case_id, "position": record.position,
                           "version": record.version, "closed": record.closed}
    if record.opened is not None:
        opened = list(record.opened)
        dob = record.opened.dob
        opened[-1] = sealer.seal(record.opened.child_id, date.fromordinal(dob)) if dob else None
        doc["opened"] = opened
    for name in LIST_KINDS:
        items = getattr(record, name)
        if items:
            doc[name] = items
    return json.dumps(doc, separators=(",", ":"))


def loads(text: str, sealer: DobSealer) -> CaseRecord:
    """A record stored by ``dumps``; a shredded date of birth comes back as None."""
    doc = json.loads(text)
    opened = None
    if doc.get("opened"):
        raw = doc["opened"]
        token = raw[-1]
        dob = sealer.open(token) if token else None
        raw[-1] = dob.toordinal() if dob else None
        opened = Opened(*raw)
    closed = Closed(*doc["closed"]) if doc.get("closed") else None
    lists = {
        name: tuple(_revive(cls, raw) for raw in doc.get(name, ()))
        for name, cls in LIST_KINDS.items()
    }
    return CaseRecord(
        case_id=doc["case_id"], position=doc["position"], version=doc["version"],
        opened=opened, closed=closed, **lists,
    )


def record_fields() -> list[str]:
    """The record's field names (for documentation and tests)."""
    return [f.name for f in fields(CaseRecord)]
