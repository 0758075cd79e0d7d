"""Caseload, alerts and acknowledging them, compliance, engagement and ratings, by role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import Env
from tests.api.test_roles import open_case
from tracker.services.access_log import search


def alert_of(env: Env, who: str = "manager_a") -> dict[str, Any]:
    resp = env.client.get("/api/alerts", headers=env[who].headers)
    assert resp.status_code == 200, resp.text
    alerts = [a for a in resp.json() if a["case_id"] == "CS-API1"]
    assert alerts, resp.json()
    first: dict[str, Any] = alerts[0]
    return first


def test_caseload_shows_own_teams_cases_with_what_is_due(env: Env) -> None:
    assert open_case(env).status_code == 201  # started Jan 2026, nothing since: overdue
    assert open_case(env, "prac_b", case_id="CS-B1", team="TEAM-B").status_code == 201
    resp = env.client.get("/api/caseload", headers=env["prac_a"].headers)
    assert resp.status_code == 200
    rows = resp.json()
    assert [r["case_id"] for r in rows] == ["CS-API1"]
    assert rows[0]["overdue"] >= 1
    assert any(d["stage"] == "assessment" and d["status"] == "overdue" for d in rows[0]["due"])
    assert env.client.get("/api/caseload?team=TEAM-B",
                          headers=env["prac_a"].headers).status_code == 403
    everything = env.client.get("/api/caseload", headers=env["auditor"].headers).json()
    assert {r["case_id"] for r in everything} == {"CS-API1", "CS-B1"}
    assert env.client.get("/api/caseload", headers=env["admin"].headers).status_code == 403
    logged = {(e.user_id, e.case_id) for e in search(env.app, action="GET /api/caseload").entries}
    assert ("P-TEST01", "CS-API1") in logged
    assert ("P-TEST01", "CS-B1") not in logged


def test_manager_sees_and_acknowledges_own_teams_alert(env: Env) -> None:
    assert open_case(env).status_code == 201
    alert = alert_of(env)
    assert alert["status"] == "open"
    assert alert["acknowledged_at"] is None
    path = f"/api/alerts/{alert['alert_id']}/acknowledge"
    resp = env.client.post(path, json={"note": "spoke to the case manager"},
                           headers=env["manager_a"].headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["acknowledged_by"] == "M-TEST01"
    assert resp.json()["ack_note"] == "spoke to the case manager"
    assert alert_of(env)["acknowledged_by"] == "M-TEST01"


def test_only_the_teams_manager_may_acknowledge(env: Env) -> None:
    assert open_case(env).status_code == 201
    alert = alert_of(env)
    path = f"/api/alerts/{alert['alert_id']}/acknowledge"
    refusals = []
    for who in ("prac_a", "manager_b", "auditor", "admin"):
        resp = env.client.post(path, json={"note": "x"}, headers=env[who].headers)
        assert resp.status_code == 403, who
        refusals.append(resp.content)
    missing = env.client.post("/api/alerts/no-such-alert:CS-X:x:1/acknowledge",
                              json={"note": "x"}, headers=env["manager_b"].headers)
    assert missing.status_code == 403
    assert missing.content == refusals[1]
    assert alert_of(env)["acknowledged_at"] is None
    empty = env.client.post(path, json={"note": ""}, headers=env["manager_a"].headers)
    assert empty.status_code == 422
    assert empty.json()["fields"][0]["field"] == "note"


def test_managers_and_auditors_see_team_figures_practitioners_do_not(env: Env) -> None:
    assert open_case(env).status_code == 201
    for path in ("/api/compliance", "/api/engagement", "/api/ratings"):
        assert env.client.get(path, headers=env["prac_a"].headers).status_code == 403, path
        assert env.client.get(path, headers=env["admin"].headers).status_code == 403, path
        assert env.client.get(path, headers=env["manager_a"].headers).status_code == 200, path
        assert env.client.get(path, headers=env["auditor"].headers).status_code == 200, path
        other = env.client.get(f"{path}?team=TEAM-A", headers=env["manager_b"].headers)
        assert other.status_code == 403, path
    rows = env.client.get("/api/compliance", headers=env["manager_a"].headers).json()
    assert [(r["practitioner"], r["team"], r["cases"]) for r in rows] == [
        ("(none)", "TEAM-A", 1)]


def test_case_view_and_engagement_follow_the_case_rules(env: Env) -> None:
    assert open_case(env).status_code == 201
    view = env.client.get("/api/cases/CS-API1", headers=env["manager_a"].headers)
    assert view.status_code == 200
    assert view.json()["case"]["team"] == "TEAM-A"
    assert env.client.get("/api/cases/CS-API1/engagement",
                          headers=env["auditor"].headers).status_code == 200
    assert env.client.get("/api/cases/CS-API1/engagement",
                          headers=env["prac_b"].headers).status_code == 403
    replay = env.client.get("/api/cases/CS-API1/replay?as_of=2026-01-06",
                            headers=env["auditor"].headers)
    assert replay.status_code == 200
    assert replay.json()["as_of"] == "2026-01-06"


def test_manager_resolves_own_teams_alert_and_others_may_not(env: Env) -> None:
    assert open_case(env).status_code == 201
    alert = alert_of(env)
    path = f"/api/alerts/{alert['alert_id']}/resolve"
    review = (env.app.clock.now().date() + timedelta(days=14)).isoformat()
    for who in ("prac_a", "manager_b", "auditor", "admin"):
        assert env.client.post(path, json={"note": "x", "review_on": review},
                               headers=env[who].headers).status_code == 403, who
    no_date = env.client.post(path, json={"note": "assessment booked for Monday"},
                              headers=env["manager_a"].headers)
    assert no_date.status_code == 422 and "review_on" in no_date.text
    resp = env.client.post(path, json={"note": "assessment booked for Monday",
                                       "review_on": review},
                           headers=env["manager_a"].headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["status"], body["closed_by"]) == ("resolved", "M-TEST01")
    assert body["close_note"] == "assessment booked for Monday"
    assert body["review_on"] == review
    still_open = env.client.get("/api/alerts", headers=env["manager_a"].headers).json()
    assert alert["alert_id"] not in [a["alert_id"] for a in still_open]
    logged = search(env.app, action="POST /api/alerts/{alert_id}/resolve").entries
    assert {(e.user_id, e.outcome) for e in logged} >= {("M-TEST01", "allowed"),
                                                        ("P-TEST01", "refused")}
