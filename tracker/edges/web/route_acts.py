"""The pages of the events each disposal's route has (``route_forms``): one page per form
at ``/cases/{case}/act/{slug}``, shown only to someone who may write to the case (the
access logged as the other acts' are), each submission one command through
``CaseService.record``. A disposal without a place for the event gets the reason instead
of the form; the write side refuses it too, naming the disposal.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tracker.domain.case import CaseState
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.web import route_forms
from tracker.edges.web.acts import Act, entries, shown, staff_choices
from tracker.edges.web.case_pages import CaseId, Slug
from tracker.edges.web.common import when
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import local_input
from tracker.edges.web.forms import words as say
from tracker.edges.web.staff import staff_names
from tracker.kernel.errors import CaseNotFound
from tracker.services.app import App, policy_for

router = APIRouter(include_in_schema=False)


def case_choices(request: Request, state: CaseState, items: list[dict[str, Any]]
                 ) -> route_forms.Choices:
    """The case's open conditions, its condition failures awaiting a prosecution decision
    (labelled from their entries) and its team's managers."""
    set_on = {str(i["data"].get("condition_id")): i for i in items
              if i["type"] == "condition_set" and "corrected" not in i["css"]}
    open_conditions = [
        (cid, f"{cid}: {say(str(set_on[cid]['data'].get('kind', '')))}, by "
              f"{set_on[cid]['data'].get('deadline', '')}" if cid in set_on else cid)
        for cid, status in state.conditions.items() if status == "set"]
    awaiting = {str(f) for f in state.condition_failures - state.decided}
    failures = [(str(i["event_id"]), f"Condition {i['data'].get('condition_id', '')} failed "
                                     f"{when(i['occurred_at'])}")
                for i in items if i["type"] == "condition_failed"
                and str(i["event_id"]) in awaiting]
    _practitioners, managers = staff_choices(staff_names(request), state)
    return route_forms.Choices(open_conditions, failures, managers)


def route_act(request: Request, app: App, guard: CaseGuard, principal: SignedIn, action: str,
              case_id: str, slug: str) -> tuple[Act, CaseState]:
    build = route_forms.SPECS.get(slug)
    if build is None:
        raise CaseNotFound("there is no such form")
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request))
    if state.opened is None:
        raise CaseNotFound("there is no such case")
    spec = build(case_choices(request, state, entries(app, case_id)))
    profile = policy_for(app).profile(state.opened.disposal_type)
    refusal = route_forms.refusal(slug, state, profile)
    return Act(request, case_id, guard, principal, action, spec,
               extra={"refusal": refusal}), state


@router.get("/cases/{case_id}/act/{slug}")
def route_page(request: Request, case_id: CaseId, slug: Slug, app: AppDep, guard: GuardDep,
               action: Action, principal: PageUser) -> Response:
    """One of the disposal's own forms (a joint decision starts at the case's disposal)."""
    act, state = route_act(request, app, guard, principal, action, case_id, slug)
    values: dict[str, str | list[str]] = {"occurred_at": local_input(app.clock.now())}
    if slug == "joint-decision" and state.opened is not None:
        values["outcome"] = state.opened.disposal_type
    return act.show(state, values, {})


@router.post("/cases/{case_id}/act/{slug}")
def route_submit(request: Request, case_id: CaseId, slug: Slug, app: AppDep, guard: GuardDep,
                 action: Action, form: PostedForm) -> Response:
    """Record the form's event; a disposal with no place for it gets the reason (422)."""
    principal, values = form
    act, _state = route_act(request, app, guard, principal, action, case_id, slug)
    if act.extra["refusal"]:
        return act.again(values, {}, 422)
    return act.save(values)
