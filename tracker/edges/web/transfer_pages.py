"""Transfers on the pages (issue 11 §4): the case's team requests one; a manager of the
receiving team accepts or rejects it. The same forms as the other acts (``acts.Act``,
``act.html``), each one command through ``CaseService.record``."""

from __future__ import annotations

from typing import Any, get_args
from uuid import uuid4

from fastapi import APIRouter, Request
from fastapi.responses import Response

from events.transfer import TransferKind
from projections.queries import child_labels
from tracker.domain.case import CaseState
from tracker.domain.teams import KEYWORKER
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.web.act_forms import TITLES, Options
from tracker.edges.web.acts import Act, shown
from tracker.edges.web.case_pages import CaseId
from tracker.edges.web.common import render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import Field, FormSpec, choices, local_input
from tracker.edges.web.staff import staff_names
from tracker.kernel.errors import AccessDenied, FieldProblem

router = APIRouter(include_in_schema=False)

KINDS = choices(get_args(TransferKind), {
    "full": "Full: the receiving team takes the case over",
    "caretaking": "Caretaking: your team keeps the case; the other team supervises for now",
})


def request_spec(teams: Options) -> FormSpec:
    """Where the case goes (a team here, or another service), how, and why."""
    return FormSpec("transfer", TITLES["transfer"], "transfer_requested", [
        Field("kind", "What kind of transfer?", "radio", KINDS, required=True),
        Field("to_team", "To which team?", "select", list(teams),
              hint="A team of this service. Leave empty for another service."),
        Field("to_service", "Or to which service?", "text",
              hint="Another youth justice service: its manager accepts the case after "
                   "importing its transfer bundle."),
        Field("reason", "Why?", "textarea", required=True,
              hint="Kept sealed with the child's own key."),
    ], intro="The receiving team's manager accepts or rejects the transfer. After a full "
             "transfer your team can read the case, but not add to it, for a period the "
             "policy sets.")


def answer_spec(slug: str, pending: Options, teams: Options) -> FormSpec:
    """Which transfer, and (accepting) for which team, with a note or (rejecting) why."""
    fields = [Field("transfer_id", "Which transfer?", "select", list(pending), required=True)]
    if slug == "transfer-accept":
        fields.append(Field("team", "Into which of your teams?", "select", list(teams),
                            required=True))
        fields.append(Field("note", "Note", "textarea", hint="Kept sealed."))
        event_type = "transfer_accepted"
    else:
        fields.append(Field("reason", "Why not?", "textarea", required=True,
                            hint="Kept sealed. The case stays with its team."))
        event_type = "transfer_rejected"
    return FormSpec(slug, TITLES[slug], event_type, fields)


def other_teams(request: Request, state: CaseState) -> list[tuple[str, str]]:
    """The teams of this service (those with staff), but the case's own."""
    teams = {t for u in staff_names(request).users for t in u.teams} - {state.team}
    return [(t, t) for t in sorted(teams)]


def pending_for(state: CaseState, who: SignedIn) -> list[tuple[str, str]]:
    """The transfers awaiting an answer that this manager may give."""
    return [(r.transfer_id, f"{r.transfer_id}: {r.kind} transfer from {r.from_team}")
            for r in state.requests.values()
            if r.status == "pending" and (r.to_team is None or r.to_team in who.user.teams)]


def request_act(request: Request, guard: CaseGuard, principal: SignedIn, action: str,
                case_id: str) -> tuple[Act, CaseState]:
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request),
                           kind="transfer_requested")
    spec = request_spec(other_teams(request, state))
    return Act(request, case_id, guard, principal, action, spec, now_occurred=True,
               kind="transfer_requested"), state


def new_transfer_id(data: dict[str, Any]) -> list[FieldProblem]:
    data["transfer_id"] = f"TR-{uuid4().hex[:12]}"
    return []


@router.get("/cases/{case_id}/transfer")
def request_page(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                 principal: PageUser) -> Response:
    """Ask another team (or service) to take the case, or to host it."""
    act, state = request_act(request, guard, principal, action, case_id)
    return act.show(state, {"kind": "full"}, {})


@router.post("/cases/{case_id}/transfer")
def request_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                   form: PostedForm) -> Response:
    principal, values = form
    act, _state = request_act(request, guard, principal, action, case_id)
    return act.save(values, complete=new_transfer_id)


def answer_act(request: Request, guard: CaseGuard, principal: SignedIn, action: str,
               case_id: str, slug: str) -> tuple[Act, CaseState]:
    kind = "transfer_accepted" if slug == "transfer-accept" else "transfer_rejected"
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request),
                           kind=kind)
    teams = [(t, t) for t in sorted(principal.user.teams)]
    spec = answer_spec(slug, pending_for(state, principal), teams)
    return Act(request, case_id, guard, principal, action, spec, now_occurred=True,
               kind=kind), state


def first_values(act: Act, state: CaseState) -> dict[str, str | list[str]]:
    pending = act.spec.fields[0].options
    values: dict[str, str | list[str]] = {"transfer_id": pending[0][0]} if pending else {}
    if pending:
        to_team = state.requests[pending[0][0]].to_team
        if to_team:
            values["team"] = to_team
    return values


@router.get("/cases/{case_id}/transfer/accept")
def accept_page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                action: Action, principal: PageUser) -> Response:
    """Accept a transfer into your team: from now your team holds (or hosts) the case."""
    act, state = answer_act(request, guard, principal, action, case_id, "transfer-accept")
    return act.show(state, {"occurred_at": local_input(app.clock.now()),
                            **first_values(act, state)}, {})


@router.post("/cases/{case_id}/transfer/accept")
def accept_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                  form: PostedForm) -> Response:
    principal, values = form
    act, _state = answer_act(request, guard, principal, action, case_id, "transfer-accept")
    return act.save(values)


@router.get("/cases/{case_id}/transfer/reject")
def reject_page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                action: Action, principal: PageUser) -> Response:
    """Decline a transfer, with the reason; the case stays where it is."""
    act, state = answer_act(request, guard, principal, action, case_id, "transfer-reject")
    return act.show(state, first_values(act, state), {})


@router.post("/cases/{case_id}/transfer/reject")
def reject_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                  form: PostedForm) -> Response:
    principal, values = form
    act, _state = answer_act(request, guard, principal, action, case_id, "transfer-reject")
    # The case stays with the sending team, so the case page is no longer this manager's
    # to read: the banner shows on their dashboard instead.
    return act.save(values, done="/manager")


# -- the secure-estate keyworker's cases -----------------------------------------------------


@router.get("/custody")
def custody_page(request: Request, app: AppDep, guard: GuardDep, action: Action,
                 principal: PageUser) -> Response:
    """A keyworker's cases: those allocated to them now (each listed case's read logged)."""
    who = principal.user
    if who.role != KEYWORKER:
        raise AccessDenied()
    names = staff_names(request)
    rows = []
    for case_id in app.store.streams_allocated_to(who.user_id):
        state = guard.state_sealed(case_id)
        if state.teams is None or who.user_id not in state.teams.keyworkers:
            continue
        manager = state.case_manager
        rows.append({"case_id": case_id, "child_id": state.child_id, "setting": state.setting,
                     "case_manager": names(manager.practitioner) if manager else ""})
    if rows:
        guard.log(who, [r["case_id"] for r in rows if r["case_id"]], action, "allowed")
        labels = child_labels(app, [r["case_id"] for r in rows if r["case_id"]])
        for row in rows:
            row["child_label"] = labels.get(row["case_id"] or "", "")
    return render(request, "custody.html", {"title": "My cases", "rows": rows})
