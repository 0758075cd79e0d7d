"""The outer layers of every request, as pure ASGI middleware (not ``BaseHTTPMiddleware``).

``RequestContext`` (outermost): correlation id, security headers, last-resort 500. The
correlation id bound here is the one the endpoint's thread, the service and the logs see,
and an unexpected exception is answered here, inside the bound context, with a reference
and no details.

``InputGuard`` (next): what no parser may see. A body larger than the limit is refused
(413) as its bytes arrive, whatever Content-Length says; a query, form or JSON field that
is not valid UTF-8 or holds a NUL is refused (422 naming the field) instead of being
silently replaced with U+FFFD, or sent to a database that cannot store it.
"""

from __future__ import annotations

import html
import json
import re
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.kernel.errors import FieldProblem, InvalidInput, PayloadTooLarge, TrackerError
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
    message = "something went wrong on our side; quote this reference if you report it"
    await _answer(scope, send, 500, {"error": "internal_error", "message": message,
                                     "reference": cid}, "Something went wrong")


async def _answer(scope: Scope, send: Send, status: int, body: dict[str, Any], title: str
                  ) -> None:
    """JSON under ``/api``; elsewhere a bare page (these answers come before any route, so
    the site's own error page is not available)."""
    path: str = scope.get("path", "")
    if path.startswith("/api") or path.startswith("/openapi"):
        content = json.dumps(body).encode()
        ctype = "application/json"
    else:
        reference = f": <code>{html.escape(body['reference'])}</code>" if body.get(
            "reference") else ""
        problems = "".join(f"<li>{html.escape(f['field'])}: {html.escape(f['reason'])}</li>"
                           for f in body.get("fields", []))
        content = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{title}</title><link rel=stylesheet href=/static/app.css>"
            f"</head><body><main class=narrow><h1>{title}</h1>"
            f"<p>{html.escape(body['message'])}{reference}</p>"
            f"{'<ul>' + problems + '</ul>' if problems else ''}"
            "<p><a href=/>Back to the start</a></p></main></body></html>"
        ).encode()
        ctype = "text/html; charset=utf-8"
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", ctype.encode()),
            (b"content-length", str(len(content)).encode()),
        ],
    })
    await send({"type": "http.response.body", "body": content})


class InputGuard:
    """Refuse an oversized body (413) and invalid UTF-8 or NUL in any field (422)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            _check_pairs(scope.get("query_string", b""), "(query)")
            body, replay = await self._read(headers, receive)
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded":
                _check_pairs(body, "(form)", nul=False)
            elif body and (not ctype or ctype == "application/json" or ctype.endswith("+json")):
                _check_json(body)
        except TrackerError as exc:
            log.info("request_refused", error=exc.code, status=exc.http_status,
                     path_template="(unrouted)")
            title = "Too large" if exc.http_status == 413 else "Not valid"
            await _answer(scope, send, exc.http_status, exc.to_dict(), title)
            return
        await self.app(scope, replay, send)

    async def _read(self, headers: Headers, receive: Receive) -> tuple[bytes, Receive]:
        """The whole body, counted as it streams in (a declared length is not trusted),
        and a ``receive`` that hands it on to the application."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        pending: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                pending.append(message)  # the client went away; the app will see it
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        pending.insert(0, {"type": "http.request", "body": body, "more_body": False})

        async def replay() -> Message:
            return pending.pop(0) if pending else await receive()

        return body, replay

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is larger than {self.max_body_bytes} bytes")


def _text_problem(raw: bytes | str, nul: bool = True) -> str | None:
    """Why a field's text cannot be taken as it is, or None (``nul``: NUL is checked)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        text.encode("utf-8")  # a lone surrogate (undecodable bytes, or a JSON escape)
    except UnicodeError:
        return "is not valid UTF-8 text"
    if nul and "\x00" in text:
        return "must not contain NUL characters"
    return None


def _check_pairs(raw: bytes, where: str, nul: bool = True) -> None:
    """A query string or url-encoded form: each name and value, percent-decoded. A form's
    NUL is left to the page, which shows the form again with the error beside the field."""
    problems = []
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        name, value = (unquote_to_bytes(p.replace(b"+", b" ")) for p in (name, value))
        reason = _text_problem(name, nul) or _text_problem(value, nul)
        if reason is not None:
            field = where if _text_problem(name) else name.decode("utf-8")
            problems.append(FieldProblem(field, reason))
    if problems:
        raise InvalidInput(problems)


def _check_json(body: bytes) -> None:
    """A JSON body: every key and string, named by its path (``data.note``)."""
    if b"\\u0000" not in body and b"\\ud" not in body.lower():
        try:
            body.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
    try:
        value = json.loads(body.decode("utf-8", errors="surrogateescape"))
    except ValueError:
        return  # not JSON at all: the route's parser refuses it, naming the body
    problems = [FieldProblem(path or "(body)", reason) for path, reason in _walk(value, "")]
    if problems:
        raise InvalidInput(problems)


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        reason = _text_problem(value)
        if reason is not None:
            yield path, reason
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            reason = _text_problem(key)
            if reason is not None:
                yield path or "(body)", f"a field name {reason}"
                continue
            yield from _walk(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}" if path else str(index))
