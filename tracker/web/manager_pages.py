"""Manager pages: alerts to acknowledge, compliance, engagement, ratings, the caseload."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tracker.api.auth import Principal
from tracker.bootstrap import App
from tracker.errors import AccessDenied
from tracker.web.common import page_principal, render
from tracker.web.readmodels import queries


def router(app: App) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/caseload")
    def caseload_page(request: Request, principal: Principal = Depends(page_principal)) -> Response:
        if principal.user.role not in ("practitioner", "manager", "auditor"):
            raise AccessDenied()
        q = queries()
        rows = [] if q is None else q.caseload(app)
        return render(request, "caseload.html", {"title": "Caseload", "rows": rows})

    @r.get("/manager")
    def dashboard(request: Request, principal: Principal = Depends(page_principal)) -> Response:
        if principal.user.role not in ("manager", "auditor"):
            raise AccessDenied()
        return render(request, "manager.html", {"title": "Dashboard", "alerts": []})

    return r
