"""A manager's countersignature on the web: "Countersign" and "Return for revision" beside
an assessment or plan waiting on the case page, each a form of the act machinery (acts.py).

Only a manager of the case's team sees or submits them (``CaseGuard.manageable``, the
refusal logged); the submission goes through ``CaseService.record`` like every write, so
``authorise`` (``MANAGER_ACTS``) and ``decide`` have the last word.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tracker.domain.case import CaseState
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.web import act_forms
from tracker.edges.web.acts import Act, EventId, shown, the_entry
from tracker.edges.web.case_pages import CaseId
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import FormSpec, FormValues
from tracker.edges.web.staff import staff_names
from tracker.kernel.errors import CaseNotFound, FieldProblem
from tracker.services.app import App

router = APIRouter(include_in_schema=False)


class ManagerAct(Act):
    """An act only a manager records: shown again (after a mistake) on the manager's guard."""

    def again(self, values: FormValues, errors: dict[str, str], status: int) -> Response:
        state = self.guard.manageable(self.principal.user, self.case_id, self.action,
                                      log_allowed=not self.attempted)
        return self.show(state, values, errors, status)

DOCUMENT_TYPES = frozenset({"assessment_completed", "plan_agreed", "plan_revised"})
SPECS: dict[str, FormSpec] = {"countersign": act_forms.COUNTERSIGN, "return": act_forms.RETURN}


def sign_off_act(request: Request, app: App, guard: CaseGuard, principal: SignedIn,
                 action: str, case_id: str, event_id: str, slug: str
                 ) -> tuple[Act, CaseState]:
    """The act on one document of the case (404 if the case has no such document)."""
    state = guard.manageable(principal.user, case_id, action, log_allowed=shown(request))
    original = the_entry(app, case_id, event_id, staff_names(request))
    if original["type"] not in DOCUMENT_TYPES or "corrected" in original["css"]:
        raise CaseNotFound("there is no such assessment or plan on this case")
    spec = SPECS[slug]
    return ManagerAct(request, case_id, guard, principal, action, spec, now_occurred=True,
                      extra={"original": original}), state


def _on(event_id: str) -> Any:
    def target(data: dict[str, Any]) -> list[FieldProblem]:
        data["document_event_id"] = event_id.lower()
        return []
    return target


def _problem(p: FieldProblem) -> FieldProblem:
    """A rule about the document (already acted on, ...) belongs to the whole form."""
    return FieldProblem("_form", p.reason) if p.field == "data.document_event_id" else p


def _sign_off_routes(slug: str) -> None:
    """The page and its submission for one of ``SPECS``'s acts: the same handler for
    both, told apart only by the form (``act_forms.COUNTERSIGN`` / ``RETURN``)."""
    path = f"/cases/{{case_id}}/{slug}/{{event_id}}"

    @router.get(path, name=f"{slug}_page")
    def page(request: Request, case_id: CaseId, event_id: EventId, app: AppDep,
             guard: GuardDep, action: Action, principal: PageUser) -> Response:
        act, state = sign_off_act(request, app, guard, principal, action, case_id, event_id,
                                  slug)
        return act.show(state, {}, {})

    @router.post(path, name=f"{slug}_submit")
    def submit(request: Request, case_id: CaseId, event_id: EventId, app: AppDep,
               guard: GuardDep, action: Action, form: PostedForm) -> Response:
        principal, values = form
        act, _state = sign_off_act(request, app, guard, principal, action, case_id,
                                   event_id, slug)
        return act.save(values, complete=_on(event_id), remap=_problem)


for _slug in SPECS:  # countersign an assessment or plan, or return it for revision
    _sign_off_routes(_slug)
