"""The demo caseload behind ``tracker seed`` and ``tracker demo``: one service, about a year.

Every value is invented: pseudonymous ids, generic notes, no real names or places. The
same ``(cases, seed, until, policy)`` always gives the same proposals. The timescales,
contact levels and working days come from the policy (``tracker.domain.policy``) and
``tracker.domain.workdays``, never restated here. Each event is recorded a little after
it happened (minutes to hours; a few back-dated entries days later), and every planned
command is one the rules accept (``pipeline.check``), for every seed and size.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from events.envelope import Actor
from tracker.domain.audits import prompt_ids
from tracker.domain.countersignature import DocumentFacts, needs_countersignature
from tracker.domain.enforcement import in_warned_period
from tracker.domain.inspection import question_set
from tracker.domain.offence import RecordedOffence, offence_category
from tracker.domain.policy import Policy, default_policy
from tracker.domain.workdays import WorkingDays, calendar_for
from tracker.kernel.clock import LONDON
from tracker.services.synthetic.outcomes import CaseFacts, plan_outcomes
from tracker.services.synthetic.pipeline import (
    Proposal,
    at,
    new_uuid,
    recorded_order,
    synthetic_label,
)

SERVICE = "YJS-DEMO"
TEAMS = {
    "TEAM-NORTH": ("M-NORTH", ["P-N01", "P-N02", "P-N03", "P-N04"]),
    "TEAM-SOUTH": ("M-SOUTH", ["P-S01", "P-S02", "P-S03", "P-S04"]),
    "TEAM-EAST": ("M-EAST", ["P-E01", "P-E02", "P-E03"]),
}
KEYWORKERS = ["K-YOI01", "K-YOI02", "K-STC01"]
NOTES = [
    "Discussed school attendance and the timetable for next week.",
    "Worked through the consequences exercise; engaged well.",
    "Reviewed progress against the plan objectives.",
    "Talked about friendships and staying safe in the evenings.",
    "Victim awareness session, part two.",
    "Travel to the office is difficult; agreed to meet nearer home.",
    "Parent/carer joined for the last part of the session.",
]
DISPOSALS: list[tuple[str, str, float]] = [
    ("referral_order", "court", 0.25), ("yro", "court", 0.20), ("yro_iss", "court", 0.05),
    ("dto", "court", 0.10), ("youth_caution", "out_of_court", 0.15),
    ("youth_conditional_caution", "out_of_court", 0.15),
    ("community_resolution", "out_of_court", 0.10),
]
SEED_ACTOR = Actor("seed", "system")


@dataclass
class _Item:
    occurred: datetime
    event_type: str
    data: dict[str, Any]
    recorded: datetime | None = None
    event_id: UUID | None = None
    actor: str = ""
    """The manager who records it, for a manager's decision (else the seeder)."""


@dataclass
class _Case:
    case_id: str
    items: list[_Item] = field(default_factory=list)


class _Rng:
    """Deterministic draws (and UUIDs) from one seed."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def uuid(self) -> UUID:
        return new_uuid(self.r)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def code(self, n: int) -> str:
        return "".join(self.r.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def _workday(day: date, wd: WorkingDays) -> date:
    """``day`` if it is a working day, else the next one."""
    return day if wd.is_working_day(day) else wd.add(day, 1)


def plan_caseload(
    cases: int, seed: int, until: date, policy: Policy | None = None
) -> list[Proposal]:
    """Every case's proposals, in recorded order (pure: no IO)."""
    rng = _Rng(seed)
    policy = policy or default_policy()
    wd = calendar_for(policy.calendar)
    out: list[Proposal] = []
    for index in range(cases):
        case = _plan_case(index, rng, until, wd, policy, cases)
        out.extend(
            Proposal(case.case_id, it.event_type, it.data, it.occurred, it.recorded, it.event_id,
                     Actor(it.actor, "manager") if it.actor else None)
            for it in case.items if it.recorded is not None and it.event_id is not None
        )
    return recorded_order(out)


def _plan_case(
    index: int, rng: _Rng, until: date, wd: WorkingDays, policy: Policy, total: int
) -> _Case:
    r = rng.r
    case = _Case(case_id=f"CS-{index + 1:05d}")
    team = list(TEAMS)[index % len(TEAMS)]
    manager, practitioners = TEAMS[team]
    practitioner = practitioners[r.randrange(len(practitioners))]
    roll, acc = r.random(), 0.0
    disposal, route = DISPOSALS[-1][0], DISPOSALS[-1][1]
    for name, rt, weight in DISPOSALS:
        acc += weight
        if roll < acc:
            disposal, route = name, rt
            break
    # Story shapes that must appear in any caseload of a few cases.
    if index == 2 and total >= 3:
        disposal, route = "yro", "court"  # the breach story
    if index == 4 and total >= 5:
        disposal, route = "dto", "court"  # custody with release
    start = _workday(until - timedelta(days=r.randint(40, 360)), wd)
    months = {
        "referral_order": r.randint(3, 12), "yro": r.randint(6, 18), "yro_iss": r.randint(6, 12),
        "dto": r.randint(4, 12), "youth_caution": 3, "youth_conditional_caution": 4,
        "community_resolution": 3,
    }[disposal]
    end = start + timedelta(days=30 * months)
    age_days = r.randint(12 * 365, 17 * 365 + 100)
    near_adult = index == 6 and total >= 7
    if near_adult:  # the transfer-to-probation story: turns 18 during the order
        age_days = 17 * 365 + 240
        disposal, route, end = "yro", "court", start + timedelta(days=360)
    dob = start - timedelta(days=age_days)
    level = ("standard" if route == "out_of_court"
             else r.choice(["standard", "enhanced", "intensive"]))
    custody = disposal == "dto"
    add = case.items.append

    def item(day: date, hour: int, event_type: str, data: dict[str, Any], **kw: Any) -> _Item:
        it = _Item(at(day, hour, r.choice([0, 15, 30, 45])), event_type, data, **kw)
        add(it)
        return it

    item(start, 9, "case_opened", {
        "child_id": f"C-{rng.code(8)}", "date_of_birth": dob.isoformat(),
        "disposal_type": disposal, "route": route, "start_date": start.isoformat(),
        "expected_end_date": end.isoformat(), "setting": "custody" if custody else "community",
        "intervention_level": level, "service": SERVICE, "team": team,
        "child_label": synthetic_label(case.case_id),
    })
    item(start, 10, "case_manager_allocated", {
        "practitioner_id": practitioner, "agency": "yot", "role": "case_manager", "team": team,
        "manager_id": manager,
    })
    keyworker = KEYWORKERS[r.randrange(len(KEYWORKERS))]
    release = start + (end - start) / 2
    if custody:
        item(wd.add(start, 1), 11, "case_manager_allocated", {
            "practitioner_id": keyworker, "agency": "secure_establishment",
            "role": "secure_keyworker",
        })
        item(wd.add(start, 8), 14, "transition_planned", {
            "transition_id": "release", "kind": "custody_to_community",
            "planned_date": release.isoformat(), "receiving_case_manager": practitioner,
            "accommodation_arranged": False, "resettlement_plan_agreed": False,
        })
    late_assessment = rng.chance(0.15)
    limit = max(3, policy.assessment_days(disposal) or 0)  # untimed: early anyway
    a_day = wd.add(start, r.randint(limit + 1, limit + 8) if late_assessment
                          else r.randint(3, limit))
    risk = r.choice(["low", "low", "medium", "medium", "high"])
    item(a_day, 13, "assessment_completed", {
        "kind": "out_of_court" if route == "out_of_court" else "initial",
        "likelihood_of_reoffending": r.choice(["low", "medium", "high"]),
        "safety_and_wellbeing": r.choice(["low", "medium", "medium", "high"]),
        "risk_of_serious_harm": risk, "strengths_recorded": rng.chance(0.8),
        "child_involved": rng.chance(0.85), "parent_carer_involved": rng.chance(0.65),
        "victim_considered": rng.chance(0.75), "other_agencies_information_used": rng.chance(0.7),
    })
    p_day = wd.add(a_day, r.randint(2, 13))
    item(p_day, 15, "plan_agreed", {
        "objectives": [
            {"domain": "desistance", "description": "Attend education or training every week.",
             "target_date": (p_day + timedelta(days=90)).isoformat()},
            {"domain": "safety_wellbeing", "description": "Agree a safety plan for evenings.",
             "target_date": (p_day + timedelta(days=60)).isoformat()},
        ],
        "contingency_for_safety": rng.chance(0.7), "contingency_for_risk": risk != "low" or
        rng.chance(0.3), "child_involved": rng.chance(0.85),
        "parent_carer_involved": rng.chance(0.6),
    })

    # Contacts, month by month; shortfall and disengagement in some cases.
    falling = rng.chance(0.2)
    sparse = rng.chance(0.2)
    breach_story = index == 2 and total >= 3
    participation = r.randint(3, 5)
    day = wd.add(start, r.randint(1, 4))
    horizon = min(end, until - timedelta(days=1))
    t_day = min(dob + timedelta(days=int(365.25 * 18)) - timedelta(days=10), horizon)
    if near_adult:
        horizon = t_day - timedelta(days=1)
    profile = policy.profile(disposal)
    last_day = min(horizon, _workday(end, wd) - timedelta(days=1))
    # What only some disposals record draws from its own stream, so the rest of every
    # story is the same whichever disposal it is told for.
    side = random.Random(f"{case.case_id}:{start.isoformat()}:{disposal}")
    decided = wd.add(a_day, 1)
    if profile.route == "out_of_court" and decided <= last_day:  # informed by the assessment
        item(decided, 11, "joint_decision_made", {
            "outcome": disposal, "agencies_present": ["yot", "police", "social_care"],
            "proportionate_assessment": True})
    if profile.enforcement == "caution_conditions":
        deadline = start + timedelta(days=side.randint(30, 80))
        item(start, 12, "condition_set", {"condition_id": "C1", "kind": "reparation",
                                          "deadline": deadline.isoformat()})
        if deadline <= last_day:
            item(deadline, 12, "condition_completed", {"condition_id": "C1"})
    if profile.panels:  # initial panel and contract, then progress panels
        panel_day = wd.add(start, side.randint(8, policy.panels.initial_working_days))
        if panel_day <= last_day:
            roles = ["child", "parent_carer", "panel_member", "yot_officer"]
            item(panel_day, 10, "panel_held", {"kind": "initial", "attendee_roles": roles,
                                               "victim_views_presented": side.random() < 0.5})
            item(panel_day, 12, "contract_agreed", {"objectives": [
                {"domain": "desistance", "description": "Complete the reparation agreed.",
                 "target_date": (panel_day + timedelta(days=90)).isoformat()}]})
            panel_day = _workday(panel_day + timedelta(days=side.randint(75, 88)), wd)
            while panel_day <= last_day:
                item(panel_day, 10, "panel_held", {"kind": "progress", "attendee_roles": roles,
                                                   "victim_views_presented": False})
                panel_day = _workday(panel_day + timedelta(days=side.randint(75, 88)), wd)

    contact_no = 0
    failures: list[_Item] = []
    warnings: list[date] = []
    in_custody = custody
    released = False
    changed_manager = False
    last_review = p_day
    # The order ends on close_day if it ends before ``until``: nothing about the case
    # manager may be planned after the allocation ends that afternoon.
    close_day = _workday(end, wd)
    closes = not near_adult and end < until - timedelta(days=1)
    while day <= horizon:
        if custody and not released and day >= release:
            released = True
            in_custody = False
            complete = rng.chance(0.6)
            item(day, 9, "transition_completed", {
                "transition_id": "release", "kind": "custody_to_community",
                "receiving_case_manager": practitioner, "information_shared": True,
                "handover_meeting_held": complete, "accommodation_arranged": complete or
                rng.chance(0.5),
            })
            item(day, 10, "case_manager_allocation_ended", {
                "practitioner_id": keyworker, "role": "secure_keyworker", "reason": "transition",
            })
            if rng.chance(0.35):  # a change of case manager at the transition
                new = practitioners[(practitioners.index(practitioner) + 1) % len(practitioners)]
                item(day, 11, "case_manager_allocation_ended", {
                    "practitioner_id": practitioner, "role": "case_manager",
                    "reason": "transition"})
                new_day = wd.add(day, r.randint(0, 3))
                new_day = min(new_day, close_day) if closes else new_day
                item(new_day, 12, "case_manager_allocated", {
                    "practitioner_id": new, "agency": "yot", "role": "case_manager",
                    "team": team, "manager_id": manager})
                practitioner = new
                changed_manager = True
        weeks = (day - start).days // 7
        per_month = policy.contacts_per_month(level, weeks < policy.contacts.initial_period_weeks)
        if in_custody:
            per_month = 1
        gap_days = max(2, int(30 / max(per_month, 1)))
        if sparse and rng.chance(0.35):
            gap_days *= 2
        contact_no += 1
        contact_id = f"K{contact_no:04d}"
        kind = r.choice(
            ["office", "office", "home_visit", "phone", "intervention_session", "video"])
        scheduled = item(day, 10, "contact_scheduled", {
            "contact_id": contact_id, "kind": kind,
            "scheduled_for": at(day, 15).isoformat()})
        scheduled.occurred = scheduled.occurred - timedelta(days=r.randint(1, 6))
        floor = case.items[0].occurred + timedelta(minutes=1)  # after the case opened
        scheduled.occurred = max(scheduled.occurred, floor)
        if falling and weeks > 10:
            participation = max(1, participation - (1 if rng.chance(0.4) else 0))
        miss_p = 0.45 if breach_story and weeks > 4 else (0.18 if falling else 0.08)
        if rng.chance(miss_p) and not in_custody:
            acceptable = rng.chance(0.4) and not breach_story
            missed = item(day, 16, "contact_missed", {
                "contact_id": contact_id, "kind": kind, "acceptable": acceptable,
                "reason": r.choice(["illness_with_evidence", "agreed_rearrangement"])
                if acceptable else r.choice(["no_reason_given", "forgot", "refused"]),
            })
            missed.event_id = rng.uuid()
            if rng.chance(0.8):
                nxt = wd.add(day, 1 if rng.chance(0.85) else 3)
                if nxt <= horizon:
                    item(nxt, 10, "missed_contact_followed_up", {
                        "missed_event_id": str(missed.event_id),
                        "method": r.choice(["phone", "text_message", "home_visit"]),
                        "child_reached": rng.chance(0.7)})
            if not acceptable:
                # The story draws the same whatever the disposal; it records only what the
                # disposal's enforcement route has a place for.
                failures.append(missed)
                recent = [w for w in warnings
                          if in_warned_period(w.toordinal(), day.toordinal(), policy.enforcement)]
                w_day = wd.add(day, r.randint(1, 3))
                if len(recent) >= 2 and w_day <= horizon:
                    if breach_story or rng.chance(0.5):
                        if profile.breach:
                            item(w_day, 11, "breach_initiated", {
                                "failure_event_ids": [str(missed.event_id)],
                                "note": "Third unacceptable failure in the warned period."})
                        breach_story = False
                    elif profile.breach:
                        item(w_day, 11, "exceptional_circumstances_recorded", {
                            "failure_event_id": str(missed.event_id),
                            "note": "Family circumstances considered exceptional."},
                            actor=manager)
                elif w_day <= horizon:
                    if profile.warnings:
                        item(w_day, 11, "warning_issued",
                             {"failure_event_id": str(missed.event_id)})
                    warnings.append(w_day)
        else:
            barriers = [r.choice(["travel", "timing", "motivation", "education_or_work"])
                        ] if rng.chance(0.2) else []
            item(day, 15, "contact_attended", {
                "contact_id": contact_id, "kind": kind, "participation": participation,
                "barriers_noted": barriers,
                "barriers_addressed": barriers if rng.chance(0.6) else [],
                "parent_carer_present": rng.chance(0.25),
                "note": NOTES[r.randrange(len(NOTES))]})
            if not falling:
                participation = min(5, max(2, participation + r.choice([-1, 0, 0, 1])))
        # Reviews about every three months (some late), and after a significant change.
        if (day - last_review).days >= (92 if rng.chance(0.85) else 115):
            if rng.chance(0.15):
                item(day, 12, "significant_change_noted", {"domains": ["safety_wellbeing"]})
            changed = [r.choice(["desistance", "safety_wellbeing", "risk_of_harm"])
                       ] if rng.chance(0.4) else []
            review_day = wd.add(day, 1)
            item(min(review_day, horizon), 14, "review_completed", {
                "trigger": "scheduled", "changed_domains": changed,
                "plan_adjusted": bool(changed) and rng.chance(0.75),
                "child_involved": rng.chance(0.8), "parent_carer_involved": rng.chance(0.5)})
            last_review = review_day
        if (not changed_manager and not custody and rng.chance(0.01)
                and not (closes and day >= close_day)):
            new = practitioners[(practitioners.index(practitioner) + 1) % len(practitioners)]
            item(day, 17, "case_manager_allocation_ended", {
                "practitioner_id": practitioner, "role": "case_manager", "reason": "reallocated"})
            item(day, 17, "case_manager_allocated", {
                "practitioner_id": new, "agency": "yot", "role": "case_manager", "team": team,
                "manager_id": manager})
            practitioner = new
            changed_manager = True
        day = _workday(day + timedelta(days=gap_days), wd)

    if near_adult:
        if t_day > start + timedelta(days=25):
            item(t_day - timedelta(days=20), 10, "transition_planned", {
                "transition_id": "probation", "kind": "to_probation",
                "planned_date": t_day.isoformat(), "receiving_service": "PROBATION-DEMO",
                "information_shared": True, "handover_meeting_held": True,
                "accommodation_arranged": True, "resettlement_plan_agreed": True})
            item(t_day, 11, "transition_completed", {
                "transition_id": "probation", "kind": "to_probation",
                "receiving_service": "PROBATION-DEMO", "information_shared": True,
                "handover_meeting_held": True, "accommodation_arranged": True})
            item(t_day, 12, "case_manager_allocation_ended", {
                "practitioner_id": practitioner, "role": "case_manager", "reason": "transition"})
            item(t_day, 13, "case_closed", {"reason": "transferred_to_probation"})
    elif closes:
        still_in_custody = custody and not released
        if close_day < until and not still_in_custody:
            item(close_day, 16, "case_manager_allocation_ended", {
                "practitioner_id": practitioner, "role": "case_manager",
                "reason": "case_closed"})
            item(close_day, 17, "case_closed", {"reason": "order_completed"})
            if rng.chance(0.4):
                prompts = [
                    {"key_question": kq, "prompt": p,
                     "answer": "yes" if rng.chance(0.85) else "no"}
                    for kq, p in prompt_ids(question_set(), route)
                ]
                item(wd.add(close_day, 5), 11, "case_audited", {
                    "audit_type": "full", "prompts": prompts})
    _finish(case, rng, until, lambda c: _countersign(c, policy, wd, practitioner, until))
    _add_outcomes(case, until)
    return case


def _countersign(case: _Case, policy: Policy, wd: WorkingDays, practitioner: str,
                 until: date) -> None:
    """The manager's countersignature of the documents the policy wants countersigned: most
    are countersigned a few working days later, some still await it (the manager's alert
    after the policy's days), a few are returned for revision. Drawn from the case's own
    generator, so the rest of the caseload is the same with or without it."""
    cs = random.Random(f"countersign:{case.case_id}")
    opened = case.items[0].data
    closing = [it.occurred for it in case.items if it.event_type == "case_closed"]
    latest: dict[str, Any] = {}
    # the offences the case's KPI data will record (merged in later, drawn from their own
    # stream, so the same now): the offence rule sees those recorded before a document
    planned = [p for p in plan_outcomes(_outcome_facts(case, until))
               if p.event_type == "offence_recorded"]
    for it in list(case.items):
        offences = [RecordedOffence(p.data["category"], int(p.data["gravity_score"]),
                                    bool(p.data["first_offence"]))
                    for p in planned if p.occurred <= it.occurred]
        if it.event_type == "assessment_completed":
            latest = it.data
        if it.event_type not in ("assessment_completed", "plan_agreed", "plan_revised"):
            continue
        facts = DocumentFacts(
            document="assessment" if it.event_type == "assessment_completed" else "plan",
            disposal=opened["disposal_type"], case_manager=practitioner,
            risk_of_serious_harm=latest.get("risk_of_serious_harm"),
            safety_and_wellbeing=latest.get("safety_and_wellbeing"),
            offence_category=offence_category(opened.get("offence_category"), offences))
        if not needs_countersignature(policy.countersignature, facts):
            continue
        roll = cs.random()
        if roll < 0.3:
            continue  # still awaiting
        day = wd.add(it.occurred.date(), cs.randint(1, 4))
        when = at(day, 16, cs.choice([0, 15, 30, 45]))
        if closing and when >= closing[0] - timedelta(hours=1):
            continue
        data: dict[str, Any] = {"document_event_id": str(it.event_id)}
        kind = "document_countersigned"
        if roll > 0.92:
            kind = "document_returned"
            data["reason"] = cs.choice(["analysis_insufficient", "risk_not_addressed",
                                        "plan_not_congruent_with_assessment"])
            data["note"] = "Please strengthen the analysis before it is shared."
        case.items.append(_Item(when, kind, data, recorded=when + timedelta(minutes=1),
                                event_id=new_uuid(cs)))


def _outcome_facts(case: _Case, until: date) -> CaseFacts:
    """What the KPI story needs of the case's main story."""
    opened = case.items[0]
    closed = next((it for it in case.items if it.event_type == "case_closed"), None)
    release = next((it for it in case.items if it.event_type == "transition_completed"
                    and it.data.get("kind") == "custody_to_community"), None)
    conditions = [it for it in case.items if it.event_type.startswith("condition_")]
    return CaseFacts(
        case_id=case.case_id, start=date.fromisoformat(opened.data["start_date"]),
        route=opened.data["route"], disposal=opened.data["disposal_type"],
        opened_recorded=opened.recorded or opened.occurred,
        released=release.occurred.astimezone(LONDON).date() if release else None,
        closed_on=closed.occurred.astimezone(LONDON).date() if closed else None,
        closed_recorded=closed.recorded if closed else None,
        conditions_done=sum(it.event_type == "condition_set" for it in conditions)
        == sum(it.event_type == "condition_completed" for it in conditions),
        until=until,
    )


def _add_outcomes(case: _Case, until: date) -> None:
    """The case's KPI data (``synthetic.outcomes``, its own random stream), merged in
    recorded order."""
    case.items.extend(
        _Item(p.occurred, p.event_type, p.data, recorded=p.recorded, event_id=p.event_id)
        for p in plan_outcomes(_outcome_facts(case, until)))
    case.items.sort(key=lambda it: it.recorded or it.occurred)


def _finish(case: _Case, rng: _Rng, until: date,
            extra: Callable[[_Case], None] | None = None) -> None:
    """Order by when things happened, then say when each was recorded."""
    r = rng.r
    now_limit = at(until, 8)
    case.items = [it for it in case.items if it.occurred < now_limit]
    case.items.sort(key=lambda it: it.occurred)
    for it in case.items:
        if it.event_id is None:
            it.event_id = rng.uuid()
    if extra is not None:  # acts on the documents, now that they have their ids
        extra(case)
        case.items = [it for it in case.items if it.occurred < now_limit]
        case.items.sort(key=lambda it: it.occurred)
    # A correction: a contact logged with the wrong kind is superseded a few days later.
    attended = [it for it in case.items if it.event_type == "contact_attended"]
    if attended and rng.chance(0.1):
        target = attended[r.randrange(len(attended))]
        fixed = dict(target.data, kind="home_visit" if target.data["kind"] != "home_visit"
                     else "office")
        case.items.append(_Item(target.occurred + timedelta(days=3), "event_superseded", {
            "target_event_id": str(target.event_id), "reason": "Wrong contact type selected.",
            "replacement_type": "contact_attended", "replacement": fixed}, event_id=rng.uuid()))
    # Recorded shortly after it happened, in causal order; a few attended contacts are
    # back-dated (entered days later), which nothing else depends on.
    case.items.sort(key=lambda it: it.occurred)
    corrected = {it.data["target_event_id"] for it in case.items
                 if it.event_type == "event_superseded"}
    normal: list[_Item] = []
    late: list[_Item] = []
    preset = [it for it in case.items if it.recorded is not None]  # timed by their planner
    timed = [it for it in case.items if it.recorded is None]
    cutoff = timed[-1].occurred - timedelta(days=15) if timed else now_limit
    for it in case.items:
        if it.recorded is not None:
            continue
        if (it.event_type == "contact_attended" and str(it.event_id) not in corrected
                and it.occurred < cutoff and rng.chance(0.05)):
            it.recorded = it.occurred + timedelta(days=r.randint(3, 10))
            late.append(it)
        else:
            normal.append(it)
    last: datetime | None = None
    for it in normal:
        candidate = it.occurred + timedelta(minutes=r.randint(5, 240))
        it.recorded = candidate if last is None or candidate > last else last + timedelta(
            seconds=1)
        last = it.recorded
    # A back-dated entry is still entered before the case is closed.
    closed = [it.recorded for it in normal if it.event_type == "case_closed" and it.recorded]
    for it in late:
        if closed and it.recorded and it.recorded >= closed[0]:
            it.recorded = closed[0] - timedelta(seconds=1)
    merged = sorted(normal + late + preset, key=lambda it: it.recorded or it.occurred)
    case.items = [it for it in merged if it.recorded is not None and it.recorded < now_limit]


