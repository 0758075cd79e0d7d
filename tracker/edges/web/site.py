"""The web pages as one piece: what they need on the application, and their routers.

``tracker.edges.http`` includes ``ROUTERS`` once per process and calls ``install`` for
each application it makes.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from tracker.edges.web import (
    acts,
    admin_pages,
    audit_pages,
    board_pages,
    case_pages,
    countersign_pages,
    diary_pages,
    manager_acts,
    manager_pages,
    mi_pages,
    pages,
    qa_pages,
    route_acts,
    subject_access,
    transfer_pages,
)
from tracker.edges.web.common import (
    STATIC_DIR,
    DateQueryMiddleware,
    error_page,
    make_templates,
)
from tracker.services.accounts import LoginThrottle

ROUTERS: tuple[APIRouter, ...] = (
    pages.router, case_pages.router, manager_pages.router, audit_pages.router,
    admin_pages.router, subject_access.router, acts.router, diary_pages.router,
    route_acts.router, transfer_pages.router,
    qa_pages.router,
    countersign_pages.router,
    manager_acts.router,
    board_pages.router,
    mi_pages.router,
)
"""Every page router, in the order their routes are matched."""


def install(api: FastAPI) -> None:
    """Templates, static files, the error page, the sign-in throttle (routes: ``ROUTERS``)."""
    api.state.templates = make_templates()
    api.state.error_page = error_page
    api.state.login_throttle = LoginThrottle()
    api.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    api.add_middleware(DateQueryMiddleware)
