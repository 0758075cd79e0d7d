"""Reports over many cases: engagement by month, and inspection-style ratings."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any, TypedDict

from sqlalchemy import Row, or_, select

from projections import ratings as rating_rules
from projections.alert_rules import read_policy
from projections.asat import AsAt
from projections.engagement import EngagementMonth
from projections.queries.reading import as_at_of, current_record, read_records
from projections.ratings import Comparison, RatingsTable
from projections.record import folding
from projections.views import evaluate_all
from projections.visible import add_months
from tracker.db.read_models import audits, continuity
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.app import App


class CalendarMonth(TypedDict):
    """A team's (or the service's) engagement in one calendar month (``YYYY-MM``)."""

    month: str
    cases: int
    attended: int
    missed_acceptable: int
    missed_unacceptable: int
    required: int
    contacts: int
    attendance_rate: float | None
    participation: float | None


Period = TypedDict("Period", {"from": str, "to": str})


class RatingsReport(TypedDict):
    period: Period
    team: str | None
    policy_version: str
    audits: RatingsTable
    records: RatingsTable
    comparison: Comparison


def engagement_series(
    app: App, *, case_id: str | None = None, team: str | None = None
) -> list[EngagementMonth] | list[CalendarMonth]:
    """Monthly engagement points for charts: a case's supervision months, or a team's
    (or the whole service's) calendar months."""
    at = as_at_of(app, None)
    policy = read_policy(app)
    if case_id is not None:
        with app.engine.connect() as conn:
            record, _ = current_record(app, conn, case_id)
        with folding(case_id):
            views = evaluate_all(record, at, policy)
        months: list[EngagementMonth] = views.engagement.get("months", [])
        return months
    with app.engine.connect() as conn:
        records = read_records(app, conn, team=team, open_only=False)
    points: dict[str, CalendarMonth] = {}
    scores: dict[str, list[int]] = defaultdict(list)
    for record in records:
        views = evaluate_all(record, at, policy)
        if not views.exists:
            continue
        v = views.visible
        active: set[str] = set()
        for a in v.attended:
            p = _point(points, date.fromordinal(a.d))
            p["attended"] += 1
            scores[p["month"]].append(a.participation)
            active.add(p["month"])
        for m in v.missed:
            p = _point(points, date.fromordinal(m.d))
            p["missed_acceptable" if m.acceptable else "missed_unacceptable"] += 1
            active.add(p["month"])
        for month in views.engagement.get("months", []):
            if month["status"] in ("met", "short"):
                p = _point(points, date.fromisoformat(month["to"]))
                p["required"] += month["required"]
                p["contacts"] += month["contacts"]
        for key in active:
            points[key]["cases"] += 1
    out: list[CalendarMonth] = []
    for key in sorted(points):
        p = points[key]
        month_scores = scores.get(key, [])
        total = p["attended"] + p["missed_unacceptable"]
        p["attendance_rate"] = round(p["attended"] / total, 3) if total else None
        p["participation"] = (
            round(sum(month_scores) / len(month_scores), 2) if month_scores else None
        )
        out.append(p)
    return out


def _point(points: dict[str, CalendarMonth], day: date) -> CalendarMonth:
    key = f"{day.year:04d}-{day.month:02d}"
    found = points.get(key)
    if found is None:
        found = points[key] = {
            "month": key, "cases": 0, "attended": 0, "missed_acceptable": 0,
            "missed_unacceptable": 0, "required": 0, "contacts": 0, "attendance_rate": None,
            "participation": None,
        }
    return found


def ratings(
    app: App, *, start: date | None, end: date | None, team: str | None = None
) -> RatingsReport:
    """Inspection-style ratings over a period, from the audits and from the records."""
    policy = read_policy(app)
    today = AsAt.at(app.clock.now()).day
    first, last = rating_rules.period_bounds(start, end, today, policy)
    if first > last:
        raise InvalidInput([FieldProblem("start", "must not be after end")])
    year_from = add_months(last, -12)
    with app.engine.connect() as conn:
        audit_query = select(audits).where(audits.c.audited_on >= first,
                                           audits.c.audited_on <= last)
        if team is not None:
            audit_query = audit_query.where(audits.c.team == team)
        latest: dict[str, Row[Any]] = {}
        for row in conn.execute(audit_query.order_by(audits.c.audited_on, audits.c.position)):
            latest[row.case_id] = row
        custody_query = select(continuity.c.case_id).where(
            continuity.c.ever_custody.is_(True),
            continuity.c.custody_first <= last,
            or_(continuity.c.custody_last_end.is_(None),
                continuity.c.custody_last_end >= year_from),
        )
        if team is not None:
            custody_query = custody_query.where(continuity.c.team == team)
        custody_cases = len(conn.execute(custody_query).all())
        records = read_records(app, conn, team=team, open_only=False, active_from=first,
                           active_to=last)
    audit_judgements = [
        rating_rules.judgement_from_audit(
            row.case_id, row.route or "court", json.loads(row.answers), row.safety_level,
            row.harm_level, policy,
        )
        for row in latest.values()
    ]
    at = AsAt.end_of(last)
    record_judgements = []
    for record in records:
        views = evaluate_all(record, at, policy)
        if not views.exists:
            continue
        v = views.visible
        released = [
            t for t in views.continuity.get("transitions", [])
            if t["kind"] == "custody_to_community"
            and first.isoformat() <= t["date"] <= last.isoformat()
        ]
        record_judgements.append(rating_rules.judgement_from_records(
            record.case_id, views.header["route"], views.aspire,
            v.judged("safety_wellbeing"), v.judged("risk_of_harm"), released,
        ))
    audit_table = rating_rules.rate(audit_judgements, policy, custody_cases=custody_cases)
    record_table = rating_rules.rate(record_judgements, policy, custody_cases=custody_cases)
    report: RatingsReport = {
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "team": team,
        "policy_version": policy.version,
        "audits": audit_table,
        "records": record_table,
        "comparison": rating_rules.compare(audit_table, record_table),
    }
    return report

