"""Team-level reads and the alert acknowledgement, shared by the API and the pages.

Who sees what (``tracker.domain.access``): practitioners and managers their own teams, auditors
every team. Without a ``team``, a practitioner's or manager's answer covers all of their
teams. Lists that show cases (caseload, alerts) log every case shown (and only those: a
paged list logs its page), in one statement per request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import select

from projections import queries
from projections.alerts import AlertView
from projections.engagement import EngagementMonth
from projections.replay import ReplayView
from tracker.db.read_models import alerts as alerts_table
from tracker.domain.access import can_draw_samples, can_list_samples
from tracker.edges.api.guard import CaseGuard
from tracker.kernel.errors import AccessDenied, FieldProblem, InvalidInput
from tracker.services.accounts import User, can_acknowledge, can_see_management, can_see_team, plain
from tracker.services.app import App


def teams_for(
    user: User, team: str | None, allowed: Callable[[User, str | None], bool]
) -> list[str | None]:
    """The teams an answer covers: the one asked for (if allowed), else all the user's
    (``[None]`` meaning every team, for auditors)."""
    if team is not None:
        if not allowed(user, team):
            raise AccessDenied()
        return [team]
    if user.role in ("auditor", "qa"):
        return [None]
    mine: list[str | None] = [t for t in sorted(user.teams) if allowed(user, t)]
    if not mine:
        raise AccessDenied()
    return mine


class Reports:
    """The read models, filtered by role and team, with list reads access-logged."""

    def __init__(self, app: App, guard: CaseGuard) -> None:
        self.app = app
        self.guard = guard

    def caseload(
        self, user: User, action: str, *, team: str | None = None,
        practitioner: str | None = None, as_at: date | None = None,
    ) -> list[queries.CaseloadRow]:
        """Open cases with what is due and overdue, most overdue first."""
        rows: list[queries.CaseloadRow] = []
        for t in teams_for(user, team, can_see_team):
            rows.extend(queries.caseload(self.app, practitioner=practitioner, team=t,
                                         as_at=as_at))
        rows.sort(key=lambda r: (-r["overdue"], r["next_due"] or "9999", r["case_id"]))
        self.guard.log(user, [r["case_id"] for r in rows], action, "allowed")
        return rows

    def caseload_page(
        self, user: User, action: str, *, team: str | None = None,
        practitioner: str | None = None, stage: str | None = None, status: str | None = None,
        page: int = 1, per_page: int | None = None,
    ) -> queries.CaseloadPage:
        """One page of the open cases, most overdue first, narrowed to a practitioner and
        a stage status; the cases on the page are logged."""
        covered = teams_for(user, team, can_see_team)
        teams = None if covered == [None] else {t for t in covered if t is not None}
        found = queries.caseload_page(self.app, teams=teams, practitioner=practitioner,
                                      stage=stage, status=status, page=page,
                                      per_page=per_page)
        self.guard.log(user, [r["case_id"] for r in found["rows"]], action, "allowed")
        return found

    def index(
        self, user: User, action: str, *, search: str = "", status: queries.index.Status = "all",
        page: int = 1,
    ) -> queries.IndexPage:
        """Every case the user may read, open and closed, found by reference in any letter
        case; one page of it, with each case shown logged."""
        teams = None if user.role == "auditor" else {t for t in user.teams
                                                      if can_see_team(user, t)}
        if teams is not None and not teams:
            raise AccessDenied()
        found = queries.case_index(self.app, teams=teams, search=search, status=status,
                                   page=page)
        self.guard.log(user, [r["case_id"] for r in found["rows"]], action, "allowed")
        return found

    def find(self, user: User, typed: str) -> str | None:
        """The case reference ``typed`` names in any letter case, among the readable ones."""
        teams = None if user.role == "auditor" else set(user.teams)
        return queries.exact_case_id(self.app, typed, teams)

    def alerts(
        self, user: User, action: str, *, team: str | None = None, open_only: bool = True
    ) -> list[AlertView]:
        """Alerts of the user's teams (every team for auditors), most severe first."""
        rows: list[AlertView] = []
        for t in teams_for(user, team, can_see_team):
            rows.extend(queries.list_alerts(self.app, open_only=open_only, team=t))
        order = {"high": 0, "medium": 1, "low": 2}
        rows.sort(key=lambda a: (a["status"] != "open", order.get(a["severity"], 9),
                                 a["alert_id"]))
        self.guard.log(user, [a["case_id"] for a in rows], action, "allowed")
        return rows

    def acknowledge(self, user: User, alert_id: str, note: str, action: str) -> AlertView:
        """A manager acknowledges an alert on a case of their team, with a note."""
        return self._manage(user, alert_id, note, action, queries.acknowledge_alert)

    def close(
        self, user: User, alert_id: str, note: str, action: str, *, review_on: date | None
    ) -> AlertView:
        """A manager resolves an alert on a case of their team by hand, with a note and
        the date to review it."""
        return self._manage(user, alert_id, note, action,
                            partial(queries.close_alert, review_on=review_on))

    def find_alerts(
        self, user: User, action: str, *, team: str | None = None, closed: bool = False,
        severity: str = "", rule: str = "", practitioner: str = "",
        sort: queries.AlertSort = "severity", page: int = 1, per_page: int | None = None,
    ) -> queries.AlertPage:
        """One page of the open (or closed) alerts the user may see, filtered and sorted;
        each case shown logged."""
        covered = teams_for(user, team, can_see_team)
        teams = None if covered == [None] else {t for t in covered if t is not None}
        found = queries.find_alerts(self.app, teams=teams, closed=closed, severity=severity,
                                    rule=rule, practitioner=practitioner, sort=sort,
                                    page=page, per_page=per_page)
        self.guard.log(user, sorted({a["case_id"] for a in found["rows"]}), action, "allowed")
        return found

    def alert_history(self, user: User, alert_id: str, action: str) -> list[AlertView]:
        """Every raising of an alert, if the user may see its case's team."""
        with self.app.engine.connect() as conn:
            row = conn.execute(
                select(alerts_table.c.case_id).where(alerts_table.c.alert_id == alert_id)
            ).first()
        team = self.guard.team_of(row.case_id) if row is not None else None
        if row is None or not can_see_team(user, team):
            if row is not None:
                self.guard.log(user, [row.case_id], action, "refused")
            raise AccessDenied()
        self.guard.log(user, [row.case_id], action, "allowed")
        return queries.alert_history(self.app, alert_id)

    def _manage(
        self, user: User, alert_id: str, note: str, action: str,
        do: Callable[..., AlertView],
    ) -> AlertView:
        with self.app.engine.connect() as conn:
            row = conn.execute(
                select(alerts_table.c.case_id).where(alerts_table.c.alert_id == alert_id)
            ).first()
        case_id = row.case_id if row is not None else None
        team = self.guard.team_of(case_id) if case_id is not None else None
        if case_id is None or not can_acknowledge(user, team):
            if case_id is not None:
                self.guard.log(user, [case_id], action, "refused")
            raise AccessDenied()
        self.guard.log(user, [case_id], action, "allowed")
        if not plain(note):
            raise InvalidInput([FieldProblem("note", "must not contain control characters")])
        return do(self.app, alert_id, note=note, actor=user.actor)

    def compliance(
        self, user: User, *, team: str | None = None, as_at: date | None = None
    ) -> list[queries.PractitionerCompliance]:
        """ASPIRE compliance per practitioner (and team)."""
        rows: list[queries.PractitionerCompliance] = []
        for t in teams_for(user, team, can_see_management):
            rows.extend(queries.compliance_by_practitioner(self.app, team=t, as_at=as_at))
        return rows

    def engagement(
        self, user: User, *, team: str | None = None, practitioner: str | None = None,
        start: date | None = None, end: date | None = None,
    ) -> list[EngagementMonth] | list[queries.CalendarMonth]:
        """Monthly engagement of a team (or, for an auditor without a team, the service),
        or of one practitioner's cases in it, over the months asked for."""
        chosen = teams_for(user, team, can_see_management)
        if len(chosen) > 1:
            raise InvalidInput([FieldProblem("team", "choose one of your teams")])
        return queries.engagement_series(self.app, team=chosen[0], practitioner=practitioner,
                                         start=start, end=end)

    def engagement_by_practitioner(
        self, user: User, *, team: str | None, start: date | None = None,
        end: date | None = None,
    ) -> dict[str, list[queries.CalendarMonth]]:
        """Each practitioner's monthly engagement in a team, in one read."""
        chosen = teams_for(user, team, can_see_management)
        if len(chosen) > 1:
            raise InvalidInput([FieldProblem("team", "choose one of your teams")])
        return queries.engagement_by_practitioner(self.app, team=chosen[0], start=start,
                                                  end=end)

    def ratings(
        self, user: User, *, start: date | None, end: date | None, team: str | None = None,
        sample_id: str | None = None,
    ) -> queries.RatingsReport:
        """Inspection-style ratings over a period for a team (or the service, auditors and
        QA), optionally over one drawn dip sample's cases."""
        chosen = teams_for(user, team, can_see_management)
        if len(chosen) > 1:
            raise InvalidInput([FieldProblem("team", "choose one of your teams")])
        return queries.ratings(self.app, start=start, end=end, team=chosen[0],
                               sample_id=sample_id)

    def draw_sample(self, user: User, action: str, **parameters: Any) -> queries.DipSample:
        """QA draws a dip sample and records it; its cases are logged as shown."""
        if not can_draw_samples(user):
            raise AccessDenied()
        drawn = queries.draw_dip_sample(self.app, drawn_by=user.user_id, **parameters)
        self.guard.log(user, [c["case_id"] for c in drawn["cases"]], action, "allowed")
        return drawn

    def samples(self, user: User) -> list[queries.DipSample]:
        """The dip samples drawn, newest first (QA and auditors)."""
        if not can_list_samples(user):
            raise AccessDenied()
        return queries.list_samples(self.app)

    def sample(self, user: User, sample_id: str, action: str) -> queries.DipSample:
        """One dip sample with its cases (each logged as shown)."""
        if not can_list_samples(user):
            raise AccessDenied()
        found = queries.dip_sample(self.app, sample_id)
        self.guard.log(user, [c["case_id"] for c in found["cases"]], action, "allowed")
        return found

    def case_engagement(self, case_id: str) -> list[EngagementMonth] | list[queries.CalendarMonth]:
        """A case's supervision months (the caller has checked and logged the read)."""
        return queries.engagement_series(self.app, case_id=case_id)

    def case_view(self, case_id: str, as_at: date | None = None) -> queries.CaseDetail:
        """A case's read model (the caller has checked and logged the read)."""
        return queries.case_view(self.app, case_id, as_at=as_at)

    def replay(self, case_id: str, **kwargs: Any) -> ReplayView:
        """A case replayed bitemporally (the caller has checked and logged the read)."""
        return queries.replay(self.app, case_id, **kwargs)
