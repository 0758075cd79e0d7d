"""A manager's acts on a case as forms (issue 11 §1), and the practitioner's "oversight
action done". Same machinery as ``acts``: the form is shown only to someone who may write
to the case (``CaseGuard.writable``, logged), and each submission is one command through
``CaseService.record``, whose role matrix refuses (403, revealing nothing) anyone whose
role may not record that act. The manager recorded is the signed-in principal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Request
from fastapi.responses import Response

from projections.alert_rules import TEXT
from projections.queries import alerts as alert_queries
from tracker.domain.case import CaseState
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.web import manager_act_forms as forms
from tracker.edges.web.acts import Act, entries, failures_to_warn, shown
from tracker.edges.web.case_pages import CaseId
from tracker.edges.web.common import when
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import FormSpec, local_input
from tracker.edges.web.forms import words as say
from tracker.kernel.errors import FieldProblem
from tracker.services.app import App, policy_for

router = APIRouter(include_in_schema=False)

Choices = Callable[[App, CaseState, list[dict[str, Any]]], FormSpec]


def _entry_labels(items: list[dict[str, Any]], kind: str) -> dict[str, str]:
    return {str(i["event_id"]): when(i["occurred_at"]) for i in items
            if i["type"] == kind and "corrected" not in i["css"]}


def _excuse(app: App, state: CaseState, items: list[dict[str, Any]]) -> FormSpec:
    return forms.exceptional_circumstances(failures_to_warn(state, items))


def _open_breaches(state: CaseState, items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    labels = _entry_labels(items, "breach_initiated")
    return [(str(b), f"Breach proceedings started {labels.get(str(b), '')}".strip())
            for b, status in state.breaches.items() if status == "open"]


def _authorise(app: App, state: CaseState, items: list[dict[str, Any]]) -> FormSpec:
    return forms.authorise_breach(_open_breaches(state, items))


def _decline(app: App, state: CaseState, items: list[dict[str, Any]]) -> FormSpec:
    return forms.decline_breach(_open_breaches(state, items))


def _agree(app: App, state: CaseState, items: list[dict[str, Any]]) -> FormSpec:
    changes = {str(i["event_id"]): i for i in items if i["type"] == "intervention_level_changed"}
    options = []
    for change, agreed in state.level_changes.items():
        item = changes.get(str(change))
        if not agreed and item is not None:
            level = say(str(item["data"].get("intervention_level", "")))
            options.append((str(change), f"{level}, recorded {when(item['occurred_at'])}"))
    return forms.agree_level(options)


def _oversight(app: App, state: CaseState, items: list[dict[str, Any]]) -> FormSpec:
    return forms.oversight(policy_for(app).manager_decisions.oversight_categories)


def _done(app: App, state: CaseState, items: list[dict[str, Any]]) -> FormSpec:
    labels = policy_for(app).manager_decisions.oversight_categories
    by_id = {str(i["data"].get("oversight_id")): i for i in items
             if i["type"] == "management_oversight_recorded" and "corrected" not in i["css"]}
    options = []
    for oversight_id, status in state.oversight.items():
        item = by_id.get(oversight_id)
        if status == "open" and item is not None:
            category = labels.get(str(item["data"].get("category")), "oversight")
            options.append((oversight_id, f"{category}: action due "
                                          f"{item['data'].get('action_due', '')}"))
    return forms.oversight_done(options)


def _act(request: Request, app: App, guard: CaseGuard, principal: SignedIn, action: str,
         case_id: str, make: Choices) -> tuple[Act, CaseState]:
    manager_act = make is not _done
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request),
                           manager_act=manager_act)
    spec = make(app, state, entries(app, case_id))
    return Act(request, case_id, guard, principal, action, spec,
               manager_act=manager_act), state


def _new_oversight_id(data: dict[str, Any]) -> list[FieldProblem]:
    data.setdefault("oversight_id", f"OV-{uuid4().hex[:12]}")
    return []


ROUTES: dict[str, tuple[str, Choices]] = {
    "exceptional-circumstances": ("/cases/{case_id}/exceptional-circumstances", _excuse),
    "authorise-breach": ("/cases/{case_id}/breach/authorise", _authorise),
    "decline-breach": ("/cases/{case_id}/breach/decline", _decline),
    "agree-level": ("/cases/{case_id}/level/agree", _agree),
    "oversight": ("/cases/{case_id}/oversight", _oversight),
    "oversight-done": ("/cases/{case_id}/oversight/done", _done),
}
"""Each act's page, by its form's slug, and how its form is built from the case."""


def _page(make: Choices, title: str) -> Callable[..., Response]:
    def page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep, action: Action,
             principal: PageUser, alert: str = "") -> Response:
        act, state = _act(request, app, guard, principal, action, case_id, make)
        values: dict[str, str | list[str]] = {"occurred_at": local_input(app.clock.now())}
        if alert and act.spec.slug == "oversight":
            values |= from_alert(app, principal, case_id, alert[:200])
        return act.show(state, values, {})
    page.__doc__ = f"{title} (the form)."
    return page


def _submit(make: Choices) -> Callable[..., Response]:
    def submit(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
               action: Action, form: PostedForm) -> Response:
        principal, values = form
        act, _state = _act(request, app, guard, principal, action, case_id, make)
        complete = _new_oversight_id if act.spec.slug == "oversight" else None
        return act.save(values, complete=complete)
    return submit


for _slug, (_path, _make) in ROUTES.items():
    router.add_api_route(_path, _page(_make, forms.TITLES[_slug]), methods=["GET"],
                         name=f"{_slug}_page")
    router.add_api_route(_path, _submit(_make), methods=["POST"], name=f"{_slug}_submit")


CATEGORY_OF_RULE = {
    "breach_due": "enforcement_decision", "breach_awaiting_authorisation": "enforcement_decision",
    "no_case_manager": "allocation", "case_manager_changed_at_transition": "allocation",
    "custody_without_community_case_manager": "allocation",
}
"""The oversight category an alert's entry starts in (others: case discussion)."""


def from_alert(app: App, principal: SignedIn, case_id: str, alert_id: str
               ) -> dict[str, str | list[str]]:
    """An oversight form pre-filled from one of the case's alerts: its category, a note
    naming the alert and the manager's acknowledgement, and the alert's id."""
    found = next((a for a in alert_queries.alerts_of_case(app, case_id)
                  if a["alert_id"] == alert_id), None)
    if found is None:
        return {}
    categories = policy_for(app).manager_decisions.oversight_categories
    category = CATEGORY_OF_RULE.get(found["rule"], "case_discussion")
    note = f"Alert: {TEXT.get(found['rule'], found['rule'])}."
    for label, text in (("Acknowledged", found["ack_note"]), ("Closed", found["close_note"])):
        if text:
            note += f" {label}: {text}"
    return {"category": category if category in categories else next(iter(categories)),
            "note": note, "from_alert": alert_id}
