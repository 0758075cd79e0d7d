"""Continuity per case: one case manager across custody and community (domain.md §7).

* the case-manager history (the community YOT case manager role) and every allocation,
  secure-estate keyworkers included;
* changes of case manager, and those within ``continuity.change_at_transition_window_days``
  of a transition of a kind in ``change_at_transition_kinds``;
* gaps with no case manager (the current one, if any, has no end);
* custody with no community case manager;
* each release: accommodation arranged, a resettlement plan agreed, information shared, a
  handover meeting held (and what was missing);
* the next planned release, and whether it is within ``release_warning_working_days``
  without accommodation or a plan;
* the transition to probation: 17½ (``probation_transition_age_months``), approaching from
  ``probation_warning_days`` before, for an order that runs to 18 or has no end date.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import NotRequired, TypedDict

from projections.asat import AsAt
from projections.record import CaseRecord, TDone, TPlan
from projections.visible import Allocation, AllocationView, Visible, add_months
from tracker.domain.policy import Policy


class AtTransition(TypedDict):
    kind: str
    date: str
    event_id: str


ChangeView = TypedDict("ChangeView", {
    "date": str, "from": str, "to": str, "event_id": str, "at_transition": AtTransition | None,
})
Gap = TypedDict("Gap", {"from": str, "to": str | None, "days": int})
Span = TypedDict("Span", {"from": str, "to": str | None})


class Readiness(TypedDict):
    """What was in place at a transition (the last two only when leaving custody)."""

    information_shared: bool
    handover_meeting_held: bool
    accommodation_arranged: NotRequired[bool]
    resettlement_plan_agreed: NotRequired[bool]


class TransitionView(Readiness):
    kind: str
    date: str
    transition_id: str | None
    event_id: str
    planned: bool
    missing: list[str]


class PendingRelease(TypedDict):
    transition_id: str
    planned_date: str
    working_days_left: int
    accommodation_arranged: bool
    resettlement_plan_agreed: bool
    information_shared: bool
    handover_meeting_held: bool
    within_warning: bool
    not_ready: bool
    event_id: str


class ProbationView(TypedDict):
    status: str
    transition_date: str | None
    planned: bool
    event_id: NotRequired[str]


class ContinuityView(TypedDict):
    """The continuity view of a case (only ``exists`` when there is no case)."""

    exists: bool
    setting: NotRequired[str]
    custody_periods: NotRequired[list[Span]]
    case_manager: NotRequired[AllocationView | None]
    case_managers: NotRequired[list[AllocationView]]
    allocations: NotRequired[list[AllocationView]]
    changes: NotRequired[int]
    change_history: NotRequired[list[ChangeView]]
    changes_at_transition: NotRequired[list[ChangeView]]
    gaps: NotRequired[list[Gap]]
    without_case_manager_since: NotRequired[str | None]
    custody_without_community_case_manager: NotRequired[bool]
    transitions: NotRequired[list[TransitionView]]
    releases_missing: NotRequired[list[TransitionView]]
    pending_release: NotRequired[PendingRelease | None]
    probation: NotRequired[ProbationView]


def changes(v: Visible) -> list[ChangeView]:
    """Each time a different case manager took over, and any transition it coincided with."""
    policy = v.policy.continuity
    window = policy.change_at_transition_window_days
    transitions = [d for d in v.tdone if d.kind in policy.change_at_transition_kinds]
    out: list[ChangeView] = []
    cms = v.case_managers()
    for previous, current in itertools.pairwise(cms):
        if previous.practitioner == current.practitioner:
            continue
        near: TDone | None = None
        for t in transitions:
            if abs(t.d - current.start.toordinal()) <= window:
                near = t
                break
        out.append({
            "date": current.start.isoformat(),
            "from": previous.practitioner,
            "to": current.practitioner,
            "event_id": current.start_event,
            "at_transition": (
                {"kind": near.kind, "date": date.fromordinal(near.d).isoformat(),
                 "event_id": near.id}
                if near else None
            ),
        })
    return out


def gaps(v: Visible) -> list[Gap]:
    """Spans of days, from the start to the last day judged, with no case manager."""
    if v.last_day < v.start:
        return []
    covered: list[tuple[date, date]] = []
    for a in v.case_managers():
        covered.append((a.start, a.end or v.last_day))
    covered.sort()
    out: list[Gap] = []
    cursor = v.start
    last = v.last_day
    for first, end in covered:
        if first > cursor:
            out.append(_gap(cursor, first - timedelta(days=1), closed=True))
        cursor = max(cursor, end + timedelta(days=1))
    if v.case_manager() is None:
        out.append(_gap(min(cursor, last), last, closed=False))
    return out


def _gap(first: date, last: date, *, closed: bool) -> Gap:
    return {
        "from": first.isoformat(),
        "to": last.isoformat() if closed else None,
        "days": (last - first).days + 1,
    }


def _plan_for(v: Visible, done: TDone) -> TPlan | None:
    if done.transition_id is not None:
        for p in v.tplans:
            if p.transition_id == done.transition_id:
                return p
        return None
    earlier = [p for p in v.tplans if p.kind == done.kind and p.t <= done.t]
    return earlier[-1] if earlier else None


def transitions(v: Visible) -> list[TransitionView]:
    """Every completed transition with what was in place, and what was missing."""
    out: list[TransitionView] = []
    for done in v.tdone:
        plan = _plan_for(v, done)
        flags: Readiness = {
            "information_shared": done.info,
            "handover_meeting_held": done.handover,
        }
        if done.kind == "custody_to_community":
            flags["accommodation_arranged"] = done.accommodation
            flags["resettlement_plan_agreed"] = bool(plan and plan.plan)
        out.append({
            "kind": done.kind,
            "date": date.fromordinal(done.d).isoformat(),
            "transition_id": done.transition_id,
            "event_id": done.id,
            "planned": plan is not None,
            **flags,
            "missing": [k for k, ok in flags.items() if not ok],
        })
    return out


def pending_release(v: Visible) -> PendingRelease | None:
    """The latest planned release still to happen, while the child is in custody."""
    if not v.in_custody():
        return None
    completed = {d.transition_id for d in v.tdone if d.transition_id}
    plans = [
        p for p in v.tplans
        if p.kind == "custody_to_community" and p.transition_id not in completed
    ]
    if not plans:
        return None
    plan = max(plans, key=lambda p: (p.t, p.pos))
    planned = date.fromordinal(plan.planned)
    working_days_left = v.wd.between(v.last_day, planned)
    ready = plan.accommodation and plan.plan
    within = working_days_left <= v.policy.continuity.release_warning_working_days
    return {
        "transition_id": plan.transition_id,
        "planned_date": planned.isoformat(),
        "working_days_left": working_days_left,
        "accommodation_arranged": plan.accommodation,
        "resettlement_plan_agreed": plan.plan,
        "information_shared": plan.info,
        "handover_meeting_held": plan.handover,
        "within_warning": within,
        "not_ready": within and not ready,
        "event_id": plan.id,
    }


def probation(v: Visible) -> ProbationView:
    """Where the case stands on the transition to adult services at 17½."""
    o = v.opened
    assert o is not None
    policy = v.policy.continuity
    planned = [p for p in v.tplans if p.kind == "to_probation"]
    done = [d for d in v.tdone if d.kind == "to_probation"]
    if o.dob is None:
        return {"status": "unknown", "transition_date": None, "planned": bool(planned or done)}
    dob = date.fromordinal(o.dob)
    at_age = add_months(dob, policy.probation_transition_age_months)
    eighteen = add_months(dob, 216)
    runs_to_adulthood = o.expected_end is None or date.fromordinal(o.expected_end) >= eighteen
    warn_from = at_age - timedelta(days=policy.probation_warning_days)
    today = v.last_day
    if planned or done:
        status = "planned"
    elif not runs_to_adulthood:
        status = "not_applicable"
    elif today >= at_age:
        status = "reached"
    elif today >= warn_from:
        status = "approaching"
    else:
        status = "not_yet"
    return {
        "status": status,
        "transition_date": at_age.isoformat(),
        "planned": bool(planned or done),
        "event_id": o.id,
    }


def from_visible(v: Visible) -> ContinuityView:
    """The continuity view of a case as at ``v.at``."""
    if not v.exists:
        return {"exists": False}
    cm: Allocation | None = v.case_manager()
    change_list = changes(v)
    gap_list = gaps(v)
    open_gap = next((g for g in gap_list if g["to"] is None), None)
    in_custody = v.in_custody()
    return {
        "exists": True,
        "setting": "custody" if in_custody else "community",
        "custody_periods": [
            {"from": p.start.isoformat(), "to": p.end.isoformat() if p.end else None}
            for p in v.custody_periods()
        ],
        "case_manager": cm.to_dict() if cm else None,
        "case_managers": [a.to_dict() for a in v.case_managers()],
        "allocations": [a.to_dict() for a in v.allocations()],
        "changes": len(change_list),
        "change_history": change_list,
        "changes_at_transition": [c for c in change_list if c["at_transition"]],
        "gaps": gap_list,
        "without_case_manager_since": open_gap["from"] if open_gap else None,
        "custody_without_community_case_manager": in_custody and cm is None,
        "transitions": transitions(v),
        "releases_missing": [
            t for t in transitions(v) if t["kind"] == "custody_to_community" and t["missing"]
        ],
        "pending_release": pending_release(v),
        "probation": probation(v),
    }


def stored(view: ContinuityView) -> ContinuityView:
    """The view as the read model keeps it, in clear: without the 17½ date, which is the
    date of birth plus ``probation_transition_age_months`` (the date of birth is only
    kept sealed). Readers evaluate the full view from the record, the date opened there."""
    prob = view.get("probation")
    if prob is None or prob["transition_date"] is None:
        return view
    return {**view, "probation": {**prob, "transition_date": None}}


def evaluate(record: CaseRecord, at: AsAt, policy: Policy) -> ContinuityView:
    """The continuity view of ``record`` as at ``at`` under ``policy``. Pure."""
    return from_visible(Visible(record, at, policy))
