"""Team-level JSON reads: caseload, alerts (and acknowledging them), compliance, engagement,
ratings. Who sees which team is ``tracker.edges.api.team_reads.Reports``'s to decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from projections import queries
from projections.alerts import AlertView
from projections.engagement import EngagementMonth
from tracker.edges.api.deps import Action, CurrentUser, ReportsDep
from tracker.edges.api.schemas import (
    CASE_ID_PATTERN,
    AcknowledgeBody,
    BoundedDay,
    ResolveBody,
    responses,
)
from tracker.edges.api.strict import StrictJSONRoute
from tracker.edges.api.team_reads import Reports
from tracker.services.accounts import User

SAMPLE_ID_PATTERN = r"^[0-9a-f-]{36}$"
TeamQuery = Annotated[str | None, Query(pattern=CASE_ID_PATTERN, description="a team id")]
AlertId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,255}$", description="the alert's id")]
AsAt = Annotated[BoundedDay | None, Query(description="as at the end of this day")]

router = APIRouter(prefix="/api", tags=["teams"], route_class=StrictJSONRoute)


@dataclass(frozen=True)
class Asking:
    """The team reads, who is asking, and the endpoint the access log names."""

    reports: Reports
    user: User
    action: str


def asking(reports: ReportsDep, principal: CurrentUser, action: Action) -> Asking:
    """Dependency: the caller, authenticated (a session's writes carry X-CSRF-Token)."""
    return Asking(reports, principal.user, action)


AskingDep = Annotated[Asking, Depends(asking)]


@router.get("/caseload", response_model=list[dict[str, Any]], responses=responses())
def caseload(
    who: AskingDep,
    response: Response,
    team: TeamQuery = None,
    practitioner: Annotated[
        str | None, Query(pattern=CASE_ID_PATTERN, description="a practitioner id")
    ] = None,
    as_at: AsAt = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="the page (from 1)")] = 1,
    per_page: Annotated[int | None, Query(
        ge=1, le=1000, description="rows per page (the server bounds it; default its own)",
    )] = None,
) -> list[queries.CaseloadRow]:
    """Open cases with what is due and overdue, most overdue first, one page of them (the
    ``X-Total-Count`` header says how many in all); each case returned is logged. With
    ``as_at``, every open case as it stood then (not paged)."""
    if as_at is not None:
        return who.reports.caseload(who.user, who.action, team=team,
                                    practitioner=practitioner, as_at=as_at)
    found = who.reports.caseload_page(who.user, who.action, team=team,
                                      practitioner=practitioner, page=page, per_page=per_page)
    response.headers["X-Total-Count"] = str(found["total"])
    response.headers["X-Page"] = f"{found['page']}/{found['pages']}"
    return found["rows"]


@router.get("/alerts", response_model=list[dict[str, Any]], responses=responses())
def alerts(who: AskingDep, team: TeamQuery = None, open_only: bool = True) -> list[AlertView]:
    """Alerts of your teams (every team for auditors), most severe first."""
    return who.reports.alerts(who.user, who.action, team=team, open_only=open_only)


@router.post("/alerts/{alert_id}/acknowledge", response_model=dict[str, Any],
             responses=responses())
def acknowledge(alert_id: AlertId, body: AcknowledgeBody, who: AskingDep) -> AlertView:
    """Acknowledge an alert of your team with a note (managers). Idempotent."""
    return who.reports.acknowledge(who.user, alert_id, body.note, who.action)


@router.post("/alerts/{alert_id}/resolve", response_model=dict[str, Any],
             responses=responses())
def resolve(alert_id: AlertId, body: ResolveBody, who: AskingDep) -> AlertView:
    """Resolve an open alert of your team by hand, with a note and a review date
    (managers). It comes back on the review date if its condition still holds then.
    Idempotent."""
    return who.reports.close(who.user, alert_id, body.note, who.action,
                             review_on=body.review_on)


@router.get("/compliance", response_model=list[dict[str, Any]], responses=responses())
def compliance(
    who: AskingDep, team: TeamQuery = None, as_at: AsAt = None
) -> list[queries.PractitionerCompliance]:
    """ASPIRE compliance by practitioner and stage (managers, auditors)."""
    return who.reports.compliance(who.user, team=team, as_at=as_at)


@router.get("/engagement", response_model=list[dict[str, Any]], responses=responses())
def engagement(
    who: AskingDep, team: TeamQuery = None
) -> list[EngagementMonth] | list[queries.CalendarMonth]:
    """A team's engagement by calendar month (managers, auditors)."""
    return who.reports.engagement(who.user, team=team)


@router.get("/ratings", response_model=dict[str, Any], responses=responses())
def ratings(
    who: AskingDep, start: BoundedDay | None = None, end: BoundedDay | None = None,
    team: TeamQuery = None,
    sample_id: Annotated[str | None, Query(pattern=SAMPLE_ID_PATTERN,
                                           description="only the cases of this drawn sample")
                         ] = None,
) -> queries.RatingsReport:
    """Inspection-style ratings over a period (managers, auditors, QA), optionally over the
    cases of one drawn dip sample (by default in that sample's window)."""
    return who.reports.ratings(who.user, start=start, end=end, team=team, sample_id=sample_id)
