"""The pages everyone shares: sign in, sign out, the start page.

Sign-in CSRF is a double-submit token: a random value in a short-lived cookie scoped to
``/login`` and the same value in the form. After sign-in every form carries the session's
own CSRF token (``common.posted``).
"""

from __future__ import annotations

import contextlib
import math
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tracker.edges.api.auth import SESSION_COOKIE, accounts, tracker_app
from tracker.edges.api.deps import AccountsDep
from tracker.edges.web.common import HOME, page_principal, read_form, render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import FormValues
from tracker.kernel.errors import NotAuthenticated
from tracker.services.accounts import Accounts, LoginThrottle, same

LOGIN_COOKIE = "tracker_login"


def secure_cookies(request: Request) -> bool:
    """Cookies are ``Secure`` over HTTPS, including behind a proxy that terminates TLS
    (``TRACKER_PUBLIC_URL=https://...``)."""
    public = str(getattr(tracker_app(request).settings, "public_url", ""))
    return request.url.scheme == "https" or public.startswith("https://")


def safe_next(target: str) -> str | None:
    """A local path to return to after sign-in (never another site)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) < 500:
        return target
    return None


def _login_page(
    request: Request, *, error: str = "", username: str = "", next_: str = "", status: int = 200
) -> Response:
    """The sign-in form with a fresh double-submit token in its cookie and its form."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {
        "title": "Sign in", "error": error, "username": username, "next": next_,
        "login_csrf": token,
    }, status=status)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="strict",
        secure=secure_cookies(request),
    )
    return response


router = APIRouter(include_in_schema=False)


@router.get("/")
def home(principal: PageUser) -> Response:
    """The signed-in user's own start page."""
    return RedirectResponse(HOME.get(principal.user.role, "/login"), status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    """The sign-in form, or the start page for someone already signed in."""
    try:
        principal = page_principal(request)
    except NotAuthenticated:
        return _login_page(request, next_=safe_next(next) or "")
    return RedirectResponse(HOME.get(principal.user.role, "/"), status_code=303)


@router.post("/login")
async def login(request: Request) -> Response:
    """Sign in: the form's own CSRF cookie, the throttle, then the password."""
    values: FormValues = await read_form(request)

    def one(name: str) -> str:
        v = values.get(name, "")
        return v if isinstance(v, str) else ""

    username, password, next_ = one("username").strip().lower(), one("password"), one("next")
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not same(cookie, one("login_csrf")):
        return _login_page(
            request, error="The sign-in form had expired. Please try again.",
            username=username, next_=next_, status=400,
        )
    throttle: LoginThrottle = request.app.state.login_throttle
    now = tracker_app(request).clock.now()
    address = request.client.host if request.client is not None else "-"
    wait = throttle.retry_after(username, address, now)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        response = _login_page(
            request, error=f"Too many attempts. Wait {seconds} seconds, then try again.",
            username=username, next_=next_, status=429,
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    acc: Accounts = accounts(request)
    user = await run_in_threadpool(acc.authenticate, username, password)
    if user is None:
        throttle.failed(username, address, now)
        return _login_page(
            request, error="That username and password do not match an active account.",
            username=username, next_=next_, status=400,
        )
    throttle.succeeded(username, address)
    token, _csrf = await run_in_threadpool(acc.start_session, user)
    target = safe_next(next_) or HOME.get(user.role, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, path="/", httponly=True, samesite="lax",
        secure=secure_cookies(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, accounts: AccountsDep, form: PostedForm) -> Response:
    """End the session (a form post, so CSRF-checked)."""
    accounts.end_session(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


INFO_PAGES = {"help": "Help", "accessibility": "Accessibility statement",
              "privacy": "Privacy notice"}
"""The footer's pages: open to everyone, signed in or not (they hold no case data)."""


@router.get("/help")
@router.get("/accessibility")
@router.get("/privacy")
def info_page(request: Request) -> Response:
    """Help, the accessibility statement or the privacy notice."""
    name = request.url.path.strip("/")
    # The footer's pages are public; with a session, the page shows the navigation too.
    with contextlib.suppress(NotAuthenticated):
        page_principal(request)
    return render(request, f"info_{name}.html", {"title": INFO_PAGES[name]})
