"""Disproportionality: counts and relative rate indices by ethnic group, as pure functions.

The relative rate index (RRI) of a group at a stage is its rate per 1,000 of the local
10-17 population divided by the comparison group's rate (domain.md §13; the YJB's summary
ethnic disparity tool compares each group with White children). Ethnicity is counted in
the ONS 2021 census high-level groups, to which the detailed categories map.

Small numbers are suppressed (``[reports] suppress_below`` in the policy): a count from 1
to the threshold minus one is shown as "<N", no rate or RRI is given for it, and the
stage's total is withheld so the hidden cell cannot be worked back from it. Format of the
population file: ``docs/disproportionality.md``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from events.outcomes import ETHNIC_GROUP
from projections.kpis import KpiCase, first_offence
from tracker.kernel.errors import FieldProblem, InvalidInput

GROUPS: dict[str, str] = {
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or Multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
}
"""The ONS 2021 census high-level ethnic groups (England and Wales), by code."""

DETAILED: dict[str, str] = {k: v for k, v in ETHNIC_GROUP.items() if v in GROUPS}
"""The 19 ONS 2021 detailed categories and the high-level group each belongs to."""

NOT_STATED = "not_stated"
STAGES: dict[str, str] = {
    "first_time_entrants": "First-time entrants",
    "out_of_court": "Out-of-court disposals",
    "court_orders": "Court orders",
    "custody": "Custodial sentences",
    "breach": "Breach",
}


def high_level(code: str | None) -> str | None:
    """The high-level group of a recorded category (detailed or high-level); None if the
    child's ethnicity was not stated, refused, unknown or erased."""
    if code is None:
        return None
    code = code.strip().lower()
    if code in GROUPS:
        return code
    if code in DETAILED:
        return DETAILED[code]
    prefix = code.split("_", 1)[0]
    return prefix if prefix in GROUPS else None


# -- the population file --------------------------------------------------------------------


def read_population(text: str) -> dict[str, int]:
    """The local 10-17 population by high-level group, from the service's CSV.

    Columns ``ethnic_group,population`` (a header row; ``#`` lines are comments; further
    columns such as ``age`` or ``sex`` are allowed and rows of the same group are summed).
    Each problem names the line and the column.
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    fields = reader.fieldnames or []
    if "ethnic_group" not in fields or "population" not in fields:
        raise InvalidInput([FieldProblem("population file",
                                         "needs the columns ethnic_group and population")])
    totals: dict[str, int] = {}
    problems: list[FieldProblem] = []
    for number, row in enumerate(reader, start=2):
        group = high_level(row.get("ethnic_group"))
        if group is None:
            problems.append(FieldProblem(f"line {number} ethnic_group",
                                         f"must be one of {', '.join(GROUPS)} "
                                         "(or an ONS 2021 detailed category)"))
            continue
        raw = (row.get("population") or "").strip()
        if not raw.isdigit() or int(raw) > 10_000_000:
            problems.append(FieldProblem(f"line {number} population",
                                         "must be a whole number from 0 to 10000000"))
            continue
        totals[group] = totals.get(group, 0) + int(raw)
    if problems:
        raise InvalidInput(problems[:20])
    if not totals:
        raise InvalidInput([FieldProblem("population file", "has no rows")])
    return totals


# -- counting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageEntry:
    """One child counted at one stage: the case that put them there, and their group."""

    stage: str
    child_id: str
    case_id: str
    group: str | None


def entries(cases: Iterable[KpiCase], first: date, last: date) -> list[StageEntry]:
    """Who entered each stage between ``first`` and ``last``.

    * first-time entrants: a case opened in the period whose offence is recorded as the
      child's first and whose disposal is formal (not a community resolution);
    * out-of-court disposals: out-of-court cases opened in the period;
    * court orders: court cases opened in the period, other than remands;
    * custody: custodial sentences (DTO) opened in the period;
    * breach: cases with a breach recorded in the period.
    """
    out: list[StageEntry] = []

    def within(day: date) -> bool:
        return first <= day <= last

    for c in cases:
        add = []
        if within(c.start):
            if first_offence(c) and c.disposal != "community_resolution":
                add.append("first_time_entrants")
            if c.route == "out_of_court":
                add.append("out_of_court")
            elif c.disposal != "remand":
                add.append("court_orders")
            if c.custodial_sentence:
                add.append("custody")
        if any(within(d) for d in c.breaches):
            add.append("breach")
        out.extend(StageEntry(s, c.child_id, c.case_id, c.ethnic_group) for s in add)
    return out


class GroupRow(TypedDict):
    group: str
    label: str
    count: int | None
    shown: str
    suppressed: bool
    population: int | None
    rate_per_1000: float | None
    rri: float | None


class StageTable(TypedDict):
    stage: str
    label: str
    total: int | None
    rows: list[GroupRow]
    note: str


def stage_table(stage: str, counts: dict[str, int], population: dict[str, int],
                comparison: str, threshold: int) -> StageTable:
    """One stage's table: counts (suppressed below ``threshold``), rates and RRIs."""

    def hidden(n: int) -> bool:
        return 0 < n < threshold

    comp_n = counts.get(comparison, 0)
    comp_pop = population.get(comparison, 0)
    comp_rate = comp_n / comp_pop * 1000 if comp_pop and not hidden(comp_n) else None
    rows: list[GroupRow] = []
    for group in [*GROUPS, NOT_STATED]:
        n = counts.get(group, 0)
        pop = population.get(group) if group != NOT_STATED else None
        suppressed = hidden(n)
        rate = n / pop * 1000 if pop and not suppressed else None
        rri = round(rate / comp_rate, 2) if rate is not None and comp_rate else None
        rows.append({
            "group": group, "label": GROUPS.get(group, "Not stated or not known"),
            "count": None if suppressed else n,
            "shown": f"<{threshold}" if suppressed else str(n), "suppressed": suppressed,
            "population": pop, "rate_per_1000": round(rate, 2) if rate is not None else None,
            "rri": rri,
        })
    any_hidden = any(r["suppressed"] for r in rows)
    note = ""
    if comp_rate is None:
        note = (f"no RRI: the comparison group ({comparison}) has no population or its "
                "count is suppressed or zero")
    if any_hidden:
        note = (note + "; " if note else "") + (
            f"counts below {threshold} suppressed; total withheld")
    return {"stage": stage, "label": STAGES[stage],
            "total": None if any_hidden else sum(counts.values()), "rows": rows, "note": note}


class DisproportionalityReport(TypedDict):
    period: dict[str, str]
    comparison_group: str
    suppress_below: int
    population_total: int
    stages: list[StageTable]


def report(found: Sequence[StageEntry], population: dict[str, int], *, first: date,
           last: date, comparison: str, threshold: int) -> DisproportionalityReport:
    """Each stage's table; a child counts once per stage (their first entry)."""
    if comparison not in GROUPS:
        raise InvalidInput([FieldProblem("comparison", f"must be one of {', '.join(GROUPS)}")])
    stages: list[StageTable] = []
    for stage in STAGES:
        seen: dict[str, str] = {}
        for e in found:
            if e.stage == stage and e.child_id not in seen:
                seen[e.child_id] = e.group or NOT_STATED
        counts: dict[str, int] = {}
        for group in seen.values():
            counts[group] = counts.get(group, 0) + 1
        stages.append(stage_table(stage, counts, population, comparison, threshold))
    return {"period": {"from": first.isoformat(), "to": last.isoformat()},
            "comparison_group": comparison, "suppress_below": threshold,
            "population_total": sum(population.values()), "stages": stages}
