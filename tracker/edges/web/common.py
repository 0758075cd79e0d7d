"""What every page shares: templates and filters, the signed-in user, forms with CSRF."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tracker.edges.api.auth import CSRF_FIELD, SignedIn, authenticate, check_csrf
from tracker.edges.web.forms import FormValues, words
from tracker.edges.web.staff import staff_names
from tracker.kernel import display
from tracker.services.accounts import User

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

NAV: dict[str, list[tuple[str, str]]] = {
    "practitioner": [("/caseload", "Caseload"), ("/diary", "My diary"),
                     ("/cases/new", "Open a case")],
    "manager": [("/manager", "Dashboard"), ("/caseload", "Caseload"),
                ("/manager/ratings", "Ratings")],
    "auditor": [("/audit", "Audit"), ("/caseload", "Caseload"), ("/manager/ratings", "Ratings"),
                ("/audit/verify", "Verify"), ("/audit/access-log", "Access log")],
    "admin": [("/admin/users", "Users"), ("/audit/verify", "Verify"),
              ("/audit/access-log", "Access log")],
}
HOME = {"practitioner": "/caseload", "manager": "/manager", "auditor": "/audit",
        "admin": "/admin/users"}


def when(value: datetime | str | None) -> str:
    """A moment in UK time, as people write it: ``Mon 2 Nov 2026, 10:30``."""
    return display.when(value, month="short", weekday=True)


def day(value: date | datetime | str | None) -> str:
    """A date as people write it: ``2 Nov 2026``."""
    return display.day(value[:10] if isinstance(value, str) else value, month="short")


def show(value: object) -> str:
    """Any event field value, for a person."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{words(str(k))}: {show(v)}" for k, v in value.items())
    text = str(value)
    return words(text) if text.islower() and " " not in text and len(text) < 40 else text


def anchor(text: str) -> str:
    """Text made safe as an HTML id / URL fragment."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def pct(value: object) -> str:
    """0.812 -> ``81%``; None -> ``—``."""
    return f"{float(value) * 100:.0f}%" if isinstance(value, int | float) else "—"


DISPOSALS = {
    "referral_order": "Referral order", "yro": "YRO", "yro_iss": "YRO with ISS",
    "dto": "DTO", "remand": "Remand", "community_resolution": "Community resolution",
    "youth_caution": "Youth caution", "youth_conditional_caution": "Youth conditional caution",
}


def disposal(value: object) -> str:
    """A disposal type as practitioners say it (``yro`` -> ``YRO``)."""
    return DISPOSALS.get(str(value), words(str(value)))


def make_templates() -> Jinja2Templates:
    """The page templates, with the filters they use."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["words"] = words
    env.filters["show"] = show
    env.filters["anchor"] = anchor
    env.filters["pct"] = pct
    env.filters["disposal"] = disposal
    env.globals["NAV"] = NAV
    return templates


def current(request: Request) -> SignedIn | None:
    principal: SignedIn | None = getattr(request.state, "principal", None)
    return principal


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A page, with the signed-in user, their navigation and CSRF token available to it."""
    templates: Jinja2Templates = request.app.state.templates
    principal = current(request)
    user: User | None = principal.user if principal else None
    ctx = {
        "user": user,
        "csrf_token": principal.csrf_token if principal else "",
        "nav": NAV.get(user.role, []) if user else [],
        "path": request.url.path,
        "staff": staff_names(request),
        **(context or {}),
    }
    response: HTMLResponse = templates.TemplateResponse(request, name, ctx, status_code=status)
    return response


def page_principal(request: Request) -> SignedIn:
    """Page dependency: the signed-in user (a session; API tokens are for the API)."""
    principal = authenticate(request, allow_token=False)
    request.state.principal = principal
    return principal


async def read_form(request: Request) -> dict[str, str | list[str]]:
    """A submitted form as text values (lists where a name repeats, e.g. checkboxes)."""
    form = await request.form()
    out: dict[str, str | list[str]] = {}
    for key in form:
        values = [v for v in form.getlist(key) if not isinstance(v, UploadFile)]
        texts = [str(v)[:5000] for v in values]
        out[key[:100]] = texts if len(texts) > 1 else (texts[0] if texts else "")
    return out


async def posted(request: Request) -> tuple[SignedIn, FormValues]:
    """Page dependency for a form post: the user, and the values once CSRF is checked."""
    principal = await run_in_threadpool(page_principal, request)
    values = await read_form(request)
    token = values.get(CSRF_FIELD, "")
    check_csrf(principal, token if isinstance(token, str) else "")
    return principal, values


def error_page(request: Request, status: int, body: dict[str, Any]) -> HTMLResponse:
    """The page for an error (installed as ``app.state.error_page``)."""
    titles = {
        401: "Please sign in", 403: "You do not have access to this",
        404: "Not found", 405: "Not allowed", 409: "That clashes with what is recorded",
        410: "No longer available", 422: "Please check what you entered",
        503: "The tracker is unavailable",
    }
    return render(request, "error.html", {
        "status": status, "title": titles.get(status, "Something went wrong"),
        "message": body.get("message", ""), "fields": body.get("fields") or [],
        "reference": body.get("reference", ""),
    }, status=status)
