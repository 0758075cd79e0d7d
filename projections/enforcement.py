"""Enforcement per case: failures, warnings, the warned period and "breach due" (domain.md
§5, §11), by the enforcement route of the case's disposal profile.

An unacceptable failure is a missed contact without an acceptable reason. Under the YRO's
route (``sch7_warnings``) a warning opens a warned period of ``enforcement.warned_period_months``
calendar months beginning with the day it was given, and a failure is *breach due* when it
has no warning, no breach and no exceptional circumstances of its own, and at least
``warnings_before_breach`` warnings were issued on or before its day and within their warned
periods. The period rule is ``tracker.domain.enforcement``, the one ``decide`` uses. Other
routes have no warned period, so nothing is ever breach due under them.
"""

from __future__ import annotations

from datetime import date
from typing import NotRequired, TypedDict

from projections.asat import AsAt
from projections.record import CaseRecord, Warn
from projections.visible import Visible
from tracker.domain.enforcement import warned_until as warning_ends
from tracker.domain.enforcement import warnings_allow_breach, warnings_in_period
from tracker.domain.policy import Policy


class FailureView(TypedDict):
    event_id: str
    date: str
    kind: str
    reason: str
    warned: bool
    excused: bool
    breached: bool
    warnings_in_period_before: int
    breach_due: bool
    actioned: bool


class BreachDue(TypedDict):
    failure_event_id: str
    date: str
    caused_by: list[str]


class WarningView(TypedDict):
    event_id: str
    date: str
    failure_event_id: str
    expires: str


class BreachView(TypedDict):
    event_id: str
    date: str
    serious: bool
    failure_event_ids: list[str]
    authorisation: str  # not_required | awaiting | authorised | declined
    decided_by: str | None
    decided_on: str | None


class ExcuseView(TypedDict):
    event_id: str
    date: str
    failure_event_id: str
    manager: str


class EnforcementView(TypedDict):
    """The enforcement view of a case (only ``exists`` when there is no case)."""

    exists: bool
    route: NotRequired[str]
    status: NotRequired[str]
    failures: NotRequired[list[FailureView]]
    unactioned_failures: NotRequired[list[str]]
    warnings: NotRequired[list[WarningView]]
    warnings_in_period: NotRequired[int]
    warned_until: NotRequired[str | None]
    breach_due: NotRequired[list[BreachDue]]
    breaches: NotRequired[list[BreachView]]
    awaiting_authorisation: NotRequired[list[str]]
    exceptional_circumstances: NotRequired[list[ExcuseView]]
    panel_due: NotRequired[list[str]]
    panels_after_failure: NotRequired[list[PanelAfterFailure]]
    referred_back: NotRequired[str | None]
    conditions: NotRequired[list[ConditionView]]
    prosecution_decision_due: NotRequired[list[str]]


class PanelAfterFailure(TypedDict):
    """A referral order's failure to comply and the progress panel it leads to (Sentencing
    Act 2020 s.99(6)): due ``panels.after_failure_working_days`` after the failure."""

    failure_event_id: str
    date: str
    due: str
    panel_event_id: str | None
    panel_date: str | None
    status: str  # due | overdue | done_on_time | done_late


class ConditionView(TypedDict):
    condition_id: str
    kind: str
    deadline: str
    status: str  # open | overdue | completed | failed
    reasonable_excuse: bool | None
    ended_event_id: str | None
    prosecution_decision: str | None


def from_visible(v: Visible) -> EnforcementView:
    """The enforcement view of a case as at ``v.at`` (computed once per ``Visible``)."""
    found: EnforcementView | None = v.cache.get("enforcement")
    if found is None:
        found = v.cache["enforcement"] = _view(v)
    return found


def _view(v: Visible) -> EnforcementView:
    if not v.exists:
        return {"exists": False}
    rules = v.policy.enforcement
    scheme = v.profile.warnings
    warned = {w.failure_id for w in v.warnings}
    excused = {e.failure_id for e in v.excuses}
    breached = {f for b in v.breaches for f in b.failure_ids}
    breach_views = _breaches(v)
    awaiting = [b["event_id"] for b in breach_views if b["authorisation"] == "awaiting"]
    warning_days = [w.d for w in v.warnings]
    panel_days = [p.d for p in v.panels if p.kind != "initial"]
    failures: list[FailureView] = []
    due: list[BreachDue] = []
    panel_due: list[str] = []
    for m in v.failures():
        window = warnings_in_period(v.warnings, m.d, rules, _day)
        is_due = (
            m.id not in warned and m.id not in excused and m.id not in breached
            and scheme and warnings_allow_breach(len(window), rules)
        )
        if v.profile.enforcement == "referral_panel":
            actioned = bool(v.referrals) or any(d >= m.d for d in panel_days)
            if not actioned:
                panel_due.append(m.id)
        else:
            actioned = m.id in warned or m.id in excused or m.id in breached
        item: FailureView = {
            "event_id": m.id,
            "date": date.fromordinal(m.d).isoformat(),
            "kind": m.kind,
            "reason": m.reason,
            "warned": m.id in warned,
            "excused": m.id in excused,
            "breached": m.id in breached,
            "warnings_in_period_before": len(window),
            "breach_due": is_due,
            "actioned": actioned,
        }
        failures.append(item)
        if is_due:
            due.append({
                "failure_event_id": m.id,
                "date": item["date"],
                "caused_by": [w.id for w in window] + [m.id],
            })
    conditions = _conditions(v)
    prosecution_due = [c["ended_event_id"] for c in conditions
                       if c["status"] == "failed" and c["reasonable_excuse"] is False
                       and c["prosecution_decision"] is None and c["ended_event_id"]]
    in_period = warnings_counting(v, v.last_day.toordinal())
    warned_until = warning_ends(max(warning_days), rules).isoformat() if in_period else None
    if v.profile.enforcement == "none":
        status = "no_route"
    elif v.referrals:
        status = "referred_back"
    elif prosecution_due:
        status = "prosecution_due"  # the status column holds 20 characters
    elif panel_due:
        status = "panel_due"
    elif awaiting:
        status = "breach_awaiting"  # breach proceedings awaiting a manager's authorisation
    elif v.breaches:
        status = "breach_initiated"
    elif due:
        status = "breach_due"
    elif in_period:
        status = "warned"
    else:
        status = "none"
    if due and v.breaches:
        status = "breach_due"
    return {
        "exists": True,
        "route": v.profile.enforcement,
        "status": status,
        "failures": failures,
        "unactioned_failures": [f["event_id"] for f in failures if not f["actioned"]],
        "warnings": [
            {"event_id": w.id, "date": date.fromordinal(w.d).isoformat(),
             "failure_event_id": w.failure_id,
             "expires": warning_ends(w.d, rules).isoformat()}
            for w in v.warnings
        ],
        "warnings_in_period": len(in_period),
        "warned_until": warned_until,
        "breach_due": due,
        "breaches": breach_views,
        "awaiting_authorisation": awaiting,
        "exceptional_circumstances": [
            {"event_id": e.id, "date": date.fromordinal(e.d).isoformat(),
             "failure_event_id": e.failure_id, "manager": e.manager}
            for e in v.excuses
        ],
        "panel_due": panel_due,
        "panels_after_failure": panels_after_failure(v),
        "referred_back": date.fromordinal(v.referrals[0].d).isoformat() if v.referrals else None,
        "conditions": conditions,
        "prosecution_decision_due": prosecution_due,
    }


def panels_after_failure(v: Visible) -> list[PanelAfterFailure]:
    """Each failure on a referral order with the panel that dealt with it: the first
    progress or final panel on or after its day (or the referral back to court), due
    ``panels.after_failure_working_days`` working days after the failure."""
    if v.profile.enforcement != "referral_panel":
        return []
    after = v.policy.panels.after_failure_working_days
    panels = sorted((p for p in v.panels if p.kind != "initial"), key=lambda p: (p.d, p.pos))
    out: list[PanelAfterFailure] = []
    for m in v.failures():
        due = v.wd.add(date.fromordinal(m.d), after)
        panel = next((p for p in panels if p.d >= m.d), None)
        done_id, done_day = (panel.id, panel.d) if panel else (None, None)
        if done_day is None and v.referrals:
            done_id, done_day = v.referrals[0].id, v.referrals[0].d
        done = date.fromordinal(done_day) if done_day is not None else None
        if done is not None:
            status = "done_on_time" if done <= due else "done_late"
        else:
            status = "overdue" if v.last_day > due else "due"
        out.append({
            "failure_event_id": m.id, "date": date.fromordinal(m.d).isoformat(),
            "due": due.isoformat(), "panel_event_id": done_id,
            "panel_date": done.isoformat() if done else None, "status": status,
        })
    return out


def _breaches(v: Visible) -> list[BreachView]:
    """Each breach with its authorisation: awaiting a manager's decision when the policy
    requires one ([manager_decisions] breach_needs_authorisation), until it is made."""
    needed = v.policy.manager_decisions.breach_needs_authorisation
    decisions = {d.breach_id: d for d in v.breach_decisions}
    out: list[BreachView] = []
    for b in v.breaches:
        decision = decisions.get(b.id)
        if decision is not None:
            state = "authorised" if decision.authorised else "declined"
        else:
            state = "awaiting" if needed else "not_required"
        out.append({
            "event_id": b.id, "date": date.fromordinal(b.d).isoformat(), "serious": b.serious,
            "failure_event_ids": list(b.failure_ids), "authorisation": state,
            "decided_by": decision.manager if decision else None,
            "decided_on": date.fromordinal(decision.d).isoformat() if decision else None,
        })
    return out


def _conditions(v: Visible) -> list[ConditionView]:
    """A youth conditional caution's conditions: open until completed or failed, overdue
    after their deadline; a failure without reasonable excuse awaits a prosecution decision."""
    ends = {e.condition_id: e for e in v.condition_ends}
    decisions = {p.failure_id: p.decision for p in v.prosecutions}
    out: list[ConditionView] = []
    for c in v.conditions:
        end = ends.get(c.condition_id)
        if end is None:
            status = "overdue" if v.last_day.toordinal() > c.deadline else "open"
        else:
            status = "completed" if end.completed else "failed"
        out.append({
            "condition_id": c.condition_id, "kind": c.kind,
            "deadline": date.fromordinal(c.deadline).isoformat(), "status": status,
            "reasonable_excuse": None if end is None or end.completed else end.excuse,
            "ended_event_id": end.id if end else None,
            "prosecution_decision": decisions.get(end.id) if end else None,
        })
    return out


def _day(warning: Warn) -> int:
    return warning.d


def warnings_counting(v: Visible, day: int) -> list[Warn]:
    """The case's warnings whose warned period includes ``day`` (the one rule)."""
    return warnings_in_period(v.warnings, day, v.policy.enforcement, _day)


def evaluate(record: CaseRecord, at: AsAt, policy: Policy) -> EnforcementView:
    """The enforcement view of ``record`` as at ``at`` under ``policy``. Pure."""
    return from_visible(Visible(record, at, policy))
