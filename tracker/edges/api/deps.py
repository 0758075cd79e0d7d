"""What the API's routes ask FastAPI for, declared once as ``Annotated`` aliases.

Everything a route needs comes with the request (``request.app.state``, set by
``tracker.edges.http.create_app``), so the routers are built once per process and shared
by every application. None of these adds a parameter to the OpenAPI document except the
bearer scheme behind ``CurrentUser``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tracker.edges.api.auth import SignedIn, accounts, api_principal, require, tracker_app
from tracker.edges.api.guard import CaseGuard
from tracker.edges.api.team_reads import Reports
from tracker.services.accounts import Accounts
from tracker.services.app import App


def case_guard(request: Request) -> CaseGuard:
    """The case guard built for this application."""
    found: CaseGuard = request.app.state.guard
    return found


def team_reports(request: Request) -> Reports:
    """The team reads built for this application."""
    found: Reports = request.app.state.reports
    return found


def access_action(request: Request) -> str:
    """The endpoint as the access log names it: method and route template."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"[:128]


AppDep = Annotated[App, Depends(tracker_app)]
AccountsDep = Annotated[Accounts, Depends(accounts)]
GuardDep = Annotated[CaseGuard, Depends(case_guard)]
ReportsDep = Annotated[Reports, Depends(team_reports)]
Action = Annotated[str, Depends(access_action)]

CurrentUser = Annotated[SignedIn, Depends(api_principal)]
AdminUser = Annotated[SignedIn, Depends(require("admin"))]
AuditorOrAdmin = Annotated[SignedIn, Depends(require("auditor", "admin"))]
