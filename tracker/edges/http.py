"""Assembles the FastAPI application: state, middleware, error handlers, routes.

The routers are module-level and do not close over an ``App``: each request finds its App
(and the accounts, guard and reports built for it) on ``request.app.state``, through the
dependencies in ``tracker.edges.api.deps`` and ``tracker.edges.web.deps``. So the routes
are assembled once per process (``_routes``) and shared by every application made here;
``create_app`` itself only sets up state and middleware.
"""

from __future__ import annotations

from functools import cache

from fastapi import FastAPI
from starlette.routing import BaseRoute

from tracker.edges.api import (
    accounts,
    audit,
    board,
    cases,
    children,
    errors,
    mi,
    reports,
    samples,
    transfers,
)
from tracker.edges.api.guard import CaseGuard
from tracker.edges.api.middleware import InputGuard, RequestContext
from tracker.edges.api.team_reads import Reports
from tracker.edges.web import site
from tracker.services.accounts import Accounts
from tracker.services.app import App

DESCRIPTION = """\
Case supervision for youth justice services. Every endpoint needs an API token
(`Authorization: Bearer trk_...`, from `tracker users token USERNAME`) or a browser
session (whose state-changing requests also carry `X-CSRF-Token`).

Errors are JSON: `{"error": code, "message": ..., "fields": [{"field", "reason"}]}`.
A refused access is a 403 that says nothing about the case, whether or not it exists.
Every read of a case is written to the access log.
"""

API_ROUTERS = (
    cases.router, reports.router, accounts.router, audit.router, children.router,
    transfers.router,
    samples.router,
    board.router,
    mi.router,
)
"""The JSON API's routers, in the order their routes are matched and documented."""


@cache
def _routes(web: bool) -> tuple[BaseRoute, ...]:
    holder = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    for router in API_ROUTERS + (site.ROUTERS if web else ()):
        holder.include_router(router)
    return tuple(holder.router.routes)


def create_app(app: App, *, web: bool = True) -> FastAPI:
    """The FastAPI application for ``app``: API under ``/api``, pages elsewhere."""
    api = FastAPI(
        title="tracker",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.tracker = app
    api.state.accounts = Accounts(app)
    api.state.guard = CaseGuard(app)
    api.state.reports = Reports(app, api.state.guard)
    errors.install(api)
    api.add_middleware(InputGuard, max_body_bytes=app.settings.max_body_bytes)
    api.add_middleware(RequestContext)  # added last: the outermost
    api.router.routes.extend(_routes(web))
    if web:
        site.install(api)
    return api
