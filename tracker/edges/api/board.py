"""JSON endpoints for the management board's meetings (KPI 7): service level, no child."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from tracker.edges.api.deps import AppDep, CurrentUser
from tracker.edges.api.schemas import CASE_ID_PATTERN, BoundedDay, responses
from tracker.edges.api.strict import StrictJSONRoute
from tracker.services.board import BoardMeeting, list_meetings, record_meeting

router = APIRouter(prefix="/api", tags=["management board"], route_class=StrictJSONRoute)


@router.post("/board-meetings", response_model=dict[str, Any], status_code=201,
             responses=responses())
def record(
    app: AppDep, principal: CurrentUser,
    body: Annotated[dict[str, Any], Body(description=(
        "{service, held_on, agencies_invited: [...], agencies_attending: [...]}"))],
) -> BoardMeeting:
    """Record a board meeting (managers and admins); the recorder is the signed-in user."""
    return record_meeting(app, principal.user, body)


@router.get("/board-meetings", response_model=list[dict[str, Any]], responses=responses())
def meetings(
    app: AppDep, principal: CurrentUser,
    service: Annotated[str | None, Query(pattern=CASE_ID_PATTERN)] = None,
    since: Annotated[BoundedDay | None, Query()] = None,
    until: Annotated[BoundedDay | None, Query()] = None,
) -> list[BoardMeeting]:
    """The board's meetings, oldest first (managers, auditors and admins)."""
    return list_meetings(app, principal.user, service=service, since=since, until=until)
