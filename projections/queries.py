"""Read functions for the CLI, the API and the web pages. All take the ``App`` first.

Every view is computed from the stored case records *as at* the moment asked for (now by
default), so "what is overdue?" is always answered against an explicit clock. A case whose
record is behind the log has its newer events folded in on the spot, so a case view is
never stale even while the projector catches up. Dates in results are ISO strings.

Shapes (the TypedDicts below; docs/read-models.md describes every field):

* ``case_view`` -> ``{"case_id", "as_at", "policy_version", "case": {header}, "aspire",
  "engagement", "continuity", "enforcement", "alerts": [open alerts], "projection":
  {"position", "caught_up"}}``
* ``caseload`` -> ``[{"case_id", "child_id", "team", "practitioner", "manager",
  "disposal", "intervention_level", "setting", "start_date", "stages": {stage: {"status",
  "due"}}, "overdue", "next_due", "due": [{"stage", "kind", "subject", "due", "status"}],
  "open_alerts"}]`` — open cases, most overdue first, then by next due date.
* ``list_alerts`` / ``acknowledge_alert`` -> alert dicts (``alerts.row_to_dict``).
* ``ratings`` -> ``{"period", "team", "policy_version", "audits": table, "records": table,
  "comparison"}``; a table is ``{"sample", "domains": {"court"|"out_of_court": {standard:
  {"rating", "lowest", "lowest_pct", "small_sample", "questions": {lens: {"yes", "judged",
  "pct", "band"}}}}}, "resettlement"}``.
* ``replay`` -> see ``projections.replay``.
* ``compliance_by_practitioner`` -> ``[{"practitioner", "team", "cases", "overdue_cases",
  "stages": {stage: {status: n}}, "obligations": {status: n}, "on_time_rate"}]``.
* ``engagement_series`` -> monthly points: for a case, its supervision months
  (``{"month", "from", "to", "required", "contacts", "status", "attended",
  "missed_acceptable", "missed_unacceptable", "attendance_rate", "participation"}``); for
  a team or the service, calendar months (``{"month": "YYYY-MM", "cases", "attended",
  "missed_acceptable", "missed_unacceptable", "attendance_rate", "participation",
  "required", "contacts"}``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, Connection, Row, and_, func, or_, select, update

from events.envelope import Actor
from projections import ratings as rating_rules
from projections import source
from projections.alert_rules import read_policy
from projections.alerts import AlertView, row_to_dict
from projections.asat import AsAt
from projections.aspire import STAGES, stage_of
from projections.engagement import EngagementMonth
from projections.projector import restore
from projections.ratings import Comparison, RatingsTable
from projections.record import CaseRecord, evolve_raw, sealed_child
from projections.replay import replay as _replay
from projections.sealer import KeyringDob
from projections.views import CaseView, CaseViews, evaluate_all
from projections.visible import add_months
from tracker.db.read_models import alerts as A  # noqa: N812
from tracker.db.read_models import audits, case_records, continuity
from tracker.kernel.errors import AlertNotFound, CaseNotFound, FieldProblem, InvalidInput
from tracker.services.app import App

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

Loose = dict[str, Any]
"""What the functions the edges call still return: their TypedDict, cast to a plain dict,
because the edges annotate plain dicts and the web adds keys of its own (``can_ack``).
Once the edges take the TypedDicts below, each ``cast(Loose, ...)`` goes."""


class Projection(TypedDict):
    position: int
    caught_up: bool


class CaseDetail(CaseView):
    """``case_view``: the views, the case's open alerts, and how far the record had got."""

    alerts: list[AlertView]
    projection: Projection


class StageSummary(TypedDict):
    status: str | None
    due: str | None


class DueItem(TypedDict):
    stage: str
    kind: str
    subject: str
    due: str
    status: str


class CaseloadRow(TypedDict):
    case_id: str
    child_id: str
    team: str
    practitioner: str | None
    manager: str | None
    disposal: str
    intervention_level: str
    setting: str
    start_date: str | None
    stages: dict[str, StageSummary]
    overdue: int
    next_due: str | None
    due: list[DueItem]
    open_alerts: int


class PractitionerCompliance(TypedDict):
    practitioner: str
    team: str
    cases: int
    overdue_cases: int
    stages: dict[str, dict[str, int]]
    obligations: dict[str, int]
    on_time_rate: float | None


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
MAX_NOTE = 2000


def _as_at(app: App, value: datetime | date | None) -> AsAt:
    if value is None:
        return AsAt.at(app.clock.now())
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput([FieldProblem("as_at", "must include a time zone")])
        return AsAt.at(value)
    return AsAt.end_of(value)


def _current(app: App, conn: Connection, case_id: str) -> tuple[CaseRecord, bool]:
    """The case's record with any events newer than the stored one folded in."""
    sealer = KeyringDob.for_app(app)
    row = conn.execute(
        select(case_records.c.record).where(case_records.c.case_id == case_id)
    ).first()
    record = restore(conn, case_id, row[0], sealer) if row is not None else CaseRecord(
        case_id=case_id)
    newer = [e.event for e in source.read_case(conn, case_id, after=record.position)]
    if newer:
        record = evolve_raw(record, newer, sealer.open)
    if not record.exists:
        raise CaseNotFound(f"case {case_id} not found")
    return record, row is not None and not newer


def _open_alerts(conn: Connection, case_id: str) -> list[AlertView]:
    rows = conn.execute(
        select(A).where(A.c.case_id == case_id, A.c.status == "open")
    ).all()
    out = [row_to_dict(r) for r in rows]
    out.sort(key=lambda a: (SEVERITY_ORDER.get(a["severity"], 9), a["raised_at"] or ""))
    return out


def case_view(
    app: App, case_id: str, *, as_at: datetime | date | None = None
) -> Loose:
    """One case's ASPIRE, engagement, continuity and enforcement as at a moment (now by
    default; a date means the end of that day), with its open alerts."""
    at = _as_at(app, as_at)
    policy = read_policy(app)
    with app.engine.connect() as conn:
        record, caught_up = _current(app, conn, case_id)
        open_alerts = _open_alerts(conn, case_id)
    views = evaluate_all(record, at, policy)
    detail: CaseDetail = {
        **views.to_dict(),
        "alerts": open_alerts,
        "projection": {"position": record.position, "caught_up": caught_up},
    }
    return cast(Loose, detail)


def _records(
    app: App, conn: Connection, *, team: str | None = None, practitioner: str | None = None,
    open_only: bool = True, active_from: date | None = None, active_to: date | None = None,
) -> list[CaseRecord]:
    sealer = KeyringDob.for_app(app)
    query = select(case_records.c.case_id, case_records.c.record)
    if open_only:
        query = query.where(case_records.c.closed_on.is_(None))
    if team is not None:
        query = query.where(case_records.c.team == team)
    if practitioner is not None:
        query = query.where(case_records.c.practitioner == practitioner)
    if active_to is not None:
        query = query.where(case_records.c.start_date <= active_to)
    if active_from is not None:
        query = query.where(or_(case_records.c.closed_on.is_(None),
                                case_records.c.closed_on >= active_from))
    rows = [(case_id, text) for case_id, text in
            conn.execute(query.order_by(case_records.c.case_id))]
    sealer.preload(c for _id, text in rows if (c := sealed_child(text)) is not None)
    return [restore(conn, case_id, text, sealer) for case_id, text in rows]


def _open_alert_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(A.c.case_id, func.count()).where(A.c.status == "open").group_by(A.c.case_id)
    )
    return {case_id: int(n) for case_id, n in rows}


def _caseload_views(
    app: App, *, practitioner: str | None, team: str | None, as_at: datetime | date | None
) -> tuple[list[CaseViews], dict[str, int]]:
    at = _as_at(app, as_at)
    policy = read_policy(app)
    current = as_at is None
    with app.engine.connect() as conn:
        records = _records(app, conn, team=team if current else None,
                           practitioner=practitioner if current else None, open_only=current)
        counts = _open_alert_counts(conn)
    out = []
    for record in records:
        views = evaluate_all(record, at, policy)
        h = views.header
        if not views.exists or not h.get("open"):
            continue
        if team is not None and h.get("team") != team:
            continue
        if practitioner is not None and h.get("case_manager") != practitioner:
            continue
        out.append(views)
    return out, counts


def caseload(
    app: App, *, practitioner: str | None = None, team: str | None = None,
    as_at: datetime | date | None = None,
) -> list[Loose]:
    """The open cases (of a practitioner or team) with what is due and overdue, as at a
    moment: most overdue first, then soonest due."""
    views_list, counts = _caseload_views(app, practitioner=practitioner, team=team, as_at=as_at)
    rows: list[CaseloadRow] = []
    for views in views_list:
        h = views.header
        stages = {s: stage_of(views.aspire, s) for s in STAGES}
        due: list[DueItem] = [
            {"stage": stage, "kind": o["kind"], "subject": o["subject"], "due": o["due"],
             "status": o["status"]}
            for stage, found in stages.items()
            for o in (found["obligations"] if found else [])
            if o["status"] in ("due", "overdue")
        ]
        due.sort(key=lambda d: (d["status"] != "overdue", d["due"]))
        rows.append({
            "case_id": views.case_id,
            "child_id": h["child_id"],
            "team": h["team"],
            "practitioner": h["case_manager"],
            "manager": h["manager"],
            "disposal": h["disposal"],
            "intervention_level": h["intervention_level"],
            "setting": h["setting"],
            "start_date": h["start_date"],
            "stages": {
                s: {"status": found["status"] if found else None,
                    "due": found["due"] if found else None}
                for s, found in stages.items()
            },
            "overdue": views.aspire.get("overdue", 0),
            "next_due": views.aspire.get("next_due"),
            "due": due,
            "open_alerts": counts.get(views.case_id, 0),
        })
    rows.sort(key=lambda r: (-r["overdue"], r["next_due"] or "9999", r["case_id"]))
    return cast(list[Loose], rows)


def compliance_by_practitioner(
    app: App, *, team: str | None = None, as_at: datetime | date | None = None
) -> list[Loose]:
    """Per practitioner (current case manager): cases, stage statuses and on-time rate."""
    views_list, _counts = _caseload_views(app, practitioner=None, team=team, as_at=as_at)
    groups: dict[tuple[str, str], list[CaseViews]] = defaultdict(list)
    for views in views_list:
        h = views.header
        groups[(h.get("case_manager") or "(none)", h["team"])].append(views)
    out: list[PractitionerCompliance] = []
    for (practitioner, team_id), items in sorted(groups.items()):
        stages: dict[str, dict[str, int]] = {s: defaultdict(int) for s in STAGES}
        obligations: dict[str, int] = defaultdict(int)
        overdue_cases = 0
        for views in items:
            if views.aspire.get("overdue"):
                overdue_cases += 1
            for s in STAGES:
                found = stage_of(views.aspire, s)
                stages[s][found["status"] if found else "not_due"] += 1
                for o in found["obligations"] if found else []:
                    obligations[o["status"]] += 1
        judged = obligations["done_on_time"] + obligations["done_late"] + obligations["overdue"]
        out.append({
            "practitioner": practitioner,
            "team": team_id,
            "cases": len(items),
            "overdue_cases": overdue_cases,
            "stages": {s: dict(v) for s, v in stages.items()},
            "obligations": dict(obligations),
            "on_time_rate": round(obligations["done_on_time"] / judged, 3) if judged else None,
        })
    return cast(list[Loose], out)


def engagement_series(
    app: App, *, case_id: str | None = None, team: str | None = None
) -> list[Loose]:
    """Monthly engagement points for charts: a case's supervision months, or a team's
    (or the whole service's) calendar months."""
    at = _as_at(app, None)
    policy = read_policy(app)
    if case_id is not None:
        with app.engine.connect() as conn:
            record, _ = _current(app, conn, case_id)
        months: list[EngagementMonth] = evaluate_all(record, at, policy).engagement.get(
            "months", []
        )
        return cast(list[Loose], months)
    with app.engine.connect() as conn:
        records = _records(app, conn, team=team, open_only=False)
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
    return cast(list[Loose], out)


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


def list_alerts(
    app: App, *, open_only: bool = True, team: str | None = None
) -> list[Loose]:
    """Alerts (open ones by default), most severe and newest first."""
    query = select(A)
    if open_only:
        query = query.where(A.c.status == "open")
    if team is not None:
        query = query.where(A.c.team == team)
    with app.engine.connect() as conn:
        rows = [row_to_dict(r) for r in conn.execute(query)]
    rows.sort(key=lambda a: (a["status"] != "open", SEVERITY_ORDER.get(a["severity"], 9),
                             _neg(a["raised_at"]), a["alert_id"]))
    return cast(list[Loose], rows)


def _neg(moment: str | None) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in (moment or ""))


def acknowledge_alert(app: App, alert_id: str, *, note: str, actor: Actor) -> Loose:
    """A manager acknowledges an alert with a note. Idempotent: the first acknowledgement
    stands (who, when, note); acknowledging again returns it unchanged."""
    return cast(Loose, _note_on_alert(
        app, alert_id, note, A.c.acknowledged_at.is_(None),
        lambda now, text: {"acknowledged_at": now, "acknowledged_by": actor.user_id,
                           "ack_note": text},
    ))


def close_alert(app: App, alert_id: str, *, note: str, actor: Actor) -> Loose:
    """A manager resolves an open alert by hand, with a note (e.g. "dealt with by phone").

    The alert becomes ``resolved`` and records who closed it; it is not raised again while
    its condition goes on holding, only once the condition has ended and comes back.
    Idempotent: closing a closed (or already resolved) alert returns it unchanged.
    """
    return cast(Loose, _note_on_alert(
        app, alert_id, note, A.c.status == "open",
        lambda now, text: {"status": "resolved", "resolved_at": now, "closed_at": now,
                           "closed_by": actor.user_id, "close_note": text},
    ))


def _note_on_alert(
    app: App, alert_id: str, note: str, only_if: ColumnElement[bool],
    values: Callable[[datetime, str], dict[str, object]],
) -> AlertView:
    """Check the manager's note, apply ``values`` where ``only_if`` still holds (so a
    repeat changes nothing), and return the alert as it now stands."""
    text = (note or "").strip()
    if not text:
        raise InvalidInput([FieldProblem("note", "must not be empty")])
    if len(text) > MAX_NOTE:
        raise InvalidInput([FieldProblem("note", f"must be at most {MAX_NOTE} characters")])
    now = app.clock.now()
    with app.engine.begin() as conn:
        conn.execute(
            update(A)
            .where(and_(A.c.alert_id == alert_id, only_if))
            .values(**values(now, text), updated_at=now)
        )
        row = conn.execute(select(A).where(A.c.alert_id == alert_id)).first()
    if row is None:
        raise AlertNotFound(f"alert {alert_id} not found")
    return row_to_dict(row)


def ratings(
    app: App, *, start: date | None, end: date | None, team: str | None = None
) -> Loose:
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
        records = _records(app, conn, team=team, open_only=False, active_from=first,
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
    return cast(Loose, report)


def replay(
    app: App, case_id: str, *, as_of: date | None = None, as_known_at: datetime | None = None
) -> Loose:
    """The case as it stood on ``as_of`` and/or as known at ``as_known_at``, folded from the
    events themselves (the same answer whether or not the projections are up to date)."""
    return cast(Loose, _replay(app, case_id, read_policy(app), as_of=as_of,
                               as_known_at=as_known_at))

