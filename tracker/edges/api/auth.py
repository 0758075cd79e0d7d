"""Who is asking: an API token (``Authorization: Bearer trk_...``) or a browser session.

A session cookie is ambient (the browser sends it by itself), so every state-changing
request made with one must also carry the session's CSRF token: in the ``X-CSRF-Token``
header for JSON, in the ``csrf_token`` form field for pages. A bearer token is not ambient,
so it needs no CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tracker.kernel.errors import AccessDenied, CsrfRejected, NotAuthenticated
from tracker.services.accounts import Accounts, Role, User, same
from tracker.services.app import App

SESSION_COOKIE = "tracker_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="an API token from 'tracker users token USERNAME' (trk_...)",
)


@dataclass(frozen=True)
class SignedIn:
    """The request's authenticated user, how they authenticated, and their session's CSRF
    token (the edge's view; ``tracker.domain.access.Principal`` is what the rules see)."""

    user: User
    via: Literal["token", "session"]
    csrf_token: str | None = None


def tracker_app(request: Request) -> App:
    """The application the FastAPI app was built for."""
    app: App = request.app.state.tracker
    return app


def accounts(request: Request) -> Accounts:
    """The accounts service."""
    found: Accounts = request.app.state.accounts
    return found


def authenticate(request: Request, *, allow_token: bool) -> SignedIn:
    """The principal behind the request, or ``NotAuthenticated``."""
    acc = accounts(request)
    header = request.headers.get("authorization", "")
    if allow_token and header:
        scheme, _, secret = header.partition(" ")
        user = acc.token_user(secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise NotAuthenticated("the API token is not valid (or was revoked)")
        return SignedIn(user=user, via="token")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    session = acc.session(cookie) if cookie else None
    if session is None:
        raise NotAuthenticated("sign in, or send an API token as 'Authorization: Bearer trk_...'")
    return SignedIn(user=session.user, via="session", csrf_token=session.csrf_token)


def api_principal(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> SignedIn:
    """API dependency: a token or a session; a session's writes must carry X-CSRF-Token.

    Only the bearer scheme is in the OpenAPI document: the session cookie is the pages'
    (the browser holds it), though a page's own script may call the API with it.
    """
    principal = authenticate(request, allow_token=True)
    if principal.via == "session" and request.method not in SAFE_METHODS:
        check_csrf(principal, request.headers.get(CSRF_HEADER))
    return principal


def check_csrf(principal: SignedIn, presented: str | None) -> None:
    """Refuse a state change whose CSRF token is not the session's."""
    if principal.via != "session":
        return
    expected = principal.csrf_token or ""
    if not presented or not expected or not same(presented, expected):
        raise CsrfRejected()


def require(*roles: Role) -> Callable[..., SignedIn]:
    """An API dependency admitting only the given roles (others get a bare 403)."""

    def dependency(principal: Annotated[SignedIn, Depends(api_principal)]) -> SignedIn:
        if principal.user.role not in roles:
            raise AccessDenied()
        return principal

    return dependency
