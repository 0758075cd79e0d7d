"""The case-level quarterly return: its tables, and its validation, as pure functions.

The layout (file names, columns, order, value formats) is ``docs/quarterly-return.md``;
``LAYOUT`` here is the same list and a test holds the two together. References are the
tracker's pseudonymous ids (case, child, victim). By default no sealed value is written;
only when the operator asks (``--include-personal``) does ``personal.csv`` hold the
child's ethnicity, sex and ages (``PERSONAL_LAYOUT``), and ``manifest.json`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from projections.kpis import (
    FUNNEL_ORDER,
    BoardMeeting,
    KpiCase,
    KpiRules,
    Quarter,
    is_serious_violence,
    latest,
    moments,
    offence_of,
    stage_by,
)
from tracker.kernel.errors import FieldProblem

LAYOUT: dict[str, tuple[str, ...]] = {
    "cases.csv": ("case_ref", "child_ref", "team", "disposal", "route", "start_date",
                  "end_date", "custodial_sentence", "offence_category", "gravity_score",
                  "first_offence", "serious_violence"),
    "accommodation.csv": ("case_ref", "moment", "date", "suitable", "accommodation_type"),
    "ete.csv": ("case_ref", "moment", "date", "ete_status", "suitable", "hours_offered",
                "hours_attended"),
    "send.csv": ("case_ref", "date", "send_identified", "formal_plan", "in_suitable_ete"),
    "health.csv": ("case_ref", "need", "moment", "date", "identified", "planned_or_offered",
                   "attending"),
    "wider_services.csv": ("case_ref", "service", "start_date", "end_date"),
    "out_of_court.csv": ("case_ref", "disposal", "end_date", "completed"),
    "victims.csv": ("case_ref", "victim_ref", "contacted", "consented", "views_taken",
                    "rj_offered", "rj_taken_up", "rj_completed", "satisfied"),
    "board.csv": ("meeting_date", "partner", "invited", "attended"),
}

PERSONAL_LAYOUT: dict[str, tuple[str, ...]] = {
    "personal.csv": ("case_ref", "child_ref", "ethnicity", "sex", "age_at_offence",
                     "age_at_disposal", "status"),
}
"""Written only with ``--include-personal``: the sealed diversity values, opened."""
PERSONAL_FIELDS = ("ethnicity", "sex", "age_at_offence", "age_at_disposal")
MANIFEST = "manifest.json"
YOUTH_AGES = range(10, 18)
"""The ages of criminal responsibility to adulthood (10 to 17) an offence falls in."""

Row = tuple[str, ...]


def _d(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def _b(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


def in_scope(c: KpiCase, quarter: Quarter) -> bool:
    """Open at some time in the quarter."""
    return c.start <= quarter.last and (c.closed is None or c.closed >= quarter.first)


def validate(cases: Sequence[KpiCase], quarter: Quarter, personal: bool = False
             ) -> list[FieldProblem]:
    """Everything that would make the return wrong, each naming the case and the field
    (``personal``: the diversity values too)."""
    problems: list[FieldProblem] = []

    def bad(c: KpiCase, name: str, reason: str) -> None:
        problems.append(FieldProblem(f"case {c.case_id}: {name}", reason))

    for c in cases:
        if not in_scope(c, quarter):
            continue
        if c.closed is not None and c.closed < c.start:
            bad(c, "end_date", "is before the start date")
        if quarter.holds(c.start) and offence_of(c) is None and c.route == "court":
            bad(c, "offence", "not recorded for a court case opened in the quarter")
        for day in moments(c, quarter, releases=True):
            if latest(c.accommodation, day) is None:
                bad(c, "accommodation", f"no status recorded by {day.isoformat()}")
            if latest(c.ete, day) is None:
                bad(c, "ete_status", f"no status recorded by {day.isoformat()}")
        for e in c.ete:
            if e.hours_attended > e.hours_offered:
                bad(c, "hours_attended", f"more than the hours offered ({e.day.isoformat()})")
        for v in c.victims:
            if v.consented is not None and v.contacted is None:
                bad(c, f"victim {v.victim_id} consented", "recorded without a contact")
            if v.rj_taken_up is not None and v.consented is None:
                bad(c, f"victim {v.victim_id} rj_taken_up", "recorded without consent")
        if personal and c.personal is not None:
            age = c.personal.age_at_offence
            if age is not None and age not in YOUTH_AGES:
                bad(c, "age_at_offence", f"is {age}, outside 10 to 17 (check the date of "
                                         "birth and the offence date)")
    return problems


def _n(value: int | None) -> str:
    return "" if value is None else str(value)


def personal_row(c: KpiCase) -> Row:
    """The case's row of ``personal.csv``: blank values whose key is gone (status
    ``erased``), never recomputed; ``not_recorded`` when nothing was stated."""
    p = c.personal
    if p is None:
        return (c.case_id, c.child_id, "", "", "", "", "not_recorded")
    status = ("erased" if p.erased else "recorded"
              if p.ethnicity or p.sex or p.age_at_disposal is not None else "not_recorded")
    return (c.case_id, c.child_id, p.ethnicity or "", p.sex or "", _n(p.age_at_offence),
            _n(p.age_at_disposal), status)


def tables(cases: Sequence[KpiCase], meetings: Sequence[BoardMeeting], quarter: Quarter,
           rules: KpiRules, personal: bool = False) -> dict[str, list[Row]]:
    """Each file's rows (without the header), in the documented order; ``personal.csv``
    only when asked."""
    names = {**LAYOUT, **PERSONAL_LAYOUT} if personal else LAYOUT
    out: dict[str, list[Row]] = {name: [] for name in names}
    for c in sorted(cases, key=lambda c: c.case_id):
        if not in_scope(c, quarter):
            continue
        o = offence_of(c)
        gravity = o.gravity if o is not None else None
        out["cases.csv"].append((
            c.case_id, c.child_id, c.team, c.disposal, c.route, _d(c.start), _d(c.closed),
            _b(c.custodial_sentence), o.category if o else "",
            str(gravity) if gravity is not None else "", _b(o.first_offence if o else None),
            _b(is_serious_violence(o, rules.serious_violence_categories,
                                   rules.serious_violence_min_gravity))
            if gravity is not None else ""))
        if personal:
            out["personal.csv"].append(personal_row(c))
        judged = [("end" if day == c.closed else "release", day)
                  for day in moments(c, quarter, releases=True)]
        for moment, day in judged:
            a = latest(c.accommodation, day)
            out["accommodation.csv"].append((
                c.case_id, moment, _d(day), _b(a.suitable if a else None), a.kind if a else ""))
            e = latest(c.ete, day)
            out["ete.csv"].append((
                c.case_id, moment, _d(day), e.status if e else "", _b(e.suitable if e else None),
                f"{e.hours_offered:g}" if e else "", f"{e.hours_attended:g}" if e else ""))
            for need, steps in (("mental_health", c.mental_health),
                                ("substance_misuse", c.substance_misuse)):
                stage = stage_by(steps, day)
                out["health.csv"].append((c.case_id, need, moment, _d(day),
                                          *(_b(stage > i) for i in range(len(FUNNEL_ORDER)))))
            if moment == "end":
                s = latest(c.send, day)
                if s is not None and s.identified:
                    out["send.csv"].append((c.case_id, _d(day), "Y", _b(s.formal_plan),
                                            _b(e is not None and e.suitable)))
        for w in c.wider_services:
            out["wider_services.csv"].append((c.case_id, w.kind, _d(w.start), _d(w.end)))
        if c.route == "out_of_court" and quarter.holds(c.closed):
            out["out_of_court.csv"].append((c.case_id, c.disposal, _d(c.closed),
                                            _b(c.ooc_completed)))
        for v in c.victims:
            out["victims.csv"].append((
                c.case_id, v.victim_id, _d(v.contacted), _d(v.consented), _d(v.views_taken),
                _d(v.rj_offered), _d(v.rj_taken_up), _d(v.rj_completed), _b(v.satisfied)))
    for m in sorted(meetings, key=lambda m: m.day):
        if quarter.holds(m.day):
            for partner in sorted(set(m.invited) | set(m.attended)):
                out["board.csv"].append((_d(m.day), partner, _b(partner in m.invited),
                                         _b(partner in m.attended)))
    return out
