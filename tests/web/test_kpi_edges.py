"""The KPI data through every edge (issue 13 §1): the practitioner's record forms, the
generic API route and CLI command, and the management board's page, API and CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TEST_KEY
from tests.support import open_case, run_cli
from tests.web.conftest import Env, errors_beside, sign_in
from tracker.edges.cli import context as ctx
from tracker.services.board import list_meetings


def post(env: Env, slug: str, csrf: str, **data: Any) -> Any:
    return env.client.post(f"/cases/CS-TEST1/log/{slug}", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", **data},
        follow_redirects=False)


def test_practitioner_records_kpi_data_through_the_forms(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    page = env.client.get("/cases/CS-TEST1")
    assert 'id="outcome-forms"' in page.text and "/cases/CS-TEST1/log/diversity" in page.text
    assert env.client.get("/cases/CS-TEST1/log/feedback").status_code == 200
    assert post(env, "diversity", csrf, ethnicity="asian_pakistani", sex="male"
                ).status_code == 303
    assert post(env, "accommodation", csrf, point="start", accommodation_type="foster_care",
                suitable="yes").status_code == 303
    assert post(env, "feedback", csrf, respondent="child", point="review",
                score_i_was_listened_to="5", score_my_worker_helped_me="3",
                comment="ok").status_code == 303
    assert post(env, "victim", csrf, victim_id="V-0001", victim_kind="business"
                ).status_code == 303
    stored = env.app.store.read_stream("CS-TEST1")
    assert [r.type for r in stored] == ["case_opened", "diversity_recorded",
                                        "accommodation_recorded", "feedback_given",
                                        "victim_identified"]
    assert stored[1].recorded_by == "P-TEST01"
    diversity, accommodation, feedback = (r.event for r in stored[1:4])
    assert (diversity.ethnicity, diversity.sex) == ("asian_pakistani", "male")  # type: ignore[attr-defined]
    assert accommodation.suitable is True  # type: ignore[attr-defined]
    assert [(a.question, a.score) for a in feedback.answers] == [  # type: ignore[attr-defined]
        ("i_was_listened_to", 5), ("my_worker_helped_me", 3)]
    shown = env.client.get("/cases/CS-TEST1?family=outcomes")  # the timeline's filter
    assert "Diversity recorded" in shown.text and "Feedback given" in shown.text
    assert "Case opened —" not in shown.text and "4 entries" in shown.text


def test_kpi_form_mistakes_are_shown_beside_their_fields(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    resp = post(env, "ete", csrf, point="start", status="college", suitable="yes",
                hours_offered="lots", hours_attended="3")
    assert resp.status_code == 422
    assert errors_beside(resp.text, "hours_offered") == "must be a whole number"
    resp = post(env, "health", csrf, domain="mental_health", stage="attending",
                stage_date="2026-10-30")
    assert resp.status_code == 422
    assert "recorded first" in errors_beside(resp.text, "stage")
    resp = post(env, "victim", csrf, victim_id="V-Jane", victim_kind="individual")
    assert resp.status_code == 422 and errors_beside(resp.text, "victim_id")
    assert len(env.app.store.read_stream("CS-TEST1")) == 1


def test_the_generic_api_route_records_kpi_data(env: Env) -> None:
    open_case(env.app)
    resp = env.client.post("/api/cases/CS-TEST1/events", headers=env["prac_a"].headers, json={
        "event_type": "offence_recorded", "occurred_at": "2026-01-06T10:00:00+00:00",
        "data": {"offence_id": "OF-1", "category": "robbery", "gravity_score": 6,
                 "offence_date": "2025-12-01", "first_offence": False}})
    assert resp.status_code in (200, 201), resp.text
    bad = env.client.post("/api/cases/CS-TEST1/events", headers=env["prac_a"].headers, json={
        "event_type": "offence_recorded", "occurred_at": "2026-01-06T10:00:00+00:00",
        "data": {"offence_id": "OF-2", "category": "robbery", "gravity_score": 9,
                 "offence_date": "2025-12-01", "first_offence": False}})
    assert bad.status_code == 422 and "gravity_score" in bad.text
    refused = env.client.post("/api/cases/CS-TEST1/events", headers=env["prac_b"].headers,
                              json={"event_type": "sen_recorded",
                                    "occurred_at": "2026-01-06T10:00:00+00:00",
                                    "data": {"identified": False, "formal_plan": "none"}})
    assert refused.status_code == 403
    assert [r.type for r in env.app.store.read_stream("CS-TEST1")] == [
        "case_opened", "offence_recorded"]


MEETING = {"service": "YJS-TEST", "held_on": "2026-09-15",
           "agencies_invited": ["police", "health"], "agencies_attending": ["police"]}


def test_board_meetings_through_the_api(env: Env) -> None:
    made = env.client.post("/api/board-meetings", headers=env["manager_a"].headers,
                           json=MEETING)
    assert made.status_code == 201, made.text
    assert made.json()["recorded_by"] == "M-TEST01"
    refused = env.client.post("/api/board-meetings", headers=env["prac_a"].headers,
                              json=MEETING)
    assert refused.status_code == 403
    bad = env.client.post("/api/board-meetings", headers=env["admin"].headers,
                          json={**MEETING, "agencies_invited": ["aliens"]})
    assert bad.status_code == 422 and "agencies_invited" in bad.text
    listed = env.client.get("/api/board-meetings", headers=env["auditor"].headers)
    assert [m["held_on"] for m in listed.json()] == ["2026-09-15"]


def test_a_manager_records_a_board_meeting_on_the_page(env: Env) -> None:
    csrf = sign_in(env.client, "manager.a")
    assert env.client.get("/board-meetings").status_code == 200
    resp = env.client.post("/board-meetings", data={
        "csrf_token": csrf, "service": "YJS-TEST", "held_on": "2026-09-15",
        "agencies_invited": ["police", "education"], "agencies_attending": "police"},
        follow_redirects=False)
    assert resp.status_code == 303
    page = env.client.get(resp.headers["location"])
    assert "Saved: the board meeting." in page.text and "2026-09-15" in page.text
    assert "M-TEST01" not in page.text  # the recorder by display name, not id
    bad = env.client.post("/board-meetings", data={
        "csrf_token": csrf, "service": "YJS-TEST", "held_on": "2026-09-16",
        "agencies_invited": "police", "agencies_attending": "health"})
    assert bad.status_code == 422
    assert "not invited" in errors_beside(bad.text, "agencies_attending")
    csrf = sign_in(env.client, "prac.a")
    assert env.client.get("/board-meetings").status_code == 403
    assert len(list_meetings(env.app)) == 1


@pytest.fixture
def cli(env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Any:
    monkeypatch.setenv("TRACKER_DATABASE_URL", env.app.settings.database_url)
    monkeypatch.setenv("TRACKER_MASTER_KEY", TEST_KEY)

    def run(role: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("TRACKER_USER", f"{role[0].upper()}-CLI01")
        monkeypatch.setenv("TRACKER_ROLE", role)
        ctx.set_app(None)
        capsys.readouterr()  # what the test itself logged before
        return run_cli(monkeypatch, capsys, *args)

    return run


def test_kpi_data_and_board_meetings_through_the_cli(env: Env, cli: Any) -> None:
    open_case(env.app)
    code, out, err = cli("practitioner", "record", "CS-TEST1", "wider-service-link-started",
                         "--occurred-at", "2026-02-02", "--data",
                         '{"service": "looked_after", "start_date": "2025-06-01"}', "--json")
    assert code == 0, err
    assert json.loads(out)["type"] == "wider_service_link_started"
    code, out, err = cli("manager", "board", "record", "--service", "YJS-TEST",
                         "--held-on", "2026-09-15", "--invited", "police,probation,health",
                         "--attending", "police,health", "--json")
    assert code == 0, err
    assert json.loads(out)["agencies_attending"] == ["police", "health"]
    code, _out, err = cli("practitioner", "board", "record", "--service", "YJS-TEST",
                          "--held-on", "2026-09-15", "--invited", "police")
    assert code == 2 and "access" in err
    code, _out, err = cli("admin", "board", "record", "--service", "YJS-TEST",
                          "--held-on", "2026-09-15", "--invited", "police",
                          "--attending", "health")
    assert code == 2 and "not invited" in err
    code, out, err = cli("auditor", "board", "list", "--json")
    assert code == 0, err
    assert [m["recorded_by"] for m in json.loads(out)] == ["M-CLI01"]
