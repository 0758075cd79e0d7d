"""Team pages: the caseload, the manager's dashboard (alerts to acknowledge, ASPIRE
compliance, engagement over time) and the ratings table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from projections.aspire import STAGES
from projections.queries import RatingsReport
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, ReportsDep
from tracker.edges.api.team_reads import Reports
from tracker.edges.web import charts
from tracker.edges.web.common import anchor, render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import FormValues, day_field, friendly
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


def team_roles(user: User, *roles: str) -> None:
    """Refuse (a bare 403) anyone whose role is not one of ``roles``."""
    if user.role not in roles:
        raise AccessDenied()


router = APIRouter(include_in_schema=False)


@router.get("/caseload")
def caseload_page(
    request: Request,
    app: AppDep,
    reports: ReportsDep,
    action: Action,
    principal: PageUser,
    team: str = "",
    scope: str = "",
) -> Response:
    """A practitioner's own cases (or their team's), a manager's or auditor's teams' cases."""
    user = principal.user
    team_roles(user, "practitioner", "manager", "auditor")
    mine = user.role == "practitioner" and scope != "team"
    rows = reports.caseload(
        user, action, team=_team(user, team), practitioner=user.user_id if mine else None,
    )
    return render(request, "caseload.html", {
        "title": "Caseload", "rows": rows, "mine": mine, "team": team[:64],
        "teams": sorted(user.teams), "overdue": sum(1 for r in rows if r["overdue"]),
        "today": app.clock.now().date().isoformat(),
    })


def dashboard(
    request: Request, reports: Reports, action: str, user: User, team: str, *,
    errors: dict[str, str] | None = None, notes: FormValues | None = None, flash: str = "",
    status: int = 200,
) -> Response:
    """The dashboard: shown by its page, and again by an alert form with its errors."""
    chosen = _team(user, team)
    if chosen is None and user.role == "manager" and len(user.teams) == 1:
        chosen = next(iter(user.teams))
    alerts = reports.alerts(user, action, team=chosen)
    compliance = reports.compliance(user, team=chosen)
    series = reports.engagement(user, team=chosen) if chosen or user.role == "auditor" else []
    shown = []
    for alert in alerts:
        team_of_case = alert.get("team")
        manages = can_acknowledge(
            user, team_of_case if isinstance(team_of_case, str) else None
        ) and alert["status"] == "open"
        shown.append({**alert, "can_ack": manages and alert["acknowledged_at"] is None,
                      "can_close": manages})
    return render(request, "manager.html", {
        "title": "Dashboard", "alerts": shown, "compliance": compliance,
        "stages": STAGES, "status_order": STATUS_ORDER, "team": chosen or "",
        "teams": sorted(user.teams),
        "chart": charts.engagement_chart(
            series, title=f"Team {chosen}" if chosen else "The whole service"
        ) if series or chosen or user.role == "auditor" else "",
        "errors": errors or {}, "notes": notes or {}, "flash": flash,
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
) -> Response:
    """Alerts to acknowledge, ASPIRE compliance and engagement (managers, auditors)."""
    team_roles(principal.user, "manager", "auditor")
    flash = "Alert acknowledged." if acknowledged else "Alert resolved." if resolved else ""
    return dashboard(request, reports, action, principal.user, team, flash=flash)


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
    do = reports.acknowledge if done == "acknowledged" else reports.close
    try:
        do(principal.user, alert_id, note, action)
    except InvalidInput as exc:
        reason = "; ".join(friendly(p.reason) for p in exc.problems)
        return dashboard(request, reports, action, principal.user, team_text,
                         errors={alert_id: f"Note {reason}"}, notes={alert_id: note},
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
) -> Response:
    """Inspection-style ratings over a period for a team (managers, auditors)."""
    user = principal.user
    team_roles(user, "manager", "auditor")
    errors: dict[str, str] = {}
    first, last = day_field(start, "start", errors), day_field(end, "end", errors)
    chosen = _team(user, team)
    if chosen is None and user.role == "manager":
        chosen = sorted(user.teams)[0] if user.teams else None
    result: RatingsReport | None = None
    if not errors:
        try:
            result = reports.ratings(user, start=first, end=last, team=chosen)
        except InvalidInput as exc:
            errors = {p.field: friendly(p.reason) for p in exc.problems}
    return render(request, "ratings.html", {
        "title": "Ratings", "result": result, "errors": errors, "team": chosen or "",
        "teams": sorted(user.teams), "start": start[:10], "end": end[:10],
        "stages": ("assessment", "planning", "implementation", "review", "resettlement"),
        "lenses": ("desistance", "safety_wellbeing", "risk_of_harm"),
    }, status=422 if errors else 200)
