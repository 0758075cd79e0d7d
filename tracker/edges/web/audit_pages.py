"""Auditor pages: the audit start page, chain verification, the access log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tracker.edges.api.deps import Action, AppDep, ReportsDep
from tracker.edges.api.schemas import CASE_ID_PATTERN
from tracker.edges.web.common import render
from tracker.edges.web.deps import PageUser
from tracker.edges.web.forms import day_field
from tracker.kernel.clock import start_of_local_day
from tracker.kernel.errors import AccessDenied
from tracker.services.access_log import OUTCOMES, search
from tracker.services.accounts import can_read_access_log, can_verify
from tracker.services.verify import verify

CASE_ID_RE = re.compile(CASE_ID_PATTERN)


router = APIRouter(include_in_schema=False)


Status = Literal["all", "open", "closed"]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
SearchText = Annotated[str, Query(max_length=64)]


@router.get("/audit")
def audit_home(
    request: Request, reports: ReportsDep, action: Action, principal: PageUser,
    case_id: str = "", q: SearchText = "", status: Status = "all", page: PageNo = 1,
) -> Response:
    """The auditor's start page: a case to replay, and every case, open and closed."""
    if principal.user.role != "auditor":
        raise AccessDenied()
    index = reports.index(principal.user, action, search=q, status=status, page=page)
    return render(request, "audit.html", {
        "title": "Audit", "index": index, "q": q, "status": status, "action": "/audit",
        "case_id": case_id[:64], "errors": {},
    })


@router.get("/search")
def search_page(
    request: Request, reports: ReportsDep, action: Action, principal: PageUser,
    q: SearchText = "", status: Status = "all", page: PageNo = 1,
) -> Response:
    """Find a case by reference, in any letter case, among the cases the user may read."""
    index = reports.index(principal.user, action, search=q, status=status, page=page)
    return render(request, "search.html", {
        "title": "Find a case", "index": index, "q": q, "status": status,
        "action": "/search",
    })


@router.get("/audit/replay")
def audit_replay(
    request: Request,
    principal: PageUser,
    reports: ReportsDep,
    case_id: str = "",
    as_of: str = "",
    as_known_at: str = "",
) -> Response:
    """Send the auditor to the case's replay page (the read is logged there)."""
    if principal.user.role != "auditor":
        raise AccessDenied()
    case_id = case_id.strip()
    if not CASE_ID_RE.match(case_id):
        return render(request, "audit.html", {
            "title": "Audit", "index": {"rows": [], "total": 0, "page": 1, "pages": 1},
            "q": "", "status": "all", "action": "/audit", "case_id": case_id[:64],
            "errors": {"case_id": "enter a case reference, e.g. CS-2026-0001"},
        }, status=422)
    case_id = reports.find(principal.user, case_id) or case_id  # any letter case
    query = urlencode({"as_of": as_of[:32], "as_known_at": as_known_at[:32]})
    return RedirectResponse(f"/cases/{case_id}/replay?{query}", status_code=303)


@router.get("/audit/verify")
def verify_page(request: Request, app: AppDep, principal: PageUser) -> Response:
    """Walk every hash chain now (auditors, admins)."""
    if not can_verify(principal.user):
        raise AccessDenied()
    report = verify(app.engine)
    return render(request, "verify.html", {
        "title": "Chain verification", "report": report, "checked_at": app.clock.now(),
    })


@router.get("/audit/access-log")
def access_log_page(
    request: Request,
    app: AppDep,
    principal: PageUser,
    user_id: str = "",
    case_id: str = "",
    outcome: str = "",
    since: str = "",
    until: str = "",
    page: int = 1,
) -> Response:
    """Search the access log, a page at a time (auditors, admins)."""
    if not can_read_access_log(principal.user):
        raise AccessDenied()
    errors: dict[str, str] = {}
    since_day = day_field(since, "since", errors)
    until_day = day_field(until, "until", errors)
    if outcome and outcome not in OUTCOMES:
        errors["outcome"] = "choose one of the options"
    for name, value in (("user_id", user_id), ("case_id", case_id)):
        if value.strip() and not CASE_ID_RE.match(value.strip()):
            errors[name] = "is not an id (letters, digits, dots, dashes, underscores)"
    page = min(max(page, 1), 100_000)
    size = app.settings.page_size
    result = None
    if not errors:
        result = search(
            app, user_id=user_id.strip()[:64] or None, case_id=case_id.strip()[:64] or None,
            outcome=outcome or None,
            since=start_of_local_day(since_day) if since_day else None,
            until=start_of_local_day(until_day + timedelta(days=1)) if until_day else None,
            limit=size, offset=(page - 1) * size,
        )
    filters = {"user_id": user_id[:64], "case_id": case_id[:64], "outcome": outcome[:16],
               "since": since[:10], "until": until[:10]}
    return render(request, "access_log.html", {
        "title": "Access log", "result": result, "errors": errors, "filters": filters,
        "outcomes": OUTCOMES, "page": page, "page_size": size,
        "pager": {"page": page, "pages": max(1, -(-result.total // size)) if result else 1},
        "query": urlencode(filters),
    }, status=422 if errors else 200)
