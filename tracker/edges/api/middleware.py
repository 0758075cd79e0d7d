"""The outermost layer of every request: correlation id, security headers, last-resort 500.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so that the correlation id bound here is
the one the endpoint's thread, the service and the logs see, and so that an unexpected
exception is answered here, inside the bound context, with a reference and no details.
"""

from __future__ import annotations

import json
import re
import traceback

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.kernel.logging import correlation
from tracker.services.access_log import CLIENT_REQUEST_ID

log = structlog.get_logger("tracker.edges.api")

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""An incoming X-Request-ID is kept only if it looks like an id (no log injection)."""

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class RequestContext:
    """Bind a correlation id, add it and security headers to the answer, catch the unexpected."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        # The client's id is its word: kept (logged, stored in the access log, echoed) apart
        # from the server's own correlation id, never in its place.
        client_id = incoming if REQUEST_ID_RE.match(incoming) else None
        client = {CLIENT_REQUEST_ID: client_id} if client_id else {}
        path: str = scope.get("path", "")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Correlation-ID"] = cid
                headers["X-Request-ID"] = client_id or cid
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", CSP)
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        with correlation(**client) as cid:
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception as exc:
                # Type and place only: an exception's message may carry personal data.
                where = _where(exc)
                log.error("unhandled_error", error_type=type(exc).__name__, where=where,
                          path_template=_template(scope))
                if started:
                    raise
                await _internal_error(scope, send_with_headers, cid)


def _where(exc: BaseException) -> str:
    """The innermost frame in the tracker's own code or templates (else the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/tracker/" in f.filename or f.filename.endswith(".html")]
    frame = (ours or frames)[-1:] or None
    return f"{frame[0].filename}:{frame[0].lineno}" if frame else "?"


def _template(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "")) or "(unrouted)"


async def _internal_error(scope: Scope, send: Send, cid: str) -> None:
    path: str = scope.get("path", "")
    message = "something went wrong on our side; quote this reference if you report it"
    if path.startswith("/api") or path.startswith("/openapi"):
        body = json.dumps(
            {"error": "internal_error", "message": message, "reference": cid}
        ).encode()
        ctype = "application/json"
    else:
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<title>Something went wrong</title><link rel=stylesheet href=/static/app.css>"
            "</head><body><main class=narrow><h1>Something went wrong</h1>"
            f"<p>{message}: <code>{cid}</code></p><p><a href=/>Back to the start</a></p>"
            "</main></body></html>"
        ).encode()
        ctype = "text/html; charset=utf-8"
    await send({
        "type": "http.response.start",
        "status": 500,
        "headers": [
            (b"content-type", ctype.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    })
    await send({"type": "http.response.body", "body": body})
