"""Reports over many cases: engagement by month, and inspection-style ratings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, TypedDict

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    Row,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from projections import ratings as rating_rules
from projections.alert_rules import read_policy
from projections.asat import AsAt
from projections.engagement import EngagementMonth
from projections.projector.rows import CALENDAR_FIELDS, engagement_calendar, load
from projections.queries.reading import as_at_of, current_record, read_records
from projections.ratings import Comparison, RatingsTable, Sample
from projections.record import CaseRecord, folding
from projections.sealer import KeyringDob
from projections.views import evaluate_all
from projections.visible import add_months
from tracker.db import tx
from tracker.db.read_models import audits
from tracker.db.read_models import case_records as R  # noqa: N812
from tracker.db.read_models import engagement as E  # noqa: N812
from tracker.db.read_models import quarantine as Q  # noqa: N812
from tracker.db.sample_tables import TABLES as SAMPLE_TABLES
from tracker.db.sample_tables import dip_sample_cases, dip_samples
from tracker.kernel.clock import local_date, start_of_local_day
from tracker.kernel.errors import FieldProblem, InvalidInput, SampleNotFound
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
    sample_seed: int | None
    sample_id: str | None
    audits: RatingsTable
    records: RatingsTable
    comparison: Comparison


def engagement_series(
    app: App, *, case_id: str | None = None, team: str | None = None,
    practitioner: str | None = None, start: date | None = None, end: date | None = None,
) -> list[EngagementMonth] | list[CalendarMonth]:
    """Monthly engagement points for charts: a case's supervision months, or a team's, a
    practitioner's (their current cases) or the whole service's calendar months, limited
    to the months from ``start`` to ``end`` when given."""
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
        sums = _month_sums(app, conn, at, team=team, practitioner=practitioner)
    return _series(_merged(sums.values()), start, end)


def engagement_by_practitioner(
    app: App, *, team: str | None, start: date | None = None, end: date | None = None,
) -> dict[str, list[CalendarMonth]]:
    """Each practitioner's calendar months (their current cases, open and closed, as
    ``engagement_series`` with ``practitioner``), and under ``""`` the whole team's (as
    ``engagement_series`` without), from one sum of the team's rows by the database."""
    at = as_at_of(app, None)
    with app.engine.connect() as conn:
        sums = _month_sums(app, conn, at, team=team, practitioner=None)
    out = {p: _series(months, start, end) for p, months in sums.items() if p is not None}
    if sums:
        out[""] = _series(_merged(sums.values()), start, end)
    return out


MonthSums = dict[str, list[int]]
"""Calendar months (``YYYY-MM``) -> the ``CALENDAR_FIELDS`` summed over cases, then the
number of cases active that month (attended or missed)."""


def _exact_calendar(conn: Connection, at: AsAt) -> ColumnElement[bool]:
    """A projected calendar the database may sum as it stands: written from the case's
    latest record and judged on the request's London day, or judged no earlier than the
    UTC midnight that starts the day the case closed (a closed case's months no longer
    change; London's midnight is never later than UTC's, so this never takes a row the
    exact test in ``_calendars`` would refuse). Never NULL, so ``~`` is its complement."""
    if conn.dialect.name == "postgresql":
        closed_from: ColumnElement[Any] = func.timezone("UTC", cast(R.c.closed_on, DateTime))
    else:  # naive UTC text, 'YYYY-MM-DD HH:MM:SS': compared with the date's text
        closed_from = cast(R.c.closed_on, String)
    return and_(
        E.c.calendar.is_not(None), E.c.position.is_not(None), E.c.position == R.c.position,
        or_(and_(E.c.evaluated_at >= start_of_local_day(at.day),
                 E.c.evaluated_at < start_of_local_day(at.day + timedelta(days=1))),
            and_(R.c.closed_on.is_not(None), E.c.evaluated_at >= closed_from)))


def _month_sums(
    app: App, conn: Connection, at: AsAt, *, team: str | None, practitioner: str | None
) -> dict[str | None, MonthSums]:
    """Each current case manager's cases' engagement per calendar month, summed: the
    projected calendars that are exact as at ``at`` by the database (``GROUP BY``
    practitioner and month over each row's months), the rest case by case as
    ``_calendars`` reads them (found in one pass over the cases in scope, which reads no
    calendar the database sums). Every practitioner with a case in scope has an entry,
    even one without a month."""
    exact = _exact_calendar(conn, at)
    joined = R.join(E, E.c.case_id == R.c.case_id, isouter=True)
    scope: list[ColumnElement[bool]] = [R.c.case_id.not_in(select(Q.c.case_id))]
    if team is not None:
        scope.append(R.c.team == team)
    if practitioner is not None:
        scope.append(R.c.practitioner == practitioner)
    out: dict[str | None, MonthSums] = {}
    rest: list[Any] = []  # one pass over the team's cases: who holds them, and the ones not summed
    for r in conn.execute(
            select(R.c.case_id, R.c.practitioner, R.c.closed_on, R.c.position,
                   case((exact, None), else_=E.c.calendar).label("calendar"),
                   E.c.position.label("evaluated_position"), E.c.evaluated_at,
                   case((exact, True), else_=False).label("summed"))
            .select_from(joined).where(*scope).order_by(R.c.case_id)):
        out.setdefault(r.practitioner, {})
        if not r.summed:
            rest.append(r)
    if conn.dialect.name == "postgresql":
        each = func.jsonb_each(cast(E.c.calendar, JSONB)).table_valued(
            "key", "value").alias("cal_month")

        def field(i: int) -> ColumnElement[Any]:
            return cast(each.c.value.op("->>")(i), Integer)
    else:
        each = func.json_each(E.c.calendar).table_valued("key", "value").alias("cal_month")

        def field(i: int) -> ColumnElement[Any]:
            return cast(func.json_extract(each.c.value, f"$[{i}]"), Integer)
    sums = [func.sum(field(i)) for i in range(len(CALENDAR_FIELDS))]
    active = func.sum(case((field(0) + field(1) + field(2) > 0, 1), else_=0))
    query = (select(R.c.practitioner, each.c.key, *sums, active)
             .select_from(joined).join(each, literal(True)).where(exact, *scope)
             .group_by(R.c.practitioner, each.c.key))
    for row in conn.execute(query):
        out.setdefault(row[0], {})[row[1]] = [int(n or 0) for n in row[2:]]
    for p, calendar in _calendars(app, conn, at, rest):
        mine = out.setdefault(p, {})
        for key, counts in calendar.items():
            found = mine.setdefault(key, [0] * (len(CALENDAR_FIELDS) + 1))
            for i, n in enumerate(counts):
                found[i] += n
            found[-1] += 1 if counts[0] or counts[1] or counts[2] else 0
    return out


def _merged(groups: Iterable[MonthSums]) -> MonthSums:
    """Several practitioners' month sums added together (the whole team's)."""
    out: MonthSums = {}
    for months in groups:
        for key, counts in months.items():
            found = out.setdefault(key, [0] * len(counts))
            for i, n in enumerate(counts):
                found[i] += n
    return out


def _calendars(
    app: App, conn: Connection, at: AsAt, rows: Iterable[Any]
) -> list[tuple[str | None, dict[str, list[int]]]]:
    """The engagement per calendar month (``rows.engagement_calendar``), with its current
    case manager, of the cases the database did not sum (``rows``: case id, practitioner,
    closed_on, position, calendar, evaluated_position, evaluated_at): the projected one
    where it is exact as at ``at`` (written from the case's latest record, and judged on
    the same day, or after the case closed: a closed case's months no longer change), else
    evaluated from the record on the spot."""
    out: list[tuple[str | None, dict[str, list[int]]]] = []
    stale: dict[str, str | None] = {}
    for r in rows:
        if r.calendar is not None and r.evaluated_position == r.position:
            day = local_date(r.evaluated_at)
            if day == at.day or (r.closed_on is not None and r.closed_on <= day):
                out.append((r.practitioner, orjson.loads(r.calendar)))
                continue
        stale[r.case_id] = r.practitioner
    if stale:
        policy = read_policy(app)
        for case_id, record in load(conn, list(stale), KeyringDob.for_app(app)).items():
            with folding(case_id):
                views = evaluate_all(record, at, policy)
            if views.exists:
                out.append((stale[case_id], engagement_calendar(views)))
    return out


def _series(sums: MonthSums, start: date | None, end: date | None) -> list[CalendarMonth]:
    """Month sums as chart points, limited to ``start``..``end``."""
    first = f"{start.year:04d}-{start.month:02d}" if start else "0000-00"
    last = f"{end.year:04d}-{end.month:02d}" if end else "9999-99"
    out: list[CalendarMonth] = []
    for key in sorted(sums):
        if not first <= key <= last:
            continue
        attended, acceptable, unacceptable, required, contacts, score, scored, active = \
            sums[key]
        total = attended + unacceptable
        out.append({
            "month": key, "cases": active, "attended": attended,
            "missed_acceptable": acceptable, "missed_unacceptable": unacceptable,
            "required": required, "contacts": contacts,
            "attendance_rate": round(attended / total, 3) if total else None,
            "participation": round(score / scored, 2) if scored else None,
        })
    return out


class InspectionSample(TypedDict):
    """A drawn sample: the scope it was drawn from, and the cases drawn."""

    period: Period
    team: str | None
    seed: int
    policy_version: str
    in_scope: Sample
    drawn: Sample
    case_ids: list[str]


class _Scope:
    """The cases an inspection would look at (seed 001 §3.16, §3.33; seed 002): those that
    commenced supervision in the window, and for resettlement the children who commenced a
    custodial sentence in the ``custody_period_months`` before its end."""

    def __init__(self, app: App, start: date | None, end: date | None, team: str | None
                 ) -> None:
        self.policy = policy = read_policy(app)
        today = AsAt.at(app.clock.now()).day
        self.first, self.last = rating_rules.period_bounds(start, end, today, policy)
        if self.first > self.last:
            raise InvalidInput([FieldProblem("start", "must not be after end")])
        self.custody_from = add_months(self.last, -policy.ratings.custody_period_months)
        self.at = AsAt.end_of(self.last)
        self.team = team
        since = min(self.first, self.custody_from)
        with app.engine.connect() as conn:
            records = read_records(app, conn, team=team, open_only=False, active_to=self.last)
        self.window: list[CaseRecord] = []
        self.custody: list[CaseRecord] = []
        for record in records:
            o = record.opened
            if o is None or o.start < since.toordinal():
                continue
            if self.first.toordinal() <= o.start <= self.last.toordinal():
                self.window.append(record)
            if (policy.profile(o.disposal).custodial_sentence
                    and self.custody_from.toordinal() <= o.start):
                self.custody.append(record)

    @property
    def custody_children(self) -> int:
        """Children who commenced a custodial sentence in the custody period."""
        return len({r.opened.child_id for r in self.custody if r.opened is not None})

    def routes(self) -> tuple[list[str], list[str]]:
        court = [r.case_id for r in self.window if r.opened and r.opened.route == "court"]
        return court, [r.case_id for r in self.window if r.case_id not in set(court)]


def _counts(ids: list[str], court: set[str]) -> Sample:
    n = sum(1 for i in ids if i in court)
    return {"cases": len(ids), "court": n, "out_of_court": len(ids) - n}


def inspection_sample(
    app: App, *, seed: int, start: date | None = None, end: date | None = None,
    team: str | None = None,
) -> InspectionSample:
    """A reproducible stratified sample of the cases in scope (``tracker sample``)."""
    scope = _Scope(app, start, end, team)
    court, out_of_court = scope.routes()
    drawn = rating_rules.draw_sample(court, out_of_court, seed, scope.policy)
    court_set = set(court)
    result: InspectionSample = {
        "period": {"from": scope.first.isoformat(), "to": scope.last.isoformat()},
        "team": team, "seed": seed, "policy_version": scope.policy.version,
        "in_scope": _counts(court + out_of_court, court_set),
        "drawn": _counts(drawn, court_set), "case_ids": drawn,
    }
    return result


def ratings(
    app: App, *, start: date | None, end: date | None, team: str | None = None,
    sample_seed: int | None = None, sample_id: str | None = None,
) -> RatingsReport:
    """Inspection-style ratings, from the audits and from the records, over the cases in
    scope (or over the sample drawn with ``sample_seed``, or over a recorded dip sample,
    ``sample_id``, by default in that sample's window)."""
    chosen: set[str] | None = None
    if sample_id is not None:
        with tx.read(app.engine, tables=SAMPLE_TABLES) as conn:
            window = conn.execute(select(dip_samples.c.window_from, dip_samples.c.window_to)
                                  .where(dip_samples.c.sample_id == sample_id)).first()
            if window is None:
                raise SampleNotFound(f"no sample {sample_id}")
            chosen = set(conn.execute(select(dip_sample_cases.c.case_id).where(
                dip_sample_cases.c.sample_id == sample_id)).scalars())
        if start is None and end is None:
            start, end = window.window_from, window.window_to
    scope = _Scope(app, start, end, team)
    policy, first, last = scope.policy, scope.first, scope.last
    if sample_seed is not None:
        court, out_of_court = scope.routes()
        chosen = set(rating_rules.draw_sample(court, out_of_court, sample_seed, policy))
    with app.engine.connect() as conn:
        audit_query = select(audits).where(audits.c.audited_on >= first,
                                           audits.c.audited_on <= last)
        if team is not None:
            audit_query = audit_query.where(audits.c.team == team)
        latest: dict[str, Row[Any]] = {}
        for row in conn.execute(audit_query.order_by(audits.c.audited_on, audits.c.position)):
            if chosen is None or row.case_id in chosen:
                latest[row.case_id] = row
    audit_judgements = [
        rating_rules.judgement_from_audit(
            row.case_id, row.route or "court", json.loads(row.answers), row.safety_level,
            row.harm_level, policy,
        )
        for row in latest.values()
    ]
    custody_ids = {r.case_id for r in scope.custody}
    record_judgements = []
    for record in _unique(scope.window + scope.custody):
        if chosen is not None and record.case_id not in chosen and (
                record.case_id not in custody_ids):
            continue
        views = evaluate_all(record, scope.at, policy)
        if not views.exists:
            continue
        v = views.visible
        released = [
            t for t in views.continuity.get("transitions", [])
            if t["kind"] == "custody_to_community" and record.case_id in custody_ids
            and t["date"] <= last.isoformat()
        ]
        judgement = rating_rules.judgement_from_records(
            record.case_id, views.header["route"], views.aspire,
            v.judged("safety_wellbeing"), v.judged("risk_of_harm"), released,
        )
        in_window = first.isoformat() <= (views.header["start_date"] or "") and (
            chosen is None or record.case_id in chosen)
        record_judgements.append(judgement if in_window else rating_rules.only_resettlement(
            judgement))
    custody_children = scope.custody_children
    audit_table = rating_rules.rate(audit_judgements, policy, custody_cases=custody_children)
    record_table = rating_rules.rate(record_judgements, policy, custody_cases=custody_children)
    report: RatingsReport = {
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "team": team,
        "policy_version": policy.version,
        "sample_seed": sample_seed, "sample_id": sample_id,
        "audits": audit_table,
        "records": record_table,
        "comparison": rating_rules.compare(audit_table, record_table),
    }
    return report


def _unique(records: list[CaseRecord]) -> list[CaseRecord]:
    seen: dict[str, CaseRecord] = {}
    for record in records:
        seen.setdefault(record.case_id, record)
    return list(seen.values())
