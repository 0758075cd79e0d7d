"""JSON endpoints for auditors (and admins): verify the hash chains, search the access log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from tracker.edges.api.deps import AppDep, AuditorOrAdmin
from tracker.edges.api.schemas import (
    CASE_ID_PATTERN,
    AccessEntryOut,
    AccessLogOut,
    AwareDatetime,
    responses,
)
from tracker.edges.api.strict import StrictJSONRoute
from tracker.services.access_log import search
from tracker.services.verify import verify

router = APIRouter(prefix="/api", route_class=StrictJSONRoute)


@router.get("/verify", response_model=dict[str, Any], responses=responses(), tags=["audit"])
def verify_chain(
    app: AppDep,
    _p: AuditorOrAdmin,
    case_id: Annotated[
        str | None, Query(pattern=CASE_ID_PATTERN, description="one case only")
    ] = None,
) -> dict[str, Any]:
    """Walk the hash chains and report the first broken link of each (auditors, admins)."""
    return verify(app.engine, case_id=case_id).to_dict()


@router.get("/access-log", response_model=AccessLogOut, responses=responses(), tags=["audit"])
def access_log(
    app: AppDep,
    _p: AuditorOrAdmin,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Literal["allowed", "refused", "not_found"] | None = None,
    action: Annotated[str | None, Query(max_length=128)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AccessLogOut:
    """Search who read which case, when and through what (auditors, admins)."""
    page = search(
        app, user_id=user_id, case_id=case_id, outcome=outcome, action=action,
        since=since, until=until, limit=limit, offset=offset,
    )
    return AccessLogOut(
        total=page.total,
        entries=[AccessEntryOut.model_validate(e.to_dict()) for e in page.entries],
    )
