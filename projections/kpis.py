"""The ten YJB key performance indicators (from April 2023), as pure functions.

The input is a documented shape, not the event store: one ``KpiCase`` per case (what the
case's events say, already read and with nothing personal in clear) and one
``BoardMeeting`` per management board meeting. ``projections.queries.kpi_reports`` builds
them from the events; the tests build them by hand. Every definition, with its source and
the counting rule chosen where the public guidance leaves room, is in ``docs/kpis.md``.

Counting rules in one place:

* A quarter is a calendar quarter (``2026Q3`` = 1 July to 30 September 2026).
* KPIs 1-5 and 8 count the cases whose order (or intervention) *ended* in the quarter,
  each judged on the latest status recorded on or before that day: the YJB's main
  measures are "at the end of their intervention programme/order" (gov.uk guidance).
  Releases from custody in the quarter are a sub-measure (a step) of KPIs 1 and 2.
* KPI 6 counts out-of-court interventions that ended in the quarter.
* KPI 7 counts partner places at the board meetings held in the quarter.
* KPI 9 counts cases opened in the quarter whose offence is serious violence (policy).
* KPI 10 counts victims (pseudonymous ids) who consented to contact in the quarter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, TypedDict, TypeVar

from tracker.domain.offence import CaseOffence, RecordedOffence, case_offence
from tracker.kernel.errors import FieldProblem, InvalidInput

Funnel = Literal["identified", "planned", "attending"]
FUNNEL_ORDER: tuple[Funnel, ...] = ("identified", "planned", "attending")
WIDER_SERVICES = ("looked_after", "child_protection_plan", "child_in_need", "early_help")


# -- the quarter ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter; ``yjb`` names the same months in the YJB's financial year."""

    year: int
    q: int

    @classmethod
    def parse(cls, text: str, field_name: str = "quarter") -> Quarter:
        """``2026Q3`` (case-insensitive); anything else is a clear input error."""
        m = re.fullmatch(r"(\d{4})[Qq]([1-4])", text.strip())
        if m is None or not 2000 <= int(m.group(1)) <= 2100:
            raise InvalidInput([FieldProblem(field_name, "must look like 2026Q3 (Q1 to Q4)")])
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def first(self) -> date:
        return date(self.year, 3 * self.q - 2, 1)

    @property
    def last(self) -> date:
        nxt = self.next()
        return nxt.first - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + (self.q == 4), self.q % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.q == 1), (self.q - 2) % 4 + 1)

    def trend(self, n: int) -> list[Quarter]:
        """This quarter and the ``n - 1`` before it, oldest first."""
        out = [self]
        while len(out) < n:
            out.append(out[-1].previous())
        return out[::-1]

    def holds(self, day: date | None) -> bool:
        return day is not None and self.first <= day <= self.last

    @property
    def yjb(self) -> str:
        """The YJB's label: financial year April-March, Q1 = April to June."""
        start = self.year if self.q > 1 else self.year - 1
        return f"{start}/{(start + 1) % 100:02d} Q{(self.q + 2) % 4 + 1}"

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"


# -- the input shape -----------------------------------------------------------------------


@dataclass(frozen=True)
class Accommodation:
    day: date
    suitable: bool
    kind: str


@dataclass(frozen=True)
class Ete:
    day: date
    status: str
    suitable: bool
    hours_offered: float
    hours_attended: float


@dataclass(frozen=True)
class Send:
    day: date
    identified: bool
    formal_plan: bool


@dataclass(frozen=True)
class FunnelStep:
    day: date
    stage: Funnel


@dataclass(frozen=True)
class WiderService:
    kind: str
    start: date
    end: date | None


Offence = RecordedOffence
"""An ``offence_recorded`` event's facts (the domain's shape: ``tracker.domain.offence``)."""


@dataclass(frozen=True)
class Victim:
    """One victim of the case, by pseudonymous id, and the day each step happened."""

    victim_id: str
    contacted: date | None = None
    consented: date | None = None
    views_taken: date | None = None
    rj_offered: date | None = None
    rj_taken_up: date | None = None
    rj_completed: date | None = None
    satisfied: bool | None = None


@dataclass(frozen=True)
class FeedbackGiven:
    """A child's or parent's structured feedback: each question's score (1-5)."""

    day: date
    respondent: str
    scores: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Personal:
    """The child's sealed diversity values, opened only for a return the operator asked to
    hold them (``tracker return --include-personal``); never for a KPI or the board pack.

    A value is None when it was not recorded or its key is gone; ``erased`` names the
    fields whose key is gone (they read blank, and nothing is computed from them).
    """

    ethnicity: str | None
    sex: str | None
    age_at_offence: int | None
    age_at_disposal: int | None
    erased: tuple[str, ...] = ()


@dataclass(frozen=True)
class KpiCase:
    """What one case's events say that the KPIs, the return and disproportionality count.

    Nothing personal in clear: ``ethnic_group`` is the ONS 2021 *high-level* group opened
    in memory for the aggregate only (None when not stated or erased); the records of an
    erased child are left out before this shape is built.
    """

    case_id: str
    team: str
    child_id: str
    disposal: str
    route: str
    start: date
    closed: date | None = None
    custodial_sentence: bool = False
    releases: tuple[date, ...] = ()
    accommodation: tuple[Accommodation, ...] = ()
    ete: tuple[Ete, ...] = ()
    send: tuple[Send, ...] = ()
    mental_health: tuple[FunnelStep, ...] = ()
    substance_misuse: tuple[FunnelStep, ...] = ()
    wider_services: tuple[WiderService, ...] = ()
    offences: tuple[Offence, ...] = ()
    opened_offence: str | None = None
    victims: tuple[Victim, ...] = ()
    ooc_completed: bool | None = None
    breaches: tuple[date, ...] = ()
    feedback: tuple[FeedbackGiven, ...] = ()
    ethnic_group: str | None = None
    personal: Personal | None = field(default=None, repr=False)


def offence_of(c: KpiCase) -> CaseOffence | None:
    """The case's offence by the one rule (``tracker.domain.offence.case_offence``): the
    latest ``offence_recorded``, else ``case_opened``'s category."""
    return case_offence(c.opened_offence, c.offences)


def first_offence(c: KpiCase) -> bool:
    """Whether the case's offence (by the same rule) is recorded as the child's first."""
    o = offence_of(c)
    return o is not None and bool(o.first_offence)


@dataclass(frozen=True)
class BoardMeeting:
    """A management board meeting: the partner agencies invited and those attending."""

    day: date
    invited: tuple[str, ...]
    attended: tuple[str, ...]


# -- the result shape ----------------------------------------------------------------------


class Step(TypedDict):
    label: str
    numerator: int
    denominator: int
    percent: float | None


class KpiResult(TypedDict):
    number: int
    key: str
    title: str
    definition: str
    numerator: int
    denominator: int
    percent: float | None
    steps: list[Step]
    case_ids: list[str]


TITLES: dict[str, tuple[int, str, str]] = {
    "accommodation": (1, "Suitable accommodation",
                      "Of the children whose order or intervention ended in the quarter: "
                      "those in suitable accommodation at the end (release: a step)."),
    "ete": (2, "Education, training and employment",
            "Of the children whose order or intervention ended in the quarter: those in "
            "suitable ETE at the end (attendance and release: steps)."),
    "send": (3, "Special educational needs / additional learning needs",
             "Of the children with an identified SEND/ALN need whose order ended in the "
             "quarter: those with a formal plan in place."),
    "mental_health": (4, "Mental health and emotional wellbeing",
                      "Of the children whose order ended in the quarter: those with a "
                      "screened or identified need at the end (funnel below)."),
    "substance_misuse": (5, "Substance misuse",
                         "Of the children whose order ended in the quarter: those with a "
                         "screened or identified need at the end (funnel below)."),
    "out_of_court": (6, "Out-of-court disposals",
                     "Out-of-court interventions ended in the quarter that were completed."),
    "board_attendance": (7, "Management board attendance",
                         "Partner places taken at the board meetings held in the quarter, of "
                         "those invited."),
    "wider_services": (8, "Links to wider services",
                       "Children whose order ended in the quarter who were looked after, on "
                       "a child protection or child in need plan, or in early help during "
                       "the order."),
    "serious_violence": (9, "Serious violence",
                         "Cases opened in the quarter whose offence was serious violence "
                         "(policy: categories and minimum gravity score)."),
    "victims": (10, "Victims",
                "Victims who consented to contact in the quarter and took up a restorative "
                "justice opportunity."),
}


_T = TypeVar("_T", Accommodation, Ete, Send)


def _pct(n: int, d: int) -> float | None:
    return round(100 * n / d, 1) if d else None


def _result(key: str, n: int, d: int, ids: Iterable[str], steps: list[Step] | None = None
            ) -> KpiResult:
    number, title, definition = TITLES[key]
    return {"number": number, "key": key, "title": title, "definition": definition,
            "numerator": n, "denominator": d, "percent": _pct(n, d), "steps": steps or [],
            "case_ids": sorted(set(ids))}


def _step(label: str, n: int, d: int) -> Step:
    return {"label": label, "numerator": n, "denominator": d, "percent": _pct(n, d)}


def latest(items: Sequence[_T], day: date) -> _T | None:
    found: _T | None = None
    for item in sorted(items, key=lambda i: i.day):
        if item.day <= day:
            found = item
    return found


def moments(c: KpiCase, quarter: Quarter, releases: bool) -> list[date]:
    """The days a case is judged on in the quarter: its end, and its releases."""
    days = [c.closed] if quarter.holds(c.closed) and c.closed is not None else []
    if releases:
        days.extend(d for d in c.releases if quarter.holds(d))
    return days


def stage_by(steps: Sequence[FunnelStep], day: date) -> int:
    """How far along the funnel the case was by ``day`` (0 = no need identified)."""
    reached = 0
    for s in steps:
        if s.day <= day:
            reached = max(reached, FUNNEL_ORDER.index(s.stage) + 1)
    return reached


def _ended(c: KpiCase, quarter: Quarter) -> list[date]:
    """The order's (or intervention's) end, when it fell in the quarter: the main
    measures' moment (gov.uk: "at the end of their intervention programme/order")."""
    return moments(c, quarter, releases=False)


def _released(c: KpiCase, quarter: Quarter) -> list[date]:
    """The releases from custody in the quarter (the 2023 wording's "being released from
    custody"): a sub-measure, never in the main measure."""
    return [d for d in c.releases if quarter.holds(d)]


def _status_kpi(items: str, cases: Sequence[KpiCase], quarter: Quarter
                ) -> tuple[int, int, list[str], list[tuple[KpiCase, date, Any]],
                           tuple[int, int]]:
    """KPIs 1 and 2: suitable at the end of the order (main), and on release (step)."""
    n = d = rn = rd = 0
    ids: list[str] = []
    judged: list[tuple[KpiCase, date, Any]] = []
    for c in cases:
        for day in _ended(c, quarter):
            status = latest(getattr(c, items), day)
            d += 1
            n += status is not None and status.suitable
            ids.append(c.case_id)
            judged.append((c, day, status))
        for day in _released(c, quarter):
            status = latest(getattr(c, items), day)
            rd += 1
            rn += status is not None and status.suitable
            ids.append(c.case_id)
    return n, d, ids, judged, (rn, rd)


def accommodation(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    n, d, ids, _judged, (rn, rd) = _status_kpi("accommodation", cases, quarter)
    steps = [_step("released from custody in the quarter with suitable accommodation",
                   rn, rd)]
    return _result("accommodation", n, d, ids, steps)


def ete(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    n, d, ids, judged, (rn, rd) = _status_kpi("ete", cases, quarter)
    suitable = [s for _c, _d, s in judged if s is not None and s.suitable]
    attending = sum(1 for s in suitable if s.hours_attended > 0)
    offered = round(sum(s.hours_offered for _c, _d, s in judged if s is not None))
    attended = round(sum(s.hours_attended for _c, _d, s in judged if s is not None))
    steps = [
        _step("attending (hours attended above 0) of those in suitable ETE at the end",
              attending, len(suitable)),
        _step("hours attended of hours offered (weekly, at the end of the order)",
              attended, offered),
        _step("released from custody in the quarter attending suitable ETE", rn, rd),
    ]
    return _result("ete", n, d, ids, steps)


def send(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    n = d = both = 0
    ids: list[str] = []
    for c in cases:
        for day in _ended(c, quarter):
            need = latest(c.send, day)
            if need is None or not need.identified:
                continue
            d += 1
            ids.append(c.case_id)
            n += need.formal_plan
            in_ete = latest(c.ete, day)
            both += need.formal_plan and in_ete is not None and in_ete.suitable
    steps = [_step("with a formal plan and in suitable ETE (the 2023 wording)", both, d)]
    return _result("send", n, d, ids, steps)


def _funnel(key: str, cases: Sequence[KpiCase], quarter: Quarter, pick: str) -> KpiResult:
    """KPIs 4 and 5. Main measure: children with an identified need at the end of the
    order, of the children whose order ended; the funnel's steps are sub-measures."""
    judged = 0
    reached = [0, 0, 0]
    ids: list[str] = []
    for c in cases:
        steps: tuple[FunnelStep, ...] = getattr(c, pick)
        for day in _ended(c, quarter):
            judged += 1
            ids.append(c.case_id)
            stage = stage_by(steps, day)
            for i in range(stage):
                reached[i] += 1
    funnel = [_step("need identified (of the children whose order ended)", reached[0],
                    judged),
              _step("intervention planned or offered (of those identified)", reached[1],
                    reached[0]),
              _step("attending (of those planned or offered)", reached[2], reached[1])]
    return _result(key, reached[0], judged, ids, funnel)


def mental_health(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    return _funnel("mental_health", cases, quarter, "mental_health")


def substance_misuse(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    return _funnel("substance_misuse", cases, quarter, "substance_misuse")


def out_of_court(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    ended = [c for c in cases if c.route == "out_of_court" and quarter.holds(c.closed)]
    n = sum(1 for c in ended if c.ooc_completed)
    return _result("out_of_court", n, len(ended), (c.case_id for c in ended))


def board_attendance(meetings: Sequence[BoardMeeting], quarter: Quarter) -> KpiResult:
    held = [m for m in meetings if quarter.holds(m.day)]
    invited = sum(len(set(m.invited)) for m in held)
    attended = sum(len(set(m.attended) & set(m.invited)) for m in held)
    partners = sorted({p for m in held for p in m.invited})
    steps = [_step(f"{p} attended (of meetings invited)",
                   sum(1 for m in held if p in m.attended and p in m.invited),
                   sum(1 for m in held if p in m.invited)) for p in partners]
    return _result("board_attendance", attended, invited, (), steps)


def wider_services(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    d = 0
    per_kind = dict.fromkeys(WIDER_SERVICES, 0)
    ids: list[str] = []
    for c in cases:
        for day in moments(c, quarter, releases=False):
            d += 1
            kinds = {w.kind for w in c.wider_services
                     if w.start <= day and (w.end is None or w.end >= c.start)}
            for k in kinds:
                per_kind[k] = per_kind.get(k, 0) + 1
            if kinds:
                ids.append(c.case_id)
    steps = [_step(k.replace("_", " "), v, d) for k, v in per_kind.items()]
    return _result("wider_services", len(ids), d, ids, steps)


def is_serious_violence(offence: CaseOffence | None, categories: Sequence[str],
                        min_gravity: int) -> bool:
    """The case's offence is in the categories with at least the policy's gravity score
    (a category known only from ``case_opened`` has no score, so never qualifies)."""
    return (offence is not None and offence.category in categories
            and offence.gravity is not None and offence.gravity >= min_gravity)


def serious_violence(cases: Sequence[KpiCase], quarter: Quarter, categories: Sequence[str],
                     min_gravity: int) -> KpiResult:
    opened = [c for c in cases if quarter.holds(c.start)]
    sv = [c.case_id for c in opened if is_serious_violence(offence_of(c), categories,
                                                                   min_gravity)]
    return _result("serious_violence", len(sv), len(opened), sv)


def victims(cases: Sequence[KpiCase], quarter: Quarter) -> KpiResult:
    consented = [(c.case_id, v) for c in cases for v in c.victims if quarter.holds(v.consented)]
    d = len(consented)
    taken = [(i, v) for i, v in consented if v.rj_taken_up is not None]
    steps = [
        _step("contacted (of those who consented)",
              sum(1 for _i, v in consented if v.contacted is not None), d),
        _step("views taken", sum(1 for _i, v in consented if v.views_taken is not None), d),
        _step("restorative justice offered",
              sum(1 for _i, v in consented if v.rj_offered is not None), d),
        _step("restorative justice taken up", len(taken), d),
        _step("restorative justice completed (of those taking it up)",
              sum(1 for _i, v in taken if v.rj_completed is not None), len(taken)),
        _step("satisfied (of those asked)",
              sum(1 for _i, v in consented if v.satisfied),
              sum(1 for _i, v in consented if v.satisfied is not None)),
    ]
    return _result("victims", len(taken), d, (i for i, _v in consented), steps)


@dataclass(frozen=True)
class KpiRules:
    """The policy's choices the KPIs take (``[reports]``)."""

    serious_violence_categories: tuple[str, ...] = field(
        default=("violence_against_the_person", "robbery", "drugs"))
    serious_violence_min_gravity: int = 5


def all_kpis(cases: Sequence[KpiCase], meetings: Sequence[BoardMeeting], quarter: Quarter,
             rules: KpiRules) -> list[KpiResult]:
    """The ten KPIs for the quarter, in the YJB's order."""
    return [
        accommodation(cases, quarter),
        ete(cases, quarter),
        send(cases, quarter),
        mental_health(cases, quarter),
        substance_misuse(cases, quarter),
        out_of_court(cases, quarter),
        board_attendance(meetings, quarter),
        wider_services(cases, quarter),
        serious_violence(cases, quarter, rules.serious_violence_categories,
                         rules.serious_violence_min_gravity),
        victims(cases, quarter),
    ]
