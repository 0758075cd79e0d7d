"""Writes go through one door (``CaseService.record``: load once, authorise, decide,
append), and a case's team is one answer for the guard and the read models alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from events.envelope import RecordedEvent
from projections.projector import Projector
from tests.api.conftest import Env
from tests.api.test_roles import open_case as api_open_case
from tests.support import at, open_case, record
from tests.web.conftest import sign_in
from tracker.services.access_log import search


@contextmanager
def stream_reads(env: Env) -> Iterator[list[str]]:
    """The case streams read (by id) while the block runs."""
    store = env.app.store
    original: Callable[..., list[RecordedEvent]] = store.read_stream
    calls: list[str] = []

    def counting(case_id: str, *args: Any, **kwargs: Any) -> list[RecordedEvent]:
        calls.append(case_id)
        return original(case_id, *args, **kwargs)

    store.read_stream = counting  # type: ignore[method-assign,assignment]
    try:
        yield calls
    finally:
        del store.read_stream


MISSED = {"occurred_at": "2026-10-30T10:00", "kind": "office", "acceptable": "no",
          "reason": "no_reason_given"}
PLAN = {"occurred_at": "2026-10-30T10:00", "objective_1_domain": "desistance",
        "objective_1_description": "attend school", "objective_1_target_date": "2027-01-10",
        "reason": "first plan"}


def test_a_web_write_reads_the_case_once(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    for slug, data in (("missed", MISSED), ("plan", PLAN), ("plan", PLAN)):
        with stream_reads(env) as reads:
            resp = env.client.post(f"/cases/CS-TEST1/log/{slug}", data={"csrf_token": csrf, **data},
                                   follow_redirects=False)
        assert resp.status_code == 303, resp.text
        assert reads == ["CS-TEST1"], slug  # was 4: writable() twice, the guard, the service
    stored = env.app.store.read_stream("CS-TEST1")
    # The domain chose: a first plan is agreed (without a reason), the next one revises it.
    assert [r.type for r in stored] == [
        "case_opened", "contact_missed", "plan_agreed", "plan_revised"]
    assert not hasattr(stored[2].event, "reason")
    assert stored[3].event.reason == "first plan"  # type: ignore[attr-defined]


def test_an_api_write_reads_the_case_once(env: Env) -> None:
    with stream_reads(env) as reads:
        assert api_open_case(env).status_code == 201
    assert reads == ["CS-API1"]  # was 2: the guard, then the service
    with stream_reads(env) as reads:
        resp = env.client.post(
            "/api/cases/CS-API1/events/contact_missed",
            json={"data": {"kind": "office", "acceptable": False, "reason": "no_reason_given"},
                  "occurred_at": "2026-10-30T10:00:00+00:00"},
            headers=env["prac_a"].headers)
    assert resp.status_code == 201, resp.text
    assert reads == ["CS-API1"]


@pytest.mark.parametrize("who", ["prac_b", "manager_a"])
def test_a_refused_write_is_logged_and_looks_like_a_missing_case(env: Env, who: str) -> None:
    assert api_open_case(env).status_code == 201
    answers = []
    for case_id in ("CS-API1", "CS-NONE"):
        resp = env.client.post(
            f"/api/cases/{case_id}/events/contact_missed",
            json={"data": {"kind": "office", "acceptable": False, "reason": "no_reason_given"},
                  "occurred_at": "2026-10-30T10:00:00+00:00"},
            headers=env[who].headers)
        assert resp.status_code == 403
        answers.append(resp.content)
    assert answers[0] == answers[1]
    refused = {e.case_id for e in search(env.app, user_id=env[who].user.user_id).entries
               if e.outcome == "refused"}
    assert refused == {"CS-API1", "CS-NONE"}
    assert len(env.app.store.read_stream("CS-API1")) == 1


def test_a_case_managed_in_another_team_is_that_teams_case_everywhere(env: Env) -> None:
    open_case(env.app)  # opened by TEAM-A
    record(env.app, "CS-TEST1", "case_manager_allocated",
           {"practitioner_id": "P-TEST02", "agency": "yot", "role": "case_manager",
            "team": "TEAM-B", "manager_id": "M-TEST02"}, at("2026-01-06"))
    Projector(env.app).catch_up()
    for who in ("prac_b", "manager_b"):
        headers = env[who].headers
        assert env.client.get("/api/cases/CS-TEST1", headers=headers).status_code == 200, who
        caseload = env.client.get("/api/caseload", headers=headers).json()
        assert [r["case_id"] for r in caseload] == ["CS-TEST1"], who
    for who in ("prac_a", "manager_a"):
        headers = env[who].headers
        assert env.client.get("/api/cases/CS-TEST1", headers=headers).status_code == 403, who
        assert env.client.get("/api/caseload", headers=headers).json() == [], who
    # TEAM-B's practitioner records on it, on the page and through the API; TEAM-A's may not.
    csrf = sign_in(env.client, "prac.b")
    assert env.client.get("/cases/CS-TEST1").status_code == 200
    resp = env.client.post("/cases/CS-TEST1/log/missed", data={"csrf_token": csrf, **MISSED},
                           follow_redirects=False)
    assert resp.status_code == 303, resp.text
    refused = env.client.post(
        "/api/cases/CS-TEST1/events/contact_attended",
        json={"data": {"kind": "office", "participation": 3},
              "occurred_at": "2026-10-30T11:00:00+00:00"},
        headers=env["prac_a"].headers)
    assert refused.status_code == 403
    alerts = env.client.get("/api/alerts", headers=env["manager_b"].headers).json()
    assert {a["case_id"] for a in alerts} == {"CS-TEST1"}
    # Ending the allocation gives the case back to the team that opened it.
    record(env.app, "CS-TEST1", "case_manager_allocation_ended",
           {"practitioner_id": "P-TEST02", "role": "case_manager", "reason": "reallocated"},
           at("2026-10-31"))
    Projector(env.app).catch_up()
    assert env.client.get("/api/caseload", headers=env["prac_a"].headers).json()[0][
        "case_id"] == "CS-TEST1"
    assert env.client.get("/api/cases/CS-TEST1", headers=env["prac_a"].headers).status_code == 200
    assert env.client.get("/api/cases/CS-TEST1", headers=env["prac_b"].headers).status_code == 403
