"""A case's pages: the case with its timeline, the practitioner's forms, replay, export.

Reading a case goes through ``CaseGuard.read`` (access-logged); every form goes through
``CaseGuard.record`` and so through ``CaseService.record``, like the API and the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from events.base import date_in_range, moment_in_range
from projections.countersignature import CountersignView
from projections.due import DueItem
from projections.history import HistoryEvent, case_history
from projections.replay import ReplayView, TimelineEntry
from tracker.domain.access import (
    Principal,
    can_audit_case,
    can_record_manager_act,
    can_write_case,
    may_record,
)
from tracker.domain.case import CaseState
from tracker.domain.commands import as_plan, parse_command, plan_event_type
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, GuardDep, ReportsDep
from tracker.edges.api.export import export_response, export_rows
from tracker.edges.api.guard import CaseGuard
from tracker.edges.api.schemas import CASE_ID_PATTERN
from tracker.edges.web import charts
from tracker.edges.web.act_forms import (
    act_links,
    answer_links,
    case_manager_field,
    saved_notice,
)
from tracker.edges.web.common import render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.due_forms import due_href
from tracker.edges.web.forms import (
    DOMAINS,
    FORMS,
    OCCURRED,
    OPEN_CASE,
    Field,
    FormSpec,
    FormValues,
    field_for,
    friendly,
    local_input,
    objective_rows,
    parse_local,
    to_event,
    today_input,
)
from tracker.edges.web.manager_act_forms import manager_act_links, oversight_done_link
from tracker.edges.web.manager_act_forms import saved_notice as manager_saved_notice
from tracker.edges.web.qa_view import audit_actions
from tracker.edges.web.route_forms import route_links
from tracker.edges.web.route_forms import saved_notice as route_saved_notice
from tracker.edges.web.staff import StaffNames, staff_names
from tracker.edges.web.timeline import FAMILIES, page_of
from tracker.kernel.clock import local_date
from tracker.kernel.errors import (
    AccessDenied,
    CaseAlreadyExists,
    CaseNotFound,
    ConcurrencyConflict,
    FieldProblem,
    InvalidInput,
    RuleViolation,
    TrackerError,
)
from tracker.services.app import policy_for
from tracker.services.cases import Adapt

CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN)]
Slug = Annotated[str, Path(pattern=r"^[a-z-]{1,32}$")]


def timeline_items(events: list[HistoryEvent], *, newest_first: bool) -> list[dict[str, Any]]:
    """History entries with their marks as tags and CSS classes for the timeline."""
    items = []
    for ev in events:
        tags: list[tuple[str, str]] = []
        css: list[str] = []
        for mark in ev.get("marks", []):
            if mark.startswith("back-dated"):
                tags.append((mark, "warn"))
                css.append("backdated")
            elif mark.startswith(("superseded", "retracted")):
                tags.append((mark, "bad"))
                css.append("corrected")
            else:
                tags.append((mark, ""))
        if ev.get("type") in ("event_superseded", "event_retracted"):
            css.append("correction")
        items.append({**ev, "tags": tags, "css": " ".join(css)})
    return items[::-1] if newest_first else items


SIGN_OFF_TAGS = {
    "awaiting": ("awaiting countersignature", "warn"),
    "countersigned": ("countersigned", "ok"),
    "returned": ("returned for revision", "bad"),
}


def sign_off_marks(items: list[dict[str, Any]], documents: list[CountersignView],
                   case_id: str, *, manager: bool) -> None:
    """Mark each assessment and plan with its countersignature; a manager of the case's team
    gets "Countersign" and "Return for revision" beside each one not yet acted on."""
    by_id = {d["document_event_id"]: d for d in documents}
    for item in items:
        doc = by_id.get(str(item.get("event_id")))
        if doc is None:
            continue
        tag = SIGN_OFF_TAGS.get(doc["status"])
        if tag is not None:
            item["tags"] = [*item["tags"], tag]
        if manager and doc["status"] in ("awaiting", "not_required"):
            eid = doc["document_event_id"]
            item["actions"] = [*item["actions"],
                               ("Countersign", f"/cases/{case_id}/countersign/{eid}"),
                               ("Return for revision", f"/cases/{case_id}/return/{eid}")]


def replay_items(timeline: list[TimelineEntry]) -> list[dict[str, Any]]:
    """Replay timeline entries (``projections.replay``) as timeline items with marks."""
    versions = {e["event_id"]: e["stream_version"] for e in timeline}
    items = []
    for e in timeline:
        tags: list[tuple[str, str]] = []
        css: list[str] = []
        if e.get("back_dated"):
            tags.append(("back-dated", "warn"))
            css.append("backdated")
        if e.get("status") in ("superseded", "retracted"):
            by = versions.get(e.get("corrected_by", ""), "?")
            tags.append((f"{e['status']} by v{by}", "bad"))
            css.append("corrected")
        if "corrects" in e:
            tags.append((f"corrects v{versions.get(e['corrects'], '?')}", ""))
            css.append("correction")
        later = e.get("corrected_later")
        if later:
            by = versions.get(later.get("by", ""), "?")
            tags.append((f"{later.get('kind', 'corrected')} later (v{by}, not known then)", "warn"))
        if e.get("recorded_later"):
            tags.append(("recorded later: not known then", "warn"))
        elif not e.get("in_view"):
            tags.append(("happened after this date", ""))
        items.append({
            **e, "version": e["stream_version"], "tags": tags, "css": " ".join(css),
        })
    return items


def objective_fields(i: int) -> list[Field]:
    """The fields of the plan form's ``i``-th objective row."""
    return [
        Field(f"objective_{i}_domain", "Domain", "select", DOMAINS),
        Field(f"objective_{i}_description", "What will change", "textarea"),
        Field(f"objective_{i}_target_date", "Target date", "date"),
    ]


def problems_to_errors(
    spec: FormSpec, problems: list[FieldProblem], rows: list[int]
) -> dict[str, str]:
    """Problems keyed by the form field they belong to (``_form`` for the rest)."""
    errors: dict[str, str] = {}
    for p in problems:
        name = field_for(spec, p.field, rows) or "_form"
        reason = friendly(p.reason) if name != "_form" else f"{p.field}: {friendly(p.reason)}"
        errors[name] = f"{errors[name]}; {reason}" if name in errors else reason
    return errors


def error_problems(exc: TrackerError) -> list[FieldProblem] | None:
    """The field problems in a user's mistake, or None if it is not one."""
    if isinstance(exc, InvalidInput):
        return exc.problems
    if isinstance(exc, RuleViolation):
        return [FieldProblem(exc.field, exc.reason)]
    if isinstance(exc, CaseAlreadyExists):
        return [FieldProblem("case_id", "is already in use")]
    return None


def open_form(principal: SignedIn, names: StaffNames) -> FormSpec:
    """The open-a-case form, its team a choice among the practitioner's own teams, and its
    case manager one of their teams' practitioners (the opener unless another is chosen)."""
    teams = [(t, t) for t in sorted(principal.user.teams)]
    fields = [
        Field(f.name, f.label, f.kind, teams, f.required, f.hint) if f.name == "team" else f
        for f in OPEN_CASE.fields
    ]
    fields.append(case_manager_field(names.in_teams("practitioner", principal.user.teams)))
    return FormSpec(OPEN_CASE.slug, OPEN_CASE.title, OPEN_CASE.event_type, fields)


def open_context(spec: FormSpec, values: FormValues, errors: dict[str, str]) -> dict[str, Any]:
    """What ``open_case.html`` shows, first time or again with errors."""
    return {
        "title": spec.title, "spec": spec, "case_id": "", "values": values,
        "errors": errors, "labels": {f.name: f.label for f in spec.fields},
        "occurred": OCCURRED, "show_occurred": False, "objective_fields": objective_fields,
        "expected_version": None,
    }


def chosen_case_manager(
    spec: FormSpec, data: dict[str, Any], problems: list[FieldProblem], opener: str
) -> str:
    """The case manager chosen on the open form (taken out of the opening's data): the
    opener unless another is chosen."""
    manager = str(data.pop("case_manager", "")) or opener
    offered = dict(next(f.options for f in spec.fields if f.name == "case_manager"))
    if manager != opener and manager not in offered:
        problems.append(FieldProblem("case_manager", "choose one of the options"))
    return manager


def allocate_on_opening(
    guard: CaseGuard, principal: SignedIn, action: str, case_id: str, manager: str,
    opened: dict[str, Any], now: datetime,
) -> Response:
    """A case opened on the web is allocated at once (a second event, same request), so it
    is in its case manager's caseload; if that is refused, the allocation form says why."""
    found = record_form(guard, principal, action, case_id, "case_manager_allocated", {
        "practitioner_id": manager, "agency": "yot", "role": "case_manager",
        "team": opened.get("team"),
    }, now, 1)
    if found is not None:
        return RedirectResponse(f"/cases/{case_id}/allocate", status_code=303)
    return RedirectResponse(f"/cases/{case_id}?recorded=open", status_code=303)


def form_context(
    spec: FormSpec, case_id: str, state: CaseState, values: FormValues,
    errors: dict[str, str],
) -> dict[str, Any]:
    """What ``form.html`` shows for one of the practitioner's forms on a case."""
    title = spec.title
    if spec.slug == "plan" and plan_event_type(state) == "plan_revised":
        title = "Revise the plan"
    labels = {f.name: f.label for f in spec.fields} | {"occurred_at": OCCURRED.label}
    for i in range(1, spec.objectives + 1):
        labels |= {f.name: f"Objective {i}: {f.label}" for f in objective_fields(i)}
    return {
        "title": title, "spec": spec, "case_id": case_id, "values": values,
        "errors": errors, "labels": labels, "occurred": OCCURRED, "show_occurred": True,
        "objective_fields": objective_fields, "expected_version": state.version,
    }


def clash(exc: ConcurrencyConflict) -> dict[str, str]:
    """The form's error when someone else wrote to the case after it was shown."""
    return {"_form": (
        f"Someone else recorded on this case while you were writing (it is now at "
        f"version {exc.actual}). Check the case, then save again."
    )}


def form_spec(slug: str) -> FormSpec:
    """The form named in the path, or a 404."""
    spec = FORMS.get(slug)
    if spec is None:
        raise CaseNotFound("there is no such form")
    return spec


def practitioner(principal: SignedIn) -> None:
    """Only practitioners open cases (the service checks their team)."""
    if principal.user.role != "practitioner":
        raise AccessDenied()


router = APIRouter(include_in_schema=False)


# -- opening a case ------------------------------------------------------------------------


@router.get("/cases/new")
def open_case_page(request: Request, app: AppDep, principal: PageUser) -> Response:
    """The form to open a case, with today and the usual choices filled in."""
    practitioner(principal)
    spec = open_form(principal, staff_names(request))
    teams = sorted(principal.user.teams)
    values: dict[str, str | list[str]] = {
        "start_date": today_input(app.clock.now()), "setting": "community",
        "intervention_level": "standard", "team": teams[0] if len(teams) == 1 else "",
        "case_manager": principal.user.user_id,
    }
    return render(request, "open_case.html", open_context(spec, values, {}))


@router.post("/cases/new")
def open_case_submit(
    request: Request, app: AppDep, guard: GuardDep, action: Action, form: PostedForm
) -> Response:
    """Open the case through the guard; a user's mistake shows the form again (422)."""
    principal, values = form
    practitioner(principal)
    spec = open_form(principal, staff_names(request))
    data, _occurred, problems = to_event(spec, values)
    case_id = str(data.pop("case_id", ""))
    manager = chosen_case_manager(spec, data, problems, principal.user.user_id)
    if not problems:
        found = record_form(guard, principal, action, case_id, "case_opened", data,
                            app.clock.now(), None)
        if found is None:
            return allocate_on_opening(guard, principal, action, case_id, manager, data,
                                       app.clock.now())
        problems = found
    errors = problems_to_errors(spec, problems, [])
    return render(request, "open_case.html", open_context(spec, values, errors), status=422)


# -- the case ------------------------------------------------------------------------------


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    app: AppDep,
    guard: GuardDep,
    reports: ReportsDep,
    action: Action,
    principal: PageUser,
    recorded: str = "",
    family: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The case: its state, what is due, engagement, and the timeline newest first."""
    team = guard.read(principal.user, case_id, action)
    history = case_history(app, case_id)
    state = guard.service.state(case_id)
    view = reports.case_view(case_id)
    series = reports.case_engagement(case_id)
    flash = (saved_notice(recorded) or route_saved_notice(recorded)
             or manager_saved_notice(recorded))
    names = staff_names(request)
    may_write = can_write_case(principal.user, team)
    writer = may_write and principal.user.role == "practitioner"
    manager = may_write and principal.user.role == "manager"
    items = timeline_items(history["events"], newest_first=True)
    found_actions = audit_actions(list(history["events"]), local_date(app.clock.now()))
    shown = page_of(items, case_id, names, family=family[:32], page=page,
                    can_write=writer and not state.closed, can_correct=writer)
    sign_off_marks(shown.items, view["aspire"].get("countersignature", []), case_id,
                   manager=can_record_manager_act(principal.user, team) and not state.closed)
    return render(request, "case.html", {
        "title": f"Case {case_id}",
        "case_id": case_id,
        "team": team,
        "opened": state.opened,
        "closed": state.closed,
        "setting": state.setting,
        "version": state.version,
        "view": view,
        "items": shown.items,
        "timeline": shown,
        "families": FAMILIES,
        "acts": [*act_links(case_id, state, items), *route_links(
            case_id, state, policy_for(app).profile(state.opened.disposal_type)),
            *oversight_done_link(case_id, state)]
        if writer and not state.closed and state.opened is not None else [],
        "answers": answer_links(case_id, state, principal.user),
        "manager_acts": manager_act_links(case_id, state) if manager and not state.closed else [],
        "oversight": view.get("oversight", []) if view else [],
        "levels_awaiting": view.get("levels_awaiting_agreement", []) if view else [],
        "case_manager": names(state.case_manager.practitioner) if state.case_manager else "",
        "can_write": writer and not state.closed,
        "due_links": {} if state.closed or not view else due_links(
            case_id, view.get("due") or [], principal.user, state),
        "forms": {} if state.closed else {
            slug: spec for slug, spec in FORMS.items()
            if may_record(principal.user, state.teams, spec.event_type)
        },
        "chart": charts.engagement_chart(series, title=f"Case {case_id}"),
        "flash": flash,
        "audit_actions": found_actions,
        "can_complete_actions": writer and any(a["status"] != "done" for a in found_actions),
        "can_audit": can_audit_case(principal.user, team,
                                    guard.service.policy.qa.allow_peer_audit),
    })


# -- the practitioner's forms --------------------------------------------------------------


@router.get("/cases/{case_id}/log/{slug}")
def form_page(
    request: Request,
    case_id: CaseId,
    slug: Slug,
    app: AppDep,
    guard: GuardDep,
    action: Action,
    principal: PageUser,
) -> Response:
    """One of the practitioner's forms, if they may write to the case (refusals logged)."""
    spec = form_spec(slug)
    state = guard.writable(principal.user, case_id, action, kind=spec.event_type)
    values: dict[str, str | list[str]] = {"occurred_at": local_input(app.clock.now())}
    return render(request, "form.html", form_context(spec, case_id, state, values, {}))


@router.post("/cases/{case_id}/log/{slug}")
def form_submit(
    request: Request,
    case_id: CaseId,
    slug: Slug,
    guard: GuardDep,
    action: Action,
    form: PostedForm,
) -> Response:
    """Record the form through the guard; a clash (409) or a mistake (422) shows it again."""
    principal, values = form
    spec = form_spec(slug)
    data, occurred, problems = to_event(spec, values)
    rows = objective_rows(spec, values)
    attempted = not problems  # a write through the guard logs this request's access itself
    if not problems:
        raw_version = values.get("expected_version", "")
        expected = int(raw_version) if isinstance(raw_version, str) and raw_version.isdigit() \
            and len(raw_version) < 10 else None
        try:
            found = record_form(guard, principal, action, case_id, spec.event_type, data,
                                occurred, expected, adapt=as_plan if spec.slug == "plan" else None)
        except ConcurrencyConflict as exc:
            state = guard.writable(principal.user, case_id, action, log_allowed=False,
                                   kind=spec.event_type)
            return render(request, "form.html",
                          form_context(spec, case_id, state, values, clash(exc)), status=409)
        if found is None:
            return RedirectResponse(f"/cases/{case_id}?recorded={slug}", status_code=303)
        problems = found
    # shown again (errors, version); logged here unless the write attempt logged it
    state = guard.writable(principal.user, case_id, action, log_allowed=not attempted,
                           kind=spec.event_type)
    errors = problems_to_errors(spec, problems, rows)
    return render(request, "form.html", form_context(spec, case_id, state, values, errors),
                  status=422)


# -- replay and export ---------------------------------------------------------------------


def replay_moments(
    as_of: str, as_known_at: str, errors: dict[str, str]
) -> tuple[date | None, datetime | None]:
    """The replay's day and moment as typed, problems noted in ``errors``."""
    day: date | None = None
    moment: datetime | None = None
    if as_of.strip():
        try:
            day = date_in_range(date.fromisoformat(as_of.strip()[:10]))
        except ValueError as exc:
            errors["as_of"] = ("must be a date, e.g. 2026-03-31"
                               if "between" not in str(exc) else str(exc))
    if as_known_at.strip():
        try:
            moment = moment_in_range(parse_local(as_known_at.strip()[:32]))
        except ValueError as exc:
            errors["as_known_at"] = ("must be a date and time, e.g. 2026-03-31T17:00"
                                     if "between" not in str(exc) else str(exc))
    return day, moment


@router.get("/cases/{case_id}/replay")
def replay_page(
    request: Request,
    case_id: CaseId,
    guard: GuardDep,
    reports: ReportsDep,
    action: Action,
    principal: PageUser,
    as_of: str = "",
    as_known_at: str = "",
) -> Response:
    """The case as it stood on a day, as it was known at a moment (the read is logged)."""
    errors: dict[str, str] = {}
    day, moment = replay_moments(as_of, as_known_at, errors)
    team = guard.read(principal.user, case_id, action)
    replayed: ReplayView | None = None
    message = ""
    if not errors:
        try:
            replayed = reports.replay(case_id, as_of=day, as_known_at=moment)
        except CaseNotFound:
            message = "Nothing about this case had been recorded by then."
    items = replay_items(replayed.get("timeline", [])) if replayed else []
    return render(request, "replay.html", {
        "title": f"Replay of {case_id}", "case_id": case_id, "team": team,
        "as_of": as_of, "as_known_at": as_known_at, "day": day, "moment": moment,
        "errors": errors, "message": message,
        "items": [i for i in items if i["in_view"]],
        "later": [i for i in items if not i["in_view"]],
        "summary": replayed["summary"] if replayed else {},
        "state": replayed,
    }, status=422 if errors else 200)


def exported_view(
    guard: CaseGuard, principal: SignedIn, case_id: str, action: str, as_of: str,
    as_known_at: str,
) -> tuple[date | None, datetime | None]:
    """The replayed view an export is of (a bad date is a 422 naming it), once the reader
    may read the case (logged as an export)."""
    errors: dict[str, str] = {}
    day, moment = replay_moments(as_of, as_known_at, errors)
    if errors:
        raise InvalidInput([FieldProblem(k, v) for k, v in errors.items()])
    guard.read(principal.user, case_id, action)
    return day, moment


@router.get("/cases/{case_id}/export.{fmt}")
def export(
    case_id: CaseId,
    fmt: Annotated[str, Path(pattern=r"^(json|csv)$")],
    app: AppDep,
    guard: GuardDep,
    action: Action,
    principal: PageUser,
    as_of: str = "",
    as_known_at: str = "",
) -> Response:
    """The case's history as a file, all of it or exactly the replayed view (logged as an
    export)."""
    day, moment = exported_view(guard, principal, case_id, action, as_of, as_known_at)
    return export_response(app, case_id, fmt, as_of=day, as_known_at=moment)


@router.get("/cases/{case_id}/export")
def export_page(
    request: Request,
    case_id: CaseId,
    app: AppDep,
    guard: GuardDep,
    action: Action,
    principal: PageUser,
    as_of: str = "",
    as_known_at: str = "",
) -> Response:
    """What an export will hold, with a clear warning when it holds personal data in
    clear, before the download (the read is logged)."""
    day, moment = exported_view(guard, principal, case_id, action, as_of, as_known_at)
    doc = export_rows(app, case_id, as_of=day, as_known_at=moment)
    query = urlencode({k: v for k, v in (("as_of", as_of[:10]),
                                         ("as_known_at", as_known_at[:32])) if v})
    return render(request, "export.html", {
        "title": f"Export case {case_id}", "case_id": case_id, "day": day, "moment": moment,
        "count": len(doc["events"]), "personal": doc["contains_personal_data"],
        "query": f"?{query}" if query else "",
    })


def record_form(
    guard: CaseGuard, principal: SignedIn, action: str, case_id: str, event_type: str,
    data: dict[str, Any], occurred: datetime | None, expected: int | None,
    *, adapt: Adapt | None = None,
) -> list[FieldProblem] | None:
    """Record a form's event through the guard: None once recorded, else the user's
    mistakes to show on the form (anything else, a refusal or a clash, propagates)."""
    try:
        command = parse_command({
            "case_id": case_id, "event_type": event_type, "data": data,
            "occurred_at": occurred, "expected_version": expected,
        })
        guard.record(principal.user, command, action, adapt=adapt)
    except TrackerError as exc:
        found = error_problems(exc)
        if found is None:
            raise
        return found
    return None


def due_links(case_id: str, due: Sequence[DueItem], user: Principal, state: CaseState
              ) -> dict[tuple[str, str], dict[str, str]]:
    """Each thing due that the reader may do, keyed by (kind, subject): the address and
    words of its form, from the one map the caseload uses too."""
    links: dict[tuple[str, str], dict[str, str]] = {}
    for item in due:
        found = due_href(case_id, item)
        if found is not None and may_record(user, state.teams, found[1].event_type):
            links[(item["kind"], item["subject"] or "")] = {"href": found[0],
                                                            "text": found[1].text}
    return links
