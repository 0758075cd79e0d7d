"""The practitioner's daily acts as forms (issue 12 §1): follow up a missed appointment,
schedule one, allocate or end a case manager, record a warning, close the case, correct or
retract an entry.

Each page is shown only to someone who may write to the case (``CaseGuard.writable``, the
refusal logged), and each submission is one command through ``record_form`` — so through
``CaseService.record``, which reads the case's stream once, authorises and decides. A
user's mistake shows the form again (422) with the message beside its field; a clash with
another writer shows it again (409). After saving, the case page shows a success banner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from events.catalogue import parse_event
from projections.history import case_history
from tracker.domain.case import CaseState
from tracker.domain.commands import RecordEvent
from tracker.domain.policy import Policy
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.web import act_forms
from tracker.edges.web.act_forms import CORRECTION_REASON, RETRACT, Options, followed_up
from tracker.edges.web.case_pages import (
    CaseId,
    clash,
    form_context,
    problems_to_errors,
    record_form,
    timeline_items,
)
from tracker.edges.web.common import render, when
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import (
    FormSpec,
    FormValues,
    local_input,
    objective_rows,
    parse_local,
    to_event,
)
from tracker.edges.web.forms import words as say
from tracker.edges.web.staff import StaffNames, staff_names
from tracker.edges.web.timeline import heading
from tracker.kernel.errors import CaseNotFound, ConcurrencyConflict, FieldProblem, InvalidInput
from tracker.services.app import App, policy_for

EventId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
Complete = Callable[[dict[str, Any]], list[FieldProblem]]
"""Finishes an act's event data in place from the form's; returns the form's problems."""

router = APIRouter(include_in_schema=False)


@dataclass
class Act:
    """One act being shown or saved: who, on which case, with which form."""

    request: Request
    case_id: str
    guard: CaseGuard
    principal: SignedIn
    action: str
    spec: FormSpec
    extra: dict[str, Any] = field(default_factory=dict)
    now_occurred: bool = False
    """The act happens as it is recorded (no "when" field)."""
    attempted: bool = False
    """A write was attempted (the guard logged this request's access then)."""
    kind: str | None = None
    """The one event type the form records, for those who may record only some
    (``CaseGuard.writable``): a receiving manager's answer to a transfer."""
    manager_act: bool = False
    """A manager's act (``tracker.edges.web.manager_acts``): shown to managers only."""

    def show(self, state: CaseState, values: FormValues, errors: dict[str, str],
             status: int = 200) -> Response:
        ctx = form_context(self.spec, self.case_id, state, values, errors)
        ctx["show_occurred"] = not self.now_occurred
        return render(self.request, "act.html", ctx | self.extra, status=status)

    def again(self, values: FormValues, errors: dict[str, str], status: int) -> Response:
        """The form once more, with the case as it is now (its version for the next try)."""
        state = self.guard.writable(self.principal.user, self.case_id, self.action,
                                    log_allowed=not self.attempted, kind=self.kind,
                                    manager_act=self.manager_act)
        return self.show(state, values, errors, status)

    def save(
        self, values: FormValues, *, complete: Complete | None = None,
        build: Callable[[dict[str, Any], datetime | None], tuple[dict[str, Any], datetime]]
        | None = None,
        adapt: Callable[[CaseState, RecordEvent], RecordEvent] | None = None,
        event_type: str | None = None,
        remap: Callable[[FieldProblem], FieldProblem] | None = None,
        done: str | None = None,
    ) -> Response:
        """Record the form's event; back to the case with a banner, or the form again.
        ``done``: where to go instead when the act leaves the user unable to read the case
        (a rejected transfer), so they land on a page they may see, with the banner."""
        now = self.guard.app.clock.now()
        if self.now_occurred:
            values = {**values, "occurred_at": local_input(now)}
        data, occurred, problems = self.parse(values)
        if not problems and complete is not None:
            problems = complete(data)
        if not problems:
            if build is not None:
                data, occurred = build(data, occurred)
            self.attempted = True
            try:
                found = record_form(
                    self.guard, self.principal, self.action, self.case_id,
                    event_type or self.spec.event_type, data, occurred or now,
                    expected_version(values), adapt=adapt,
                )
            except ConcurrencyConflict as exc:
                return self.again(values, clash(exc), 409)
            if found is None:
                return RedirectResponse(self.recorded(done), status_code=303)
            problems = [remap(p) for p in found] if remap is not None else found
        return self.again(values, self.place(values, problems), 422)

    # What a kind of act with its own form (the QA audit) replaces: how the form is read,
    # where a problem is shown, where the user goes once it is recorded.

    def parse(self, values: FormValues
              ) -> tuple[dict[str, Any], datetime | None, list[FieldProblem]]:
        """The event's data and moment from the form, and the form's own problems."""
        return act_forms_to_event(self.spec, values)

    def place(self, values: FormValues, problems: list[FieldProblem]) -> dict[str, str]:
        """Each problem keyed by the form field it is shown beside (``_form``: above)."""
        return problems_to_errors(self.spec, problems, objective_rows(self.spec, values))

    def recorded(self, done: str | None = None) -> str:
        """Where the user goes once the act is recorded: the case (or ``done``), with a banner."""
        return f"{done or f'/cases/{self.case_id}'}?recorded={self.spec.slug}"


def act_forms_to_event(
    spec: FormSpec, values: FormValues
) -> tuple[dict[str, Any], datetime | None, list[FieldProblem]]:
    """``forms.to_event``, with the choices checked: a value must be one offered."""
    from_form = to_event(spec, values)
    data, _occurred, problems = from_form
    for f in spec.fields:
        if f.kind == "select" and f.name in data and data[f.name] not in dict(f.options):
            problems.append(FieldProblem(f.name, "choose one of the options"))
    return from_form


def expected_version(values: FormValues) -> int | None:
    """The version the form was shown at (a clash if someone wrote since), if sent."""
    raw = values.get("expected_version", "")
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
        return int(raw)
    return None


def shown(request: Request) -> bool:
    """Whether showing the form is the request's access (a GET), to log as a read; a post
    is logged once, by its write or by showing the form again."""
    return request.method == "GET"


# -- the case's choices --------------------------------------------------------------------


def entries(app: App, case_id: str) -> list[dict[str, Any]]:
    """The case's entries, oldest first, with their marks (for choices and originals)."""
    return timeline_items(case_history(app, case_id)["events"], newest_first=False)


def missed_to_follow_up(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Missed appointments standing and not yet followed up, as choices."""
    done = followed_up(items)
    return [(str(i["event_id"]), f"{say(str(i['data'].get('kind', '')))} appointment missed "
                                 f"{when(i['occurred_at'])}")
            for i in items if i["type"] == "contact_missed" and "corrected" not in i["css"]
            and i["event_id"] not in done]


def failures_to_warn(state: CaseState, items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Unacceptable failures with no warning or exceptional circumstances yet, as choices."""
    label = {str(i["event_id"]): f"{say(str(i['data'].get('kind', '')))} appointment missed "
                                 f"{when(i['occurred_at'])}" for i in items}
    return [(str(f.event_id), label.get(str(f.event_id), f"failure on {f.day.isoformat()}"))
            for f in state.failures
            if f.event_id not in state.warned and f.event_id not in state.excused]


def failures_to_breach(state: CaseState, items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Unacceptable failures without exceptional circumstances, as choices: the ones a
    breach may rest on (whether the warnings allow it is the domain's rule, told on saving)."""
    label = {str(i["event_id"]): f"{say(str(i['data'].get('kind', '')))} appointment missed "
                                 f"{when(i['occurred_at'])}" for i in items}
    return [(str(f.event_id), label.get(str(f.event_id), f"failure on {f.day.isoformat()}"))
            for f in state.failures if f.event_id not in state.excused]


def holders(state: CaseState, names: StaffNames) -> list[tuple[str, str]]:
    """The case's current allocations, as choices (``id|role``)."""
    return [(f"{h.practitioner}|{h.role}", f"{names(h.practitioner)} ({say(h.role).lower()})")
            for h in state.allocations]


def staff_choices(names: StaffNames, state: CaseState) -> tuple[Options, Options]:
    """The practitioners and managers of the case's team."""
    teams = [state.team]
    return names.in_teams("practitioner", teams), names.in_teams("manager", teams)


def enforcement_refusal(state: CaseState, policy: Policy, step: str) -> str | None:
    """Why a warning (``step`` "warnings") or breach proceedings ("breach") cannot be recorded
    on this case now (None: they can): a closed case, or a disposal whose enforcement route has
    no such step (its profile says why)."""
    if state.closed:
        return "The case is closed."
    if state.opened is not None:
        profile = policy.profile(state.opened.disposal_type)
        if not getattr(profile, step):
            return profile.enforcement_note
    return None


# -- follow-up ----------------------------------------------------------------------------


def follow_up_act(request: Request, app: App, guard: GuardDep, principal: SignedIn,
                  action: str, case_id: str) -> tuple[Act, CaseState]:
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request))
    spec = act_forms.follow_up(missed_to_follow_up(entries(app, case_id)))
    return Act(request, case_id, guard, principal, action, spec), state


@router.get("/cases/{case_id}/follow-up")
def follow_up_page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                   action: Action, principal: PageUser, missed: str = "") -> Response:
    """Follow up a missed appointment, the one it was started from chosen already."""
    act, state = follow_up_act(request, app, guard, principal, action, case_id)
    values = {"occurred_at": local_input(app.clock.now()), "missed_event_id": missed[:36]}
    return act.show(state, values, {})


@router.post("/cases/{case_id}/follow-up")
def follow_up_submit(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                     action: Action, form: PostedForm) -> Response:
    principal, values = form
    act, _state = follow_up_act(request, app, guard, principal, action, case_id)
    return act.save(values)


# -- scheduling ------------------------------------------------------------------------------


def scheduled_for(data: dict[str, Any]) -> list[FieldProblem]:
    """The appointment's time typed in the UK, as an aware moment, and a new contact id."""
    try:
        data["scheduled_for"] = parse_local(str(data["scheduled_for"])[:32]).isoformat()
    except ValueError:
        return [FieldProblem("scheduled_for", "must be a date and time")]
    data.setdefault("contact_id", f"APT-{uuid4().hex[:12]}")
    return []


@router.get("/cases/{case_id}/schedule")
def schedule_page(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                  principal: PageUser) -> Response:
    """Book an appointment with the child (it shows in the case manager's diary): the case
    team's, a caretaking host's or the keyworker's, as ``authorise`` lets them."""
    state = guard.writable(principal.user, case_id, action, kind="contact_scheduled")
    act = Act(request, case_id, guard, principal, action, act_forms.SCHEDULE, now_occurred=True,
              kind="contact_scheduled")
    return act.show(state, {}, {})


@router.post("/cases/{case_id}/schedule")
def schedule_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                    form: PostedForm) -> Response:
    principal, values = form
    act = Act(request, case_id, guard, principal, action, act_forms.SCHEDULE, now_occurred=True,
              kind="contact_scheduled")
    return act.save(values, complete=scheduled_for)


# -- allocation ------------------------------------------------------------------------------


def in_case_team(state: CaseState, command: RecordEvent) -> RecordEvent:
    """An allocation made on the web is to the case's own team (from the case as loaded)."""
    return command.model_copy(update={"data": {**command.data, "team": state.team}})


def allocate_act(request: Request, guard: CaseGuard, principal: SignedIn, action: str,
                 case_id: str) -> tuple[Act, CaseState]:
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request))
    practitioners, managers = staff_choices(staff_names(request), state)
    spec = act_forms.allocate(practitioners, managers)
    return Act(request, case_id, guard, principal, action, spec), state


@router.get("/cases/{case_id}/allocate")
def allocate_page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                  action: Action, principal: PageUser) -> Response:
    """Allocate a practitioner of the case's team (the opener unless another is chosen)."""
    act, state = allocate_act(request, guard, principal, action, case_id)
    values = {"occurred_at": local_input(app.clock.now()), "role": "case_manager",
              "agency": "yot", "practitioner_id": principal.user.user_id}
    return act.show(state, values, {})


@router.post("/cases/{case_id}/allocate")
def allocate_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                    form: PostedForm) -> Response:
    principal, values = form
    act, _state = allocate_act(request, guard, principal, action, case_id)
    return act.save(values, adapt=in_case_team)


def split_holding(data: dict[str, Any]) -> list[FieldProblem]:
    """``P-N01|case_manager`` (one choice) as the event's practitioner and role."""
    practitioner, _bar, role = str(data.pop("holding", "")).partition("|")
    data["practitioner_id"], data["role"] = practitioner, role
    return []


def end_act(request: Request, guard: CaseGuard, principal: SignedIn, action: str,
            case_id: str) -> tuple[Act, CaseState]:
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request))
    spec = act_forms.end_allocation(holders(state, staff_names(request)))
    return Act(request, case_id, guard, principal, action, spec), state


def holding_problem(p: FieldProblem) -> FieldProblem:
    """A rule about the practitioner or role belongs to the one choice that set both."""
    if p.field in ("data.practitioner_id", "data.role"):
        return FieldProblem("holding", p.reason)
    return p


@router.get("/cases/{case_id}/allocation/end")
def end_allocation_page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                        action: Action, principal: PageUser) -> Response:
    """End a current allocation (reallocated, left the service, ...)."""
    act, state = end_act(request, guard, principal, action, case_id)
    return act.show(state, {"occurred_at": local_input(app.clock.now())}, {})


@router.post("/cases/{case_id}/allocation/end")
def end_allocation_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                          form: PostedForm) -> Response:
    principal, values = form
    act, _state = end_act(request, guard, principal, action, case_id)
    return act.save(values, complete=split_holding, remap=holding_problem)


# -- warnings and breach -----------------------------------------------------------------------

ENFORCEMENT_ACTS = {
    "warning": (act_forms.warning, failures_to_warn, "warnings"),
    "breach": (act_forms.breach, failures_to_breach, "breach"),
}
"""Each enforcement step's form, the failures it may rest on, and the profile's flag that
says whether the disposal has the step at all."""


def enforcement_act(request: Request, app: App, guard: CaseGuard, principal: SignedIn,
                    action: str, case_id: str, slug: str) -> tuple[Act, CaseState]:
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request))
    form, failures, step = ENFORCEMENT_ACTS[slug]
    spec = form(failures(state, entries(app, case_id)))
    refusal = enforcement_refusal(state, policy_for(app), step)
    return Act(request, case_id, guard, principal, action, spec,
               extra={"refusal": refusal}), state


def _enforcement_routes(slug: str) -> None:
    """The page and its submission for a formal warning for an unacceptable failure, or for
    breach proceedings resting on such failures, where the order has them."""
    path = f"/cases/{{case_id}}/{slug}"

    @router.get(path, name=f"{slug}_page")
    def page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
             action: Action, principal: PageUser) -> Response:
        act, state = enforcement_act(request, app, guard, principal, action, case_id, slug)
        return act.show(state, {"occurred_at": local_input(app.clock.now())}, {})

    @router.post(path, name=f"{slug}_submit")
    def submit(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
               action: Action, form: PostedForm) -> Response:
        principal, values = form
        act, _state = enforcement_act(request, app, guard, principal, action, case_id, slug)
        return act.save(values)


for _slug in ENFORCEMENT_ACTS:
    _enforcement_routes(_slug)


# -- closing (with a confirmation step) ---------------------------------------------------------


def close_act(request: Request, guard: CaseGuard, principal: SignedIn, action: str,
              case_id: str) -> Act:
    return Act(request, case_id, guard, principal, action, act_forms.CLOSE)


@router.get("/cases/{case_id}/close")
def close_page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
               action: Action, principal: PageUser) -> Response:
    """Close the case, with the reason; the next page asks to confirm."""
    state = guard.writable(principal.user, case_id, action)
    act = close_act(request, guard, principal, action, case_id)
    return act.show(state, {"occurred_at": local_input(app.clock.now())}, {})


@router.post("/cases/{case_id}/close")
def close_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                 form: PostedForm) -> Response:
    """First the form is checked and a confirmation shown; the confirmed form records."""
    principal, values = form
    act = close_act(request, guard, principal, action, case_id)
    if values.get("confirm") == "yes":
        return act.save(values)
    _data, _occurred, problems = act_forms_to_event(act.spec, values)
    errors = problems_to_errors(act.spec, problems, [])
    state = guard.writable(principal.user, case_id, action)
    act.extra = {"confirm": not errors}
    return act.show(state, values, errors, 422 if errors else 200)


# -- corrections ---------------------------------------------------------------------------------


def the_entry(app: App, case_id: str, event_id: str, names: StaffNames) -> dict[str, Any]:
    """The entry being corrected, with its heading; 404 if the case has no such entry."""
    items = entries(app, case_id)
    versions = {str(i["event_id"]): int(i["version"]) for i in items}
    for item in items:
        if item["event_id"] == event_id.lower():
            return {**item, "heading": heading(item, names, versions)}
    raise CaseNotFound("there is no such entry on this case")


@router.get("/cases/{case_id}/retract/{event_id}")
def retract_page(request: Request, case_id: CaseId, event_id: EventId, app: AppDep,
                 guard: GuardDep, action: Action, principal: PageUser) -> Response:
    """Retract an entry that should not have been recorded (it stays, marked)."""
    state = guard.writable(principal.user, case_id, action)
    original = the_entry(app, case_id, event_id, staff_names(request))
    act = Act(request, case_id, guard, principal, action, RETRACT, now_occurred=True,
              extra={"original": original, "destructive": "Retract this entry"})
    return act.show(state, {}, {})


@router.post("/cases/{case_id}/retract/{event_id}")
def retract_submit(request: Request, case_id: CaseId, event_id: EventId, app: AppDep,
                   guard: GuardDep, action: Action, form: PostedForm) -> Response:
    principal, values = form
    guard.writable(principal.user, case_id, action, log_allowed=False)
    original = the_entry(app, case_id, event_id, staff_names(request))
    act = Act(request, case_id, guard, principal, action, RETRACT, now_occurred=True,
              extra={"original": original, "destructive": "Retract this entry"})

    def target(data: dict[str, Any]) -> list[FieldProblem]:
        data["target_event_id"] = original["event_id"]
        return []

    return act.save(values, complete=target)


def correction_problem(p: FieldProblem) -> FieldProblem:
    """A problem with a correction's event, on the field of the form that caused it."""
    name = p.field
    if name.startswith("data.replacement."):
        return FieldProblem("data." + name[len("data.replacement."):], p.reason)
    if name == "data.replacement_occurred_at":
        return FieldProblem("occurred_at", p.reason)
    if name == "data.reason":
        return FieldProblem(CORRECTION_REASON.name, p.reason)
    if name == "data.target_event_id":
        return FieldProblem("_form", p.reason)
    return p


def correct_act(request: Request, app: App, guard: CaseGuard, principal: SignedIn,
                action: str, case_id: str, event_id: str) -> tuple[Act, CaseState, Any]:
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request))
    names = staff_names(request)
    original = the_entry(app, case_id, event_id, names)
    data = original["data"]
    own = act_forms.correction_spec(original["type"], data, [])
    if own is None:
        raise CaseNotFound("this entry cannot be corrected on a form; retract it instead")
    spec = FormSpec("correct", f"Correct: {original['heading']}", original["type"],
                    [CORRECTION_REASON, *own.fields], intro=own.intro,
                    objectives=own.objectives)
    act = Act(request, case_id, guard, principal, action, spec,
              extra={"original": original, "correcting": True})
    return act, state, original


@router.get("/cases/{case_id}/correct/{event_id}")
def correct_page(request: Request, case_id: CaseId, event_id: EventId, app: AppDep,
                 guard: GuardDep, action: Action, principal: PageUser) -> Response:
    """The entry's own form filled in as recorded, beside the original, to correct it."""
    act, state, original = correct_act(request, app, guard, principal, action, case_id,
                                       event_id)
    values = act_forms.prefill(act.spec, original["data"], original["occurred_at"])
    return act.show(state, values, {})


@router.post("/cases/{case_id}/correct/{event_id}")
def correct_submit(request: Request, case_id: CaseId, event_id: EventId, app: AppDep,
                   guard: GuardDep, action: Action, form: PostedForm) -> Response:
    """Supersede the entry with the form's replacement (same type, its own rules)."""
    principal, values = form
    act, _state, original = correct_act(request, app, guard, principal, action, case_id,
                                        event_id)
    kind = original["type"]
    kept = {k: v for k, v in original["data"].items() if k == "contact_id"}

    def complete(data: dict[str, Any]) -> list[FieldProblem]:
        """The replacement as its event model reads it (stored typed, as the original)."""
        problems = scheduled_for(data) if kind == "contact_scheduled" else []
        data.update(kept)
        if kind == "plan_agreed":
            data.pop("reason", None)
        reason = data.pop(CORRECTION_REASON.name, "")
        try:
            typed = parse_event(kind, data, context="data").model_dump(mode="json",
                                                                      exclude_none=True)
        except InvalidInput as exc:
            return [*problems, *exc.problems]
        data.clear()
        data.update(typed, **{CORRECTION_REASON.name: reason})
        return problems

    def build(data: dict[str, Any], occurred: datetime | None) -> tuple[dict[str, Any], datetime]:
        reason = data.pop(CORRECTION_REASON.name, "")
        now = app.clock.now()
        return {
            "target_event_id": original["event_id"], "reason": reason,
            "replacement_type": kind, "replacement": data,
            "replacement_occurred_at": (occurred or now).isoformat(),
        }, now

    return act.save(values, complete=complete, build=build, event_type="event_superseded",
                    remap=correction_problem)

