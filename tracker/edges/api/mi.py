"""Management information as JSON: the ten KPIs, disproportionality, the board pack.

Who sees what: managers their own teams' KPIs, auditors every team's (and practitioners
none); disproportionality and the board pack are service-wide figures with small numbers
suppressed, for managers and auditors. A KPI lists the cases it counted, each with whether
the caller may open it; listing them writes one access-log row per case.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Query

from projections.disproportionality import GROUPS, DisproportionalityReport
from projections.kpis import Quarter
from projections.queries.board_pack import BoardPack, board_pack, population_text
from projections.queries.kpi_reports import KpiReport, disproportionality, kpi_report
from tracker.edges.api.deps import Action, AppDep, CurrentUser, GuardDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.api.schemas import CASE_ID_PATTERN, responses
from tracker.edges.api.strict import StrictJSONRoute
from tracker.edges.api.team_reads import teams_for
from tracker.kernel.errors import AccessDenied, FieldProblem, InvalidInput
from tracker.services.accounts import User, can_read_case, can_see_management
from tracker.services.app import App

QuarterQuery = Annotated[str, Query(pattern=r"^\d{4}[Qq][1-4]$", description="e.g. 2026Q3")]
TeamQuery = Annotated[str | None, Query(pattern=CASE_ID_PATTERN, description="a team id")]

router = APIRouter(prefix="/api", tags=["management information"],
                   route_class=StrictJSONRoute)


class CaseLink(TypedDict):
    case_id: str
    readable: bool


class KpiView(TypedDict):
    report: KpiReport
    cases: dict[str, list[CaseLink]]


def managers_only(user: User) -> None:
    """Management figures are for managers and auditors (a bare 403 for anyone else)."""
    if user.role not in ("manager", "auditor"):
        raise AccessDenied()


def kpis_for(app: App, guard: CaseGuard, user: User, quarter: Quarter, team: str | None,
             action: str) -> KpiView:
    """The KPIs over the teams the user may see, with the cases counted."""
    managers_only(user)
    chosen = teams_for(user, team, can_see_management)
    teams = None if chosen == [None] else {t for t in chosen if t is not None}
    report = kpi_report(app, quarter, teams)
    listed = sorted({i for k in report["kpis"] for i in k["case_ids"]})
    team_of = report["case_teams"]
    cases: dict[str, list[CaseLink]] = {
        k["key"]: [CaseLink(case_id=i, readable=can_read_case(user, team_of.get(i)))
                   for i in k["case_ids"]] for k in report["kpis"]}
    guard.log(user, listed, action, "allowed")
    return {"report": report, "cases": cases}


def disproportionality_for(app: App, user: User, year: int, comparison: str | None
                           ) -> tuple[DisproportionalityReport | None, str]:
    """The service's disproportionality for ``year`` and where its population came from."""
    managers_only(user)
    if not 2000 <= year <= 2100:
        raise InvalidInput([FieldProblem("year", "must be a year from 2000 to 2100")])
    if comparison is not None and comparison not in GROUPS:
        raise InvalidInput([FieldProblem("comparison", f"must be one of {', '.join(GROUPS)}")])
    text, note = population_text(app)
    if text is None:
        return None, note
    return disproportionality(app, year, text, comparison=comparison), note


def board_pack_for(app: App, user: User, quarter: Quarter) -> BoardPack:
    managers_only(user)
    return board_pack(app, quarter)


@router.get("/kpis", response_model=dict[str, Any], responses=responses())
def kpis(app: AppDep, guard: GuardDep, principal: CurrentUser, action: Action,
         quarter: QuarterQuery, team: TeamQuery = None) -> KpiView:
    """The ten YJB KPIs for a quarter (docs/kpis.md): numerator, denominator and the
    cases counted, each with whether you may open it (managers: own teams; auditors)."""
    return kpis_for(app, guard, principal.user, Quarter.parse(quarter), team, action)


@router.get("/disproportionality", response_model=dict[str, Any], responses=responses())
def disproportionality_route(
    app: AppDep, principal: CurrentUser,
    year: Annotated[int, Query(ge=2000, le=2100)],
    comparison: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
) -> dict[str, Any]:
    """Counts and relative rate indices by ethnic group at each stage (small numbers
    suppressed), against the local 10-17 population."""
    found, note = disproportionality_for(app, principal.user, year, comparison)
    return {"population": note, "report": found}


@router.get("/board-pack", response_model=dict[str, Any], responses=responses())
def board_pack_route(app: AppDep, principal: CurrentUser, quarter: QuarterQuery) -> BoardPack:
    """The management board's quarterly figures (no personal data)."""
    return board_pack_for(app, principal.user, Quarter.parse(quarter))


def this_quarter(today: date) -> Quarter:
    return Quarter(today.year, (today.month - 1) // 3 + 1)
