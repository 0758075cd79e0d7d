"""Caseload, the manager's dashboard (acknowledging an alert), ratings, charts."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest

from projections.projector import Projector
from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import sign_in
from tracker.kernel.display import day
from tracker.services.access_log import search


def seeded(env: Env) -> None:
    open_case(env.app)  # TEAM-A, started January: assessment long overdue
    record(env.app, "CS-TEST1", "case_manager_allocated",
           {"practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
            "team": "TEAM-A", "manager_id": "M-TEST01"}, at("2026-01-05", 11))
    record(env.app, "CS-TEST1", "contact_attended", {"kind": "office", "participation": 4},
           at("2026-09-10"))
    open_case(env.app, "CS-OTHER", team="TEAM-B", child_id="C-OTHER01")
    Projector(env.app).catch_up()


def test_practitioner_caseload_shows_what_is_overdue(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "prac.a")
    page = env.client.get("/caseload")
    assert page.status_code == 200
    table = page.text.split('id="caseload"')[1]
    assert "CS-TEST1" in table
    assert "CS-OTHER" not in table
    assert "overdue" in table
    assert env.client.get("/caseload?team=TEAM-B").status_code == 403


def test_manager_acknowledges_an_alert_with_a_note(env: Env) -> None:
    seeded(env)
    csrf = sign_in(env.client, "manager.a")
    page = env.client.get("/manager")
    assert page.status_code == 200
    actions = re.findall(r'action="/alerts/([^"]+)/acknowledge"', page.text)
    assert actions, "expected an alert to acknowledge"
    assert all(":CS-TEST1:" in a for a in actions)  # nothing of TEAM-B
    empty = env.client.post(f"/alerts/{actions[0]}/acknowledge",
                            data={"csrf_token": csrf, "note": "  "})
    assert empty.status_code == 422
    assert "Note must not be empty" in empty.text
    control = env.client.post(f"/alerts/{actions[0]}/acknowledge",
                              data={"csrf_token": csrf, "note": "bad\x00note"})
    assert control.status_code == 422
    assert "Note must not contain control characters" in control.text
    done = env.client.post(f"/alerts/{actions[0]}/acknowledge",
                           data={"csrf_token": csrf, "note": "Discussed in supervision"},
                           follow_redirects=False)
    assert done.status_code == 303
    after = env.client.get(done.headers["location"])
    assert "Alert acknowledged." in after.text
    assert "Discussed in supervision" in after.text
    assert f'action="/alerts/{actions[0]}/acknowledge"' not in after.text
    assert 'id="compliance"' in after.text
    assert "<svg" in after.text  # the team's engagement chart, drawn on the server


def test_acknowledging_needs_the_teams_manager_and_csrf(env: Env) -> None:
    seeded(env)
    csrf = sign_in(env.client, "manager.a")
    alert_id = re.findall(r'action="/alerts/([^"]+)/acknowledge"',
                          env.client.get("/manager").text)[0]
    forged = env.client.post(f"/alerts/{alert_id}/acknowledge", data={"note": "x"})
    assert forged.status_code == 403
    csrf_b = sign_in(env.client, "manager.b")
    other = env.client.post(f"/alerts/{alert_id}/acknowledge",
                            data={"csrf_token": csrf_b, "note": "not mine"})
    assert other.status_code == 403
    assert csrf  # manager A's session token was real; the refusal is about the team
    csrf_p = sign_in(env.client, "prac.a")
    assert env.client.get("/manager").status_code == 403
    prac = env.client.post(f"/alerts/{alert_id}/acknowledge",
                           data={"csrf_token": csrf_p, "note": "not a manager"})
    assert prac.status_code == 403


def test_case_page_shows_the_read_model_and_charts(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "manager.a")
    page = env.client.get("/cases/CS-TEST1")
    assert page.status_code == 200
    assert 'id="summary"' in page.text
    assert "Case manager <strong>prac.a</strong>" in page.text  # the display name, not the id
    assert "attended / (attended + unacceptable absences)" in page.text  # both labelled
    assert "of required contacts" in page.text and "contacts required" in page.text
    assert page.text.count("<svg") >= 3
    assert "http://" not in page.text.split("<svg", 1)[1].replace(
        'xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched from elsewhere


def test_ratings_page(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "auditor")
    page = env.client.get("/manager/ratings?start=2026-01-01&end=2026-10-31")
    assert page.status_code == 200
    assert 'id="ratings-records-court"' in page.text
    bad = env.client.get("/manager/ratings?start=soon")
    assert bad.status_code == 422
    assert "must be a date" in bad.text
    backwards = env.client.get("/manager/ratings?start=2026-10-01&end=2026-01-01")
    assert backwards.status_code == 422
    assert "must not be after end" in backwards.text


def test_manager_resolves_an_alert_from_the_dashboard(env: Env) -> None:
    seeded(env)
    csrf = sign_in(env.client, "manager.a")
    page = env.client.get("/manager").text
    assert "Acknowledge or resolve: which to use" in page  # the difference is explained
    resolvable = re.findall(r'action="/alerts/([^"]+)/resolve"', page)
    assert resolvable, "expected a resolve form"
    undated = env.client.post(f"/alerts/{resolvable[0]}/resolve",
                              data={"csrf_token": csrf, "note": "Handled at team meeting"})
    assert undated.status_code == 422
    assert "Review date is required" in undated.text
    review = env.app.clock.now().date() + timedelta(days=30)
    done = env.client.post(f"/alerts/{resolvable[0]}/resolve",
                           data={"csrf_token": csrf, "note": "Handled at team meeting",
                                 "review_on-day": str(review.day),
                                 "review_on-month": str(review.month),
                                 "review_on-year": str(review.year)},
                           follow_redirects=False)
    assert done.status_code == 303
    after = env.client.get(done.headers["location"]).text
    assert "Alert resolved." in after
    assert f'/alerts/{resolvable[0]}/resolve"' not in after  # gone from the open list
    closed = env.client.get("/alerts?state=closed").text
    assert "<h1>Closed alerts</h1>" in closed
    rows = re.findall(r"<tr>(.*?)</tr>", closed.split('id="alert-list"', 1)[1], re.S)
    [row] = [r for r in rows if f'href="/alerts/{quote(resolvable[0], safe="")}"' in r]
    manager = env.accounts.get("M-TEST01")
    assert manager is not None
    # who resolved it (by name) and when it is to be reviewed, on the case it is about
    assert f"resolved by {manager.display_name}, review {day(review)}" in row
    assert ">Initial assessment overdue</a>" in row and 'href="/cases/CS-TEST1"' in row
    assert "Handled at team meeting" not in closed  # notes stay on the alert's own page
    history = env.client.get(f"/alerts/{resolvable[0]}")
    assert history.status_code == 200
    assert "Handled at team meeting" in history.text


def test_compliance_cells_link_to_the_cases_behind_them(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "manager.a")
    page = env.client.get("/manager").text
    links = re.findall(r'href="(/caseload\?team=TEAM-A&practitioner=P-TEST01&'
                       r'stage=assessment&status=overdue)"', page)
    assert links, "the overdue assessment count should link to its cases"
    behind = env.client.get(links[0])
    assert behind.status_code == 200
    table = behind.text.split('id="caseload"')[1]
    assert "CS-TEST1" in table and 'id="narrowed"' in behind.text
    none = env.client.get("/caseload?team=TEAM-A&practitioner=P-TEST01&stage=assessment"
                          "&status=done_on_time")
    assert "CS-TEST1" not in none.text.split('id="caseload"')[1]


def test_engagement_per_practitioner_over_a_date_range(env: Env) -> None:
    seeded(env)  # one contact attended, 10 September 2026
    sign_in(env.client, "manager.a")
    page = env.client.get("/manager?team=TEAM-A")
    table = page.text.split('id="engagement-per-practitioner"')[1].split("</table>")[0]
    assert "P-TEST01" in table or "prac.a" in table
    cells = re.findall(r'data-label="Attended" class="num">(\d+)<', table)
    assert cells == ["1"]
    before = env.client.get("/manager?team=TEAM-A&start=2026-01-01&end=2026-08-31")
    table = before.text.split('id="engagement-per-practitioner"')[1].split("</table>")[0]
    assert re.findall(r'data-label="Attended" class="num">(\d+)<', table) == ["0"]
    backwards = env.client.get("/manager?team=TEAM-A&start=2026-09-01&end=2026-01-01")
    assert "must not be after the end" in backwards.text


def test_long_lists_are_paged_and_the_alert_filter_names_practitioners(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(env)
    for n in range(2, 6):  # five cases of P-TEST01 in TEAM-A
        case_id = f"CS-TEST{n}"
        open_case(env.app, case_id, child_id=f"C-TEST0{n}")
        record(env.app, case_id, "case_manager_allocated",
               {"practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
                "team": "TEAM-A", "manager_id": "M-TEST01"}, at("2026-01-05", 11))
    Projector(env.app).catch_up()
    monkeypatch.setattr(env.app.settings, "page_size", 2)
    sign_in(env.client, "manager.a")
    first = env.client.get("/caseload")
    assert first.status_code == 200
    assert "5 open cases" in first.text and "page 1 of 3" in first.text
    assert 'class="govuk-pagination"' in first.text and 'href="/caseload?page=2"' in first.text
    shown = [set(re.findall(r'href="/cases/(CS-TEST\d)"', env.client.get(
        f"/caseload?page={n}").text)) for n in (1, 2, 3)]
    assert [len(s) for s in shown] == [2, 2, 1]
    assert set().union(*shown) == {f"CS-TEST{n}" for n in range(1, 6)}
    logged = [e.case_id for e in search(env.app, action="GET /caseload", limit=100).entries]
    assert len(logged) == 2 + 2 + 2 + 1  # the cases shown on each page, and only those

    alerts = env.client.get("/alerts").text
    select = alerts.split('name="practitioner"')[1].split("</select>")[0]
    assert 'value="P-TEST01"' in select
    assert "P-TEST01</option>" not in select  # the option shows the name, not the id
    assert "Practitioner id" not in alerts
    dashboard = env.client.get("/manager?team=TEAM-A").text
    assert "page 1 of" in dashboard and 'aria-label="Alert pages"' in dashboard


def test_the_access_log_page_is_paged_by_the_settings_and_names_people(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(env)
    sign_in(env.client, "manager.a")
    for _ in range(3):
        assert env.client.get("/cases/CS-TEST1").status_code == 200
    monkeypatch.setattr(env.app.settings, "page_size", 2)
    sign_in(env.client, "auditor")
    first = env.client.get("/audit/access-log?case_id=CS-TEST1")
    assert first.status_code == 200
    table = first.text.split('id="access-log"')[1].split("</table>")[0]
    assert table.count("<tr><td") == 2
    assert 'aria-label="Access log pages (newest first)"' in first.text
    assert re.search(r'href="/audit/access-log\?[^"]*case_id=CS-TEST1[^"]*page=2"', first.text)
    assert ">M-TEST01<" not in table  # the reader by name, not by id
