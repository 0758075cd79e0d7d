"""From a case's events to the KPIs' input shape (``projections.kpis.KpiCase``): pure.

The events arrive as the projector reads them (``RawEvent``: type, day, payload dict with
personal values still sealed). Only the ethnicity is opened, by the ``opener`` the caller
passes (the child's key), and only reduced to its ONS high-level group for the aggregate.
A case whose child was erased (``personal_data_erased`` with scope ``all``) gives None:
nothing about an erased child is computed again (figures published before stay in the
report snapshots). Corrections (retractions, supersessions) are applied first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from events.sealing import ERASED
from projections.disproportionality import high_level
from projections.kpis import (
    Accommodation,
    Ete,
    FeedbackGiven,
    Funnel,
    FunnelStep,
    KpiCase,
    Offence,
    Personal,
    Send,
    Victim,
    WiderService,
)
from projections.outcomes import age_on
from projections.record import RawEvent

Opener = Callable[[RawEvent], dict[str, Any]]
"""An event's payload with its personal fields opened with the child's key (a destroyed
key gives None or ``[erased]``); only the diversity event is ever opened."""


def _day(value: Any, fallback: int) -> date:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    return date.fromordinal(fallback)


def corrected(events: Sequence[RawEvent]) -> list[RawEvent]:
    """The events with retracted ones removed and superseded ones replaced in place (as
    ``tracker.domain.corrections.apply_corrections``, on raw payloads)."""
    gone: set[str] = set()
    replaced: dict[str, RawEvent] = {}
    for e in events:
        target = str(e.data.get("target_event_id") or "")
        if e.type == "event_retracted":
            gone.add(target)
        elif e.type == "event_superseded" and isinstance(e.data.get("replacement"), dict):
            replaced[target] = e
    out: list[RawEvent] = []
    for e in events:
        if e.type in ("event_retracted", "event_superseded") or e.event_id in gone:
            continue
        sup = replaced.get(e.event_id)
        if sup is not None:
            e = RawEvent(e.position, e.event_id, e.stream_id, e.stream_version,
                         str(sup.data["replacement_type"]), e.t, e.d,
                         dict(sup.data["replacement"]))
        out.append(e)
    return out


Handler = Callable[[dict[str, Any], RawEvent, Opener], None]
HANDLERS: dict[str, Handler] = {}
"""Event type -> what it adds to the case's facts (a mutable dict of KpiCase fields)."""


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn
    return register


def _append(facts: dict[str, Any], key: str, item: object) -> None:
    facts[key] = (*facts.get(key, ()), item)


@handles("case_closed")
def _closed(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    facts["closed"] = _day(e.data.get("closed_on"), e.d)


@handles("transition_completed")
def _transition(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    if e.data.get("kind") == "custody_to_community":
        _append(facts, "releases", date.fromordinal(e.d))


@handles("breach_initiated")
def _breach(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    _append(facts, "breaches", date.fromordinal(e.d))


@handles("accommodation_recorded")
def _accommodation(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    _append(facts, "accommodation", Accommodation(
        date.fromordinal(e.d), bool(p["suitable"]), str(p["accommodation_type"])))


@handles("ete_recorded")
def _ete(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    _append(facts, "ete", Ete(date.fromordinal(e.d), str(p["status"]), bool(p["suitable"]),
                              float(p.get("hours_offered") or 0),
                              float(p.get("hours_attended") or 0)))


@handles("sen_recorded")
def _sen(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    _append(facts, "send", Send(date.fromordinal(e.d), bool(p["identified"]),
                                p.get("formal_plan") not in (None, "none")))


_STAGES: dict[str, Funnel] = {"need_identified": "identified",
                              "intervention_planned": "planned",
                              "intervention_offered": "planned", "attending": "attending"}
_DOMAINS = {"mental_health": "mental_health", "substance_misuse": "substance_misuse"}


@handles("health_need_recorded")
def _health(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    stage = _STAGES.get(str(p["stage"]))
    domain = _DOMAINS.get(str(p["domain"]))
    if stage is not None and domain is not None:
        _append(facts, domain, FunnelStep(_day(p.get("stage_date"), e.d), stage))


@handles("wider_service_link_started")
def _wider_start(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    _append(facts, "wider_services",
            WiderService(str(p["service"]), _day(p.get("start_date"), e.d), None))


@handles("wider_service_link_ended")
def _wider_end(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    links: list[WiderService] = list(facts.get("wider_services", ()))
    for i in range(len(links) - 1, -1, -1):
        if links[i].kind == p["service"] and links[i].end is None:
            links[i] = WiderService(links[i].kind, links[i].start, _day(p.get("end_date"), e.d))
            break
    facts["wider_services"] = tuple(links)


@handles("offence_recorded")
def _offence(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    facts["_offence_date"] = _day(p.get("offence_date"), e.d)  # the latest offence's
    _append(facts, "offences", Offence(str(p["category"]), int(p["gravity_score"]),
                                       bool(p["first_offence"])))


_VICTIM_STEPS = {
    "victim_contacted": "contacted", "victim_views_taken": "views_taken",
    "restorative_justice_offered": "rj_offered", "restorative_justice_taken_up": "rj_taken_up",
    "restorative_justice_completed": "rj_completed",
}
_SATISFIED = {"very_satisfied": True, "satisfied": True, "neither": False,
              "dissatisfied": False, "very_dissatisfied": False}


@handles("victim_identified", "victim_consent_recorded", "victim_satisfaction_recorded",
         *_VICTIM_STEPS)
def _victim(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    victims: dict[str, Victim] = facts.setdefault("_victims", {})
    vid = str(p["victim_id"])
    v = victims.get(vid, Victim(vid))
    day = date.fromordinal(e.d)
    if e.type in _VICTIM_STEPS:
        step: dict[str, Any] = {_VICTIM_STEPS[e.type]: day}
        v = replace(v, **step)
    elif e.type == "victim_consent_recorded":
        v = replace(v, consented=day if p.get("consented") else None)
    elif e.type == "victim_satisfaction_recorded":
        v = replace(v, satisfied=_SATISFIED.get(str(p.get("satisfaction"))))
    victims[vid] = v


@handles("out_of_court_intervention_completed")
def _ooc(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    facts["ooc_completed"] = True


@handles("diversity_recorded")
def _diversity(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    facts["_diversity"] = e  # the latest; opened once, after the fold


def _opened(value: Any) -> str | None:
    return value if isinstance(value, str) and value != ERASED else None


def _gone(raw: dict[str, Any], opened: dict[str, Any], name: str) -> bool:
    """A sealed value was stored but cannot be opened (its key is gone)."""
    return raw.get(name) is not None and _opened(opened.get(name)) is None


def _personal(opened_event: RawEvent, diversity: RawEvent | None,
              offence_date: date | None, start: date, opener: Opener) -> Personal:
    """The child's diversity values for the return that asks for them; a value whose key
    is gone reads blank and is named in ``erased`` (its ages are not computed)."""
    case = opener(opened_event)
    div = opener(diversity) if diversity is not None else {}
    raw_div = diversity.data if diversity is not None else {}
    erased = [n for n in ("ethnicity", "sex") if _gone(raw_div, div, n)]
    born_text = case.get("date_of_birth")
    born: date | None = None
    if isinstance(born_text, date):
        born = born_text
    elif isinstance(born_text, str) and born_text != ERASED:
        born = date.fromisoformat(born_text[:10])
    if opened_event.data.get("date_of_birth") is not None and born is None:
        erased.append("date_of_birth")
    return Personal(
        ethnicity=_opened(div.get("ethnicity")), sex=_opened(div.get("sex")),
        age_at_offence=age_on(born, offence_date) if offence_date is not None else None,
        age_at_disposal=age_on(born, start), erased=tuple(erased))


@handles("feedback_given")
def _feedback(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    p = e.data
    scores = tuple((str(a["question"]), int(a["score"])) for a in p.get("answers", []))
    _append(facts, "feedback", FeedbackGiven(date.fromordinal(e.d), str(p["respondent"]),
                                             scores))


def kpi_case(events: Sequence[RawEvent], opener: Opener, custodial: Callable[[str], bool],
             *, personal: bool = False) -> KpiCase | None:
    """The case's KPI facts; None for a case never opened or whose child was erased.
    ``personal``: also open the child's diversity values (``KpiCase.personal``)."""
    opened: RawEvent | None = None
    facts: dict[str, Any] = {}
    for e in corrected(events):
        if e.type == "personal_data_erased" and e.data.get("scope", "all") == "all":
            return None
        if e.type == "case_opened":
            opened = e
            continue
        handler = HANDLERS.get(e.type)
        if handler is not None:
            handler(facts, e, opener)
    if opened is None:
        return None
    p = opened.data
    facts["victims"] = tuple(facts.pop("_victims", {}).values())
    if p["route"] == "out_of_court" and "closed" in facts:
        facts.setdefault("ooc_completed", False)
    diversity: RawEvent | None = facts.pop("_diversity", None)
    offence_date: date | None = facts.pop("_offence_date", None)
    recorded: Any = None
    if diversity is not None and diversity.data.get("ethnicity") is not None:
        recorded = opener(diversity).get("ethnicity")
    group = high_level(recorded) if _opened(recorded) is not None else None
    start = _day(p.get("start_date"), opened.d)
    if personal:
        facts["personal"] = _personal(opened, diversity, offence_date, start, opener)
    return KpiCase(
        case_id=opened.stream_id, team=str(p["team"]), child_id=str(p["child_id"]),
        disposal=str(p["disposal_type"]), route=str(p["route"]), start=start,
        custodial_sentence=custodial(str(p["disposal_type"])), ethnic_group=group,
        opened_offence=p.get("offence_category"), **facts,
    )
