"""The KPI data of a demo case (issue 13 §1): accommodation, ETE, SEND, health funnels,
wider services, the offence, victims, out-of-court completion, diversity and feedback.

Drawn from the case's own random stream (``kpi:<case id>``), so adding it leaves the rest
of every demo story exactly as it was. The shares are invented but plausible (e.g. a
minority of children with an identified SEND need, most with suitable accommodation, an
ethnicity spread with some groups over-represented against a local population) so that the
KPIs and the disproportionality tables have something to show. Nothing here is real.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from tracker.services.synthetic.pipeline import at, new_uuid

ETHNICITY_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("white_british", 0.55), ("white_other", 0.04), ("white_irish", 0.005),
    ("white_gypsy_or_irish_traveller", 0.015), ("white_roma", 0.005),
    ("black_caribbean", 0.06), ("black_african", 0.06), ("black_other", 0.02),
    ("mixed_white_and_black_caribbean", 0.06), ("mixed_white_and_black_african", 0.015),
    ("mixed_white_and_asian", 0.015), ("mixed_other", 0.02),
    ("asian_pakistani", 0.04), ("asian_bangladeshi", 0.015), ("asian_indian", 0.015),
    ("asian_chinese", 0.005), ("asian_other", 0.015),
    ("other_arab", 0.01), ("other_any", 0.01), ("not_stated", 0.02),
)
OFFENCE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("violence_against_the_person", 0.30), ("theft_and_handling", 0.12), ("drugs", 0.10),
    ("criminal_damage", 0.08), ("robbery", 0.06), ("public_order", 0.07),
    ("possession_of_weapons", 0.06), ("burglary", 0.05), ("motoring", 0.05),
    ("sexual_offences", 0.03), ("vehicle_theft", 0.03), ("breach_of_statutory_order", 0.03),
    ("other", 0.02),
)
ACCOMMODATION: tuple[tuple[str, bool, float], ...] = (
    ("parent_or_guardian", True, 0.62), ("other_family_or_friends", True, 0.10),
    ("foster_care", True, 0.08), ("childrens_home", True, 0.07),
    ("supported_accommodation", True, 0.04), ("semi_independent", False, 0.03),
    ("temporary_or_emergency", False, 0.03), ("bed_and_breakfast", False, 0.01),
    ("no_fixed_abode", False, 0.02),
)
ETE: tuple[tuple[str, int], ...] = (
    ("school_full_time", 25), ("school_part_time", 12), ("alternative_provision", 15),
    ("college", 16), ("training", 16), ("apprenticeship", 30), ("employment", 30),
    ("not_in_ete", 0),
)
QUESTIONS = ("i_was_listened_to", "my_worker_helped_me", "i_understood_my_plan",
             "i_was_treated_fairly", "i_had_a_say_in_decisions", "things_are_better_for_me")


@dataclass(frozen=True)
class CaseFacts:
    """What the KPI story needs to know of the case's main story."""

    case_id: str
    start: date
    route: str
    disposal: str
    opened_recorded: datetime
    released: date | None
    closed_on: date | None
    closed_recorded: datetime | None
    conditions_done: bool
    until: date


@dataclass(frozen=True)
class Planned:
    occurred: datetime
    event_type: str
    data: dict[str, Any]
    recorded: datetime
    event_id: UUID


T = TypeVar("T")


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class _Plan:
    def __init__(self, facts: CaseFacts) -> None:
        self.f = facts
        self.r = random.Random(f"kpi:{facts.case_id}:{facts.start.isoformat()}")
        self.items: list[Planned] = []
        self.last = facts.start + timedelta(days=max(
            0, ((facts.closed_on or facts.until) - facts.start).days - 1))
        self.now_limit = at(facts.until, 8)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def add(self, day: date, hour: int, event_type: str, data: dict[str, Any], *,
            after_close: bool = False) -> bool:
        """Plan an entry; False (and nothing planned) if it would fall outside the case."""
        occurred = at(day, hour, self.r.choice([0, 10, 20, 30]))
        recorded = max(occurred + timedelta(minutes=self.r.randint(5, 120)),
                       self.f.opened_recorded + timedelta(minutes=1))
        if day < self.f.start or recorded >= self.now_limit:
            return False
        closed = self.f.closed_recorded
        if not after_close and closed is not None and recorded >= closed:
            return False
        self.items.append(Planned(occurred, event_type, data, recorded, new_uuid(self.r)))
        return True

    def day_between(self, low: date, high: date) -> date:
        return low + timedelta(days=self.r.randint(0, max(0, (high - low).days)))


def plan_outcomes(facts: CaseFacts) -> list[Planned]:
    """The case's KPI data, as entries the rules accept (``pipeline.check``)."""
    p = _Plan(facts)
    r, start = p.r, facts.start
    if p.chance(0.95):
        p.add(start + timedelta(days=1), 12, "diversity_recorded", {
            "ethnicity": _weighted(r, ETHNICITY_WEIGHTS),
            "sex": _weighted(r, (("male", 0.8), ("female", 0.19), ("not_stated", 0.01)))})
    first = p.chance(0.7 if facts.route == "out_of_court" else 0.3)
    category = _weighted(r, OFFENCE_WEIGHTS)
    serious = category in ("violence_against_the_person", "robbery", "drugs")
    gravity = r.choice([5, 5, 6, 6, 7, 8]) if serious and p.chance(0.4) else r.randint(1, 4)
    p.add(start, 11, "offence_recorded", {
        "offence_id": "OF-1", "category": category, "gravity_score": gravity,
        "offence_date": (start - timedelta(days=r.randint(14, 120))).isoformat(),
        "first_offence": first})
    _status(p, "start", start + timedelta(days=2))
    _send_and_health(p)
    _links(p)
    _victims(p)
    if facts.released is not None and facts.released <= p.last:
        _status(p, "release", facts.released, hour=13)
    if (start + timedelta(days=100)) < p.last and p.chance(0.6):
        review = p.day_between(start + timedelta(days=85), start + timedelta(days=100))
        p.add(review, 12, "ete_recorded", _ete(p, "review"))
        if p.chance(0.35):
            _feedback(p, review, "child", "review")
    if facts.closed_on is not None:
        end = facts.closed_on
        _status(p, "end", end, hour=12)
        if facts.route == "out_of_court" and facts.conditions_done and p.chance(0.85):
            p.add(end, 11, "out_of_court_intervention_completed", {})
        if p.chance(0.7):
            _feedback(p, end, "child", "end")
        if p.chance(0.4):
            _feedback(p, end, "parent_carer", "end")
    return p.items


def _status(p: _Plan, point: str, day: date, hour: int = 12) -> None:
    kind, suitable, _w = p.r.choices(ACCOMMODATION, weights=[a[2] for a in ACCOMMODATION])[0]
    if point == "end" and not suitable and p.chance(0.5):  # some found somewhere suitable
        kind, suitable = "supported_accommodation", True
    p.add(day, hour, "accommodation_recorded", {
        "point": point, "suitable": suitable, "accommodation_type": kind})
    p.add(day, hour, "ete_recorded", _ete(p, point))


def _ete(p: _Plan, point: str) -> dict[str, Any]:
    status, full = p.r.choices(ETE, weights=[30, 10, 12, 12, 6, 3, 4, 23])[0]
    offered = full if status != "not_in_ete" else 0
    attended = 0 if not offered else max(0, offered - p.r.choice([0, 0, 1, 3, 5, 10, offered]))
    suitable = status != "not_in_ete" and attended >= offered // 2 and p.chance(0.9)
    return {"point": point, "status": status, "suitable": suitable,
            "hours_offered": offered, "hours_attended": attended}


def _send_and_health(p: _Plan) -> None:
    start = p.f.start
    if p.chance(0.9):
        identified = p.chance(0.32)
        plan = p.r.choice(["ehcp", "ehcp", "none"]) if identified else "none"
        p.add(start + timedelta(days=5), 12, "sen_recorded",
              {"identified": identified, "formal_plan": plan})
    for domain, need_p, plan_p, attend_p in (("mental_health", 0.45, 0.8, 0.7),
                                             ("substance_misuse", 0.3, 0.75, 0.6)):
        if not p.chance(need_p):
            continue
        day = start + timedelta(days=p.r.randint(3, 20))
        if not (day <= p.last and p.add(day, 14, "health_need_recorded", {
                "domain": domain, "stage": "need_identified", "stage_date": day.isoformat()})):
            continue
        if not p.chance(plan_p):
            continue
        day += timedelta(days=p.r.randint(7, 30))
        stage = p.r.choice(["intervention_planned", "intervention_offered"])
        if not (day <= p.last and p.add(day, 14, "health_need_recorded", {
                "domain": domain, "stage": stage, "stage_date": day.isoformat()})):
            continue
        if p.chance(attend_p):
            day += timedelta(days=p.r.randint(7, 28))
            if day <= p.last:
                p.add(day, 14, "health_need_recorded", {
                    "domain": domain, "stage": "attending", "stage_date": day.isoformat()})


def _links(p: _Plan) -> None:
    start = p.f.start
    for service, share in (("looked_after", 0.12), ("child_protection_plan", 0.06),
                           ("child_in_need", 0.15), ("early_help", 0.1)):
        if not p.chance(share):
            continue
        began = start - timedelta(days=p.r.randint(0, 400)) if p.chance(0.7) else \
            start + timedelta(days=p.r.randint(5, 40))
        recorded_on = max(began, start + timedelta(days=3))
        if recorded_on > p.last or not p.add(recorded_on, 15, "wider_service_link_started", {
                "service": service, "start_date": began.isoformat()}):
            continue
        if p.chance(0.3):
            ended = recorded_on + timedelta(days=p.r.randint(20, 120))
            if ended <= p.last:
                p.add(ended, 15, "wider_service_link_ended",
                      {"service": service, "end_date": ended.isoformat()})


def _victims(p: _Plan) -> None:
    count = 0 if not p.chance(0.65) else (2 if p.chance(0.12) else 1)
    for n in range(1, count + 1):
        vid = f"V-{p.r.randint(1, 9999):04d}{n}"
        day = p.f.start + timedelta(days=p.r.randint(2, 8))
        if day > p.last or not p.add(day, 10, "victim_identified", {
                "victim_id": vid, "victim_kind": p.r.choice(
                    ["individual", "individual", "individual", "business", "organisation"])}):
            continue
        if not p.chance(0.85):
            continue
        day += timedelta(days=p.r.randint(1, 10))
        method = p.r.choice(["phone", "letter", "in_person", "via_police"])
        if day > p.last or not p.add(day, 10, "victim_contacted",
                                     {"victim_id": vid, "method": method}):
            continue
        consented = p.chance(0.7)
        p.add(day + timedelta(days=1), 10, "victim_consent_recorded",
              {"victim_id": vid, "consented": consented})
        if not consented:
            continue
        if p.chance(0.8):
            p.add(day + timedelta(days=3), 11, "victim_views_taken",
                  {"victim_id": vid, "method": method})
        _restorative_justice(p, vid, day)
        if p.chance(0.55):
            late = day + timedelta(days=p.r.randint(40, 90))
            p.add(late, 16, "victim_satisfaction_recorded", {
                "victim_id": vid, "satisfaction": p.r.choice([
                    "very_satisfied", "satisfied", "satisfied", "neither", "dissatisfied"])},
                after_close=True)


def _restorative_justice(p: _Plan, vid: str, contacted: date) -> None:
    """Offered to some consenting victims; some take it up; most of those complete it."""
    if not (p.chance(0.6) and p.add(contacted + timedelta(days=5), 11,
                                    "restorative_justice_offered", {"victim_id": vid})):
        return
    kind = p.r.choice(["direct_meeting", "indirect_letter", "shuttle_mediation",
                       "indirect_reparation"])
    if not (p.chance(0.45) and p.add(contacted + timedelta(days=12), 11,
                                     "restorative_justice_taken_up",
                                     {"victim_id": vid, "kind": kind})):
        return
    if p.chance(0.7):
        p.add(contacted + timedelta(days=p.r.randint(20, 50)), 11,
              "restorative_justice_completed", {"victim_id": vid})


def _feedback(p: _Plan, day: date, respondent: str, point: str) -> None:
    asked = p.r.sample(QUESTIONS, p.r.randint(3, len(QUESTIONS)))
    p.add(day, 11, "feedback_given", {
        "respondent": respondent, "point": point,
        "answers": [{"question": q, "score": p.r.choice([2, 3, 4, 4, 5, 5])} for q in asked]},
        after_close=True)


BOARD_AGENCIES = ("police", "probation", "childrens_social_care", "education", "health",
                  "housing", "voluntary_sector")


def plan_board_meetings(seed: int, until: date, quarters: int = 6) -> list[dict[str, Any]]:
    """Quarterly management board meetings over the last ``quarters`` quarters: the
    statutory partners and a few others invited, most attending (pure)."""
    r = random.Random(f"board:{seed}")
    out: list[dict[str, Any]] = []
    year, q = until.year, (until.month - 1) // 3
    for back in range(quarters, -1, -1):
        index = year * 4 + q - back
        y, qq = divmod(index, 4)
        held = date(y, qq * 3 + 2, r.randint(8, 24))  # mid-quarter
        if held >= until:
            continue
        invited = list(BOARD_AGENCIES[:5]) + r.sample(BOARD_AGENCIES[5:], r.randint(0, 2))
        attending = [a for a in invited if r.random() < (0.9 if a != "health" else 0.6)]
        out.append({"held_on": held.isoformat(), "agencies_invited": ["yjs", *invited],
                    "agencies_attending": ["yjs", *attending]})
    return out
