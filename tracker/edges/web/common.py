"""What every page shares: templates and filters, the signed-in user, forms with CSRF."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.edges.api.auth import CSRF_FIELD, SignedIn, authenticate, check_csrf
from tracker.edges.web.forms import Field, FormValues, words
from tracker.edges.web.staff import staff_names
from tracker.kernel import display
from tracker.services.accounts import User

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

NAV: dict[str, list[tuple[str, str]]] = {
    "practitioner": [("/caseload", "Caseload"), ("/diary", "My diary"), ("/alerts", "Alerts"),
                     ("/cases/new", "Open a case"), ("/search", "Find a case")],
    "manager": [("/manager", "Dashboard"), ("/alerts", "Alerts"), ("/caseload", "Caseload"),
                ("/manager/ratings", "Ratings"), ("/reports/kpis", "KPIs"),
                ("/reports/board-pack", "Board pack"), ("/board-meetings", "Board meetings"),
                ("/search", "Find a case")],
    "auditor": [("/audit", "Audit"), ("/alerts", "Alerts"), ("/caseload", "Caseload"),
                ("/manager/ratings", "Ratings"),
                ("/audit/verify", "Verify"), ("/audit/access-log", "Access log"),
                ("/reports/kpis", "KPIs"), ("/reports/board-pack", "Board pack")],
    "admin": [("/admin/users", "Users"), ("/admin/erase", "Erase a child"),
              ("/board-meetings", "Board meetings"), ("/audit/verify", "Verify"),
              ("/audit/access-log", "Access log")],
    "secure_keyworker": [("/custody", "My cases")],
    "qa": [("/qa/samples", "Samples"), ("/caseload", "Caseload"),
           ("/manager/ratings", "Ratings")],
}
HOME = {"practitioner": "/caseload", "manager": "/manager", "auditor": "/audit",
        "admin": "/admin/users", "secure_keyworker": "/custody", "qa": "/qa/samples"}


def when(value: datetime | str | None) -> str:
    """A moment in UK local time, as people write it: ``2 November 2026, 10:30``."""
    return display.when(value)


def day(value: date | datetime | str | None) -> str:
    """A date as people write it: ``2 November 2026``."""
    return display.day(value[:10] if isinstance(value, str) else value)


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
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
            # GOV.UK Frontend's component macros, as ``govuk_frontend_jinja/components/...``
            jinja2.PrefixLoader(
                {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
            ),
        ]),
        autoescape=True,
    )
    templates = Jinja2Templates(env=env)
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["words"] = words
    env.filters["show"] = show
    env.filters["anchor"] = anchor
    env.filters["pct"] = pct
    env.filters["disposal"] = disposal
    env.globals["NAV"] = NAV
    env.globals["date_parts"] = date_parts
    env.globals["date_field"] = date_field
    env.globals["filter_values"] = filter_values
    env.globals["form_field"] = form_field
    env.globals["govuk_styles"] = (STATIC_DIR / "govuk" / "tracker.css").exists()
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
        "query_args": request.query_params,
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
    """A submitted form as text values (lists where a name repeats, e.g. checkboxes).

    A three-field date input's parts (``x-day``, ``x-month``, ``x-year``, and ``x-hour``,
    ``x-minute`` for a time) are kept, for showing the form again, and joined into ``x``.
    """
    form = await request.form()
    out: dict[str, str | list[str]] = {}
    for key in form:
        values = [v for v in form.getlist(key) if not isinstance(v, UploadFile)]
        texts = [str(v)[:5000] for v in values]
        out[key[:100]] = texts if len(texts) > 1 else (texts[0] if texts else "")
    return join_dates(out)


DATE_PARTS = ("day", "month", "year")
TIME_PARTS = ("hour", "minute")


def join_dates(values: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    """``x-day``/``x-month``/``x-year`` (and ``x-hour``/``x-minute``) joined into ``x``.

    The joined value is ISO (``2026-03-27`` or ``2026-03-27T14:30``) when every part is a
    number; otherwise the parts as typed, which the form's date check then refuses with the
    field named. All parts empty gives an empty value (so "is required" where it is).
    """
    out = dict(values)
    for key in list(values):
        if not key.endswith("-year"):
            continue
        name = key[: -len("-year")]
        parts = [_text(values.get(f"{name}-{p}")) for p in DATE_PARTS]
        timed = f"{name}-hour" in values or f"{name}-minute" in values
        clock = [_text(values.get(f"{name}-{p}")) for p in TIME_PARTS] if timed else []
        if not any(parts + clock):
            out[name] = ""
            continue
        if all(p.isdigit() for p in parts + clock):
            day_, month, year = (int(p) for p in parts)
            joined = f"{year:04d}-{month:02d}-{day_:02d}"
            if timed:
                joined += f"T{int(clock[0]):02d}:{int(clock[1]):02d}"
            out[name] = joined
        else:
            out[name] = " ".join(parts + clock)
    return out


def date_field(name: str, label: str, kind: str = "date") -> Field:
    """A filter form's date (or date and time) as a form field, for ``_field.html``."""
    return Field(name, label, "datetime" if kind == "datetime" else "date")


def form_field(name: str, label: str, kind: str = "text", hint: str = "",
               options: list[tuple[str, str]] | None = None, required: bool = True) -> Field:
    """A field of a form that is not an event's (users, filters), for ``_field.html``."""
    return Field(name, label, kind, options or [], required, hint)  # type: ignore[arg-type]


def filter_values(query: Mapping[str, str], **shown: object) -> dict[str, str]:
    """A filter form's values: what the page shows (its defaults), overridden by the query."""
    out = {k: "" if v is None else str(v) for k, v in shown.items()}
    out.update({k: v for k, v in query.items() if k in shown or "-" in k})
    return out


class DateQueryMiddleware:
    """Joins a GET form's three-field dates (``as_of-day`` …) into ``as_of`` in the query.

    The filter forms (replay, ratings, access log) use GOV.UK's date input like the record
    forms; joining here keeps one parser for the routes, which read ``as_of`` as before.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"-year=" in query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            values: dict[str, str | list[str]] = {k[:100]: v[:5000] for k, v in pairs[:200]}
            joined = join_dates(values)
            extra = [(k, str(v)) for k, v in joined.items() if k not in values]
            scope = {**scope, "query_string": urlencode(pairs + extra).encode("latin-1")}
        await self.app(scope, receive, send)


def _text(value: str | list[str] | None) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return (value or "").strip()[:10]


def date_parts(name: str, values: Mapping[str, str | list[str]]) -> dict[str, str]:
    """The parts a three-field date input shows: as typed if the form came back, else
    split from the stored ISO value (``2026-03-27`` or ``2026-03-27T14:30``)."""
    if any(f"{name}-{p}" in values for p in DATE_PARTS):
        return {p: _text(values.get(f"{name}-{p}")) for p in (*DATE_PARTS, *TIME_PARTS)}
    raw = values.get(name, "")
    text = raw if isinstance(raw, str) else ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return dict.fromkeys((*DATE_PARTS, *TIME_PARTS), "")
    return {"day": str(moment.day), "month": str(moment.month), "year": str(moment.year),
            "hour": f"{moment.hour:02d}" if "T" in text else "",
            "minute": f"{moment.minute:02d}" if "T" in text else ""}


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
