"""Inspection-style ratings for a service or team over a period (domain.md §8; seed 001 §3.23-3.33).

Two tables with the same shape, so a manager can compare what the audits found with what
the records show:

* **audits** — the ``case_audited`` events in the period (the latest per case): per key
  question (standard x lens) the % of cases answered yes;
* **records** — the quality indicators of ``projections.aspire`` (and, for resettlement, of
  the releases in ``projections.continuity``) for every case under supervision in the
  period, judged as at the period's end.

Rules, as the inspectorate applies them: court and out-of-court cases are rated apart
(domains two and three); the safety-and-wellbeing and risk-of-harm questions count only
cases rated medium or higher on that domain (``ratings.judged_levels``; for audits the
auditor's own judgement if recorded, else the latest assessment before the audit);
desistance counts every case. A standard's band is driven by the lowest of its three
questions; when that lowest question rests on ``ratings.small_sample_max`` cases or fewer
it is flagged for professional judgement. Resettlement is rated only where the scope had
at least ``ratings.resettlement_min_custody_cases`` cases in custody in the 12 months to
the period's end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NotRequired, TypedDict

from projections.aspire import AspireView
from projections.continuity import TransitionView
from projections.visible import add_months
from tracker.domain.policy import Policy

STANDARDS = ("assessment", "planning", "implementation", "review", "resettlement")
LENSES = ("desistance", "safety_wellbeing", "risk_of_harm")
DOMAINS = ("court", "out_of_court")
RECORD_STAGE = {"assessment": "assessment", "planning": "planning",
                "implementation": "delivery", "review": "review"}


class QuestionScore(TypedDict):
    yes: int
    judged: int
    pct: float | None
    band: str | None


class StandardRating(TypedDict):
    """A standard's band, driven by its lowest key question (``not_rated`` says why not)."""

    questions: dict[str, QuestionScore]
    rating: str | None
    lowest: str | None
    lowest_pct: float | None
    small_sample: bool
    not_rated: NotRequired[str]


class Sample(TypedDict):
    cases: int
    court: int
    out_of_court: int


class Resettlement(TypedDict):
    custody_cases: int
    minimum: int
    rated: bool


class RatingsTable(TypedDict):
    """Domain -> standard -> rating, for one source (audits or records)."""

    sample: Sample
    domains: dict[str, dict[str, StandardRating]]
    resettlement: Resettlement


class ComparedStandard(TypedDict):
    audits: str | None
    records: str | None
    gap_pct: dict[str, float | None]


Comparison = dict[str, dict[str, ComparedStandard]]
"""Domain -> standard -> the two bands and the gap per lens."""


@dataclass(frozen=True)
class CaseJudgement:
    """One case's yes/no per (standard, lens), and whether each risk lens applies."""

    case_id: str
    route: str
    answers: dict[tuple[str, str], bool]
    safety_judged: bool
    harm_judged: bool


def band(pct: float | None, policy: Policy) -> str | None:
    """The inspectorate's band for a percentage of yes (None when nothing was judged)."""
    if pct is None:
        return None
    r = policy.ratings
    if pct >= r.outstanding:
        return "outstanding"
    if pct >= r.good:
        return "good"
    if pct >= r.requires_improvement:
        return "requires_improvement"
    return "inadequate"


def rate(cases: Iterable[CaseJudgement], policy: Policy, *, custody_cases: int) -> RatingsTable:
    """The ratings table for these cases (see the module docstring)."""
    cases = list(cases)
    sample: Sample = {
        "cases": len(cases),
        "court": sum(1 for c in cases if c.route == "court"),
        "out_of_court": sum(1 for c in cases if c.route == "out_of_court"),
    }
    domains: dict[str, dict[str, StandardRating]] = {}
    minimum = policy.ratings.resettlement_min_custody_cases
    for domain in DOMAINS:
        in_domain = [c for c in cases if c.route == domain]
        standards: dict[str, StandardRating] = {}
        for standard in STANDARDS:
            if standard == "resettlement" and domain != "court":
                continue
            questions: dict[str, QuestionScore] = {}
            for lens in LENSES:
                yes = judged = 0
                for c in in_domain:
                    if lens == "safety_wellbeing" and not c.safety_judged:
                        continue
                    if lens == "risk_of_harm" and not c.harm_judged:
                        continue
                    answer = c.answers.get((standard, lens))
                    if answer is None:
                        continue
                    judged += 1
                    yes += 1 if answer else 0
                pct = round(100 * yes / judged, 1) if judged else None
                questions[lens] = {"yes": yes, "judged": judged, "pct": pct,
                                   "band": band(pct, policy)}
            rated = [(q["pct"], lens, q["judged"]) for lens, q in questions.items()
                     if q["pct"] is not None]
            entry: StandardRating
            if standard == "resettlement" and custody_cases < minimum:
                entry = _not_rated(questions, f"fewer than {minimum} custody cases in the year "
                                              f"({custody_cases})")
            elif not rated:
                entry = _not_rated(questions, "no case judged")
            else:
                pct, lens, judged = min(rated)
                entry = {
                    "questions": questions, "rating": band(pct, policy), "lowest": lens,
                    "lowest_pct": pct, "small_sample": judged <= policy.ratings.small_sample_max,
                }
            standards[standard] = entry
        domains[domain] = standards
    return {
        "sample": sample,
        "domains": domains,
        "resettlement": {"custody_cases": custody_cases, "minimum": minimum,
                         "rated": custody_cases >= minimum},
    }


def _not_rated(questions: dict[str, QuestionScore], why: str) -> StandardRating:
    return {"questions": questions, "rating": None, "lowest": None, "lowest_pct": None,
            "small_sample": False, "not_rated": why}


def judgement_from_audit(
    case_id: str, route: str, answers: list[list[Any]], safety: str | None, harm: str | None,
    policy: Policy,
) -> CaseJudgement:
    """An audit's answers as a judgement (risk lenses judged from the levels given)."""
    judged = policy.ratings.judged_levels
    return CaseJudgement(
        case_id=case_id, route=route,
        answers={(str(s), str(lens)): bool(a) for s, lens, a in answers},
        safety_judged=safety in judged, harm_judged=harm in judged,
    )


def judgement_from_records(
    case_id: str,
    route: str,
    aspire: AspireView,
    safety_judged: bool,
    harm_judged: bool,
    released_in_period: list[TransitionView],
) -> CaseJudgement:
    """What the records show, as a judgement: the quality indicators' answers."""
    answers: dict[tuple[str, str], bool] = {}
    quality = aspire.get("quality", {})
    for standard, stage in RECORD_STAGE.items():
        for lens in LENSES:
            question = quality.get(stage, {}).get(lens)
            answer = question["answer"] if question else None
            if answer is not None:
                answers[(standard, lens)] = bool(answer)
    if released_in_period:
        answers[("resettlement", "desistance")] = all(
            r.get("resettlement_plan_agreed") for r in released_in_period
        )
        answers[("resettlement", "safety_wellbeing")] = all(
            r.get("accommodation_arranged") for r in released_in_period
        )
        answers[("resettlement", "risk_of_harm")] = all(
            r.get("information_shared") and r.get("handover_meeting_held")
            for r in released_in_period
        )
    return CaseJudgement(case_id, route, answers, safety_judged, harm_judged)


def compare(audits: RatingsTable, records: RatingsTable) -> Comparison:
    """Audit and records bands side by side, with the gap per key question (records - audit)."""
    out: Comparison = {}
    for domain in DOMAINS:
        rows: dict[str, ComparedStandard] = {}
        for standard, a in audits["domains"].get(domain, {}).items():
            r = records["domains"].get(domain, {}).get(standard)
            gaps: dict[str, float | None] = {}
            for lens in LENSES:
                ap = a["questions"][lens]["pct"]
                rq = r["questions"].get(lens) if r else None
                rp = rq["pct"] if rq else None
                gaps[lens] = round(rp - ap, 1) if ap is not None and rp is not None else None
            rows[standard] = {"audits": a.get("rating"), "records": r["rating"] if r else None,
                              "gap_pct": gaps}
        out[domain] = rows
    return out


def period_bounds(start: date | None, end: date | None, today: date, policy: Policy) -> tuple[
    date, date
]:
    """The period asked for, defaulting to the inspection window ending today."""
    end = end or today
    start = start or add_months(end, -policy.ratings.default_period_months)
    return start, end
