"""A case's KPI data, folded: the latest values the KPI reports count (issue 13 §1).

Pure: ``fold_outcomes(events, min_gravity)`` takes the case's effective events (corrections
applied, sealed values already opened) and gives ``CaseOutcomes``; docs/kpi-data.md
describes every field. Ages are computed here from the date of birth and never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Generic, TypedDict, TypeVar

from events.case import CaseClosed, CaseOpened
from events.enforcement import ConditionCompleted, ConditionFailed, ConditionSet
from events.envelope import RecordedEvent
from events.outcomes import (
    ETHNIC_GROUP,
    SERIOUS_VIOLENCE_CATEGORIES,
    AccommodationRecorded,
    DiversityRecorded,
    EteRecorded,
    FeedbackGiven,
    HealthNeedRecorded,
    OffenceRecorded,
    OutOfCourtInterventionCompleted,
    RestorativeJusticeCompleted,
    RestorativeJusticeOffered,
    RestorativeJusticeTakenUp,
    SenRecorded,
    VictimConsentRecorded,
    VictimContacted,
    VictimIdentified,
    VictimSatisfactionRecorded,
    VictimViewsTaken,
    WiderServiceLinkEnded,
    WiderServiceLinkStarted,
)
from events.transition import TransitionCompleted
from tracker.kernel.clock import local_date


class Accommodation(TypedDict):
    on: str
    point: str
    suitable: bool
    accommodation_type: str


class Ete(TypedDict):
    on: str
    point: str
    status: str
    suitable: bool
    hours_offered: int
    hours_attended: int


T = TypeVar("T", Accommodation, Ete)


class Points(TypedDict, Generic[T]):
    """A status at the start, the end and on release, the latest, and every record."""

    start: T | None
    end: T | None
    release: T | None
    latest: T | None
    history: list[T]


class Sen(TypedDict):
    on: str
    identified: bool
    formal_plan: str


class Funnel(TypedDict):
    """The date each stage of a health funnel was first reached (None: not reached)."""

    need_identified: str | None
    intervention_planned: str | None
    intervention_offered: str | None
    attending: str | None


class Period(TypedDict):
    start: str
    end: str | None


class Offence(TypedDict):
    offence_id: str
    category: str
    gravity_score: int
    offence_date: str
    first_offence: bool
    serious_violence: bool
    age_at_offence: int | None


class Victim(TypedDict):
    kind: str
    identified: str
    contacted: str | None
    consented: bool | None
    views_taken: str | None
    rj_offered: str | None
    rj_taken_up: str | None
    rj_kind: str | None
    rj_completed: str | None
    satisfaction: str | None


class Feedback(TypedDict):
    on: str
    respondent: str
    point: str
    scores: dict[str, int]


class CaseOutcomes(TypedDict):
    case_id: str
    child_id: str
    team: str
    service: str
    disposal: str
    route: str
    setting: str
    start_date: str
    released_on: str | None
    closed_on: str | None
    close_reason: str | None
    accommodation: Points[Accommodation]
    ete: Points[Ete]
    sen: Sen | None
    health: dict[str, Funnel]
    wider_services: dict[str, list[Period]]
    offences: list[Offence]
    first_offence: bool | None
    victims: dict[str, Victim]
    out_of_court_completed: str | None
    conditions: dict[str, str]
    ethnicity: str | None
    ethnic_group: str | None
    sex: str | None
    age_at_disposal: int | None
    feedback: list[Feedback]


def age_on(born: date | None, day: date) -> int | None:
    """Whole years of age on ``day`` (None without a date of birth)."""
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _points(history: list[tuple[str, T]]) -> Points[T]:
    """The first record at the start, the last at the end and on release, the latest."""
    out: Points[T] = {"start": None, "end": None, "release": None, "latest": None,
                      "history": [item for _, item in history]}
    for point, item in history:
        if point == "start" and out["start"] is None:
            out["start"] = item
        elif point in ("end", "release"):
            out[point] = item  # type: ignore[literal-required]
        out["latest"] = item
    return out


def _funnel() -> Funnel:
    return {"need_identified": None, "intervention_planned": None,
            "intervention_offered": None, "attending": None}


def fold_outcomes(events: Iterable[RecordedEvent], min_gravity: int) -> CaseOutcomes | None:
    """The KPI data of one case (None if it was never opened). ``events`` in stream order,
    corrections applied; ``min_gravity`` is the policy's serious-violence threshold."""
    opened: CaseOpened | None = None
    case_id = ""
    setting = "community"
    released: date | None = None
    closed: tuple[date, str] | None = None
    accommodation: list[tuple[str, Accommodation]] = []
    ete: list[tuple[str, Ete]] = []
    sen: Sen | None = None
    health: dict[str, Funnel] = {"mental_health": _funnel(), "substance_misuse": _funnel()}
    links: dict[str, list[Period]] = {}
    offences: list[OffenceRecorded] = []
    victims: dict[str, Victim] = {}
    ooc_done: str | None = None
    conditions: dict[str, str] = {}
    diversity: DiversityRecorded | None = None
    feedback: list[Feedback] = []
    for rec in sorted(events, key=lambda r: (r.occurred_at, r.stream_version)):
        ev, day = rec.event, local_date(rec.occurred_at)
        on = day.isoformat()
        case_id = rec.stream_id
        if isinstance(ev, CaseOpened):
            opened, setting = ev, ev.setting
        elif isinstance(ev, CaseClosed):
            closed = (day, ev.reason)
        elif isinstance(ev, TransitionCompleted):
            if ev.kind == "community_to_custody":
                setting = "custody"
            elif ev.kind == "custody_to_community":
                setting, released = "community", day
        elif isinstance(ev, AccommodationRecorded):
            accommodation.append((ev.point, {"on": on, "point": ev.point,
                                             "suitable": ev.suitable,
                                             "accommodation_type": ev.accommodation_type}))
        elif isinstance(ev, EteRecorded):
            ete.append((ev.point, {"on": on, "point": ev.point, "status": ev.status,
                                   "suitable": ev.suitable, "hours_offered": ev.hours_offered,
                                   "hours_attended": ev.hours_attended}))
        elif isinstance(ev, SenRecorded):
            sen = {"on": on, "identified": ev.identified, "formal_plan": ev.formal_plan}
        elif isinstance(ev, HealthNeedRecorded):
            funnel = health[ev.domain]
            if funnel[ev.stage] is None:
                funnel[ev.stage] = ev.stage_date.isoformat()
        elif isinstance(ev, WiderServiceLinkStarted):
            links.setdefault(ev.service, []).append(
                {"start": ev.start_date.isoformat(), "end": None})
        elif isinstance(ev, WiderServiceLinkEnded):
            for period in links.get(ev.service, []):
                if period["end"] is None:
                    period["end"] = ev.end_date.isoformat()
        elif isinstance(ev, OffenceRecorded):
            offences.append(ev)
        elif isinstance(ev, VictimIdentified):
            victims[ev.victim_id] = {
                "kind": ev.victim_kind, "identified": on, "contacted": None,
                "consented": None, "views_taken": None, "rj_offered": None,
                "rj_taken_up": None, "rj_kind": None, "rj_completed": None,
                "satisfaction": None}
        elif isinstance(ev, VictimContacted | VictimConsentRecorded | VictimViewsTaken
                        | RestorativeJusticeOffered | RestorativeJusticeTakenUp
                        | RestorativeJusticeCompleted | VictimSatisfactionRecorded):
            victim = victims.get(ev.victim_id)
            if victim is not None:
                _victim_step(victim, ev, on)
        elif isinstance(ev, OutOfCourtInterventionCompleted):
            ooc_done = on
        elif isinstance(ev, ConditionSet):
            conditions[ev.condition_id] = "set"
        elif isinstance(ev, ConditionCompleted):
            conditions[ev.condition_id] = "completed"
        elif isinstance(ev, ConditionFailed):
            conditions[ev.condition_id] = "failed"
        elif isinstance(ev, DiversityRecorded):
            diversity = ev
        elif isinstance(ev, FeedbackGiven):
            feedback.append({"on": on, "respondent": ev.respondent, "point": ev.point,
                             "scores": {a.question: a.score for a in ev.answers}})
    if opened is None:
        return None
    born = opened.date_of_birth
    ethnicity = diversity.ethnicity if diversity else None
    return {
        "case_id": case_id,
        "child_id": opened.child_id,
        "team": opened.team,
        "service": opened.service,
        "disposal": opened.disposal_type,
        "route": opened.route,
        "setting": setting,
        "start_date": opened.start_date.isoformat(),
        "released_on": released.isoformat() if released else None,
        "closed_on": closed[0].isoformat() if closed else None,
        "close_reason": closed[1] if closed else None,
        "accommodation": _points(accommodation),
        "ete": _points(ete),
        "sen": sen,
        "health": health,
        "wider_services": links,
        "offences": [{
            "offence_id": o.offence_id, "category": o.category,
            "gravity_score": o.gravity_score, "offence_date": o.offence_date.isoformat(),
            "first_offence": o.first_offence,
            "serious_violence": (o.category in SERIOUS_VIOLENCE_CATEGORIES
                                 and o.gravity_score >= min_gravity),
            "age_at_offence": age_on(born, o.offence_date),
        } for o in offences],
        "first_offence": any(o.first_offence for o in offences) if offences else None,
        "victims": victims,
        "out_of_court_completed": ooc_done,
        "conditions": conditions,
        "ethnicity": ethnicity,
        "ethnic_group": ETHNIC_GROUP[ethnicity] if ethnicity else None,
        "sex": diversity.sex if diversity else None,
        "age_at_disposal": age_on(born, opened.start_date),
        "feedback": feedback,
    }


def _victim_step(
    victim: Victim,
    ev: VictimContacted | VictimConsentRecorded | VictimViewsTaken | RestorativeJusticeOffered
    | RestorativeJusticeTakenUp | RestorativeJusticeCompleted | VictimSatisfactionRecorded,
    on: str,
) -> None:
    if isinstance(ev, VictimContacted):
        victim["contacted"] = victim["contacted"] or on
    elif isinstance(ev, VictimConsentRecorded):
        victim["consented"] = ev.consented
    elif isinstance(ev, VictimViewsTaken):
        victim["views_taken"] = victim["views_taken"] or on
    elif isinstance(ev, RestorativeJusticeOffered):
        victim["rj_offered"] = victim["rj_offered"] or on
    elif isinstance(ev, RestorativeJusticeTakenUp):
        victim["rj_taken_up"], victim["rj_kind"] = on, ev.kind
    elif isinstance(ev, RestorativeJusticeCompleted):
        victim["rj_completed"] = on
    else:
        victim["satisfaction"] = ev.satisfaction
