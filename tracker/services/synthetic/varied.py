"""Varied case histories for property tests and benchmarks: plausible, entirely invented.

``plan_case`` proposes a year or so of one case's supervision from a ``random.Random``
(contacts attended and missed, follow-ups, warnings, breach, reviews, changes of case
manager, custody and release, transitions, audits, back-dated entries, supersessions and
retractions). It proposes freely, some of it against the rules: ``pipeline.accept`` keeps
what the tracker would accept, so the properties also cover what a refusal leaves behind.
Working days come from the policy's calendar. Ids are pseudonymous; nothing here is real.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid5

from events.envelope import Actor
from tracker.domain.audits import prompt_ids
from tracker.domain.enforcement import in_warned_period
from tracker.domain.inspection import question_set
from tracker.domain.policy import Policy, default_policy
from tracker.domain.workdays import calendar_for
from tracker.services.synthetic.pipeline import Proposal, at, new_uuid, synthetic_label

NOTES = (
    "Talked about the week ahead.",
    "Worked on the plan objectives.",
    "Session on consequences and choices.",
    "Parent joined at the end.",
)
DISPOSALS = (
    ("referral_order", "court"), ("yro", "court"), ("yro_iss", "court"), ("dto", "court"),
    ("youth_caution", "out_of_court"), ("youth_conditional_caution", "out_of_court"),
    ("community_resolution", "out_of_court"), ("remand", "court"),
)
KINDS = ("office", "home_visit", "phone", "video", "intervention_session")
LEVELS = ("standard", "enhanced", "intensive")
RISK = ("low", "medium", "high", "very_high")
BARRIERS = ("travel", "timing", "motivation", "family", "education_or_work")


class _Story:
    def __init__(self, rng: random.Random, case_id: str, until: date) -> None:
        self.rng = rng
        self.case_id = case_id
        self.until = until
        self.items: list[Proposal] = []

    def uuid(self) -> UUID:
        return new_uuid(self.rng)

    def add(self, day: date, event_type: str, data: dict[str, Any], *, hour: int | None = None,
            late_days: int = 0, event_id: UUID | None = None,
            actor: Actor | None = None) -> UUID:
        occurred = at(day, hour if hour is not None else self.rng.randint(9, 17),
                       self.rng.randint(0, 59))
        recorded = occurred + timedelta(minutes=self.rng.randint(1, 240), days=late_days)
        eid = event_id or self.uuid()
        self.items.append(Proposal(self.case_id, event_type, data, occurred, recorded, eid,
                                   actor))
        return eid

    def agree(self, change: UUID, manager: str) -> None:
        """The manager agrees the change just proposed, an hour later (no random draw, so
        the rest of the story is the same whether or not the policy asks for agreement)."""
        last = self.items[-1]
        self.items.append(Proposal(
            self.case_id, "intervention_level_change_agreed", {"change_event_id": str(change)},
            last.occurred_at + timedelta(hours=1), last.recorded_at + timedelta(hours=1),
            uuid5(change, "agreed"), Actor(manager, "manager")))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


def plan_case(
    rng: random.Random,
    case_id: str,
    *,
    start: date,
    until: date,
    child_id: str | None = None,
    team: str = "TEAM-A",
    service: str = "YJS-SYN",
    practitioners: Sequence[str] = ("P-SYN01", "P-SYN02", "P-SYN03"),
    manager: str = "M-SYN01",
    contacts_per_week: float | None = None,
    months: int | None = None,
    policy: Policy | None = None,
    disposal: str | None = None,
) -> list[Proposal]:
    """A plausible supervision story for one case from ``start`` to ``until`` (proposals);
    ``months`` fixes the order's length (random, 3-18, by default), ``disposal`` the
    disposal (drawn by default)."""
    s = _Story(rng, case_id, until)
    rules = policy or default_policy()
    workdays = calendar_for(rules.calendar)
    drawn, route = rng.choice(DISPOSALS)
    disposal = disposal or drawn
    route = dict(DISPOSALS)[disposal]
    level = rng.choice(LEVELS)
    custody_start = disposal in ("dto", "remand") or (disposal == "yro" and s.chance(0.1))
    setting = "custody" if disposal in ("dto", "remand") and s.chance(0.7) else "community"
    age_days = rng.randint(14 * 365, 17 * 365 + 300)
    dob = start - timedelta(days=age_days)
    length = months if months is not None else rng.randint(3, 18)
    expected_end = start + timedelta(days=30 * length)
    s.add(start, "case_opened", {
        "child_id": child_id or f"C-{case_id}", "date_of_birth": dob.isoformat(),
        "disposal_type": disposal, "route": route, "start_date": start.isoformat(),
        "expected_end_date": expected_end.isoformat(), "setting": setting,
        "intervention_level": level, "service": service, "team": team,
        "child_label": synthetic_label(case_id),
    }, hour=9)
    cm = rng.choice(list(practitioners))
    alloc_day = start + timedelta(days=rng.choice([0, 0, 0, 1, 2, 6]))
    if not s.chance(0.05):
        s.add(alloc_day, "case_manager_allocated", {
            "practitioner_id": cm, "agency": "yot", "role": "case_manager", "team": team,
            "manager_id": manager,
        }, hour=9)
    else:
        cm = ""
    day = start + timedelta(days=rng.choice([5, 10, 18, 20, 25, 30]))
    if day <= until and not s.chance(0.05):
        risk = [rng.choice(RISK) for _ in range(3)]
        s.add(day, "assessment_completed", {
            "kind": "initial", "likelihood_of_reoffending": risk[0],
            "safety_and_wellbeing": risk[1], "risk_of_serious_harm": risk[2],
            "strengths_recorded": s.chance(0.8), "child_involved": s.chance(0.85),
            "parent_carer_involved": s.chance(0.6), "victim_considered": s.chance(0.7),
            "other_agencies_information_used": s.chance(0.7),
        }, late_days=rng.choice([0, 0, 0, 0, 3]))
        plan_day = day + timedelta(days=rng.choice([3, 7, 12, 20]))
        if plan_day <= until and not s.chance(0.05):
            s.add(plan_day, "plan_agreed", {
                "objectives": [
                    {"domain": rng.choice(["desistance", "safety_wellbeing", "risk_of_harm"]),
                     "description": "Objective text.",
                     "target_date": (plan_day + timedelta(days=90)).isoformat()}
                    for _ in range(rng.randint(1, 3))
                ],
                "contingency_for_safety": s.chance(0.7), "contingency_for_risk": s.chance(0.7),
                "child_involved": s.chance(0.85), "parent_carer_involved": s.chance(0.6),
            })
    profile = rules.profile(disposal)
    if profile.route == "out_of_court" and not s.chance(0.1):
        decided = start + timedelta(days=rng.choice([1, 3, 12, 25, 32]))
        if decided <= until:
            s.add(decided, "joint_decision_made", {
                "outcome": disposal, "proportionate_assessment": s.chance(0.8),
                "agencies_present": ["yot", "police"] + (
                    ["social_care"] if s.chance(0.7) else [])}, hour=12)
    if profile.panels:
        _panels(s, rng, start, until)
    if profile.enforcement == "caution_conditions":
        _conditions(s, rng, start, until)
    per_week = contacts_per_week or {"standard": 0.7, "enhanced": 1.1, "intensive": 2.2}[level]
    gap = max(1, round(7 / per_week))
    contact_no = 0
    warnings: list[date] = []
    in_custody = setting == "custody"
    release_planned = False
    day = start + timedelta(days=rng.randint(1, 6))
    last_review = start
    transition_no = 0
    while day <= until and day <= expected_end + timedelta(days=10):
        if not workdays.is_working_day(day):
            day += timedelta(days=1)
            continue
        contact_no += 1
        contact_id = f"K{contact_no:04d}"
        kind = rng.choice(KINDS)
        cid = None
        if day - timedelta(days=5) > start:
            s.add(day - timedelta(days=rng.randint(1, 5)), "contact_scheduled", {
                "contact_id": contact_id, "kind": kind,
                "scheduled_for": at(day, 10).isoformat(),
            })
            cid = contact_id
        roll = rng.random()
        if roll < 0.78:
            s.add(day, "contact_attended", {
                "contact_id": cid, "kind": kind, "participation": rng.randint(1, 5),
                "barriers_noted": rng.sample(BARRIERS, k=rng.choice([0, 0, 0, 1])),
                "barriers_addressed": rng.sample(BARRIERS, k=rng.choice([0, 0, 1])),
                "parent_carer_present": s.chance(0.3),
                "note": rng.choice(NOTES) if s.chance(0.4) else None,
            }, late_days=rng.choice([0] * 12 + [2, 9]))
        else:
            acceptable = s.chance(0.4)
            reason = rng.choice(
                ["illness_with_evidence", "agreed_rearrangement"] if acceptable
                else ["no_reason_given", "refused", "forgot"]
            )
            missed = s.add(day, "contact_missed", {
                "contact_id": cid, "kind": kind, "acceptable": acceptable, "reason": reason,
            })
            if s.chance(0.75):
                s.add(day + timedelta(days=rng.choice([0, 1, 1, 2, 4])),
                      "missed_contact_followed_up", {
                          "missed_event_id": str(missed), "method": "phone",
                          "child_reached": s.chance(0.7)})
            if not acceptable and rules.profile(disposal).warnings:
                recent = [w for w in warnings
                          if in_warned_period(w.toordinal(), day.toordinal(), rules.enforcement)]
                if len(recent) >= 2 and s.chance(0.8):
                    if s.chance(0.25):
                        s.add(day + timedelta(days=2), "exceptional_circumstances_recorded", {
                            "failure_event_id": str(missed),
                            "note": "Family emergency confirmed."},
                            actor=Actor(manager, "manager"))
                    else:
                        s.add(day + timedelta(days=rng.randint(1, 6)), "breach_initiated", {
                            "failure_event_ids": [str(missed)], "serious_failure": False})
                elif s.chance(0.7):
                    wday = day + timedelta(days=rng.randint(0, 3))
                    s.add(wday, "warning_issued", {"failure_event_id": str(missed)})
                    warnings.append(wday)
        if profile.contact_levels and s.chance(0.01):
            change = s.add(day, "intervention_level_changed", {
                "intervention_level": rng.choice(LEVELS), "reason": "review_outcome"})
            s.agree(change, manager)
        if s.chance(0.01):
            s.add(day, "requirement_failed", {"requirement": rng.choice(["curfew", "activity"])})
        if s.chance(0.03):
            s.add(day, "significant_change_noted", {
                "domains": rng.sample(["desistance", "safety_wellbeing", "risk_of_harm"],
                                      k=rng.randint(1, 2))})
        if (day - last_review).days >= rng.randint(75, 110):
            changed = rng.sample(["desistance", "safety_wellbeing", "risk_of_harm"],
                                 k=rng.choice([0, 0, 1]))
            s.add(day, "review_completed", {
                "trigger": "scheduled", "changed_domains": changed,
                "plan_adjusted": bool(changed) and s.chance(0.7),
                "child_involved": s.chance(0.8), "parent_carer_involved": s.chance(0.5),
            })
            last_review = day
            if s.chance(0.3):
                risk = [rng.choice(RISK) for _ in range(3)]
                s.add(day, "assessment_completed", {
                    "kind": "review", "likelihood_of_reoffending": risk[0],
                    "safety_and_wellbeing": risk[1], "risk_of_serious_harm": risk[2],
                    "strengths_recorded": True, "child_involved": True,
                    "parent_carer_involved": s.chance(0.5), "victim_considered": True,
                    "other_agencies_information_used": True,
                })
        if cm and s.chance(0.01):
            new_cm = rng.choice([p for p in practitioners if p != cm] or [cm])
            if new_cm != cm:
                s.add(day, "case_manager_allocation_ended", {
                    "practitioner_id": cm, "role": "case_manager",
                    "reason": rng.choice(["reallocated", "left_service"])})
                if s.chance(0.9):
                    s.add(day + timedelta(days=rng.choice([0, 0, 3, 10])),
                          "case_manager_allocated", {
                              "practitioner_id": new_cm, "agency": "yot",
                              "role": "case_manager", "team": team, "manager_id": manager})
                    cm = new_cm
                else:
                    cm = ""
        if custody_start and not in_custody and s.chance(0.01):
            transition_no += 1
            s.add(day, "transition_completed", {
                "transition_id": None, "kind": "community_to_custody",
                "information_shared": s.chance(0.7), "handover_meeting_held": s.chance(0.5),
                "accommodation_arranged": False})
            in_custody = True
            release_planned = False
        elif in_custody and not release_planned and s.chance(0.02):
            transition_no += 1
            tid = f"T{transition_no:03d}"
            planned = day + timedelta(days=rng.randint(7, 40))
            s.add(day, "transition_planned", {
                "transition_id": tid, "kind": "custody_to_community",
                "planned_date": planned.isoformat(),
                "accommodation_arranged": s.chance(0.6), "resettlement_plan_agreed": s.chance(0.6),
                "information_shared": s.chance(0.6), "handover_meeting_held": s.chance(0.4)})
            release_planned = True
            if planned <= until:
                s.add(planned, "transition_completed", {
                    "transition_id": tid, "kind": "custody_to_community",
                    "information_shared": s.chance(0.7), "handover_meeting_held": s.chance(0.6),
                    "accommodation_arranged": s.chance(0.7)})
                in_custody = False
        if s.chance(0.004):
            s.add(day, "case_audited", {
                "audit_type": "full",
                "prompts": [
                    {"key_question": kq, "prompt": p,
                     "answer": "yes" if s.chance(0.8) else "no"}
                    for kq, p in prompt_ids(question_set(), route)
                ],
            }, hour=16)
        if s.chance(0.01):
            _correction(s, rng)
        day += timedelta(days=max(1, gap + rng.randint(-1, 2)))
    age_175 = dob + timedelta(days=int(17.5 * 365.25))
    if start < age_175 <= until and s.chance(0.5):
        s.add(max(start, age_175 - timedelta(days=rng.randint(0, 60))), "transition_planned", {
            "transition_id": "PROB", "kind": "to_probation",
            "planned_date": (dob + timedelta(days=18 * 366)).isoformat(),
            "receiving_service": "PS-SYN", "information_shared": s.chance(0.5)})
    if expected_end <= until and s.chance(0.8):
        s.add(expected_end, "case_closed", {"reason": "order_completed"}, hour=17)
    return s.items


def _panels(s: _Story, rng: random.Random, start: date, until: date) -> None:
    """A referral order's panels: the initial panel and contract, then progress panels."""
    day = start + timedelta(days=rng.choice([10, 20, 28, 35]))
    roles = ["child", "parent_carer", "panel_member", "yot_officer"]
    if day > until or s.chance(0.05):
        return
    s.add(day, "panel_held", {"kind": "initial", "attendee_roles": roles,
                              "victim_views_presented": s.chance(0.5)}, hour=10)
    if s.chance(0.1):
        return
    s.add(day, "contract_agreed", {"objectives": [
        {"domain": "desistance", "description": "Complete the reparation agreed.",
         "target_date": (day + timedelta(days=90)).isoformat()}]}, hour=15)
    while True:
        day += timedelta(days=rng.randint(60, 110))
        if day > until:
            return
        s.add(day, "panel_held", {"kind": "progress", "attendee_roles": roles[:3],
                                  "victim_views_presented": False}, hour=10)
        if s.chance(0.05):
            s.add(day, "referred_back_to_court", {"reason": "non_compliance"}, hour=11)
            return


def _conditions(s: _Story, rng: random.Random, start: date, until: date) -> None:
    """A conditional caution's conditions, each completed or failed by its deadline."""
    for n in range(rng.randint(1, 2)):
        deadline = start + timedelta(days=rng.randint(20, 90))
        cid = f"COND{n + 1}"
        s.add(start, "condition_set", {"condition_id": cid, "kind": "reparation",
                                       "deadline": deadline.isoformat()}, hour=14)
        ended = deadline + timedelta(days=rng.choice([-3, 0, 1, 4]))
        if ended > until:
            continue
        if s.chance(0.7):
            s.add(ended, "condition_completed", {"condition_id": cid})
            continue
        excuse = s.chance(0.3)
        failed = s.add(ended, "condition_failed", {"condition_id": cid,
                                                   "reasonable_excuse": excuse})
        decided = ended + timedelta(days=rng.randint(1, 14))
        if not excuse and decided <= until and s.chance(0.8):
            s.add(decided, "prosecution_decided", {
                "failure_event_id": str(failed), "decision": rng.choice(
                    ["prosecute", "no_further_action"]), "decided_by": "cps"})


def _correction(s: _Story, rng: random.Random) -> None:
    earlier = [p for p in s.items if p.event_type in ("contact_attended", "contact_missed")]
    if not earlier:
        return
    target = rng.choice(earlier)
    when = target.occurred_at + timedelta(days=rng.randint(1, 20))
    if target.event_type == "contact_attended" and s.chance(0.6):
        data = dict(target.data)
        data["participation"] = rng.randint(1, 5)
        s.items.append(Proposal(s.case_id, "event_superseded", {
            "target_event_id": str(target.event_id), "reason": "Rating entered wrongly.",
            "replacement_type": "contact_attended", "replacement": data,
            "replacement_occurred_at": (
                target.occurred_at - timedelta(days=1) if s.chance(0.3) else None
            ),
        }, when, when + timedelta(minutes=5), s.uuid()))
    else:
        s.items.append(Proposal(s.case_id, "event_retracted", {
            "target_event_id": str(target.event_id), "reason": "Recorded on the wrong case.",
        }, when, when + timedelta(minutes=5), s.uuid()))


def caseload(
    rng: random.Random, cases: int, *, start: date, until: date, teams: int = 3,
    prefix: str = "CS-SYN",
) -> list[Proposal]:
    """Proposals for ``cases`` cases starting over the period, across a few teams."""
    out: list[Proposal] = []
    span = max(1, (until - start).days - 30)
    for i in range(cases):
        team_no = i % teams
        case_start = start + timedelta(days=rng.randint(0, span))
        out.extend(plan_case(
            rng, f"{prefix}{i:05d}", start=case_start, until=until,
            team=f"TEAM-{team_no + 1}",
            practitioners=[f"P-{team_no + 1}{k:02d}" for k in range(1, 5)],
            manager=f"M-{team_no + 1:02d}",
        ))
    return out
