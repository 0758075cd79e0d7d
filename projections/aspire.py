"""ASPIRE compliance per case: assessment, planning, delivery and review, as at a moment.

Each stage is a list of *obligations* (something due by a date, done on a day or not) and
a stage status:

* ``not_due`` — nothing is owed yet (planning before the assessment; a review further off
  than ``review.due_soon_working_days``);
* ``due`` — owed, with the date (the earliest open due date is given);
* ``overdue`` — an obligation is past its date and not done;
* ``done_on_time`` / ``done_late`` — nothing open; how the latest one done went;
* ``done_not_countersigned`` — done, but an assessment (or plan) of the stage needs a
  manager's countersignature under the policy and has none yet (``projections.
  countersignature``): distinct from done, since the work is not yet signed off.

Obligations:

* assessment — the first assessment, the profile's ``assessment_working_days`` after the
  start (20 for referral orders); done on the due day is on time.
* planning — the first agreed plan, ``planning.working_days_after_assessment`` after the
  assessment (after the assessment's due date if the plan came first).
* delivery — the first appointment (``first_appointment.working_days``); each missed
  appointment followed up within ``missed_appointments.follow_up_working_days`` (unless its
  reason needs none, or the disposal has no enforcement route); the contacts per
  supervision month for the intervention level (month k runs from start + k months; the
  last complete month short of its number is overdue; the current month, until met, is due
  by its last day). Months with any day in custody are exempt when
  ``contacts.exempt_in_custody``.
* review — every ``review.interval_months`` from the start and from each review, and
  within ``review.after_significant_change_working_days`` of a significant change.
* resubmission — an assessment or plan a manager returned for revision is due again from
  the practitioner within ``countersignature.resubmit_working_days`` of the return (in
  its own stage); any later assessment (plan) settles it.

Which of these obligations a case has is its disposal's profile (``policy.disposals``,
domain.md §11): an out-of-court case has no contact levels and no three-monthly reviews, a
remand no first appointment. A closed case is judged as at its closing day. The quality
indicators are what the records can show of the inspection key questions, per stage and
lens (desistance, the child's safety, other people's safety); a lens's answer is yes when
every indicator that applies holds, and is None when none applies yet.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NotRequired, TypedDict

from projections import countersignature, enforcement
from projections.asat import AsAt
from projections.record import CaseRecord, Contract, Panel
from projections.visible import Visible, add_months
from tracker.domain.policy import Policy

STAGES = ("assessment", "planning", "delivery", "review")
LENSES = ("desistance", "safety_wellbeing", "risk_of_harm")
STATUS_ORDER = ("overdue", "due", "done_not_countersigned", "done_late", "done_on_time",
                "not_due")
NOT_COUNTERSIGNED = "done_not_countersigned"
STAGE_DOCUMENTS = {"assessment": "assessment", "planning": "plan"}
"""The document whose countersignature a stage's "done" waits for."""


class ObligationView(TypedDict):
    kind: str
    subject: str
    due: str
    done: str | None
    status: str
    caused_by: list[str]


MonthView = TypedDict("MonthView", {
    "month": int, "from": str, "to": str, "required": int, "contacts": int, "status": str,
    "level": str,
})


class StageView(TypedDict):
    status: str
    due: str | None
    obligations: list[ObligationView]


class QuestionView(TypedDict):
    """A key question of one stage and lens: the answer and the indicators behind it."""

    answer: bool | None
    indicators: dict[str, bool | None]


Quality = dict[str, dict[str, QuestionView]]
"""Stage -> lens -> key question."""

Timeliness = dict[str, bool | None]
"""Timed obligation -> met on time (None: not judged yet)."""


class DecisionView(TypedDict):
    """An out-of-court case's joint decision, and what the inspection asks of it."""

    date: str
    outcome: str
    agencies_present: list[str]
    minimum_agencies_present: bool
    proportionate_assessment: bool
    assessed_before: bool


class AspireView(TypedDict):
    """The ASPIRE view of a case (only ``exists`` when there is no case)."""

    exists: bool
    decision: NotRequired[DecisionView | None]
    started: NotRequired[bool]
    stages: NotRequired[dict[str, StageView]]
    quality: NotRequired[Quality]
    timeliness: NotRequired[Timeliness]
    overdue: NotRequired[int]
    next_due: NotRequired[str | None]
    months: NotRequired[list[MonthView]]
    countersignature: NotRequired[list[countersignature.CountersignView]]


@dataclass(frozen=True)
class Obligation:
    """Something owed by ``due``; ``done`` is the day it was done (None if not)."""

    kind: str
    due: date
    done: date | None
    status: str
    caused_by: tuple[str, ...] = ()
    subject: str = ""

    def to_dict(self) -> ObligationView:
        return {
            "kind": self.kind,
            "subject": self.subject or self.kind,
            "due": self.due.isoformat(),
            "done": self.done.isoformat() if self.done else None,
            "status": self.status,
            "caused_by": list(self.caused_by),
        }


def stage_of(view: AspireView, name: str) -> StageView | None:
    """One stage of an ASPIRE view (None when the view has no such stage)."""
    return view.get("stages", {}).get(name)


def one_off(due: date, done: date | None, today: date) -> str:
    """The status of a single obligation judged on ``today``."""
    if done is not None:
        return "done_on_time" if done <= due else "done_late"
    return "overdue" if today > due else "due"


def stage_status(obligations: list[Obligation]) -> tuple[str, date | None]:
    """The stage's status and its earliest open due date."""
    open_ = [o for o in obligations if o.status in ("overdue", "due")]
    if any(o.status == "overdue" for o in open_):
        return "overdue", min(o.due for o in open_ if o.status == "overdue")
    if open_:
        return "due", min(o.due for o in open_)
    done = [o for o in obligations if o.done is not None]
    upcoming = [o for o in obligations if o.status == "not_due"]
    next_due = min((o.due for o in upcoming), default=None)
    if done:
        latest = max(done, key=lambda o: (o.done, o.due))
        return latest.status, next_due
    return "not_due", next_due


# -- stages ---------------------------------------------------------------------------------


def _assessment(v: Visible) -> list[Obligation]:
    assert v.opened is not None
    due = assessment_due(v)
    if due is None:
        return []
    first = v.assessments[0] if v.assessments else None
    done = date.fromordinal(first.d) if first else None
    status = one_off(due, done, v.last_day)
    caused = (v.opened.id, *(x.id for x in (*v.decisions[:1], first) if x is not None))
    return [Obligation("assessment", due, done, status, caused)]


def assessment_due(v: Visible) -> date | None:
    """When the initial assessment is due under the case's profile (None: untimed): for an
    out-of-court case whose joint decision is recorded, by that decision (seed 001 Annexe A
    3.1: the assessment informs the decision), else the profile's working days from the
    start."""
    if v.profile.assessment_before_decision and v.decisions:
        return date.fromordinal(v.decisions[0].d)
    days = v.profile.assessment_working_days
    return None if days is None else v.wd.add(v.start, days)


def _planning(v: Visible) -> list[Obligation]:
    first_assessment = v.assessments[0] if v.assessments else None
    agreed = [p for p in v.plans if not p.revised] or list(v.plans)
    first_plan = agreed[0] if agreed else None
    if first_assessment is None and first_plan is None:
        return []
    base = (
        date.fromordinal(first_assessment.d) if first_assessment is not None
        else assessment_due(v)
    )
    if base is None:
        return []
    due = v.wd.add(base, v.policy.planning.working_days_after_assessment)
    done = date.fromordinal(first_plan.d) if first_plan else None
    caused = tuple(x.id for x in (first_assessment, first_plan) if x is not None)
    return [Obligation("plan", due, done, one_off(due, done, v.last_day), caused)]


def _resubmissions(v: Visible, kind: str) -> list[Obligation]:
    """Each returned assessment (plan) is due again within the policy's working days of its
    return; the first one recorded after the return settles it."""
    days = v.policy.countersignature.resubmit_working_days
    facts = v.assessments if kind == "assessment" else v.plans
    out: list[Obligation] = []
    for doc in countersignature.documents(v):
        act = doc.act
        if doc.kind != kind or act is None or act.outcome != "returned":
            continue
        due = v.wd.add(date.fromordinal(act.d), days)
        again = next((f for f in facts if (f.t, f.pos) > (act.t, act.pos)), None)
        done = date.fromordinal(again.d) if again else None
        if v.closed is not None and done is None and due > v.last_day:
            continue
        caused = (doc.fact.id, act.id, *((again.id,) if again else ()))
        out.append(Obligation(f"{kind}_resubmission", due, done, one_off(due, done, v.last_day),
                              caused, f"returned:{doc.fact.id}"))
    return out


def _follow_up_obligations(v: Visible) -> list[Obligation]:
    policy = v.policy.missed_appointments
    if v.profile.enforcement == "none":  # the follow-up is the enforcement procedure's step
        return []
    first_follow_up: dict[str, date] = {}
    for f in v.followups:
        first_follow_up.setdefault(f.missed_id, date.fromordinal(f.d))
    out = []
    for m in v.missed:
        if m.reason in policy.no_follow_up_needed_for:
            continue
        day = date.fromordinal(m.d)
        due = v.wd.add(day, policy.follow_up_working_days)
        done = first_follow_up.get(m.id)
        if v.closed is not None and done is None and due > v.last_day:
            continue
        out.append(Obligation(
            "follow_up", due, done, one_off(due, done, v.last_day), (m.id,), f"missed:{m.id}"
        ))
    return out


@dataclass(frozen=True)
class Month:
    """One supervision month: what was required, what happened, and how it is judged."""

    index: int
    first: date
    last: date
    required: int
    contacts: int
    status: str  # met | short | in_progress | exempt | not_judged | not_required
    met_on: date | None
    level: str

    def to_dict(self) -> MonthView:
        return {
            "month": self.index + 1, "from": self.first.isoformat(), "to": self.last.isoformat(),
            "required": self.required, "contacts": self.contacts, "status": self.status,
            "level": self.level,
        }


def months(v: Visible) -> list[Month]:
    """The supervision months from the start to the last day judged."""
    cached: list[Month] | None = v.cache.get("months")
    if cached is None:
        cached = v.cache["months"] = _months(v)
    return cached


def supervision_start(v: Visible) -> date | None:
    """The day the order's supervision runs from: its start, or for a referral order the
    day the contract was agreed (None until then)."""
    if v.profile.supervision_from == "contract":
        return date.fromordinal(v.contracts[0].d) if v.contracts else None
    return v.start


def _months(v: Visible) -> list[Month]:
    assert v.opened is not None
    policy = v.policy
    anchor = supervision_start(v)
    last_day, today = v.last_day, v.today
    if anchor is None or last_day < anchor:
        return []
    start = anchor
    initial_end = start + timedelta(weeks=policy.contacts.initial_period_weeks)
    days = v.counted_days()
    custody = v.custody_periods() if policy.contacts.exempt_in_custody else []
    closed = v.closed_on
    out: list[Month] = []
    levels = v.profile.contact_levels
    lo_index = 0
    k = 0
    first = start
    while first <= last_day:
        following = add_months(start, k + 1)
        last = following - _DAY
        level = v.level_on(first)
        required = policy.contacts_per_month(level, first < initial_end) if levels else 0
        until = min(last, last_day)
        lo = bisect_left(days, first.toordinal(), lo_index)
        hi = bisect_right(days, last.toordinal(), lo)
        contacts = hi - lo
        lo_index = lo
        met_on = date.fromordinal(days[lo + required - 1]) if required and contacts >= required \
            else None
        if not levels:
            status = "not_required"
        elif custody and any(p.start <= until and (p.end is None or p.end > first)
                           for p in custody):
            status = "exempt"
        elif contacts >= required:
            status = "met"
        elif closed is not None and closed <= last:
            status = "not_judged"
        elif last < today:
            status = "short"
        else:
            status = "in_progress"
        out.append(Month(k, first, last, required, contacts, status, met_on, level))
        k += 1
        first = following
    return out


_DAY = timedelta(days=1)


def _delivery(v: Visible, month_list: list[Month]) -> list[Obligation]:
    assert v.opened is not None
    out: list[Obligation] = []
    due = v.wd.add(v.start, v.policy.first_appointment.working_days)
    counted = v.counted_contacts()
    first = min(counted, key=lambda a: (a.t, a.pos)) if counted else None
    done = date.fromordinal(first.d) if first else None
    if v.profile.first_appointment and not (
        v.closed is not None and done is None and due > v.last_day
    ):
        caused = (v.opened.id,) + ((first.id,) if first else ())
        out.append(Obligation(
            "first_appointment", due, done, one_off(due, done, v.last_day), caused
        ))
    out.extend(_follow_up_obligations(v))
    out.extend(_home_visits(v))
    judged = [m for m in month_list if m.status in ("met", "short")]
    if judged:
        m = judged[-1]
        status = "done_on_time" if m.status == "met" else "overdue"
        out.append(Obligation("contacts", m.last, m.met_on, status, (), "contacts"))
    current = [m for m in month_list if m.status == "in_progress"]
    if current:
        m = current[-1]
        out.append(Obligation("contacts", m.last, None, "due", (), "contacts"))
    return out


def _home_visits(v: Visible) -> list[Obligation]:
    """At least one home visit in each period of the profile's ``home_visit_every_months``
    from the start of supervision (none when 0); a period with a day in custody is exempt."""
    every = v.profile.home_visit_every_months
    anchor = supervision_start(v)
    if not every or anchor is None:
        return []
    visits = sorted(a.d for a in v.attended if a.kind == "home_visit")
    custody = v.custody_periods()
    out: list[Obligation] = []
    k, first = 0, anchor
    while first <= v.last_day:
        last = add_months(anchor, (k + 1) * every) - _DAY
        k, start = k + 1, first
        first = last + _DAY
        if any(p.start <= last and (p.end is None or p.end > start) for p in custody):
            continue
        done = next((date.fromordinal(d) for d in visits
                     if start.toordinal() <= d <= last.toordinal()), None)
        status = one_off(last, done, v.last_day)
        if v.closed is not None and done is None and last > v.last_day:
            continue
        out.append(Obligation("home_visit", last, done, status, (), f"home_visit:{k}"))
    return out


def _review(v: Visible) -> list[Obligation]:
    """The review cycle: scheduled every interval, and after each significant change."""
    policy = v.policy.review
    assert v.opened is not None
    if not v.profile.reviews:
        return []
    judged_on = v.last_day
    start = supervision_start(v)
    if start is None:
        return []
    anchor = start
    anchor_id = v.contracts[0].id if start != v.start and v.contracts else v.opened.id
    out: list[Obligation] = []
    pending_changes: list[tuple[date, date, str]] = []
    items: list[tuple[int, int, int, str, Any]] = []
    for c in v.changes:
        items.append((c.d, 0, c.pos, "change", c))
    for r in v.reviews:
        items.append((r.d, 1, r.pos, "review", r))
    items.sort(key=lambda x: (x[0], x[1], x[2]))
    for day_ord, _order, _pos, kind, fact in items:
        day = date.fromordinal(day_ord)
        if kind == "change":
            due = v.wd.add(day, policy.after_significant_change_working_days)
            pending_changes.append((day, due, fact.id))
            continue
        due = add_months(anchor, policy.interval_months)
        out.append(Obligation(
            "review", due, day, one_off(due, day, judged_on), (anchor_id, fact.id), "review"
        ))
        for _changed_on, change_due, change_id in pending_changes:
            out.append(Obligation(
                "review_after_change", change_due, day, one_off(change_due, day, judged_on),
                (change_id, fact.id), f"change:{change_id}",
            ))
        pending_changes = []
        anchor, anchor_id = day, fact.id
    closed = v.closed is not None
    out.extend(_next_in_cycle(v, "review", anchor, anchor_id, policy.interval_months))
    for _changed_on, change_due, change_id in pending_changes:
        if closed and change_due > judged_on:
            continue
        out.append(Obligation(
            "review_after_change", change_due, None, one_off(change_due, None, judged_on),
            (change_id,), f"change:{change_id}",
        ))
    return out


def _panels(v: Visible) -> list[Obligation]:
    """Referral-order panels: the initial panel within ``panels.initial_working_days`` of
    sentence, then a progress panel at least every ``panels.progress_interval_months``
    from the contract and from each panel after it, until the final panel."""
    if not v.profile.panels:
        return []
    assert v.opened is not None
    rules = v.policy.panels
    judged_on = v.last_day
    initial = next((p for p in v.panels if p.kind == "initial"), None)
    out = _once(v, "initial_panel", v.wd.add(v.start, rules.initial_working_days), initial)
    out.extend(_failure_panels(v))
    out.extend(_final_panel(v))
    if not v.contracts or any(p.kind == "final" for p in v.panels):
        return out
    anchor, anchor_id = date.fromordinal(v.contracts[0].d), v.contracts[0].id
    for p in v.panels:
        if p.kind == "initial" or p.d < anchor.toordinal():
            continue
        day = date.fromordinal(p.d)
        due = add_months(anchor, rules.progress_interval_months)
        out.append(Obligation("progress_panel", due, day, one_off(due, day, judged_on),
                              (anchor_id, p.id), "progress_panel"))
        anchor, anchor_id = day, p.id
    out.extend(_next_in_cycle(v, "progress_panel", anchor, anchor_id,
                              rules.progress_interval_months))
    return out


def _failure_panels(v: Visible) -> list[Obligation]:
    """A progress panel after each failure to comply (Sentencing Act 2020 s.99(6)), within
    ``panels.after_failure_working_days``: the enforcement view's route, as obligations."""
    out: list[Obligation] = []
    for item in enforcement.from_visible(v).get("panels_after_failure", []):
        due = date.fromisoformat(item["due"])
        done = date.fromisoformat(item["panel_date"]) if item["panel_date"] else None
        if v.closed is not None and done is None and due > v.last_day:
            continue
        caused = [item["failure_event_id"]] + (
            [item["panel_event_id"]] if item["panel_event_id"] else [])
        out.append(Obligation("panel_after_failure", due, done, item["status"],
                              tuple(caused), f"failure_panel:{item['failure_event_id']}"))
    return out


def _final_panel(v: Visible) -> list[Obligation]:
    """The final panel, ``panels.final_before_end_working_days`` before the order's expected
    end (Sentencing Act 2020 s.101); ``not_due`` until ``review.due_soon_working_days``
    before it. None when the order has no expected end date."""
    assert v.opened is not None
    if v.opened.expected_end is None:
        return []
    end = date.fromordinal(v.opened.expected_end)
    due = v.wd.subtract(end, v.policy.panels.final_before_end_working_days)
    final = next((p for p in v.panels if p.kind == "final"), None)
    if final is None:
        return _next_in_cycle(v, "final_panel", due, v.opened.id, 0)
    return _once(v, "final_panel", due, final)


def _next_in_cycle(v: Visible, kind: str, anchor: date, anchor_id: str, months: int
                   ) -> list[Obligation]:
    """The next review or progress panel of a cycle, ``months`` after the last: ``not_due``
    until ``review.due_soon_working_days`` before it; none on a closed case if after it."""
    due = add_months(anchor, months)
    closed = v.closed is not None
    if closed and due > v.last_day:
        return []
    status = one_off(due, None, v.last_day)
    if status == "due" and not closed and (
            v.wd.between(v.last_day, due) > v.policy.review.due_soon_working_days):
        status = "not_due"
    return [Obligation(kind, due, None, status, (anchor_id,), kind)]


def _contract(v: Visible) -> list[Obligation]:
    """A referral order's contract, agreed at the initial panel: due when that panel is."""
    if not v.profile.panels:
        return []
    due = v.wd.add(v.start, v.policy.panels.initial_working_days)
    return _once(v, "contract", due, v.contracts[0] if v.contracts else None)


def _once(v: Visible, kind: str, due: date, fact: Panel | Contract | None) -> list[Obligation]:
    """A one-off obligation from the opening, done by ``fact`` (none on a case closed
    before it fell due undone)."""
    assert v.opened is not None
    done = date.fromordinal(fact.d) if fact else None
    if v.closed is not None and done is None and due > v.last_day:
        return []
    caused = (v.opened.id,) + ((fact.id,) if fact else ())
    return [Obligation(kind, due, done, one_off(due, done, v.last_day), caused, kind)]


def _decision(v: Visible) -> DecisionView | None:
    if not v.decisions:
        return None
    d = v.decisions[0]
    first = v.assessments[0] if v.assessments else None
    return {
        "date": date.fromordinal(d.d).isoformat(), "outcome": d.outcome,
        "agencies_present": list(d.agencies),
        "minimum_agencies_present": set(v.policy.joint_decisions.minimum_agencies)
        <= set(d.agencies),
        "proportionate_assessment": d.proportionate,
        "assessed_before": first is not None and first.d <= d.d,
    }


# -- quality indicators ----------------------------------------------------------------------


def _answer(indicators: dict[str, bool | None]) -> bool | None:
    applicable = [value for value in indicators.values() if value is not None]
    if not applicable:
        return None
    return all(applicable)


def timeliness(v: Visible, stages: dict[str, list[Obligation]]) -> Timeliness:
    """Whether each timed obligation was met on time (None: not judged yet). Reported beside
    the quality indicators, never as a condition of their "yes" (seed 001 Annexe A)."""

    def first_of(stage: str, kind: str) -> bool | None:
        found = [o for o in stages[stage] if o.kind == kind and o.status != "due"]
        if not found or found[0].status == "not_due":
            return None
        return found[0].status == "done_on_time"

    def all_of(stage: str, kinds: tuple[str, ...]) -> bool | None:
        found = [o for o in stages[stage] if o.kind in kinds
                 and o.status in ("done_on_time", "done_late", "overdue")]
        return all(o.status == "done_on_time" for o in found) if found else None

    return {
        "assessment": first_of("assessment", "assessment"),
        "plan": first_of("planning", "plan"),
        "first_appointment": first_of("delivery", "first_appointment"),
        "missed_followed_up": all_of("delivery", ("follow_up",)),
        "reviews": all_of("review", ("review", "review_after_change")),
    }


def quality(v: Visible, stages: dict[str, list[Obligation]], month_list: list[Month]) -> Quality:
    """What the records show of each key question (stage x lens): indicators and answer.

    Each indicator sits under the lens Annexe A puts its prompt: victims and restorative
    justice under desistance (2.1.1f), enforcement under desistance (2.3.1g), the child's and
    parents'/carers' involvement in reviewing under desistance (2.4.1d). Timeliness is not
    an indicator here (see ``timeliness``)."""
    out: Quality = {}
    safety = v.judged("safety_wellbeing")
    harm = v.judged("risk_of_harm")

    # Assessment: the initial assessment.
    first = v.assessments[0] if v.assessments else None
    if first is None:
        out["assessment"] = {lens: _q({}) for lens in LENSES}
    else:
        out["assessment"] = {
            "desistance": _q({
                "strengths_recorded": first.strengths, "child_involved": first.child,
                "parent_carer_involved": first.parent, "victim_considered": first.victim,
            }),
            "safety_wellbeing": _q({"other_agencies_information_used": first.agencies}),
            "risk_of_harm": _q({"other_agencies_information_used": first.agencies}),
        }

    # Planning: the first agreed plan, and the latest plan for contingency.
    agreed = [p for p in v.plans if not p.revised] or list(v.plans)
    if not agreed:
        out["planning"] = {lens: _q({}) for lens in LENSES}
    else:
        p0, latest = agreed[0], v.plans[-1]
        out["planning"] = {
            "desistance": _q({
                "child_involved": p0.child, "parent_carer_involved": p0.parent,
                "desistance_objective": "desistance" in latest.domains,
            }),
            "safety_wellbeing": _q({
                "contingency_when_medium_or_higher": latest.contingency_safety if safety else None,
                "safety_objective": ("safety_wellbeing" in latest.domains) if safety else None,
            }),
            "risk_of_harm": _q({
                "contingency_when_medium_or_higher": latest.contingency_risk if harm else None,
                "risk_objective": ("risk_of_harm" in latest.domains) if harm else None,
            }),
        }

    # Delivery.
    judged = [m for m in month_list if m.status in ("met", "short")]
    noted = {b for a in v.attended for b in a.noted}
    addressed = {b for a in v.attended for b in a.addressed}
    failures = enforcement.from_visible(v).get("failures", [])
    out["delivery"] = {
        "desistance": _q({
            "contacts_every_month": all(m.status == "met" for m in judged) if judged else None,
            "barriers_addressed": noted <= addressed if noted else None,
            "failures_actioned": (
                all(f["actioned"] for f in failures) if failures else None
            ),
        }),
        "safety_wellbeing": _q({
            "case_manager_in_custody": (
                v.case_manager() is not None if v.in_custody() else None
            ),
        }),
        "risk_of_harm": _q({}),
    }

    # Review.
    reviews = v.reviews
    if not reviews:
        out["review"] = {lens: _q({}) for lens in LENSES}
    else:
        out["review"] = {
            "desistance": _q({
                "child_involved": all(r.child for r in reviews),
                "parent_carer_involved": all(r.parent for r in reviews),
                "plan_adjusted_after_change": _adjusted(v, None),
            }),
            "safety_wellbeing": _q({
                "plan_adjusted_after_change": _adjusted(v, "safety_wellbeing") if safety else None,
            }),
            "risk_of_harm": _q({
                "plan_adjusted_after_change": _adjusted(v, "risk_of_harm") if harm else None,
            }),
        }
    return out


def _q(indicators: dict[str, bool | None]) -> QuestionView:
    return {"answer": _answer(indicators), "indicators": indicators}


def _adjusted(v: Visible, domain: str | None) -> bool | None:
    """After every review that found change (in ``domain``), the plan moved."""
    window = v.policy.planning.working_days_after_assessment
    found = [r for r in v.reviews if r.changed and (domain is None or domain in r.changed)]
    if not found:
        return None
    for r in found:
        if r.adjusted:
            continue
        day = date.fromordinal(r.d)
        deadline = v.wd.add(day, window)
        if not any(p.revised and day <= date.fromordinal(p.d) <= deadline for p in v.plans):
            return False
    return True


# -- the view ----------------------------------------------------------------------------------


def from_visible(v: Visible) -> AspireView:
    """The ASPIRE view of a case as at ``v.at`` (see the module docstring)."""
    if not v.exists:
        return {"exists": False}
    if v.today < v.start:
        return {
            "exists": True, "started": False,
            "stages": {s: {"status": "not_due", "due": None, "obligations": []} for s in STAGES},
            "quality": {}, "timeliness": {}, "overdue": 0, "next_due": None, "months": [],
        }
    month_list = months(v)
    stages = {
        "assessment": _assessment(v) + _resubmissions(v, "assessment"),
        "planning": _planning(v) + _contract(v) + _resubmissions(v, "plan"),
        "delivery": _delivery(v, month_list),
        "review": _review(v) + _panels(v),
    }
    stage_views: dict[str, StageView] = {}
    overdue = 0
    next_due: date | None = None
    for name, obligations in stages.items():
        status, due = stage_status(obligations)
        if status in ("done_on_time", "done_late") and name in STAGE_DOCUMENTS and \
                countersignature.awaiting(v, STAGE_DOCUMENTS[name]):
            status = NOT_COUNTERSIGNED
        overdue += sum(1 for o in obligations if o.status == "overdue")
        open_due = [o.due for o in obligations if o.status in ("due", "overdue", "not_due")]
        if open_due:
            earliest = min(open_due)
            next_due = earliest if next_due is None else min(next_due, earliest)
        stage_views[name] = {
            "status": status,
            "due": due.isoformat() if due else None,
            "obligations": [o.to_dict() for o in obligations],
        }
    return {
        "exists": True,
        "started": True,
        "decision": _decision(v),
        "stages": stage_views,
        "overdue": overdue,
        "next_due": next_due.isoformat() if next_due else None,
        "months": [m.to_dict() for m in month_list],
        "quality": quality(v, stages, month_list),
        "timeliness": timeliness(v, stages),
        "countersignature": [d.to_dict() for d in countersignature.documents(v)],
    }


def evaluate(record: CaseRecord, at: AsAt, policy: Policy) -> AspireView:
    """The ASPIRE view of ``record`` as at ``at`` under ``policy``. Pure."""
    return from_visible(Visible(record, at, policy))
