"""Team pages: the caseload, the manager's dashboard (alerts to acknowledge, ASPIRE
compliance, engagement over time) and the ratings table."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from projections.alert_rules import TEXT
from projections.aspire import STAGES
from projections.due import DueItem
from projections.queries import CalendarMonth, CaseloadRow, RatingsReport
from tracker.domain.access import can_list_samples, can_record
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, ReportsDep
from tracker.edges.api.team_reads import Reports
from tracker.edges.web import charts
from tracker.edges.web.act_forms import saved_notice
from tracker.edges.web.common import anchor, render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.due_forms import due_href
from tracker.edges.web.forms import FormValues, day_field, friendly, words
from tracker.edges.web.staff import staff_names
from tracker.kernel.errors import AccessDenied, FieldProblem, InvalidInput
from tracker.services.accounts import IDENTIFIER_RE, User, can_acknowledge

AlertId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,255}$")]
STATUS_ORDER = ("overdue", "due", "done_not_countersigned", "done_late", "done_on_time",
                "not_due")


def _team(user: User, team: str) -> str | None:
    """The team asked for (whether the user may see it is checked later), or None."""
    team = team.strip()
    if not team:
        return None
    if not IDENTIFIER_RE.match(team):
        raise InvalidInput([FieldProblem("team", "is not a team id (e.g. TEAM-NORTH)")])
    return team


def _link(path: str, query: dict[str, str]) -> str:
    """A list's address with the filters that are set (the pager adds ``page``)."""
    given = urlencode({k: v for k, v in query.items() if v})
    return f"{path}?{given}" if given else path


def team_roles(user: User, *roles: str) -> None:
    """Refuse (a bare 403) anyone whose role is not one of ``roles``."""
    if user.role not in roles:
        raise AccessDenied()


router = APIRouter(include_in_schema=False)

DUE_LABELS = {"audit_action": "Action from a QA audit",
              "oversight_action": "Action from management oversight"}
"""Labels of due items that are not a stage's obligation (the rest: kind and stage)."""


def due_shown(user: User, row: CaseloadRow) -> dict[str, Any]:
    """A caseload row with each due item's label and, where the reader may do it, the
    address of the form that does it (a follow-up names its missed appointment); and each
    document awaiting countersignature with its countersign page, for a manager of the
    team. Built from the row alone: no read per row."""
    case, team = row["case_id"], row["team"]
    due = []
    for item in row["due"]:
        found = due_href(case, item)
        href = found[0] if found and can_record(user, team, found[1].event_type) else None
        due.append({**item, "label": _due_label(item), "href": href})
    signs = can_record(user, team, "document_countersigned")
    awaiting = [{**d, "href": f"/cases/{case}/countersign/{d['event_id']}" if signs else None}
                for d in row.get("countersign") or []]
    if not awaiting:  # a line projected before documents carried their event: no link
        awaiting = [{"document": d, "href": None} for d in row["awaiting_countersignature"]]
    return {**row, "due": due, "countersign": awaiting}


def _due_label(item: DueItem) -> str:
    """What the thing due is: "Follow up (delivery)", "Action from a QA audit"."""
    if item["kind"] in DUE_LABELS:
        return DUE_LABELS[item["kind"]]
    return f"{words(item['kind'])} ({item['stage']})"


@router.get("/caseload")
def caseload_page(
    request: Request,
    app: AppDep,
    reports: ReportsDep,
    action: Action,
    principal: PageUser,
    team: str = "",
    scope: str = "",
    practitioner: Annotated[str, Query(max_length=64)] = "",
    stage: Annotated[str, Query(max_length=32)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """A practitioner's own cases (or their team's), a manager's or auditor's teams' cases;
    narrowed to one practitioner and one stage status when a compliance cell links here.
    One page of them, read and paged in the database."""
    user = principal.user
    team_roles(user, "practitioner", "manager", "auditor")
    narrowing = bool(practitioner or stage)
    mine = not narrowing and user.role == "practitioner" and scope != "team"
    who = practitioner.strip() or None if narrowing else user.user_id if mine else None
    valid = stage in STAGES and status in STATUS_ORDER
    found = reports.caseload_page(
        user, action, team=_team(user, team), practitioner=who,
        stage=stage if valid else None, status=status if valid else None, page=page,
    )
    query = {"team": team[:64], "scope": scope[:8], "practitioner": practitioner[:64],
             "stage": stage if valid else "", "status": status if valid else ""}
    return render(request, "caseload.html", {
        "title": "Caseload", "found": found, "rows": [due_shown(user, r) for r in found["rows"]],
        "mine": mine,
        "team": team[:64], "teams": sorted(user.teams), "overdue": found["overdue_cases"],
        "narrowed": {"practitioner": practitioner.strip(), "stage": stage,
                     "status": status if stage in STAGES else ""} if narrowing else None,
        "base": _link("/caseload", query),
        "today": app.clock.now().date().isoformat(),
    })


def dashboard(
    request: Request, reports: Reports, action: str, user: User, team: str, *,
    errors: dict[str, str] | None = None, notes: FormValues | None = None, flash: str = "",
    status: int = 200, practitioner: str = "", start: str = "", end: str = "",
    alerts_page: int = 1,
) -> Response:
    """The dashboard: shown by its page, and again by an alert form with its errors."""
    chosen = _team(user, team)
    if chosen is None and user.role == "manager" and len(user.teams) == 1:
        chosen = next(iter(user.teams))
    errors = dict(errors or {})
    first, last = day_field(start, "start", errors), day_field(end, "end", errors)
    if first and last and first > last:
        errors["start"] = "must not be after the end"
        first = last = None
    found = reports.find_alerts(user, action, team=chosen, sort="severity",
                                page=alerts_page)
    compliance = reports.compliance(user, team=chosen)
    who = practitioner.strip()[:64] or None
    can_chart = bool(chosen) or user.role == "auditor"
    by_practitioner: dict[str, dict[str, list[CalendarMonth]]] = {}
    if chosen:  # the team's series and each practitioner's, from one read of its rows
        by_practitioner[chosen] = reports.engagement_by_practitioner(
            user, team=chosen, start=first, end=last)
        series: list[Any] = by_practitioner[chosen].get(who or "", [])
    else:
        series = reports.engagement(user, team=None, practitioner=who, start=first,
                                    end=last) if can_chart else []
    per_practitioner = []
    if can_chart:
        for t in sorted({r["team"] for r in compliance} - set(by_practitioner)):
            by_practitioner[t] = reports.engagement_by_practitioner(  # an auditor, every team
                user, team=t, start=first, end=last)
        for row in compliance:
            if not row["practitioner"] or (chosen and row["team"] != chosen):
                continue
            months = by_practitioner.get(row["team"], {}).get(row["practitioner"], [])
            attended = sum(int(m["attended"]) for m in months)
            unacceptable = sum(int(m["missed_unacceptable"]) for m in months)
            required = sum(int(m["required"]) for m in months)
            contacts = sum(int(m["contacts"]) for m in months)
            per_practitioner.append({
                "practitioner": row["practitioner"], "team": row["team"],
                "attended": attended, "missed_unacceptable": unacceptable,
                "rate": attended / (attended + unacceptable) if attended + unacceptable
                else None,
                "of_required": min(contacts, required) / required if required else None,
            })
    shown = []
    for alert in found["rows"]:
        team_of_case = alert.get("team")
        manages = can_acknowledge(
            user, team_of_case if isinstance(team_of_case, str) else None
        ) and alert["status"] == "open"
        shown.append({**alert, "can_ack": manages and alert["acknowledged_at"] is None,
                      "can_close": manages})
    return render(request, "manager.html", {
        "title": "Dashboard", "alerts": shown, "alert_pages": found,
        "alerts_base": _link("/manager", {"team": chosen or "", "practitioner": who or "",
                                          "start": start[:10], "end": end[:10]}),
        "compliance": compliance,
        "stages": STAGES, "status_order": STATUS_ORDER, "team": chosen or "",
        "teams": sorted(user.teams),
        "chart": charts.engagement_chart(
            series, title=(f"{staff_names(request)(who)}'s cases" if who
                           else f"Team {chosen}" if chosen else "The whole service"),
        ) if series or chosen or user.role == "auditor" else "",
        "per_practitioner": per_practitioner,
        "span": {"practitioner": who or "", "start": start[:10], "end": end[:10]},
        "errors": errors, "notes": notes or {}, "flash": flash,
    }, status=status)


@router.get("/manager")
def dashboard_page(
    request: Request,
    reports: ReportsDep,
    action: Action,
    principal: PageUser,
    team: str = "",
    acknowledged: str = "",
    resolved: str = "",
    practitioner: Annotated[str, Query(max_length=64)] = "",
    start: Annotated[str, Query(max_length=32)] = "",
    end: Annotated[str, Query(max_length=32)] = "",
    recorded: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Alerts to acknowledge (a page of them), ASPIRE compliance and engagement per team and
    per practitioner over a date range (managers, auditors); the banner of an act that ends
    here (``recorded``: a rejected transfer)."""
    team_roles(principal.user, "manager", "auditor")
    flash = ("Alert acknowledged." if acknowledged else "Alert resolved." if resolved
             else saved_notice(recorded))
    return dashboard(request, reports, action, principal.user, team, flash=flash,
                     practitioner=practitioner, start=start, end=end,
                     status=200, alerts_page=page)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    request: Request, alert_id: AlertId, reports: ReportsDep, action: Action, form: PostedForm
) -> Response:
    """Acknowledge an alert with a note (managers of the case's team)."""
    return manage_alert(request, reports, action, alert_id, form, "acknowledged")


@router.post("/alerts/{alert_id}/resolve")
def resolve(
    request: Request, alert_id: AlertId, reports: ReportsDep, action: Action, form: PostedForm
) -> Response:
    """Resolve an alert by hand with a note (managers of the case's team)."""
    return manage_alert(request, reports, action, alert_id, form, "resolved")


def review_date(raw: str | list[str]) -> date | None:
    """The review date a resolving manager typed (joined from the three date fields)."""
    text = raw if isinstance(raw, str) else ""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput([FieldProblem("review_on", "must be a real date, for example "
                                                      "27 3 2026")]) from None


def manage_alert(
    request: Request, reports: Reports, action: str, alert_id: str,
    form: tuple[SignedIn, FormValues], done: str,
) -> Response:
    """Acknowledge or resolve; a bad note shows the dashboard again with its error (422)."""
    principal, values = form
    raw = values.get("note", "")
    note = (raw if isinstance(raw, str) else " ".join(raw)).strip()
    team = values.get("team", "")
    team_text = team if isinstance(team, str) else ""
    try:
        if done == "acknowledged":
            reports.acknowledge(principal.user, alert_id, note, action)
        else:
            reports.close(principal.user, alert_id, note, action,
                          review_on=review_date(values.get("review_on", "")))
    except InvalidInput as exc:
        reason = "; ".join(
            ("Review date " if p.field == "review_on" else "Note ") + friendly(p.reason)
            for p in exc.problems)
        return dashboard(request, reports, action, principal.user, team_text,
                         errors={alert_id: reason}, notes={alert_id: note},
                         status=422)
    target = f"/manager?{done}=1&team={team_text}" if team_text else f"/manager?{done}=1"
    return RedirectResponse(target + f"#alert-{anchor(alert_id)}", status_code=303)


@router.get("/manager/ratings")
def ratings_page(
    request: Request,
    reports: ReportsDep,
    principal: PageUser,
    start: str = "",
    end: str = "",
    team: str = "",
    sample: str = "",
) -> Response:
    """Inspection-style ratings over a period for a team (managers, auditors, QA), over
    every case in scope or one drawn dip sample's cases."""
    user = principal.user
    team_roles(user, "manager", "auditor", "qa")
    samples = reports.samples(user) if can_list_samples(user) else []
    chosen_sample = sample if sample in {s["sample_id"] for s in samples} else None
    errors: dict[str, str] = {}
    first, last = day_field(start, "start", errors), day_field(end, "end", errors)
    chosen = _team(user, team)
    if chosen is None and user.role == "manager":
        chosen = sorted(user.teams)[0] if user.teams else None
    result: RatingsReport | None = None
    if not errors:
        try:
            result = reports.ratings(user, start=first, end=last, team=chosen,
                                     sample_id=chosen_sample)
        except InvalidInput as exc:
            errors = {p.field: friendly(p.reason) for p in exc.problems}
    return render(request, "ratings.html", {
        "title": "Ratings", "result": result, "errors": errors, "team": chosen or "",
        "teams": sorted(user.teams), "start": start[:10], "end": end[:10],
        "stages": ("assessment", "planning", "implementation", "review", "resettlement"),
        "lenses": ("desistance", "safety_wellbeing", "risk_of_harm"),
        "samples": samples, "sample": chosen_sample or "",
    }, status=422 if errors else 200)


Sort = Literal["severity", "held", "overdue", "raised"]
SORTS = {"severity": "Most severe first", "held": "Held longest first",
         "overdue": "Most days overdue first", "raised": "Newest first"}


@router.get("/alerts")
def alerts_page(
    request: Request, reports: ReportsDep, action: Action, principal: PageUser,
    team: str = "", state: Literal["open", "closed"] = "open", severity: str = "",
    rule: str = "", practitioner: str = "", sort: Sort = "severity",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Alerts filtered by severity, rule and practitioner, sorted, open or closed, paged;
    each with its practitioner and how long it has held (practitioners, managers,
    auditors)."""
    user = principal.user
    team_roles(user, "practitioner", "manager", "auditor")
    found = reports.find_alerts(
        user, action, team=_team(user, team), closed=state == "closed",
        severity=severity if severity in ("high", "medium", "low") else "",
        rule=rule if rule in TEXT else "", practitioner=practitioner[:64].strip(),
        sort=sort, page=page,
    )
    names = staff_names(request)
    chosen = team.strip()
    if user.role == "auditor" and not chosen:  # every team: every practitioner
        choices = [(u.user_id, u.display_name) for u in names.users
                   if u.active and u.role == "practitioner"]
    else:
        choices = names.in_teams("practitioner", [chosen] if chosen else sorted(user.teams))
    picked = practitioner[:64].strip()
    if picked and picked not in {c[0] for c in choices}:  # a link naming a former member
        choices.append((picked, names(picked)))
    practitioners = sorted(choices, key=lambda c: (c[1], c[0]))
    return render(request, "alerts.html", {
        "title": "Closed alerts" if state == "closed" else "Alerts", "found": found,
        "practitioners": practitioners,
        "filters": {"team": team[:64], "state": state, "severity": severity[:16],
                    "rule": rule[:64], "practitioner": practitioner[:64], "sort": sort},
        "rules": sorted(TEXT.items(), key=lambda kv: kv[1]), "sorts": SORTS,
        "teams": sorted(user.teams),
    })


@router.get("/alerts/{alert_id}")
def alert_page(
    request: Request, alert_id: AlertId, reports: ReportsDep, action: Action,
    principal: PageUser,
) -> Response:
    """One alert's history: every time it was raised, acknowledged, resolved or ended."""
    history = reports.alert_history(principal.user, alert_id, action)
    return render(request, "alert.html", {
        "title": history[-1]["title"], "history": history, "latest": history[-1],
    })
