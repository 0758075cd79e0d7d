"""The dashboard's aggregates are counted by the database (issue 14, goal 4: "counted in
SQL, not refolded per view"): the compliance figures summed by a ``GROUP BY`` over the
projected lines equal the fold of every case as at the request, whether every line is
exact, some are not (those cases are evaluated on the spot and added), or none is; and
so do the engagement months summed per practitioner and month over the projected
calendars."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from projections import queries
from projections.projector import Projector
from projections.queries import cases as case_queries
from projections.queries import reports
from tests.projections.helpers import seed
from tracker.bootstrap import App
from tracker.db.read_models import aspire, engagement
from tracker.kernel.clock import FixedClock


@pytest.fixture
def swept(app: App, clock: FixedClock) -> App:
    seed(app, 24, 3)
    Projector(app).catch_up()
    Projector(app).sweep(clock.now())  # every line judged today: all exact
    return app


def _folded(app: App, **kwargs: Any) -> list[queries.PractitionerCompliance]:
    return queries.compliance_by_practitioner(app, as_at=app.clock.now(), **kwargs)


def test_compliance_is_summed_by_the_database_when_every_line_is_exact(
    swept: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = swept
    folded = _folded(app)
    assert folded and sum(r["cases"] for r in folded) > 5
    assert any(r["overdue_cases"] for r in folded)
    assert any(r["on_time_rate"] is not None for r in folded)

    def no_fold(*_a: Any, **_k: Any) -> list[Any]:
        raise AssertionError("a case was evaluated although every line is exact")

    monkeypatch.setattr(case_queries, "_evaluated", no_fold)
    assert queries.compliance_by_practitioner(app) == folded
    team = folded[0]["team"]
    assert queries.compliance_by_practitioner(app, team=team) == _folded(app, team=team)


def test_a_line_that_is_not_exact_is_evaluated_and_added_to_the_database_counts(
    swept: App,
) -> None:
    app = swept
    folded = _folded(app)
    broken = queries.caseload(app)[0]["case_id"]
    with app.engine.begin() as conn:  # one line behind its record, with wrong figures
        conn.execute(update(aspire).where(aspire.c.case_id == broken).values(
            position=aspire.c.position - 1, overdue=99, assessment="overdue",
            summary='{"obligations": {"done_on_time": 500}}'))
    assert queries.compliance_by_practitioner(app) == folded


def test_no_exact_line_means_every_case_is_evaluated(swept: App) -> None:
    app = swept
    folded = _folded(app)
    with app.engine.begin() as conn:
        conn.execute(update(aspire).values(summary=None))
    assert queries.compliance_by_practitioner(app) == folded


def _engagement_evaluated(app: App) -> tuple[Any, Any]:
    """The service's and each practitioner's months with no projected calendar: every case
    evaluated on the spot (the reference the database's sums must equal)."""
    with app.engine.begin() as conn:
        conn.execute(update(engagement).values(calendar=None))
    return (queries.engagement_series(app),
            queries.engagement_by_practitioner(app, team=None))


def test_engagement_is_summed_by_the_database_when_every_calendar_is_exact(
    swept: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = swept
    calendars = reports._calendars

    def none_left(*args: Any, **kwargs: Any) -> Any:
        found = calendars(*args, **kwargs)
        assert found == [], "a case was read one by one although every calendar is exact"
        return found

    monkeypatch.setattr(reports, "_calendars", none_left)
    summed = (queries.engagement_series(app),
              queries.engagement_by_practitioner(app, team=None))
    teams = sorted({r["team"] for r in queries.caseload(app)})
    team_months = {t: queries.engagement_by_practitioner(app, team=t) for t in teams}
    assert all(len(months) > 1 for months in team_months.values())  # "" and practitioners
    service = summed[1][""]  # the service's calendar months (CalendarMonth)
    assert service and sum(m["attended"] for m in service) > 0
    assert any(m["cases"] for m in service) and summed[0] == service
    monkeypatch.undo()
    assert _engagement_evaluated(app) == summed
    assert {t: queries.engagement_by_practitioner(app, team=t) for t in teams} == team_months


def test_engagement_adds_the_cases_the_database_may_not_sum(
    swept: App, clock: FixedClock
) -> None:
    app = swept
    clock.set(clock.now() + timedelta(days=40))  # open cases' months judged 40 days ago
    with app.engine.begin() as conn:  # and one calendar behind its record, with wrong figures
        some = conn.execute(select(engagement.c.case_id).limit(1)).scalar_one()
        conn.execute(update(engagement).where(engagement.c.case_id == some).values(
            position=engagement.c.position - 1, calendar='{"2026-01": [99,0,0,0,0,0,0]}'))
    summed = (queries.engagement_series(app, start=date(2026, 1, 1)),
              queries.engagement_by_practitioner(app, team=None, end=date(2026, 9, 30)))
    with app.engine.begin() as conn:
        conn.execute(update(engagement).values(calendar=None))
    assert summed == (queries.engagement_series(app, start=date(2026, 1, 1)),
                      queries.engagement_by_practitioner(app, team=None,
                                                         end=date(2026, 9, 30)))
