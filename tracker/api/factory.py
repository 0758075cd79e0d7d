"""Assembles the FastAPI application: state, middleware, error handlers, routers."""

from __future__ import annotations

from fastapi import FastAPI

from tracker.accounts import Accounts
from tracker.api import admin, cases, errors, reports
from tracker.api.guard import CaseGuard
from tracker.api.middleware import RequestContext
from tracker.api.reports import Reports
from tracker.bootstrap import App

DESCRIPTION = """\
Case supervision for youth justice services. Every endpoint needs an API token
(`Authorization: Bearer trk_...`, from `tracker users token USERNAME`) or a browser
session (whose state-changing requests also carry `X-CSRF-Token`).

Errors are JSON: `{"error": code, "message": ..., "fields": [{"field", "reason"}]}`.
A refused access is a 403 that says nothing about the case, whether or not it exists.
Every read of a case is written to the access log.
"""


def build(app: App, *, web: bool = True) -> FastAPI:
    """Build the application (see ``tracker.api.create_app``)."""
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
    api.add_middleware(RequestContext)
    api.include_router(cases.router(app))
    api.include_router(reports.router(app))
    api.include_router(admin.router(app))
    if web:
        from tracker.web import install

        install(api, app)
    return api
