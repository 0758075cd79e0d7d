"""Inspection-style ratings for a service or team over a period (domain.md §8; seed 001 §3.23-3.33).

Two tables with the same shape, so a manager can compare what the audits found with what
the records show:

* **audits** — the ``case_audited`` events in the period (the latest per case): per key
  question (standard x lens) the % of cases answered yes;
* **records** — the quality indicators of ``projections.aspire`` (and, for resettlement, of
  the releases in ``projections.continuity``) for every case under supervision in the
  period, judged as at the period's end.

Rules, as the inspectorate applies them: court and out-of-court cases are rated apart
(domains two and three); out-of-court work has three casework standards, 3.1 assessment,
3.2 planning and 3.3 implementation and delivery, and **no review standard**; the
safety-and-wellbeing and risk-of-harm questions count only cases rated medium or higher on
that domain (``ratings.judged_levels``; for audits the auditor's own judgement if recorded,
else the latest assessment before the audit); desistance counts every case. A standard's
band is driven by the lowest of its three questions, compared as **exact fractions** (64.96%
is "requires improvement", never rounded up to "good"); when any question tied at that
lowest score rests on ``ratings.small_sample_max`` cases or fewer the standard is flagged
for professional judgement. Resettlement is rated only where at least
``ratings.resettlement_min_custody_cases`` children commenced a custodial sentence in the
12 months to the period's end (remands do not count; seed 001 §3.14-3.16).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, NotRequired, TypedDict

from projections.aspire import AspireView
from projections.continuity import TransitionView
from projections.visible import add_months
from tracker.domain.inspection import question_set
from tracker.domain.policy import Policy

STANDARDS = ("assessment", "planning", "implementation", "review", "resettlement")


def domain_standards(domain: str) -> tuple[str, ...]:
    """The standards a domain is rated on: the question set's casework standards (Annexe A
    2.1-2.4, 3.1-3.3) and, for court work, resettlement (2.5), rated from custody cases."""
    casework = question_set().casework(domain)
    return (*casework, "resettlement") if domain == "court" else casework
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
    in_sample: bool = True  # False: a custody case outside the window, for resettlement only


def band(pct: float | Fraction | None, policy: Policy) -> str | None:
    """The inspectorate's band for a percentage of yes (None when nothing was judged).
    Give the exact fraction (``share``) where there is one: thresholds compare exactly."""
    if pct is None:
        return None
    r = policy.ratings
    value = Fraction(pct)
    if value >= Fraction(str(r.outstanding)):
        return "outstanding"
    if value >= Fraction(str(r.good)):
        return "good"
    if value >= Fraction(str(r.requires_improvement)):
        return "requires_improvement"
    return "inadequate"


def share(yes: int, judged: int) -> Fraction | None:
    """The exact percentage of yes (None when nothing was judged)."""
    return Fraction(100 * yes, judged) if judged else None


def rate(cases: Iterable[CaseJudgement], policy: Policy, *, custody_cases: int) -> RatingsTable:
    """The ratings table for these cases (see the module docstring)."""
    cases = list(cases)
    sampled = [c for c in cases if c.in_sample]
    sample: Sample = {
        "cases": len(sampled),
        "court": sum(1 for c in sampled if c.route == "court"),
        "out_of_court": sum(1 for c in sampled if c.route == "out_of_court"),
    }
    domains: dict[str, dict[str, StandardRating]] = {}
    minimum = policy.ratings.resettlement_min_custody_cases
    for domain in DOMAINS:
        in_domain = [c for c in cases if c.route == domain]
        standards: dict[str, StandardRating] = {}
        for standard in domain_standards(domain):
            exact: dict[str, Fraction] = {}
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
                fraction = share(yes, judged)
                if fraction is not None:
                    exact[lens] = fraction
                questions[lens] = {"yes": yes, "judged": judged,
                                   "pct": round(float(fraction), 1) if fraction is not None
                                   else None,
                                   "band": band(fraction, policy)}
            rated = [(fraction, lens) for lens, fraction in exact.items()]
            entry: StandardRating
            if standard == "resettlement" and custody_cases < minimum:
                entry = _not_rated(questions, f"fewer than {minimum} children commenced a "
                                              f"custodial sentence in the year ({custody_cases})")
            elif not rated:
                entry = _not_rated(questions, "no case judged")
            else:
                lowest, lens = min(rated)
                tied = [name for fraction, name in rated if fraction == lowest]
                entry = {
                    "questions": questions, "rating": band(lowest, policy), "lowest": lens,
                    "lowest_pct": questions[lens]["pct"],
                    "small_sample": any(questions[name]["judged"]
                                        <= policy.ratings.small_sample_max for name in tied),
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


def sample_size(in_scope: int, policy: Policy) -> int:
    """How many cases a sample takes: ``sample_fraction`` of the scope (rounded up), at least
    ``sample_minimum``, and never more than there are."""
    r = policy.ratings
    wanted = max(r.sample_minimum, math.ceil(in_scope * Fraction(str(r.sample_fraction))))
    return min(wanted, in_scope)


def draw_sample(
    court: Sequence[str], out_of_court: Sequence[str], seed: int, policy: Policy
) -> list[str]:
    """A reproducible stratified sample of case ids (seed 001 §3.33; seed 004): court and
    out-of-court in ``sample_court_share``, the share rounded half up; a stratum short of its
    share is made up from the other. Same ids and seed, same sample."""
    court, out_of_court = sorted(court), sorted(out_of_court)
    n = sample_size(len(court) + len(out_of_court), policy)
    court_n = math.floor(n * Fraction(str(policy.ratings.sample_court_share)) + Fraction(1, 2))
    court_n = min(max(court_n, n - len(out_of_court)), len(court))
    rng = random.Random(seed)
    return sorted(rng.sample(court, court_n) + rng.sample(out_of_court, n - court_n))


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


def only_resettlement(judgement: CaseJudgement) -> CaseJudgement:
    """A custody case outside the inspection window counts for resettlement alone."""
    answers = {k: v for k, v in judgement.answers.items() if k[0] == "resettlement"}
    return CaseJudgement(judgement.case_id, judgement.route, answers, judgement.safety_judged,
                         judgement.harm_judged, in_sample=False)


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
