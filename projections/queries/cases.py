"""Queries about cases: one case's views, the caseload, compliance per practitioner, replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import TypedDict

from sqlalchemy import Connection, select

from projections.alert_rules import read_policy
from projections.alerts import AlertView, row_to_dict
from projections.aspire import STAGES, stage_of
from projections.due import DueItem, due_items
from projections.oversight import (
    LevelChangeView,
    OversightView,
    levels_awaiting,
    oversight_view,
)
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
from projections.sealer import open_alert_notes, open_labels
from projections.views import CaseView, CaseViews, evaluate_all
from tracker.db.read_models import alerts as A  # noqa: N812
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
) -> tuple[list[CaseViews], dict[str, int]]:
    at = as_at_of(app, as_at)
    policy = read_policy(app)
    current = as_at is None
    with app.engine.connect() as conn:
        records = read_records(app, conn, team=team if current else None,
                           practitioner=practitioner if current else None, open_only=current)
        counts = open_alert_counts(conn)
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
) -> list[CaseloadRow]:
    """The open cases (of a practitioner or team) with what is due and overdue, as at a
    moment: most overdue first, then soonest due."""
    views_list, counts = _caseload_views(app, practitioner=practitioner, team=team, as_at=as_at)
    labels = open_labels(app.keyring, (v.header.get("child_label_token") for v in views_list))
    rows: list[CaseloadRow] = []
    for views in views_list:
        h = views.header
        stages = {s: stage_of(views.aspire, s) for s in STAGES}
        due = due_items(views)
        rows.append({
            "case_id": views.case_id,
            "child_id": h["child_id"],
            "child_label": labels.get(h.get("child_label_token") or ""),
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
            "awaiting_countersignature": [
                d["document"] for d in views.aspire.get("countersignature", [])
                if d["status"] == "awaiting"],
        })
    rows.sort(key=lambda r: (-r["overdue"], r["next_due"] or "9999", r["case_id"]))
    return rows


def compliance_by_practitioner(
    app: App, *, team: str | None = None, as_at: datetime | date | None = None
) -> list[PractitionerCompliance]:
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
    return out


def replay(
    app: App, case_id: str, *, as_of: date | None = None, as_known_at: datetime | None = None
) -> ReplayView:
    """The case as it stood on ``as_of`` and/or as known at ``as_known_at``, folded from the
    events themselves (the same answer whether or not the projections are up to date)."""
    return _replay(app, case_id, read_policy(app), as_of=as_of, as_known_at=as_known_at)

