"""A practitioner's diary (issue 12 §1): their own booked appointments still to be logged —
today, the coming week, and any past ones not yet logged — each with a link that logs it
as attended or missed against the booking, so it leaves the diary."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from projections.queries import DiaryRow, diary
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.web.acts import Act, entries
from tracker.edges.web.case_pages import CaseId
from tracker.edges.web.common import render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import FORMS, local_input
from tracker.kernel.clock import LONDON
from tracker.kernel.errors import AccessDenied, CaseNotFound, FieldProblem

WEEK = timedelta(days=7)
ContactId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")]
Outcome = Annotated[str, Path(pattern=r"^(contact|missed)$")]

router = APIRouter(include_in_schema=False)


@router.get("/diary")
def diary_page(request: Request, app: AppDep, guard: GuardDep, action: Action,
               principal: PageUser) -> Response:
    """The signed-in practitioner's appointments (the cases shown are access-logged)."""
    user = principal.user
    if user.role != "practitioner":
        raise AccessDenied()
    now = app.clock.now()
    today = now.astimezone(LONDON).date()
    end_of_today = datetime.combine(today + timedelta(days=1), time(), LONDON)
    week_end = end_of_today + WEEK
    rows = diary(app, practitioner=user.user_id, until=week_end)
    guard.log(user, sorted({r["case_id"] for r in rows}), action, "allowed")

    def between(start: datetime | None, end: datetime) -> list[DiaryRow]:
        return [r for r in rows if (start is None or datetime.fromisoformat(r["scheduled_for"])
                                    >= start) and datetime.fromisoformat(r["scheduled_for"]) < end]

    return render(request, "diary.html", {
        "title": "My diary", "overdue": between(None, now),
        "today_rows": between(now, end_of_today), "week_rows": between(end_of_today, week_end),
        "today": today, "week_end": week_end - timedelta(days=1),
    })


def booking(app: Any, case_id: str, contact_id: str) -> dict[str, Any]:
    """The booked appointment's entry on the case (404 if there is none)."""
    for item in entries(app, case_id):
        if item["type"] == "contact_scheduled" and item["data"].get("contact_id") == contact_id \
                and "corrected" not in item["css"]:
            return item
    raise CaseNotFound("there is no such appointment on this case")


def appointment_act(request: Request, guard: CaseGuard, principal: SignedIn, action: str,
                    case_id: str, outcome: str) -> Act:
    spec = FORMS[outcome]
    return Act(request, case_id, guard, principal, action, spec, kind=spec.event_type,
               extra={"title": f"{spec.title} (booked appointment)"})


@router.get("/cases/{case_id}/appointment/{contact_id}/{outcome}")
def appointment_page(request: Request, case_id: CaseId, contact_id: ContactId,
                     outcome: Outcome, app: AppDep, guard: GuardDep, action: Action,
                     principal: PageUser) -> Response:
    """Log a booked appointment as attended or missed, its kind and time filled in (for
    whoever may record the contact: the case team, a caretaking host, the keyworker)."""
    state = guard.writable(principal.user, case_id, action, kind=FORMS[outcome].event_type)
    booked = booking(app, case_id, contact_id)
    act = appointment_act(request, guard, principal, action, case_id, outcome)
    moment = datetime.fromisoformat(booked["data"]["scheduled_for"])
    values = {"occurred_at": local_input(min(moment, app.clock.now())),
              "kind": str(booked["data"].get("kind", ""))}
    return act.show(state, values, {})


@router.post("/cases/{case_id}/appointment/{contact_id}/{outcome}")
def appointment_submit(request: Request, case_id: CaseId, contact_id: ContactId,
                       outcome: Outcome, guard: GuardDep, action: Action,
                       form: PostedForm) -> Response:
    """Record it against the booking (``contact_id``), which the rules check."""
    principal, values = form
    act = appointment_act(request, guard, principal, action, case_id, outcome)

    def booked(data: dict[str, Any]) -> list[FieldProblem]:
        data["contact_id"] = contact_id
        return []

    return act.save(values, complete=booked)
