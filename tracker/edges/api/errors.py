"""How errors are answered: JSON under ``/api``, a page (or a redirect to sign in) elsewhere.

- ``TrackerError``: its ``http_status`` and ``to_dict()``.
- Request validation: 422 naming each field (``data.kind``, ``as_at``), never echoing input.
- Unknown path or method: 404 / 405 in the same shape.
- A database error no layer below translated: 503 (``StoreUnavailable``), logged by type.
- Anything else is caught by ``middleware.RequestContext``: a logged 500 with a reference.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracker.kernel.errors import (
    FieldProblem,
    InvalidInput,
    NotAuthenticated,
    StoreUnavailable,
    TrackerError,
)
from tracker.kernel.logging import current_correlation_id

log = structlog.get_logger("tracker.edges.api")

ErrorPage = Callable[[Request, int, dict[str, Any]], Response]
"""Renders an error as an HTML page (installed by the web package)."""


def is_api(request: Request) -> bool:
    """Whether the request is for the JSON API (as opposed to a web page)."""
    return request.url.path.startswith("/api") or request.url.path == "/openapi.json"


def problems_from_validation(errors: Sequence[Any]) -> list[FieldProblem]:
    """FastAPI's validation errors as field/reason pairs, without the offending input."""
    problems: list[FieldProblem] = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else ""
        parts = loc[1:] if where in ("body", "query", "path", "header", "cookie") else loc
        field = ".".join(parts) or ("(body)" if where == "body" else "(request)")
        kind = str(err.get("type", ""))
        msg = str(err.get("msg", "is not valid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if kind == "missing":
            msg = "is required"
        elif kind == "json_invalid":
            field, msg = "(body)", "is not valid JSON"
        elif kind == "extra_forbidden":
            msg = "is not a field this accepts"
        problems.append(FieldProblem(field=field, reason=msg))
    return problems


def install(app: FastAPI) -> None:
    """Register the handlers on the FastAPI application."""

    async def tracker_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TrackerError)
        log.info("request_refused", error=exc.code, status=exc.http_status,
                 path_template=_template(request))
        if is_api(request):
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
            return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)
        if isinstance(exc, NotAuthenticated):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return _page(request, exc.http_status, exc.to_dict())

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        error = InvalidInput(problems_from_validation(exc.errors()))
        return await tracker_error(request, error)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = {
            404: "there is nothing at this address",
            405: "this address does not accept that method",
        }.get(exc.status_code, "the request could not be handled")
        body = {"error": code, "message": message}
        if is_api(request):
            return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
        return _page(request, exc.status_code, body)

    async def database_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DBAPIError)
        log.error("database_error", error_type=type(exc.orig).__name__ if exc.orig else "?",
                  path_template=_template(request))
        return await tracker_error(request, StoreUnavailable("the database could not answer"))

    handlers: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
        DBAPIError: database_error,
        TrackerError: tracker_error,
        RequestValidationError: validation_error,
        StarletteHTTPException: http_error,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def _page(request: Request, status: int, body: dict[str, Any]) -> Response:
    render: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if render is None:
        return JSONResponse(body, status_code=status)
    return render(request, status, {**body, "reference": current_correlation_id()})


def _template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "")) or "(unrouted)"
