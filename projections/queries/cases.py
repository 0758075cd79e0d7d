"""Queries about cases: one case's views, the caseload, compliance per practitioner, replay."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any, NotRequired, TypedDict, cast

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    func,
    select,
    type_coerce,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import JSONB

from projections.alert_rules import read_policy
from projections.alerts import AlertView, row_to_dict
from projections.asat import AsAt
from projections.aspire import STAGES, STATUS_ORDER
from projections.due import AwaitingCountersignature, DueItem, due_items
from projections.oversight import (
    LevelChangeView,
    OversightView,
    levels_awaiting,
    oversight_view,
)
from projections.projector.rows import caseload_summary, load
from projections.queries.reading import (
    SEVERITY_ORDER,
    as_at_of,
    current_record,
    open_alert_counts,
    read_records,
)
from projections.record import folding
from projections.replay import ReplayView
from projections.replay import replay as _replay
from projections.sealer import KeyringDob, open_alert_notes, open_labels
from projections.views import CaseView, CaseViews, evaluate_all
from tracker.db.read_models import alerts as A  # noqa: N812
from tracker.db.read_models import aspire as V  # noqa: N812
from tracker.db.read_models import case_records as R  # noqa: N812
from tracker.db.read_models import quarantine as Q  # noqa: N812
from tracker.kernel.clock import start_of_local_day
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.app import App


class Projection(TypedDict):
    position: int
    caught_up: bool


class CaseDetail(CaseView):
    """``case_view``: the views, the case's open alerts, and how far the record had got."""

    alerts: list[AlertView]
    projection: Projection
    oversight: list[OversightView]
    levels_awaiting_agreement: list[LevelChangeView]
    due: list[DueItem]


class StageSummary(TypedDict):
    status: str | None
    due: str | None


class CaseloadRow(TypedDict):
    case_id: str
    child_id: str
    child_label: str | None  # opened for the reader of the caseload ("[erased]" once erased)
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
    awaiting_countersignature: list[str]
    countersign: NotRequired[list[AwaitingCountersignature]]  # not on lines projected before


class PractitionerCompliance(TypedDict):
    practitioner: str
    team: str
    cases: int
    overdue_cases: int
    stages: dict[str, dict[str, int]]
    obligations: dict[str, int]
    on_time_rate: float | None


def _open_alerts(app: App, conn: Connection, case_id: str) -> list[AlertView]:
    rows = conn.execute(
        select(A).where(A.c.case_id == case_id, A.c.status == "open")
    ).all()
    out = open_alert_notes(app.keyring, [row_to_dict(r) for r in rows])
    out.sort(key=lambda a: (SEVERITY_ORDER.get(a["severity"], 9), a["raised_at"] or ""))
    return out


def case_view(
    app: App, case_id: str, *, as_at: datetime | date | None = None
) -> CaseDetail:
    """One case's ASPIRE, engagement, continuity and enforcement as at a moment (now by
    default; a date means the end of that day), with its open alerts."""
    at = as_at_of(app, as_at)
    policy = read_policy(app)
    with app.engine.connect() as conn:
        record, caught_up = current_record(app, conn, case_id)
        open_alerts = _open_alerts(app, conn, case_id)
    with folding(case_id):
        views = evaluate_all(record, at, policy)
    detail: CaseDetail = {
        **views.to_dict(),
        "alerts": open_alerts,
        "projection": {"position": record.position, "caught_up": caught_up},
        "oversight": oversight_view(views.visible) if views.exists else [],
        "levels_awaiting_agreement": levels_awaiting(views.visible),
        "due": due_items(views),
    }
    token = detail["case"].pop("child_label_token", None)  # the reader gets the label
    if token:
        detail["case"]["child_label"] = open_labels(app.keyring, [token])[token]
    return detail


def _caseload_views(
    app: App, *, practitioner: str | None, team: str | None, as_at: datetime | date | None
) -> list[CaseViews]:
    """Every open case's views as at a moment in the past (the request's own moment reads
    the projected rows instead: ``_current``)."""
    at = as_at_of(app, as_at)
    policy = read_policy(app)
    with app.engine.connect() as conn:
        records = read_records(app, conn, open_only=False)
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
    return out


class CaseloadPage(TypedDict):
    """One page of a caseload: its rows, how many cases matched, how many of them have
    something overdue, and the page asked for (bounded) of how many."""

    rows: list[CaseloadRow]
    total: int
    overdue_cases: int
    page: int
    pages: int
    per_page: int


Summary = dict[str, Any]
"""A case's caseload line as the projector stores it (``rows.caseload_summary``)."""


def _rows(app: App, summaries: list[Summary], counts: dict[str, int]) -> list[CaseloadRow]:
    """The caseload rows of projected lines: each with its open-alert count, and the child's
    label opened for the reader (once for the page; "[erased]" once erased)."""
    labels = open_labels(app.keyring, (s.get("child_label_token") for s in summaries))
    out = []
    for summary in summaries:
        row = {k: v for k, v in summary.items() if k not in ("obligations", "child_label_token")}
        token = summary.get("child_label_token")
        out.append(cast(CaseloadRow, {**row, "child_label": labels.get(token) if token else None,
                                      "open_alerts": counts.get(summary["case_id"], 0)}))
    return out


def _order(summary: Summary) -> tuple[int, str, str]:
    return (-int(summary["overdue"]), summary["next_due"] or "9999", summary["case_id"])


def _narrowed(summary: Summary, stage: str | None, status: str | None) -> bool:
    if stage is None or status is None:
        return True
    return bool((summary["stages"][stage]["status"] or "not_due") == status)


def _fresh(at: AsAt) -> ColumnElement[bool]:
    """A projected caseload line exact as at ``at``: written from the case's latest record
    and evaluated on the same London day (every time-based status is judged by the day)."""
    first = start_of_local_day(at.day)
    return and_(V.c.summary.is_not(None), V.c.position == R.c.position,
                V.c.evaluated_at >= first,
                V.c.evaluated_at < start_of_local_day(at.day + timedelta(days=1)))


def _scope(
    query: Select[Any], teams: Collection[str] | None, practitioner: str | None
) -> Select[Any]:
    query = query.where(R.c.closed_on.is_(None), R.c.case_id.not_in(select(Q.c.case_id)))
    if teams is not None:
        query = query.where(R.c.team.in_(sorted(teams)))
    if practitioner is not None:
        query = query.where(R.c.practitioner == practitioner)
    return query


def _current(
    app: App, conn: Connection, at: AsAt, teams: Collection[str] | None,
    practitioner: str | None,
) -> list[Summary]:
    """Every open case's caseload line as at ``at``: the projected line where it is exact,
    and for a case whose line is not (newer events, or judged on an earlier day: the
    sweep has not run since midnight) the line evaluated from its record on the spot."""
    fresh = _fresh(at)
    found = conn.execute(_scope(
        select(R.c.case_id, V.c.summary, V.c.is_open, fresh.label("fresh"))
        .select_from(R.join(V, V.c.case_id == R.c.case_id, isouter=True)),
        teams, practitioner)).all()
    out = [orjson.loads(r.summary) for r in found if r.fresh and r.is_open]
    out = [s for s in out if (teams is None or s["team"] in teams)
           and (practitioner is None or s["practitioner"] == practitioner)]
    stale = [r.case_id for r in found if not r.fresh]
    return out + _evaluated(app, conn, at, stale, teams, practitioner) if stale else out


def _evaluated(
    app: App, conn: Connection, at: AsAt, case_ids: list[str],
    teams: Collection[str] | None, practitioner: str | None,
) -> list[Summary]:
    """The caseload lines of ``case_ids`` evaluated from their records as at ``at`` (the
    cases whose projected line is not exact), those still open and in scope."""
    out = []
    policy = read_policy(app)
    for record in load(conn, case_ids, KeyringDob.for_app(app)).values():
        with folding(record.case_id):
            views = evaluate_all(record, at, policy)
        if views.exists and views.header.get("open"):
            out.append(caseload_summary(views))
    return [s for s in out if (teams is None or s["team"] in teams)
            and (practitioner is None or s["practitioner"] == practitioner)]


def caseload_page(
    app: App, *, teams: Collection[str] | None, practitioner: str | None = None,
    stage: str | None = None, status: str | None = None, page: int = 1,
    per_page: int | None = None,
) -> CaseloadPage:
    """One page of the open cases of ``teams`` (None: every team), or of one practitioner,
    narrowed to one stage status: most overdue first, then soonest due, as at now.

    Read from the projected lines and paged in the database; if any case in scope has a
    line that is not exact as at now, every case in scope is read as ``_current`` does
    (the same answer, computed in Python) so the order stays exact."""
    settings = app.settings
    size = max(1, min(per_page or settings.page_size, settings.max_page_size))
    if stage is not None and stage not in STAGES:
        raise InvalidInput([FieldProblem("stage", f"must be one of {', '.join(STAGES)}")])
    at = as_at_of(app, None)
    fresh = _fresh(at)
    with app.engine.connect() as conn:
        stale = conn.execute(_scope(
            select(func.count()).select_from(
                R.join(V, V.c.case_id == R.c.case_id, isouter=True)).where(~fresh),
            teams, practitioner)).scalar_one()
        if stale:
            everything = sorted(
                (s for s in _current(app, conn, at, teams, practitioner)
                 if _narrowed(s, stage, status)), key=_order)
            total = len(everything)
            overdue_cases = sum(1 for s in everything if s["overdue"])
            pages = max(1, -(-total // size))
            page = min(max(1, page), pages)
            summaries = everything[(page - 1) * size: page * size]
        else:
            query = _scope(select(V.c.summary).select_from(
                R.join(V, V.c.case_id == R.c.case_id)).where(V.c.is_open), teams,
                practitioner)
            if teams is not None:
                query = query.where(V.c.team.in_(sorted(teams)))
            if practitioner is not None:
                query = query.where(V.c.practitioner == practitioner)
            if stage is not None and status is not None:
                column = V.c[stage]
                query = query.where(column.is_(None) | (column == "not_due")
                                    if status == "not_due" else column == status)
            counted = query.with_only_columns(
                func.count(), func.coalesce(func.sum(case((V.c.overdue > 0, 1), else_=0)), 0))
            total, overdue_cases = (int(n) for n in conn.execute(counted).one())
            pages = max(1, -(-total // size))
            page = min(max(1, page), pages)
            summaries = [orjson.loads(text) for text in conn.execute(
                query.order_by(V.c.overdue.desc(), V.c.next_due.is_(None), V.c.next_due,
                               V.c.case_id)
                .limit(size).offset((page - 1) * size)).scalars()]
        counts = open_alert_counts(conn, [s["case_id"] for s in summaries])
    return {"rows": _rows(app, summaries, counts),
            "total": total, "overdue_cases": overdue_cases, "page": page, "pages": pages,
            "per_page": size}


def caseload(
    app: App, *, practitioner: str | None = None, team: str | None = None,
    as_at: datetime | date | None = None,
) -> list[CaseloadRow]:
    """Every open case (of a practitioner or team) with what is due and overdue, as at a
    moment: most overdue first, then soonest due. Now (the default) reads the projected
    lines; a moment in the past evaluates the records as they stood."""
    if as_at is None:
        at = as_at_of(app, None)
        with app.engine.connect() as conn:
            summaries = sorted(_current(app, conn, at, None if team is None else {team},
                                        practitioner), key=_order)
            counts = open_alert_counts(conn, [s["case_id"] for s in summaries])
    else:
        summaries = sorted((caseload_summary(v) for v in _caseload_views(
            app, practitioner=practitioner, team=team, as_at=as_at)), key=_order)
        with app.engine.connect() as conn:
            counts = open_alert_counts(conn, [s["case_id"] for s in summaries])
    return _rows(app, summaries, counts)


def compliance_by_practitioner(
    app: App, *, team: str | None = None, as_at: datetime | date | None = None
) -> list[PractitionerCompliance]:
    """Per practitioner (current case manager): cases, stage statuses and on-time rate.

    As at now (the default) the projected lines that are exact are counted by the database
    (``GROUP BY`` over ``rm_aspire``: ``_compliance_counts``) and only the cases whose line
    is not exact are evaluated here and added, so the work per request does not grow with
    the team; a moment in the past evaluates the records as they stood."""
    counts: dict[tuple[str, str], _Counts] = {}
    if as_at is None:
        at = as_at_of(app, None)
        teams = None if team is None else {team}
        with app.engine.connect() as conn:
            counts = _compliance_counts(conn, at, teams)
            stale = [r.case_id for r in conn.execute(_scope(
                select(R.c.case_id).select_from(
                    R.join(V, V.c.case_id == R.c.case_id, isouter=True)).where(~_fresh(at)),
                teams, None))]
            summaries = _evaluated(app, conn, at, stale, teams, None) if stale else []
    else:
        summaries = [caseload_summary(v) for v in _caseload_views(
            app, practitioner=None, team=team, as_at=as_at)]
    for s in summaries:
        found = counts.setdefault((s["practitioner"] or "(none)", s["team"]), _Counts())
        found.add(s)
    out: list[PractitionerCompliance] = []
    for (practitioner, team_id), c in sorted(counts.items()):
        obligations = {k: n for k, n in c.obligations.items() if n}
        for judged_status in ("done_on_time", "done_late", "overdue"):  # always shown
            obligations.setdefault(judged_status, 0)
        judged = obligations["done_on_time"] + obligations["done_late"] + obligations["overdue"]
        out.append({
            "practitioner": practitioner,
            "team": team_id,
            "cases": c.cases,
            "overdue_cases": c.overdue_cases,
            "stages": {s: {k: n for k, n in c.stages[s].items() if n} for s in STAGES},
            "obligations": obligations,
            "on_time_rate": round(obligations["done_on_time"] / judged, 3) if judged else None,
        })
    return out


class _Counts:
    """One practitioner's compliance counts, as the database sums them or a line adds."""

    def __init__(self) -> None:
        self.cases = 0
        self.overdue_cases = 0
        self.stages: dict[str, dict[str, int]] = {s: defaultdict(int) for s in STAGES}
        self.obligations: dict[str, int] = defaultdict(int)

    def add(self, summary: Summary) -> None:
        """Count one case's caseload line (one evaluated on the spot)."""
        self.cases += 1
        self.overdue_cases += 1 if summary["overdue"] else 0
        for stage in STAGES:
            self.stages[stage][summary["stages"][stage]["status"] or "not_due"] += 1
        for status, n in summary["obligations"].items():
            self.obligations[status] += n


def _obligation_count(conn: Connection, status: str) -> ColumnElement[Any]:
    """A line's count of obligations in ``status``, read from its stored JSON by the
    database (SQLite's ``json_extract``, PostgreSQL's ``->>``); 0 when it has none."""
    if conn.dialect.name == "postgresql":
        doc: ColumnElement[Any] = cast_(V.c.summary, JSONB)
    else:
        doc = type_coerce(V.c.summary, JSON)
    return func.coalesce(doc["obligations"][status].as_integer(), 0)


def _compliance_counts(
    conn: Connection, at: AsAt, teams: Collection[str] | None
) -> dict[tuple[str, str], _Counts]:
    """The compliance counts of every open case whose projected line is exact as at
    ``at``, summed per practitioner and team by the database in one ``GROUP BY``."""
    practitioner = func.coalesce(V.c.practitioner, "(none)")
    columns: list[ColumnElement[Any]] = [
        practitioner.label("practitioner"), V.c.team, func.count().label("cases"),
        func.sum(case((V.c.overdue > 0, 1), else_=0)).label("overdue_cases")]
    keys: list[tuple[str, str, str]] = []
    for stage in STAGES:
        column = V.c[stage]
        for status in STATUS_ORDER:
            hit = (column.is_(None) | (column == status)) if status == "not_due" \
                else column == status
            columns.append(func.sum(case((hit, 1), else_=0)))
            keys.append(("stage", stage, status))
    for status in STATUS_ORDER:
        columns.append(func.sum(_obligation_count(conn, status)))
        keys.append(("obligation", "", status))
    query = _scope(select(*columns).select_from(R.join(V, V.c.case_id == R.c.case_id))
                   .where(_fresh(at), V.c.is_open), teams, None)
    if teams is not None:
        query = query.where(V.c.team.in_(sorted(teams)))
    out: dict[tuple[str, str], _Counts] = {}
    for row in conn.execute(query.group_by(practitioner, V.c.team)):
        found = out[(row.practitioner, row.team)] = _Counts()
        found.cases, found.overdue_cases = int(row.cases), int(row.overdue_cases)
        for (kind, stage, status), n in zip(keys, row[4:], strict=True):
            target = found.stages[stage] if kind == "stage" else found.obligations
            target[status] += int(n or 0)
    return out


def replay(
    app: App, case_id: str, *, as_of: date | None = None, as_known_at: datetime | None = None
) -> ReplayView:
    """The case as it stood on ``as_of`` and/or as known at ``as_known_at``, folded from the
    events themselves (the same answer whether or not the projections are up to date)."""
    return _replay(app, case_id, read_policy(app), as_of=as_of, as_known_at=as_known_at)

