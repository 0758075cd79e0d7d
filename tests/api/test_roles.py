"""Each role's allowed and refused actions through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Env
from tests.support import opened
from tracker.services.access_log import search


def open_case(env: Env, who: str = "prac_a", case_id: str = "CS-API1", **overrides: Any) -> Any:
    return env.client.post(
        "/api/cases",
        json={"case_id": case_id, "data": opened(**overrides)},
        headers=env[who].headers,
    )


def missed(env: Env, who: str, case_id: str = "CS-API1") -> Any:
    return env.client.post(
        f"/api/cases/{case_id}/events/contact_missed",
        json={"data": {"kind": "office", "acceptable": False, "reason": "no_reason_given"},
              "occurred_at": "2026-10-30T10:00:00+00:00"},
        headers=env[who].headers,
    )


def test_practitioner_opens_and_records_in_own_team(env: Env) -> None:
    resp = open_case(env)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["version"] == 1
    first = body["events"][0]
    assert (first["recorded_by"], first["recorded_role"]) == ("P-TEST01", "practitioner")
    assert first["data"]["team"] == "TEAM-A"

    resp = missed(env, "prac_a")
    assert resp.status_code == 201, resp.text
    assert resp.json()["events"][0]["type"] == "contact_missed"
    stored = env.app.store.read_stream("CS-API1")
    assert [r.type for r in stored] == ["case_opened", "contact_missed"]
    assert stored[1].recorded_by == "P-TEST01"


def test_generic_endpoint_records_any_catalogued_type(env: Env) -> None:
    assert open_case(env).status_code == 201
    resp = env.client.post(
        "/api/cases/CS-API1/events",
        json={"event_type": "review_completed", "occurred_at": "2026-10-01T09:00:00Z",
              "data": {"trigger": "scheduled", "plan_adjusted": False, "child_involved": True}},
        headers=env["prac_a"].headers,
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["events"][0]["type"] == "review_completed"


def test_practitioner_cannot_open_a_case_in_another_team(env: Env) -> None:
    resp = open_case(env, "prac_a", team="TEAM-B")
    assert resp.status_code == 403
    assert resp.json() == {"error": "forbidden", "message": "you do not have access to this"}
    assert env.app.store.stream_version("CS-API1") == 0


def test_refusal_is_identical_whether_or_not_the_case_exists(env: Env) -> None:
    assert open_case(env).status_code == 201
    h = env["prac_b"].headers
    for path in ("", "/history", "/export", "/replay"):
        existing = env.client.get(f"/api/cases/CS-API1{path}", headers=h)
        missing = env.client.get(f"/api/cases/CS-NOPE{path}", headers=h)
        assert existing.status_code == missing.status_code == 403
        assert existing.content == missing.content
    write_existing = missed(env, "prac_b", "CS-API1")
    write_missing = missed(env, "prac_b", "CS-NOPE")
    assert write_existing.status_code == write_missing.status_code == 403
    assert write_existing.content == write_missing.content
    assert len(env.app.store.read_stream("CS-API1")) == 1


def test_manager_reads_own_team_but_cannot_write(env: Env) -> None:
    assert open_case(env).status_code == 201
    resp = env.client.get("/api/cases/CS-API1/history", headers=env["manager_a"].headers)
    assert resp.status_code == 200
    assert [e["type"] for e in resp.json()["events"]] == ["case_opened"]
    assert missed(env, "manager_a").status_code == 403
    assert open_case(env, "manager_a", case_id="CS-API2").status_code == 403
    other = env.client.get("/api/cases/CS-API1/history", headers=env["manager_b"].headers)
    assert other.status_code == 403
    assert env.app.store.stream_version("CS-API1") == 1
    assert env.app.store.stream_version("CS-API2") == 0


def test_auditor_reads_everything_and_writes_nothing(env: Env) -> None:
    assert open_case(env).status_code == 201
    h = env["auditor"].headers
    assert env.client.get("/api/cases/CS-API1/history", headers=h).status_code == 200
    assert env.client.get("/api/cases/CS-NOPE/history", headers=h).status_code == 404
    assert missed(env, "auditor").status_code == 403
    assert open_case(env, "auditor", case_id="CS-API3").status_code == 403
    verify = env.client.get("/api/verify", headers=h)
    assert verify.status_code == 200
    assert verify.json()["ok"] is True
    assert verify.json()["streams"] == 1
    assert env.client.get("/api/access-log", headers=h).status_code == 200
    assert env.client.get("/api/users", headers=h).status_code == 403


def test_admin_manages_users_but_reads_no_case(env: Env) -> None:
    assert open_case(env).status_code == 201
    h = env["admin"].headers
    assert env.client.get("/api/cases/CS-API1/history", headers=h).status_code == 403
    assert env.client.get("/api/cases/CS-API1", headers=h).status_code == 403
    assert missed(env, "admin").status_code == 403
    users = env.client.get("/api/users", headers=h)
    assert users.status_code == 200
    assert {u["username"] for u in users.json()} >= {"prac.a", "manager.a", "auditor", "admin"}
    assert "password_hash" not in users.text
    created = env.client.post(
        "/api/users", headers=h,
        json={"username": "new.prac", "password": "a-long-enough-passphrase", "role":
              "practitioner", "teams": ["TEAM-C"], "user_id": "P-NEW01"},
    )
    assert created.status_code == 201, created.text
    token = env.client.post("/api/users/P-NEW01/tokens", headers=h, json={"name": "laptop"})
    assert token.status_code == 201
    secret = token.json()["token"]
    me = env.client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["user"]["user_id"] == "P-NEW01"
    assert me.json()["user"]["teams"] == ["TEAM-C"]
    assert env.client.get("/api/access-log", headers=h).status_code == 200
    assert env.client.get("/api/verify", headers=h).status_code == 200


def test_practitioner_and_manager_cannot_use_admin_or_audit_endpoints(env: Env) -> None:
    for who in ("prac_a", "manager_a"):
        h = env[who].headers
        assert env.client.get("/api/users", headers=h).status_code == 403
        assert env.client.get("/api/access-log", headers=h).status_code == 403
        assert env.client.get("/api/verify", headers=h).status_code == 403
        resp = env.client.post(
            "/api/users", headers=h,
            json={"username": "sneaky", "password": "a-long-enough-passphrase",
                  "role": "admin"},
        )
        assert resp.status_code == 403
    assert env.accounts.by_username("sneaky") is None


def test_deactivated_user_and_revoked_token_stop_working(env: Env) -> None:
    h = env["admin"].headers
    prac = env["prac_a"]
    assert env.client.get("/api/me", headers=prac.headers).status_code == 200
    resp = env.client.patch("/api/users/P-TEST01", headers=h, json={"active": False})
    assert resp.status_code == 200
    assert env.client.get("/api/me", headers=prac.headers).status_code == 401
    tokens = env.client.get("/api/users/P-TEST02/tokens", headers=h).json()
    assert len(tokens) == 1
    assert tokens[0]["token"] is None
    revoke = env.client.delete(f"/api/tokens/{tokens[0]['token_id']}", headers=h)
    assert revoke.status_code == 204
    assert env.client.get("/api/me", headers=env["prac_b"].headers).status_code == 401


def test_no_credentials_is_401(env: Env) -> None:
    resp = env.client.get("/api/cases/CS-API1/history")
    assert resp.status_code == 401
    assert resp.json()["error"] == "not_authenticated"
    assert resp.headers["www-authenticate"] == "Bearer"
    bad = env.client.get("/api/me", headers={"Authorization": "Bearer trk_not-a-token"})
    assert bad.status_code == 401


def test_every_case_read_and_refusal_is_in_the_access_log(env: Env) -> None:
    assert open_case(env).status_code == 201
    env.client.get("/api/cases/CS-API1/history", headers=env["manager_a"].headers)
    env.client.get("/api/cases/CS-API1/export?format=csv", headers=env["auditor"].headers)
    env.client.get("/api/cases/CS-API1/history", headers=env["prac_b"].headers)
    env.client.get("/api/cases/CS-NOPE/history", headers=env["auditor"].headers)

    rows = {(e.user_id, e.role, e.case_id, e.action, e.outcome)
            for e in search(env.app).entries}
    assert ("M-TEST01", "manager", "CS-API1", "GET /api/cases/{case_id}/history",
            "allowed") in rows
    assert ("A-TEST01", "auditor", "CS-API1", "GET /api/cases/{case_id}/export",
            "allowed") in rows
    assert ("P-TEST02", "practitioner", "CS-API1", "GET /api/cases/{case_id}/history",
            "refused") in rows
    assert ("A-TEST01", "auditor", "CS-NOPE", "GET /api/cases/{case_id}/history",
            "not_found") in rows

    found = env.client.get(
        "/api/access-log", params={"case_id": "CS-API1", "outcome": "refused"},
        headers=env["auditor"].headers,
    )
    assert found.status_code == 200
    assert found.json()["total"] == 1
    assert found.json()["entries"][0]["user_id"] == "P-TEST02"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export(env: Env, fmt: str) -> None:
    assert open_case(env).status_code == 201
    assert missed(env, "prac_a").status_code == 201
    resp = env.client.get(f"/api/cases/CS-API1/export?format={fmt}",
                          headers=env["auditor"].headers)
    assert resp.status_code == 200
    assert "attachment" in resp.headers["content-disposition"]
    if fmt == "json":
        assert [e["type"] for e in resp.json()["events"]] == ["case_opened", "contact_missed"]
    else:
        lines = resp.text.strip().splitlines()
        assert lines[0].startswith("version,event_id,type")
        assert len(lines) == 3
        assert ",contact_missed," in lines[2]
