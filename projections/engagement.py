"""Engagement per case and over time: more than turning up (domain.md §6).

* attendance — attended, missed with an acceptable reason, missed without one; the rate
  is attended / (attended + unacceptable absences), acceptable absences shown apart; beside
  it, attended / required (domain.md §6) over the supervision months judged, each labelled;
* contacts against the level's requirement per supervision month (as ASPIRE counts them);
* days since the last contact and the last home visit;
* participation (1-5 at each attended contact): the mean of the recent
  ``engagement.window_days`` against the window before, and a trend;
* barriers noted and addressed, and those still outstanding;
* child and parent/carer involvement in assessments, plans and reviews;
* warnings inside the warned period.

``falling`` is true when participation dropped by at least ``participation_drop`` between
the two windows (each with at least ``min_contacts_per_window`` contacts) or attendance in
the recent window fell below ``attendance_floor``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date
from typing import NotRequired, TypedDict

from projections.asat import AsAt
from projections.aspire import MonthView, months
from projections.enforcement import warnings_counting
from projections.record import CaseRecord
from projections.visible import Visible
from tracker.domain.policy import Policy


class Trend(TypedDict):
    window_days: int
    recent_mean: float | None
    previous_mean: float | None
    recent_contacts: int
    previous_contacts: int
    recent_attendance: float | None
    trend: str
    falling: bool
    reason: str | None
    caused_by: list[str]


class Participation(Trend):
    latest: int | None
    mean: float | None


class EngagementMonth(MonthView):
    attended: int
    missed_acceptable: int
    missed_unacceptable: int
    attendance_rate: float | None
    participation: float | None


class Attendance(TypedDict):
    """Two attendance figures, each labelled: ``rate`` is attended / (attended +
    unacceptable absences); ``of_required`` is attended / required (domain.md §6): the
    counted contacts against what the level in force required, over the months judged."""

    attended: int
    missed_acceptable: int
    missed_unacceptable: int
    rate: float | None
    rate_label: str
    rate_including_acceptable: float | None
    of_required: OfRequired


class OfRequired(TypedDict):
    attended: int
    required: int
    rate: float | None
    label: str


RATE_LABEL = "attended / (attended + unacceptable absences)"
OF_REQUIRED_LABEL = "counted contacts attended / contacts required, months judged"


class Share(TypedDict):
    yes: int
    of: int


class Involvement(TypedDict):
    child: Share
    parent_carer: Share
    parent_carer_at_contacts: int


class Barriers(TypedDict):
    noted: dict[str, int]
    addressed: dict[str, int]
    outstanding: list[str]


class EngagementView(TypedDict):
    """The engagement view of a case (only ``exists`` when there is no case)."""

    exists: bool
    attendance: NotRequired[Attendance]
    months: NotRequired[list[EngagementMonth]]
    last_contact: NotRequired[str | None]
    days_since_contact: NotRequired[int | None]
    last_home_visit: NotRequired[str | None]
    days_since_home_visit: NotRequired[int | None]
    participation: NotRequired[Participation]
    barriers: NotRequired[Barriers]
    involvement: NotRequired[Involvement]
    warnings_in_warned_period: NotRequired[int]


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _rate(attended: int, unacceptable: int) -> float | None:
    total = attended + unacceptable
    return round(attended / total, 3) if total else None


def trend(v: Visible) -> Trend:
    """Participation and attendance in the recent window against the one before."""
    policy = v.policy.engagement
    today = v.last_day.toordinal()
    w = policy.window_days
    recent_from, previous_from = today - w + 1, today - 2 * w + 1
    recent = [a for a in v.attended if recent_from <= a.d <= today]
    previous = [a for a in v.attended if previous_from <= a.d < recent_from]
    recent_missed = [m for m in v.missed if recent_from <= m.d <= today and not m.acceptable]
    recent_mean = _mean([a.participation for a in recent])
    previous_mean = _mean([a.participation for a in previous])
    enough = len(recent) >= policy.min_contacts_per_window and len(
        previous
    ) >= policy.min_contacts_per_window
    label = "unknown"
    dropped = False
    if enough and recent_mean is not None and previous_mean is not None:
        change = recent_mean - previous_mean
        if change <= -policy.participation_drop:
            label, dropped = "falling", True
        elif change >= policy.participation_drop:
            label = "rising"
        else:
            label = "steady"
    attendance = _rate(len(recent), len(recent_missed))
    poor_attendance = (
        len(recent) + len(recent_missed) >= policy.min_contacts_per_window
        and attendance is not None
        and attendance < policy.attendance_floor
    )
    caused = [a.id for a in recent] + [m.id for m in recent_missed]
    return {
        "window_days": w,
        "recent_mean": recent_mean,
        "previous_mean": previous_mean,
        "recent_contacts": len(recent),
        "previous_contacts": len(previous),
        "recent_attendance": attendance,
        "trend": label,
        "falling": dropped or poor_attendance,
        "reason": "participation" if dropped else ("attendance" if poor_attendance else None),
        "caused_by": caused if (dropped or poor_attendance) else [],
    }


def monthly(v: Visible) -> list[EngagementMonth]:
    """Per supervision month: required and counted contacts, attendance, participation."""
    out: list[EngagementMonth] = []
    attended = sorted((a.d, a.participation) for a in v.attended)
    att_days = [d for d, _p in attended]
    missed = sorted((m.d, m.acceptable) for m in v.missed)
    miss_days = [d for d, _a in missed]
    for m in months(v):
        lo, hi = m.first.toordinal(), m.last.toordinal()
        a0, a1 = bisect_left(att_days, lo), bisect_right(att_days, hi)
        m0, m1 = bisect_left(miss_days, lo), bisect_right(miss_days, hi)
        scores = [p for _d, p in attended[a0:a1]]
        unacceptable = sum(1 for _d, ok in missed[m0:m1] if not ok)
        out.append({
            **m.to_dict(),
            "attended": a1 - a0,
            "missed_acceptable": (m1 - m0) - unacceptable,
            "missed_unacceptable": unacceptable,
            "attendance_rate": _rate(a1 - a0, unacceptable),
            "participation": _mean(scores),
        })
    return out


def _of_required(v: Visible) -> OfRequired:
    """Attended against required over the supervision months judged (met or short): each
    month counts at most what it required, so extra contacts in one month do not hide a
    shortfall in another."""
    judged = [m for m in months(v) if m.status in ("met", "short")]
    required = sum(m.required for m in judged)
    attended = sum(min(m.contacts, m.required) for m in judged)
    return {"attended": attended, "required": required,
            "rate": round(attended / required, 3) if required else None,
            "label": OF_REQUIRED_LABEL}


def _involvement(v: Visible) -> Involvement:
    items: list[tuple[str, bool, bool]] = (
        [("assessment", a.child, a.parent) for a in v.assessments]
        + [("plan", p.child, p.parent) for p in v.plans]
        + [("review", r.child, r.parent) for r in v.reviews]
    )
    return {
        "child": {"yes": sum(1 for _k, c, _p in items if c), "of": len(items)},
        "parent_carer": {"yes": sum(1 for _k, _c, p in items if p), "of": len(items)},
        "parent_carer_at_contacts": sum(1 for a in v.attended if a.parent),
    }


def _barriers(v: Visible) -> Barriers:
    noted: dict[str, int] = {}
    addressed: dict[str, int] = {}
    last_noted: dict[str, int] = {}
    last_addressed: dict[str, int] = {}
    for a in v.attended:
        for b in a.noted:
            noted[b] = noted.get(b, 0) + 1
            last_noted[b] = a.t
        for b in a.addressed:
            addressed[b] = addressed.get(b, 0) + 1
            last_addressed[b] = a.t
    outstanding = sorted(b for b, t in last_noted.items() if last_addressed.get(b, -1) < t)
    return {"noted": noted, "addressed": addressed, "outstanding": outstanding}


def warnings_in_period(v: Visible) -> int:
    """Warnings whose warned period includes the last day judged (the enforcement rule)."""
    return len(warnings_counting(v, v.last_day.toordinal()))


def from_visible(v: Visible) -> EngagementView:
    """The engagement view of a case as at ``v.at``."""
    if not v.exists:
        return {"exists": False}
    attended = len(v.attended)
    unacceptable = sum(1 for m in v.missed if not m.acceptable)
    acceptable = len(v.missed) - unacceptable
    today = v.last_day
    last_contact = max((a.d for a in v.attended), default=None)
    home = [a.d for a in v.attended if a.kind == "home_visit"]
    last_home = max(home, default=None)
    started = v.today >= v.start
    return {
        "exists": True,
        "attendance": {
            "attended": attended,
            "missed_acceptable": acceptable,
            "missed_unacceptable": unacceptable,
            "rate": _rate(attended, unacceptable),
            "rate_label": RATE_LABEL,
            "rate_including_acceptable": (
                round(attended / (attended + len(v.missed)), 3) if attended + len(v.missed)
                else None
            ),
            "of_required": _of_required(v) if started else {
                "attended": 0, "required": 0, "rate": None, "label": OF_REQUIRED_LABEL},
        },
        "months": monthly(v) if started else [],
        "last_contact": _iso(last_contact),
        "days_since_contact": (today.toordinal() - last_contact) if last_contact else None,
        "last_home_visit": _iso(last_home),
        "days_since_home_visit": (today.toordinal() - last_home) if last_home else None,
        "participation": {
            "latest": v.attended[-1].participation if v.attended else None,
            "mean": _mean([a.participation for a in v.attended]),
            **trend(v),
        },
        "barriers": _barriers(v),
        "involvement": _involvement(v),
        "warnings_in_warned_period": warnings_in_period(v),
    }


def _iso(ordinal: int | None) -> str | None:
    return date.fromordinal(ordinal).isoformat() if ordinal is not None else None


def evaluate(record: CaseRecord, at: AsAt, policy: Policy) -> EngagementView:
    """The engagement view of ``record`` as at ``at`` under ``policy``. Pure."""
    return from_visible(Visible(record, at, policy))

