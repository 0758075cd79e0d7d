"""The management board's meetings (KPI 7): the list, and the form a manager or an
administrator records a meeting with (the generic form fields, ``forms.FormSpec``)."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tracker.domain.access import can_record_board, can_see_board
from tracker.domain.board import PartnerAgency
from tracker.edges.api.deps import AppDep
from tracker.edges.web.common import render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import Field, FormSpec, FormValues, choices, field_for, friendly
from tracker.kernel.errors import AccessDenied, InvalidInput, RuleViolation
from tracker.services.accounts import User
from tracker.services.board import list_meetings, record_meeting

AGENCIES = choices(get_args(PartnerAgency), {
    "yjs": "Youth justice service", "pcc": "Police and crime commissioner",
    "childrens_social_care": "Children's social care"})

BOARD_FORM = FormSpec("board-meeting", "Record a board meeting", "board_meeting_held", [
    Field("service", "Service (id)", required=True),
    Field("held_on", "Date of the meeting", "date", required=True),
    Field("agencies_invited", "Partner agencies invited", "checkboxes", AGENCIES, required=True),
    Field("agencies_attending", "Partner agencies that attended", "checkboxes", AGENCIES),
])

router = APIRouter(include_in_schema=False)


def _page(request: Request, app: AppDep, user: User, values: FormValues,
          errors: dict[str, str], flash: str = "", status: int = 200) -> Response:
    return render(request, "board.html", {
        "title": "Management board meetings", "meetings": list_meetings(app, user),
        "spec": BOARD_FORM, "values": values, "errors": errors, "flash": flash,
        "can_record": can_record_board(user), "expected_version": None,
        "show_occurred": False,
    }, status=status)


@router.get("/board-meetings")
def board_page(request: Request, app: AppDep, principal: PageUser, recorded: str = "") -> Response:
    """The meetings, oldest first, and (for managers and admins) the form to add one."""
    if not can_see_board(principal.user):
        raise AccessDenied()
    flash = "Saved: the board meeting." if recorded else ""
    return _page(request, app, principal.user, {}, {}, flash)


@router.post("/board-meetings")
def board_submit(request: Request, app: AppDep, form: PostedForm) -> Response:
    """Record a meeting; a mistake shows the form again beside its field (422)."""
    principal, values = form
    if not can_record_board(principal.user):
        raise AccessDenied()
    fields = {f.name: values.get(f.name, [] if f.kind == "checkboxes" else "")
              for f in BOARD_FORM.fields}
    for f in BOARD_FORM.fields:
        raw = fields[f.name]
        if f.kind == "checkboxes" and isinstance(raw, str):
            fields[f.name] = [raw] if raw else []
    try:
        record_meeting(app, principal.user, fields)
    except (InvalidInput, RuleViolation) as exc:
        problems = exc.problems if isinstance(exc, InvalidInput) else None
        pairs = ([(p.field, p.reason) for p in problems] if problems is not None
                 else [(exc.field, exc.reason)] if isinstance(exc, RuleViolation) else [])
        errors: dict[str, str] = {}
        for where, reason in pairs:
            name = field_for(BOARD_FORM, where) or "_form"
            errors[name] = friendly(reason) if name != "_form" else f"{where}: {reason}"
        return _page(request, app, principal.user, values, errors, status=422)
    return RedirectResponse("/board-meetings?recorded=1", status_code=303)
