"""QA pages (issue 11 §3): dip samples — draw one, list those drawn, work through one — the
audit form (one yes / no / not applicable group per prompt of seed 001 Annexe A, key
questions rolled up by the policy's rule unless overridden with a reason), and completing
an action an audit found.

Who may: drawing is QA's (``can_draw_samples``), the list is QA's and auditors'; the audit
form is shown only to someone who may audit the case (``CaseGuard.auditable``, refusals
logged) and saved through ``CaseService.record`` like every write. An action is completed
by someone who may write to the case (its team's practitioners).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from projections.history import case_history
from projections.sampling import PRESETS, STRATA
from tracker.domain.access import can_draw_samples, can_list_samples
from tracker.domain.audits import key_questions
from tracker.domain.case import CaseState
from tracker.domain.inspection import question_set
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep, ReportsDep
from tracker.edges.api.guard import CaseGuard
from tracker.edges.web import act_forms
from tracker.edges.web.acts import Act, shown
from tracker.edges.web.case_pages import CaseId
from tracker.edges.web.common import render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import (
    NOTE,
    RISK,
    Field,
    FormSpec,
    FormValues,
    choices,
    day_field,
    friendly,
    local_input,
)
from tracker.edges.web.qa_view import audit_actions, slug
from tracker.edges.web.staff import staff_names
from tracker.kernel.clock import local_date
from tracker.kernel.errors import AccessDenied, FieldProblem, InvalidInput
from tracker.services.app import App

router = APIRouter(include_in_schema=False)
SampleId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
ACTION_ROWS = 3
PROMPT_CHOICES = [("yes", "Yes"), ("no", "No"), ("not_applicable", "Not applicable")]

SAMPLE_FORM = FormSpec("sample", "Draw a sample", "", [
    Field("preset", "Kind of sample", "radio", [
        ("inspection", "Inspection: 60% court, 40% out of court; 20% of the cases, at least 20"),
        ("monthly_dip", "Monthly dip: N cases per practitioner, from last month"),
        ("custom", "Custom: a size spread over the strata chosen"),
    ], required=True),
    Field("seed", "Seed", required=True,
          hint="A whole number. The same seed, window and settings draw the same cases."),
    Field("start", "Window from", "date", hint="Cases that commenced supervision from…"),
    Field("end", "Window to", "date"),
    Field("team", "Team", hint="Leave empty for every team."),
    Field("strata", "Strata (custom)", "checkboxes", choices(STRATA, {
        "route": "Court / out of court", "risk": "Risk of serious harm level"})),
    Field("size", "Size (custom)"),
    Field("per_practitioner", "Cases per practitioner (monthly dip)",
          hint="Empty: the policy's number."),
])


def _one(values: FormValues, name: str) -> str:
    raw = values.get(name, "")
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return raw.strip()


def _int(values: FormValues, name: str, errors: dict[str, str]) -> int | None:
    raw = _one(values, name)
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        errors[name] = "enter a whole number"
        return None
    return int(raw)


# -- samples ---------------------------------------------------------------------------------


def _samples_page(request: Request, reports: ReportsDep, principal: SignedIn,
                  values: FormValues, errors: dict[str, str], status: int = 200) -> Response:
    return render(request, "qa_samples.html", {
        "title": "Dip samples", "samples": reports.samples(principal.user),
        "spec": SAMPLE_FORM, "values": values, "errors": errors,
        "can_draw": can_draw_samples(principal.user),
        "labels": {f.name: f.label for f in SAMPLE_FORM.fields},
    }, status=status)


@router.get("/qa/samples")
def samples_page(request: Request, reports: ReportsDep, principal: PageUser) -> Response:
    """The samples drawn, newest first, and (for QA) the form to draw one."""
    if not can_list_samples(principal.user):
        raise AccessDenied()
    return _samples_page(request, reports, principal, {"preset": "inspection"}, {})


@router.post("/qa/samples")
def draw_sample(request: Request, reports: ReportsDep, action: Action,
                form: PostedForm) -> Response:
    """Draw a sample and record it; then show it."""
    principal, values = form
    if not can_draw_samples(principal.user):
        raise AccessDenied()
    errors: dict[str, str] = {}
    preset = _one(values, "preset")
    if preset not in PRESETS:
        errors["preset"] = "choose one of the options"
    seed = _int(values, "seed", errors)
    if seed is None and "seed" not in errors:
        errors["seed"] = "enter a seed"
    start, end = day_field(_one(values, "start"), "start", errors), day_field(
        _one(values, "end"), "end", errors)
    size = _int(values, "size", errors)
    per = _int(values, "per_practitioner", errors)
    raw_strata = values.get("strata", [])
    strata = raw_strata if isinstance(raw_strata, list) else [raw_strata]
    if not errors and seed is not None:
        try:
            drawn = reports.draw_sample(
                principal.user, action, preset=preset, seed=seed, start=start, end=end,
                team=_one(values, "team") or None, strata=[s for s in strata if s],
                size=size, per_practitioner=per)
        except InvalidInput as exc:
            errors = {p.field if p.field in SAMPLE_FORM.field_names() else "_form":
                      friendly(p.reason) for p in exc.problems}
        else:
            return RedirectResponse(f"/qa/samples/{drawn['sample_id']}", status_code=303)
    return _samples_page(request, reports, principal, values, errors, status=422)


@router.get("/qa/samples/{sample_id}")
def sample_page(request: Request, sample_id: SampleId, reports: ReportsDep, action: Action,
                principal: PageUser) -> Response:
    """One sample: why these cases (its parameters), and each case, audited or not yet."""
    if not can_list_samples(principal.user):
        raise AccessDenied()
    found = reports.sample(principal.user, sample_id, action)
    return render(request, "qa_sample.html", {
        "title": f"Sample drawn {found['drawn_at'][:10]}", "sample": found,
        "can_audit": principal.user.role == "qa",
    })


# -- the audit form ----------------------------------------------------------------------------


def _audit_fields(state: CaseState, themes: tuple[str, ...]) -> dict[str, Any]:
    """The audit form's fields, grouped as the page shows them."""
    assert state.opened is not None
    qs = question_set()
    head = [
        Field("audit_type", "Kind of audit", "radio",
              [("full", "Full: every prompt"), ("thematic", "Thematic: the prompts of a theme")],
              required=True),
        Field("theme", "Theme (thematic audits)", "select", choices(themes)),
    ]
    standards = []
    for standard in qs.standards_of(state.opened.route):
        if not standard.casework:
            continue
        questions = []
        for kq in standard.key_questions:
            if kq.lens is None:
                continue
            s = slug(kq.id)
            fields = []
            for p in kq.prompts:
                fields.append(Field(f"p_{s}_{p.id}", f"{p.id}) {p.text}", "radio",
                                    PROMPT_CHOICES))
                fields.append(Field(f"c_{s}_{p.id}", f"Comment on {kq.id} {p.id}"))
            fields.append(Field(f"o_{s}", f"Override {kq.id}'s roll-up", "select", YES_NO_KQ,
                                hint="Leave as 'Choose…' to use the answer the prompts give."))
            fields.append(Field(f"r_{s}", f"Why override {kq.id}?"))
            questions.append({"id": kq.id, "slug": s, "text": kq.text, "fields": fields})
        standards.append({"id": standard.id, "title": standard.title, "questions": questions})
    tail = [
        Field("safety_and_wellbeing", "Your judgement of the child's safety and wellbeing",
              "select", RISK),
        Field("risk_of_serious_harm", "Your judgement of the risk of serious harm", "select",
              RISK),
        NOTE,
    ]
    return {"head": head, "standards": standards, "tail": tail}


YES_NO_KQ = [("yes", "Yes"), ("no", "No")]


def _action_fields(owners: list[tuple[str, str]]) -> list[tuple[int, list[Field]]]:
    return [(i, [Field(f"a{i}_description", "What must be done?"),
                 Field(f"a{i}_owner", "Owner", "select", owners),
                 Field(f"a{i}_due", "Due by", "date")]) for i in range(1, ACTION_ROWS + 1)]


def audit_data(state: CaseState, values: FormValues) -> tuple[dict[str, Any], dict[str, str],
                                                                dict[str, str]]:
    """The event data from the form, the form's own problems, and where each part of the
    data came from (a data path -> the form field, to put a rule's message beside it)."""
    assert state.opened is not None
    errors: dict[str, str] = {}
    origin: dict[str, str] = {"data.theme": "theme", "data.audit_type": "audit_type",
                              "data.note": "note"}
    data: dict[str, Any] = {"audit_type": _one(values, "audit_type") or "full"}
    if _one(values, "theme"):
        data["theme"] = _one(values, "theme")
    prompts: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    for kq_id, (_standard, kq) in key_questions(question_set(), state.opened.route).items():
        s = slug(kq_id)
        for p in kq.prompts:
            answer = _one(values, f"p_{s}_{p.id}")
            comment = _one(values, f"c_{s}_{p.id}")
            if not answer:
                if comment:
                    errors[f"p_{s}_{p.id}"] = "answer the prompt you commented on"
                continue
            origin[f"data.prompts.{len(prompts)}"] = f"p_{s}_{p.id}"
            prompts.append({"key_question": kq_id, "prompt": p.id, "answer": answer}
                           | ({"comment": comment} if comment else {}))
        override, reason = _one(values, f"o_{s}"), _one(values, f"r_{s}")
        if override:
            if not reason:
                errors[f"r_{s}"] = "give the reason for overriding the roll-up"
            origin[f"data.overrides.{len(overrides)}"] = f"o_{s}"
            overrides.append({"key_question": kq_id, "answer": override == "yes",
                              "reason": reason})
        elif reason:
            errors[f"o_{s}"] = "choose the answer you give instead of the roll-up"
    data["prompts"] = prompts
    if overrides:
        data["overrides"] = overrides
    for name in ("safety_and_wellbeing", "risk_of_serious_harm", "note"):
        if _one(values, name):
            data[name] = _one(values, name)
            origin[f"data.{name}"] = name
    actions: list[dict[str, str]] = []
    for i in range(1, ACTION_ROWS + 1):
        parts = {k: _one(values, f"a{i}_{k}") for k in ("description", "owner", "due")}
        if not any(parts.values()):
            continue
        for k, v in parts.items():
            if not v:
                errors[f"a{i}_{k}"] = "needed for each action"
        n = len(actions)
        origin |= {f"data.actions.{n}.description": f"a{i}_description",
                   f"data.actions.{n}.owner_id": f"a{i}_owner",
                   f"data.actions.{n}.due_date": f"a{i}_due",
                   f"data.actions.{n}": f"a{i}_description"}
        actions.append({"action_id": f"AA-{uuid4().hex[:8]}", "description":
                        parts["description"], "owner_id": parts["owner"],
                        "due_date": parts["due"]})
    if actions:
        data["actions"] = actions
    return data, errors, origin


def _place(problems: list[FieldProblem], origin: dict[str, str]) -> dict[str, str]:
    """Each problem beside the field it came from (the longest matching data path)."""
    errors: dict[str, str] = {}
    for p in problems:
        name = "_form"
        for path in sorted(origin, key=len, reverse=True):
            if p.field == path or p.field.startswith(path + "."):
                name = origin[path]
                break
        reason = friendly(p.reason) if name != "_form" else f"{p.field}: {friendly(p.reason)}"
        errors[name] = f"{errors[name]}; {reason}" if name in errors else reason
    return errors


def _show_audit(request: Request, guard: CaseGuard, case_id: str, state: CaseState,
                values: FormValues, errors: dict[str, str], sample: str,
                status: int = 200) -> Response:
    policy = guard.service.policy
    names = staff_names(request)
    owners = (names.in_teams("practitioner", [state.team])
              + names.in_teams("manager", [state.team]))
    if not owners:  # a team with no accounts here: anyone who can own casework
        owners = [(u.user_id, u.display_name) for u in names.users
                  if u.active and u.role in ("practitioner", "manager")]
    groups = _audit_fields(state, policy.qa.themes)
    rows = _action_fields(owners)
    fields = [*groups["head"], *groups["tail"],
              *(f for s in groups["standards"] for q in s["questions"] for f in q["fields"])]
    labels = {f.name: f.label for f in fields}
    labels |= {f.name: f"Action {i}: {f.label}" for i, fs in rows for f in fs}
    fields += [f for _i, fs in rows for f in fs]
    return render(request, "audit_form.html", {
        "title": f"Audit case {case_id}", "case_id": case_id, "values": values,
        "errors": errors, "labels": labels, "groups": groups, "action_rows": rows,
        "spec": FormSpec(AUDIT.slug, AUDIT.title, AUDIT.event_type, fields),
        "expected_version": state.version, "sample_id": sample,
        "threshold": policy.qa.key_question_yes_pct,
        "route": state.opened.route if state.opened else "",
    }, status=status)


def _sample_arg(value: str) -> str:
    return value if len(value) == 36 and all(c in "0123456789abcdef-" for c in value) else ""


@router.get("/cases/{case_id}/audit")
def audit_page(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
               principal: PageUser, sample: str = "") -> Response:
    """The audit form, to QA who may audit this case (refusals logged, reveal nothing)."""
    state = guard.auditable(principal.user, case_id, action)
    return _show_audit(request, guard, case_id, state, {"audit_type": "full"}, {},
                       _sample_arg(sample))


@dataclass
class AuditAct(Act):
    """The audit as an act: saved like every other (``Act.save``), with its own form
    (``audit_form.html``), read by ``audit_data``, shown again on the auditor's guard, and
    back to the sample it was started from."""

    sample: str = ""
    audited: CaseState | None = None
    """The case as the auditor's guard loaded it (the form's prompts follow its route)."""
    origin: dict[str, str] = field(default_factory=dict)
    """Where each part of the event data came from (set by ``parse``)."""

    def show(self, state: CaseState, values: FormValues, errors: dict[str, str],
             status: int = 200) -> Response:
        return _show_audit(self.request, self.guard, self.case_id, state, values, errors,
                           self.sample, status)

    def again(self, values: FormValues, errors: dict[str, str], status: int) -> Response:
        state = self.guard.auditable(self.principal.user, self.case_id, self.action,
                                     log_allowed=not self.attempted)
        return self.show(state, values, errors, status)

    def parse(self, values: FormValues
              ) -> tuple[dict[str, Any], datetime | None, list[FieldProblem]]:
        state = self.audited or self.guard.state(self.case_id)
        data, errors, self.origin = audit_data(state, values)
        self.origin |= {name: name for name in errors}  # the form's own: beside themselves
        return data, None, [FieldProblem(name, reason) for name, reason in errors.items()]

    def place(self, values: FormValues, problems: list[FieldProblem]) -> dict[str, str]:
        return _place(problems, self.origin)

    def recorded(self, done: str | None = None) -> str:
        return f"/qa/samples/{self.sample}" if self.sample else super().recorded(done)


AUDIT = FormSpec("audit", "Audit the case", "case_audited", [])
"""The audit's event and banner (its fields are built per case by ``_audit_fields``)."""


@router.post("/cases/{case_id}/audit")
def audit_submit(request: Request, case_id: CaseId, guard: GuardDep, action: Action,
                 form: PostedForm) -> Response:
    """Save the audit through the one door; back to the sample (or the case)."""
    principal, values = form
    state = guard.auditable(principal.user, case_id, action, log_allowed=False)
    act = AuditAct(request, case_id, guard, principal, action, AUDIT,
                   sample=_sample_arg(_one(values, "sample")), audited=state)
    return act.save(values)


# -- completing an audit's action -------------------------------------------------------------


def _action_act(request: Request, app: App, guard: CaseGuard, principal: SignedIn,
                action: str, case_id: str) -> tuple[Act, CaseState]:
    state = guard.writable(principal.user, case_id, action, log_allowed=shown(request))
    rows = audit_actions(list(case_history(app, case_id)["events"]),
                         local_date(app.clock.now()))
    names = staff_names(request)
    open_rows = [(r["action_id"], f"{r['description']} ({names(r['owner_id'])}, due "
                                  f"{r['due_date']})") for r in rows if r["status"] != "done"]
    refusal = None if open_rows else "No audit action on this case is waiting to be completed."
    return Act(request, case_id, guard, principal, action, act_forms.audit_action(open_rows),
               extra={"refusal": refusal}), state


@router.get("/cases/{case_id}/audit-action")
def audit_action_page(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                      action: Action, principal: PageUser) -> Response:
    """Record that an action an audit found is done."""
    act, state = _action_act(request, app, guard, principal, action, case_id)
    return act.show(state, {"occurred_at": local_input(app.clock.now())}, {})


@router.post("/cases/{case_id}/audit-action")
def audit_action_submit(request: Request, case_id: CaseId, app: AppDep, guard: GuardDep,
                        action: Action, form: PostedForm) -> Response:
    """Record it from the form, or (no "when" sent: the case page's "Mark done") now."""
    principal, values = form
    act, _state = _action_act(request, app, guard, principal, action, case_id)
    act.now_occurred = "occurred_at" not in values
    return act.save(values)

