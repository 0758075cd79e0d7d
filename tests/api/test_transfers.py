"""Transfers between teams and secure-estate keyworkers through the JSON API (issue 11 §4),
on SQLite and PostgreSQL: who reads and writes before, during and after a transfer."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from tests.api.conftest import PASSWORD, Env, Person
from tests.api.test_roles import open_case
from tracker.kernel.clock import FixedClock
from tracker.services.access_log import search
from tracker.services.app import policy_for

WHEN = "2026-10-30T10:00:00+00:00"


def post(env: Env, who: str, event_type: str, data: dict[str, Any],
         case_id: str = "CS-API1", when: str = WHEN) -> Any:
    return env.client.post(f"/api/cases/{case_id}/events/{event_type}",
                           json={"data": data, "occurred_at": when},
                           headers=env[who].headers)


def reads(env: Env, who: str, case_id: str = "CS-API1") -> int:
    return int(env.client.get(f"/api/cases/{case_id}", headers=env[who].headers).status_code)


def attended(env: Env, who: str, case_id: str = "CS-API1") -> int:
    resp = post(env, who, "contact_attended", {"kind": "office", "participation": 3}, case_id)
    return int(resp.status_code)


def reviewed(env: Env, who: str, case_id: str = "CS-API1") -> int:
    resp = post(env, who, "review_completed",
                {"trigger": "scheduled", "plan_adjusted": False, "child_involved": True},
                case_id)
    return int(resp.status_code)


def request(env: Env, kind: str = "full", to_team: str = "TEAM-B", tid: str = "T-1") -> Any:
    return post(env, "prac_a", "transfer_requested",
                {"transfer_id": tid, "kind": kind, "to_team": to_team,
                 "reason": "the family moved to the other team's area"})


def caseload(env: Env, who: str) -> set[str]:
    rows = env.client.get("/api/caseload", headers=env[who].headers).json()
    return {r["case_id"] for r in rows}


def clock(env: Env) -> FixedClock:
    c = env.app.clock
    assert isinstance(c, FixedClock)
    return c


def test_full_transfer_moves_the_case_and_the_old_team_reads_only_for_a_while(
    env: Env,
) -> None:
    assert open_case(env).status_code == 201
    assert request(env).status_code == 201, request(env).text
    # Only the receiving team's manager answers: not the sender, not its manager.
    for who in ("prac_a", "manager_a", "prac_b", "auditor"):
        resp = post(env, who, "transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"})
        assert resp.status_code == 403, who
    assert reads(env, "manager_b") == 200  # offered to TEAM-B: its manager may look first
    assert reads(env, "prac_b") == 403
    resp = post(env, "manager_b", "transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["events"][0]["recorded_by"] == "M-TEST02"
    # The new team reads and writes; the old one reads only.
    assert (reads(env, "prac_b"), attended(env, "prac_b")) == (200, 201)
    assert (reads(env, "prac_a"), attended(env, "prac_a")) == (200, 403)
    assert reads(env, "manager_a") == 200
    assert caseload(env, "prac_b") == {"CS-API1"}
    assert caseload(env, "prac_a") == set()
    # The policy's period runs from the acceptance; after it, nothing.
    accepted = datetime.fromisoformat(WHEN)
    days = policy_for(env.app).transfers.read_access_days
    clock(env).set(accepted + timedelta(days=days) - timedelta(minutes=1))
    assert reads(env, "prac_a") == 200
    clock(env).set(accepted + timedelta(days=days))
    assert (reads(env, "prac_a"), reads(env, "manager_a")) == (403, 403)
    assert reads(env, "prac_b") == 200
    seen = [(e.user_id, e.outcome) for e in search(env.app, case_id="CS-API1").entries
            if e.action.startswith("GET ")]
    assert ("P-TEST01", "allowed") in seen
    assert ("P-TEST01", "refused") in seen
    assert ("P-TEST02", "allowed") in seen
    assert ("M-TEST02", "allowed") in seen


def test_a_rejected_transfer_changes_nothing(env: Env) -> None:
    assert open_case(env).status_code == 201
    assert request(env).status_code == 201
    resp = post(env, "manager_b", "transfer_rejected",
                {"transfer_id": "T-1", "reason": "no capacity this month"})
    assert resp.status_code == 201, resp.text
    assert (reads(env, "prac_a"), attended(env, "prac_a")) == (200, 201)
    assert (reads(env, "prac_b"), attended(env, "prac_b")) == (403, 403)
    assert reads(env, "manager_b") == 403  # no longer offered to TEAM-B
    again = post(env, "manager_b", "transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"})
    assert again.status_code == 403
    assert caseload(env, "prac_a") == {"CS-API1"}


def test_caretaking_home_team_keeps_the_case_host_supervises(env: Env) -> None:
    assert open_case(env).status_code == 201
    assert request(env, kind="caretaking").status_code == 201
    resp = post(env, "manager_b", "transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"})
    assert resp.status_code == 201, resp.text
    # Both read; the host records contacts only; the home team still does everything.
    assert (reads(env, "prac_a"), reads(env, "prac_b")) == (200, 200)
    assert (attended(env, "prac_b"), reviewed(env, "prac_b")) == (201, 403)
    assert (attended(env, "prac_a"), reviewed(env, "prac_a")) == (201, 201)
    assert caseload(env, "prac_a") == {"CS-API1"}
    assert caseload(env, "prac_b") == set()
    # The home team ends the arrangement: the host's access ends with it.
    ended = post(env, "prac_a", "caretaking_ended", {"transfer_id": "T-1"})
    assert ended.status_code == 201, ended.text
    assert (reads(env, "prac_b"), attended(env, "prac_b")) == (403, 403)


def test_a_transfer_names_one_destination_and_answers_match_it(env: Env) -> None:
    assert open_case(env).status_code == 201
    both = post(env, "prac_a", "transfer_requested",
                {"transfer_id": "T-1", "kind": "full", "to_team": "TEAM-B",
                 "to_service": "YJS-OTHER", "reason": "moved"})
    assert both.status_code == 422
    assert both.json()["fields"][0]["field"] == "data.to_team"
    own = request(env, to_team="TEAM-A")
    assert own.status_code == 422
    assert request(env).status_code == 201
    second = request(env, tid="T-2", to_team="TEAM-C")
    assert second.status_code == 422
    assert "awaiting an answer" in second.text


def keyworker(env: Env) -> Person:
    user = env.accounts.create_user("keyworker.k", PASSWORD, "secure_keyworker", [],
                                    user_id="K-TEST01")
    secret, _ = env.accounts.create_token(user.user_id, "tests")
    env.people["keyworker"] = Person(user, secret)
    return env.people["keyworker"]


def test_keyworker_reads_only_their_allocated_case_and_records_custody_work(env: Env) -> None:
    kw = keyworker(env)
    assert open_case(env, setting="custody", disposal_type="dto").status_code == 201
    assert open_case(env, case_id="CS-API2", child_id="C-TEST0002").status_code == 201
    assert reads(env, "keyworker") == 403  # not allocated yet
    allocation = post(env, "prac_a", "case_manager_allocated",
                      {"practitioner_id": kw.user.user_id, "agency": "secure_establishment",
                       "role": "secure_keyworker"})
    assert allocation.status_code == 201, allocation.text
    assert reads(env, "keyworker") == 200
    assert reads(env, "keyworker", "CS-API2") == 403
    assert attended(env, "keyworker") == 201
    assert reviewed(env, "keyworker") == 403
    release = post(env, "keyworker", "transition_planned",
                   {"transition_id": "R-1", "kind": "custody_to_community",
                    "planned_date": "2026-12-01"})
    assert release.status_code == 201, release.text
    probation = post(env, "keyworker", "transition_planned",
                     {"transition_id": "R-2", "kind": "to_probation",
                      "planned_date": "2026-12-01"})
    assert probation.status_code == 403
    assert attended(env, "keyworker", "CS-API2") == 403
    for path in ("/api/caseload", "/api/alerts", "/api/ratings"):
        assert env.client.get(path, headers=kw.headers).status_code == 403, path
    logged = {(e.case_id, e.outcome) for e in search(env.app, user_id="K-TEST01").entries}
    assert ("CS-API1", "allowed") in logged
    assert ("CS-API2", "refused") in logged
    # Allocation ended: the keyworker's access goes with it.
    ended = post(env, "prac_a", "case_manager_allocation_ended",
                 {"practitioner_id": "K-TEST01", "role": "secure_keyworker",
                  "reason": "transition"})
    assert ended.status_code == 201, ended.text
    assert reads(env, "keyworker") == 403


def test_the_cases_team_exports_its_transfer_bundle_others_get_403(env: Env) -> None:
    assert open_case(env).status_code == 201
    key = {"transfer_key": base64.b64encode(bytes(range(32))).decode()}
    resp = env.client.post("/api/cases/CS-API1/bundle", json=key,
                           headers=env["prac_a"].headers)
    assert resp.status_code == 200, resp.text
    bundle = resp.json()
    assert bundle["manifest"]["case_id"] == "CS-API1"
    assert bundle["manifest"]["exported_by"] == "P-TEST01"
    assert bundle["manifest"]["count"] == len(bundle["events"]) == 1
    assert bundle["digest"].startswith("hmac-sha256:")
    refusals = set()
    for who, case_id in (("prac_b", "CS-API1"), ("auditor", "CS-API1"), ("admin", "CS-API1"),
                         ("prac_b", "CS-NONE")):
        refused = env.client.post(f"/api/cases/{case_id}/bundle", json=key,
                                  headers=env[who].headers)
        assert refused.status_code == 403, who
        refusals.add(refused.content)
    assert len(refusals) == 1  # a missing case is refused the same way
    bad = env.client.post("/api/cases/CS-API1/bundle", json={"transfer_key": "x" * 43},
                          headers=env["prac_a"].headers)
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "transfer_key"
    logged = {(e.user_id, e.outcome) for e in search(env.app, case_id="CS-API1").entries
              if e.action == "POST /api/cases/{case_id}/bundle"}
    assert logged == {("P-TEST01", "allowed"), ("P-TEST02", "refused"), ("A-TEST01", "refused"),
                      ("AD-TEST01", "refused")}
