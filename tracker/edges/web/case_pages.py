"""A case's pages: the case with its timeline, the practitioner's forms, replay, export.

Reading a case goes through ``CaseGuard.read`` (access-logged); every form goes through
``CaseGuard.record`` and so through ``CaseService.record``, like the API and the CLI.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from projections.history import case_history
from tracker.domain.access import can_write_case
from tracker.domain.case import CaseState
from tracker.domain.commands import RecordEvent, as_plan, parse_command, plan_event_type
from tracker.edges.api.auth import Principal, tracker_app
from tracker.edges.api.cases import export_response
from tracker.edges.api.guard import CaseGuard
from tracker.edges.api.reports import Reports
from tracker.edges.api.schemas import CASE_ID_PATTERN
from tracker.edges.web import charts
from tracker.edges.web.common import page_principal, posted, render
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

CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN)]
Slug = Annotated[str, Path(pattern=r"^[a-z-]{1,32}$")]


def timeline_items(events: list[dict[str, Any]], *, newest_first: bool) -> list[dict[str, Any]]:
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


def replay_items(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def guard(request: Request) -> CaseGuard:
        found: CaseGuard = request.app.state.guard
        return found

    def action(request: Request) -> str:
        route = request.scope.get("route")
        return f"{request.method} {getattr(route, 'path', request.url.path)}"[:128]

    def writable(request: Request, principal: Principal, case_id: str) -> CaseState:
        """The case's state if the user may write to it; refusals logged, nothing revealed."""
        return guard(request).writable(principal.user, case_id, action(request))

    # -- opening a case ----------------------------------------------------------------

    def open_form(principal: Principal) -> FormSpec:
        teams = [(t, t) for t in sorted(principal.user.teams)]
        fields = [
            Field(f.name, f.label, f.kind, teams, f.required, f.hint) if f.name == "team" else f
            for f in OPEN_CASE.fields
        ]
        return FormSpec(OPEN_CASE.slug, OPEN_CASE.title, OPEN_CASE.event_type, fields)

    def open_context(spec: FormSpec, values: FormValues, errors: dict[str, str]) -> dict[str, Any]:
        return {
            "title": spec.title, "spec": spec, "case_id": "", "values": values,
            "errors": errors, "labels": {f.name: f.label for f in spec.fields},
            "occurred": OCCURRED, "show_occurred": False, "objective_fields": objective_fields,
            "expected_version": None,
        }

    @r.get("/cases/new")
    def open_case_page(
        request: Request, principal: Principal = Depends(page_principal)
    ) -> Response:
        if principal.user.role != "practitioner":
            raise AccessDenied()
        spec = open_form(principal)
        teams = sorted(principal.user.teams)
        values: dict[str, str | list[str]] = {
            "start_date": today_input(tracker_app(request).clock.now()), "setting": "community",
            "intervention_level": "standard", "team": teams[0] if len(teams) == 1 else "",
        }
        return render(request, "open_case.html", open_context(spec, values, {}))

    @r.post("/cases/new")
    def open_case_submit(
        request: Request, form: tuple[Principal, FormValues] = Depends(posted)
    ) -> Response:
        principal, values = form
        if principal.user.role != "practitioner":
            raise AccessDenied()
        spec = open_form(principal)
        data, _occurred, problems = to_event(spec, values)
        case_id = str(data.pop("case_id", ""))
        if not problems:
            try:
                now = tracker_app(request).clock.now()
                command = _command(case_id, "case_opened", data, now, None)
                guard(request).record(principal.user, command, action(request))
            except TrackerError as exc:
                found = error_problems(exc)
                if found is None:
                    raise
                problems = found
            else:
                return RedirectResponse(f"/cases/{case_id}?recorded=open", status_code=303)
        errors = problems_to_errors(spec, problems, [])
        return render(request, "open_case.html", open_context(spec, values, errors), status=422)

    # -- the case ----------------------------------------------------------------------

    @r.get("/cases/{case_id}")
    def case_page(
        request: Request,
        case_id: CaseId,
        recorded: str = "",
        principal: Principal = Depends(page_principal),
    ) -> Response:
        g = guard(request)
        team = g.read(principal.user, case_id, action(request))
        history = case_history(tracker_app(request), case_id)
        state = g.service.state(case_id)
        rep: Reports = request.app.state.reports
        view = rep.case_view(case_id)
        series = rep.case_engagement(case_id)
        flash = ""
        if recorded in FORMS:
            flash = f"Saved. ({FORMS[recorded].title})"
        elif recorded == "open":
            flash = "Case opened."
        return render(request, "case.html", {
            "title": f"Case {case_id}",
            "case_id": case_id,
            "team": team,
            "opened": state.opened,
            "closed": state.closed,
            "setting": state.setting,
            "version": state.version,
            "view": view,
            "items": timeline_items(history["events"], newest_first=True),
            "can_write": can_write_case(principal.user, team) and not state.closed,
            "forms": FORMS,
            "chart": charts.engagement_chart(series, title=f"Case {case_id}"),
            "flash": flash,
        })

    # -- the practitioner's forms ------------------------------------------------------

    def form_context(
        spec: FormSpec, case_id: str, state: CaseState, values: FormValues,
        errors: dict[str, str],
    ) -> dict[str, Any]:
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

    @r.get("/cases/{case_id}/log/{slug}")
    def form_page(
        request: Request,
        case_id: CaseId,
        slug: Slug,
        principal: Principal = Depends(page_principal),
    ) -> Response:
        spec = FORMS.get(slug)
        if spec is None:
            raise CaseNotFound("there is no such form")
        state = writable(request, principal, case_id)
        now = tracker_app(request).clock.now()
        values: dict[str, str | list[str]] = {"occurred_at": local_input(now)}
        return render(request, "form.html", form_context(spec, case_id, state, values, {}))

    @r.post("/cases/{case_id}/log/{slug}")
    def form_submit(
        request: Request,
        case_id: CaseId,
        slug: Slug,
        form: tuple[Principal, FormValues] = Depends(posted),
    ) -> Response:
        principal, values = form
        spec = FORMS.get(slug)
        if spec is None:
            raise CaseNotFound("there is no such form")
        data, occurred, problems = to_event(spec, values)
        rows = objective_rows(spec, values)
        if not problems:
            raw_version = values.get("expected_version", "")
            expected = int(raw_version) if isinstance(raw_version, str) and raw_version.isdigit() \
                and len(raw_version) < 10 else None
            try:
                command = _command(case_id, spec.event_type, data, occurred, expected)
                guard(request).record(principal.user, command, action(request),
                                      adapt=as_plan if spec.slug == "plan" else None)
            except ConcurrencyConflict as exc:
                state = writable(request, principal, case_id)
                errors = {"_form": (
                    f"Someone else recorded on this case while you were writing (it is now at "
                    f"version {exc.actual}). Check the case, then save again."
                )}
                return render(request, "form.html",
                              form_context(spec, case_id, state, values, errors), status=409)
            except TrackerError as exc:
                found = error_problems(exc)
                if found is None:
                    raise
                problems = found
            else:
                return RedirectResponse(f"/cases/{case_id}?recorded={slug}#timeline",
                                        status_code=303)
        state = writable(request, principal, case_id)  # a form shown again: its errors, version
        errors = problems_to_errors(spec, problems, rows)
        return render(request, "form.html", form_context(spec, case_id, state, values, errors),
                      status=422)

    # -- replay and export -------------------------------------------------------------

    @r.get("/cases/{case_id}/replay")
    def replay_page(
        request: Request,
        case_id: CaseId,
        as_of: str = "",
        as_known_at: str = "",
        principal: Principal = Depends(page_principal),
    ) -> Response:
        errors: dict[str, str] = {}
        day: date | None = None
        moment: datetime | None = None
        if as_of.strip():
            try:
                day = date.fromisoformat(as_of.strip()[:10])
            except ValueError:
                errors["as_of"] = "must be a date, e.g. 2026-03-31"
        if as_known_at.strip():
            try:
                moment = parse_local(as_known_at.strip()[:32])
            except ValueError:
                errors["as_known_at"] = "must be a date and time, e.g. 2026-03-31T17:00"
        g = guard(request)
        team = g.read(principal.user, case_id, action(request))
        replayed: dict[str, Any] | None = None
        message = ""
        if not errors:
            rep: Reports = request.app.state.reports
            try:
                replayed = rep.replay(case_id, as_of=day, as_known_at=moment)
            except CaseNotFound:
                message = "Nothing about this case had been recorded by then."
        items = replay_items(replayed["timeline"]) if replayed else []
        return render(request, "replay.html", {
            "title": f"Replay of {case_id}", "case_id": case_id, "team": team,
            "as_of": as_of, "as_known_at": as_known_at, "day": day, "moment": moment,
            "errors": errors, "message": message,
            "items": [i for i in items if i["in_view"]],
            "later": [i for i in items if not i["in_view"]],
            "summary": (replayed or {}).get("summary", {}),
            "state": replayed,
        }, status=422 if errors else 200)

    @r.get("/cases/{case_id}/export.{fmt}")
    def export(
        request: Request,
        case_id: CaseId,
        fmt: Annotated[str, Path(pattern=r"^(json|csv)$")],
        principal: Principal = Depends(page_principal),
    ) -> Response:
        guard(request).read(principal.user, case_id, action(request))
        return export_response(tracker_app(request), case_id, fmt)

    return r


def _command(
    case_id: str, event_type: str, data: dict[str, Any], occurred: datetime | None,
    expected: int | None,
) -> RecordEvent:
    return parse_command({
        "case_id": case_id, "event_type": event_type, "data": data,
        "occurred_at": occurred, "expected_version": expected,
    })
