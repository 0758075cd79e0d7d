"""Pages read projected rows (issue 14, goal 4): the caseload, the compliance figures and
the engagement series answer from the rows the projector wrote, exactly as a fold of every
case as at the request would, paged in the database; a row judged on an earlier day, or
behind its case's record, is never served as it stands."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from projections import queries
from projections.projector import Projector
from projections.queries import CaseloadRow
from tests.projections.helpers import seed
from tracker.bootstrap import App
from tracker.db.read_models import aspire, engagement
from tracker.kernel.clock import FixedClock
from tracker.services.access_log import search
from tracker.services.seed import TEAMS


def _folded(app: App) -> list[CaseloadRow]:
    """The caseload computed the slow way: every record evaluated as at now."""
    return queries.caseload(app, as_at=app.clock.now())


def _pages(app: App, per_page: int, **filters: Any) -> list[CaseloadRow]:
    rows: list[CaseloadRow] = []
    page = 1
    while True:
        found = queries.caseload_page(app, teams=None, page=page, per_page=per_page,
                                      **filters)
        rows.extend(found["rows"])
        if page >= found["pages"]:
            return rows
        page += 1


@pytest.fixture
def seeded(app: App) -> App:
    seed(app, 24, 3)
    Projector(app).catch_up()
    return app


def test_the_projected_caseload_is_the_caseload_folded_as_at_now(seeded: App) -> None:
    app = seeded
    folded = _folded(app)
    assert folded, "the synthetic caseload has open cases"
    assert any(r["overdue"] for r in folded) and any(r["due"] for r in folded)
    assert queries.caseload(app) == folded
    assert _pages(app, 5) == folded  # page by page, in the same order
    team = folded[0]["team"]
    assert queries.caseload(app, team=team) == [r for r in folded if r["team"] == team]


def test_rows_judged_on_an_earlier_day_are_evaluated_again_so_the_page_is_exact(
    seeded: App, clock: FixedClock
) -> None:
    app = seeded
    clock.set(clock.now() + timedelta(days=40))  # no sweep: every row was judged 40 days ago
    folded = _folded(app)
    before = {r["case_id"]: r["overdue"] for r in queries.caseload(
        app, as_at=clock.now() - timedelta(days=40))}
    assert any(before[r["case_id"]] != r["overdue"] for r in folded), \
        "40 days later some obligation has fallen overdue"
    assert queries.caseload(app) == folded
    assert _pages(app, 4) == folded
    assert queries.compliance_by_practitioner(app) == \
        queries.compliance_by_practitioner(app, as_at=clock.now())
    Projector(app).sweep(clock.now())  # judged today (and alerts raised): the database pages
    assert _pages(app, 4) == _folded(app)


def test_a_row_behind_its_record_is_not_served(seeded: App) -> None:
    app = seeded
    folded = _folded(app)
    with app.engine.begin() as conn:  # as if the view had not caught up with the record
        conn.execute(update(aspire).values(position=aspire.c.position - 1, overdue=99,
                                           summary='{"broken": true}'))
    assert queries.caseload(app) == folded
    assert _pages(app, 7) == folded


def test_filters_and_paging_run_in_the_database(seeded: App) -> None:
    app = seeded
    folded = _folded(app)
    practitioner = next(r["practitioner"] for r in folded if r["practitioner"])
    assert _pages(app, 3, practitioner=practitioner) == \
        [r for r in folded if r["practitioner"] == practitioner]
    for status in ("overdue", "due", "not_due", "done_on_time"):
        assert _pages(app, 3, stage="assessment", status=status) == [
            r for r in folded if (r["stages"]["assessment"]["status"] or "not_due") == status]
    first = queries.caseload_page(app, teams=None, page=1, per_page=5)
    assert first["total"] == len(folded) and len(first["rows"]) == min(5, len(folded))
    assert first["overdue_cases"] == sum(1 for r in folded if r["overdue"])
    last = queries.caseload_page(app, teams=None, page=10_000, per_page=5)
    assert last["page"] == last["pages"] == -(-len(folded) // 5)


def test_the_page_size_is_bounded_by_the_settings(seeded: App,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    app = seeded
    monkeypatch.setattr(app.settings, "max_page_size", 3)
    monkeypatch.setattr(app.settings, "page_size", 2)
    assert len(queries.caseload_page(app, teams=None, per_page=1000)["rows"]) == 3
    found = queries.caseload_page(app, teams=None)
    assert found["per_page"] == 2 and len(found["rows"]) == 2
    alerts = queries.find_alerts(app, teams=None, per_page=1000)
    assert len(alerts["rows"]) == min(3, alerts["total"])


def test_engagement_from_projected_months_equals_engagement_evaluated_on_the_spot(
    seeded: App, clock: FixedClock
) -> None:
    app = seeded
    projected = queries.engagement_series(app)
    assert projected and sum(int(m["attended"]) for m in projected) > 0
    by_practitioner = queries.engagement_by_practitioner(app, team=None)
    with app.engine.begin() as conn:  # no projected months: every case evaluated now
        conn.execute(update(engagement).values(calendar=None))
    assert queries.engagement_series(app) == projected
    assert queries.engagement_by_practitioner(app, team=None) == by_practitioner
    assert by_practitioner[""] == projected  # the whole team (here: the service)
    for practitioner, months in by_practitioner.items():
        if practitioner:
            assert queries.engagement_series(app, practitioner=practitioner) == months


def test_alert_pages_are_sorted_and_cut_by_the_database(seeded: App,
                                                        clock: FixedClock) -> None:
    app = seeded
    Projector(app).sweep(clock.now())
    everything = queries.find_alerts(app, teams=None, per_page=200)
    assert everything["total"] == len(everything["rows"]) > 3
    for sort in ("severity", "held", "raised", "overdue"):
        whole = queries.find_alerts(app, teams=None, sort=sort, per_page=200)["rows"]
        paged = [a for page in range(1, 1 + -(-len(whole) // 3)) for a in
                 queries.find_alerts(app, teams=None, sort=sort, page=page, per_page=3)["rows"]]
        assert [a["alert_id"] for a in paged] == [a["alert_id"] for a in whole]
    order = {"high": 0, "medium": 1, "low": 2}
    ranks = [order[a["severity"]] for a in everything["rows"]]
    assert ranks == sorted(ranks)


def test_the_caseload_page_logs_the_cases_it_shows_and_only_those(seeded: App) -> None:
    from tracker.edges.api.guard import CaseGuard
    from tracker.edges.api.team_reads import Reports
    from tracker.services.accounts import Accounts

    app = seeded
    folded = _folded(app)
    team = folded[0]["team"]
    user = Accounts(app).create_user("pages.mgr", "pages-pass-123456", "manager", [team],
                                     user_id=TEAMS.get(team, ("M-PAGES",))[0],
                                     display_name="Pages Manager")
    reports = Reports(app, CaseGuard(app))
    found = reports.caseload_page(user, "GET /caseload", page=2, per_page=2)
    logged = [e.case_id for e in search(app, action="GET /caseload").entries]
    assert sorted(logged) == sorted(r["case_id"] for r in found["rows"]) and logged
