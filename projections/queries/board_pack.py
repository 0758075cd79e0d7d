"""The management board's quarterly pack: figures only, no personal data (issue 13 §2).

Seed 003: boards "demand accurate and robust performance data … at least quarterly", with
local trends, diversity and disproportionality, and the views of service users. The pack
holds the ten KPIs with their trend over ``[reports] trend_quarters`` quarters, ASPIRE
compliance by team, engagement by month, ratings from case audits, disproportionality for
the year so far, children's and victims' feedback and partner attendance at the board.

It names no child, case or practitioner: KPIs lose their case lists, compliance is by team,
and disproportionality is suppressed below the policy's threshold.
"""

from __future__ import annotations

from collections import defaultdict
from importlib import resources
from typing import Any, TypedDict

from projections.alert_rules import read_policy
from projections.disproportionality import DisproportionalityReport
from projections.kpis import KpiCase, KpiResult, Quarter
from projections.queries.cases import compliance_by_practitioner
from projections.queries.kpi_reports import (
    Cohort,
    disproportionality,
    published_kpis,
    read_cohort,
)
from projections.queries.reports import CalendarMonth, engagement_series, ratings
from projections.ratings import RatingsTable
from tracker.services.app import App

DEMO_POPULATION = "population_demo.csv"
"""The synthetic population shipped with the demo (``tracker.services.synthetic``)."""


class TeamCompliance(TypedDict):
    team: str
    cases: int
    overdue_cases: int
    on_time_rate: float | None


class Feedback(TypedDict):
    responses: int
    questions: dict[str, float]


class BoardPack(TypedDict):
    quarter: str
    yjb_quarter: str
    period: dict[str, str]
    policy_version: str
    kpis_produced_at: str
    kpis: list[KpiResult]
    trend: dict[str, Any]
    compliance: list[TeamCompliance]
    engagement: list[CalendarMonth]
    ratings: RatingsTable
    disproportionality: DisproportionalityReport | None
    population_note: str
    children_feedback: Feedback
    victims_feedback: dict[str, Any]
    attendance: list[dict[str, Any]]
    skipped: int


def population_text(app: App) -> tuple[str | None, str]:
    """The local population CSV and where it came from (the synthetic one only outside
    production, and then said so)."""
    path = app.settings.population_file
    if path is not None:
        return path.read_text(encoding="utf-8"), f"population file {path.name}"
    if app.settings.environment != "production":
        demo = resources.files("tracker.services.synthetic") / DEMO_POPULATION
        return (demo.read_text(encoding="utf-8"),
                "SYNTHETIC demonstration population (set TRACKER_POPULATION_FILE)")
    return None, "no population file configured (TRACKER_POPULATION_FILE)"


def feedback_of(cases: list[KpiCase], quarter: Quarter) -> Feedback:
    """Children's and parents' feedback given in the quarter: mean score per question."""
    scores: dict[str, list[int]] = defaultdict(list)
    responses = 0
    for c in cases:
        for f in c.feedback:
            if quarter.holds(f.day):
                responses += 1
                for question, score in f.scores:
                    scores[question].append(score)
    return {"responses": responses,
            "questions": {q: round(sum(v) / len(v), 2) for q, v in sorted(scores.items())}}


def board_pack(app: App, quarter: Quarter, cohort: Cohort | None = None) -> BoardPack:
    """The pack for ``quarter`` over the whole service."""
    policy = read_policy(app)
    found = cohort if cohort is not None else read_cohort(app)
    trend_quarters = quarter.trend(policy.reports.trend_quarters)
    reports = {q: published_kpis(app, q, cohort=found) for q in trend_quarters}
    current = reports[quarter]
    kpis: list[KpiResult] = current["kpis"]
    trend = {
        "quarters": [str(q) for q in trend_quarters],
        "series": {k["key"]: [next(r for r in reports[q]["kpis"] if r["key"] == k["key"])[
            "percent"] for q in trend_quarters] for k in kpis},
    }
    teams: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in compliance_by_practitioner(app, as_at=quarter.last):
        t = teams[row["team"]]
        t["cases"] += row["cases"]
        t["overdue_cases"] += row["overdue_cases"]
        for status, n in row["obligations"].items():
            t[status] += n
    compliance: list[TeamCompliance] = []
    for team, t in sorted(teams.items()):
        judged = t["done_on_time"] + t["done_late"] + t["overdue"]
        compliance.append({"team": team, "cases": t["cases"], "overdue_cases": t["overdue_cases"],
                           "on_time_rate": round(t["done_on_time"] / judged, 3) if judged
                           else None})
    months = {f"{quarter.year:04d}-{m:02d}" for m in range(quarter.first.month,
                                                             quarter.last.month + 1)}
    engagement = [m for m in engagement_series(app) if m["month"] in months]
    rated = ratings(app, start=quarter.first, end=quarter.last)
    text, note = population_text(app)
    dispro = disproportionality(app, quarter.year, text, cohort=found,
                                upto=quarter.last) if text else None
    victims = next(k for k in kpis if k["key"] == "victims")
    board = next(k for k in kpis if k["key"] == "board_attendance")
    return {
        "quarter": str(quarter), "yjb_quarter": quarter.yjb,
        "period": {"from": quarter.first.isoformat(), "to": quarter.last.isoformat()},
        "kpis_produced_at": current["produced_at"],
        "policy_version": policy.version, "kpis": kpis, "trend": trend,
        "compliance": compliance, "engagement": engagement,
        "ratings": rated["audits"], "disproportionality": dispro, "population_note": note,
        "children_feedback": feedback_of(found["cases"], quarter),
        "victims_feedback": {"steps": victims["steps"], "consented": victims["denominator"]},
        "attendance": [dict(s) for s in board["steps"]],
        "skipped": found["skipped"],
    }
