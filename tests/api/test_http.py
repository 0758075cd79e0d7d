"""The API's contract at the edge: 422 naming fields, 409 with both versions, correlation
ids, CSRF on session writes, and an unexpected failure answered without details."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import Env
from tests.api.test_roles import missed, open_case
from tests.support import opened
from tracker.edges.api.auth import CSRF_HEADER, SESSION_COOKIE
from tracker.edges.api.guard import CaseGuard
from tracker.services.access_log import search


def test_validation_error_names_the_field(env: Env) -> None:
    assert open_case(env).status_code == 201
    resp = env.client.post(
        "/api/cases/CS-API1/events/contact_missed",
        json={"data": {"kind": "by-pigeon", "acceptable": False}},
        headers=env["prac_a"].headers,
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "invalid_input"
    fields = {f["field"]: f["reason"] for f in body["fields"]}
    assert set(fields) == {"data.kind", "data.reason"}
    assert fields["data.reason"] == "is required"
    assert "by-pigeon" not in resp.text  # input is not echoed back


def test_generic_endpoint_validation_names_the_data_field(env: Env) -> None:
    assert open_case(env).status_code == 201
    resp = env.client.post(
        "/api/cases/CS-API1/events",
        json={"event_type": "contact_attended", "data": {"kind": "office", "participation": 9}},
        headers=env["prac_a"].headers,
    )
    assert resp.status_code == 422
    assert [f["field"] for f in resp.json()["fields"]] == ["data.participation"]
    unknown = env.client.post(
        "/api/cases/CS-API1/events",
        json={"event_type": "tea_drunk", "data": {}}, headers=env["prac_a"].headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "unknown_event_type"


def test_rule_violation_and_bad_query_are_422_naming_the_field(env: Env) -> None:
    assert open_case(env).status_code == 201
    resp = env.client.post(
        "/api/cases/CS-API1/events/contact_missed",
        json={"data": {"kind": "office", "acceptable": False, "reason": "forgot"},
              "occurred_at": "2031-01-01T10:00:00+00:00"},
        headers=env["prac_a"].headers,
    )
    assert resp.status_code == 422
    assert resp.json()["fields"] == [{"field": "occurred_at", "reason": "is in the future"}]
    naive = env.client.post(
        "/api/cases/CS-API1/events/contact_missed",
        json={"data": {"kind": "office", "acceptable": False, "reason": "forgot"},
              "occurred_at": "2026-10-01T10:00:00"},
        headers=env["prac_a"].headers,
    )
    assert naive.status_code == 422
    assert naive.json()["fields"][0]["field"] == "occurred_at"
    query = env.client.get("/api/cases/CS-API1/history?as_of=yesterday",
                           headers=env["prac_a"].headers)
    assert query.status_code == 422
    assert query.json()["fields"][0]["field"] == "as_of"
    bad_json = env.client.post(
        "/api/cases/CS-API1/events", content=b"{not json",
        headers={**env["prac_a"].headers, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert bad_json.json()["fields"][0]["field"] == "(body)"


def test_stale_expected_version_is_409_with_both_versions(env: Env) -> None:
    assert open_case(env).status_code == 201
    assert missed(env, "prac_a").status_code == 201
    resp = env.client.post(
        "/api/cases/CS-API1/events/contact_attended",
        json={"data": {"kind": "office", "participation": 4}, "expected_version": 1},
        headers=env["prac_a"].headers,
    )
    assert resp.status_code == 409
    body = resp.json()
    assert body["error"] == "version_conflict"
    assert (body["expected_version"], body["actual_version"]) == (1, 2)
    assert env.app.store.stream_version("CS-API1") == 2


def test_retry_with_the_same_event_id_records_once(env: Env) -> None:
    assert open_case(env).status_code == 201
    event_id = str(uuid.uuid4())
    body = {"data": {"kind": "phone", "participation": 3}, "event_id": event_id,
            "occurred_at": "2026-10-20T10:00:00Z"}
    first = env.client.post("/api/cases/CS-API1/events/contact_attended", json=body,
                            headers=env["prac_a"].headers)
    again = env.client.post("/api/cases/CS-API1/events/contact_attended", json=body,
                            headers=env["prac_a"].headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["events"][0]["event_id"] == again.json()["events"][0]["event_id"]
    assert env.app.store.stream_version("CS-API1") == 2


def test_correlation_id_is_the_servers_and_the_client_request_id_is_kept_apart(
    env: Env,
) -> None:
    resp = env.client.post(
        "/api/cases", json={"case_id": "CS-CID", "data": opened()},
        headers={**env["prac_a"].headers, "X-Request-ID": "req-12345"},
    )
    assert resp.status_code == 201
    assert resp.headers["x-request-id"] == "req-12345"  # the client's, echoed
    ours = resp.headers["x-correlation-id"]
    assert len(ours) == 32 and ours != "req-12345"
    assert env.app.store.read_stream("CS-CID")[0].correlation_id == ours
    read = env.client.get("/api/cases/CS-CID", headers={**env["prac_a"].headers,
                                                         "X-Request-ID": "trace.77-a"})
    entry = search(env.app, case_id="CS-CID", action="GET /api/cases/{case_id}").entries[0]
    assert (entry.client_request_id, entry.correlation_id) == (
        "trace.77-a", read.headers["x-correlation-id"])
    for bad in ("bad id\nwith newline", "-leading-dash", "x" * 65, "a;b"):
        env.client.get("/api/cases/CS-CID", headers={**env["prac_a"].headers,
                                                      "X-Request-ID": bad})
        fresh = env.client.get("/api/me", headers={**env["prac_a"].headers,
                                                    "X-Request-ID": bad})
        assert fresh.headers["x-request-id"] == fresh.headers["x-correlation-id"]
        assert len(fresh.headers["x-request-id"]) == 32
    entries = search(env.app, case_id="CS-CID", action="GET /api/cases/{case_id}").entries
    assert [e.client_request_id for e in entries] == [None, None, None, None, "trace.77-a"]


def test_session_writes_need_the_csrf_token(env: Env) -> None:
    cookie, csrf = env.accounts.start_session(env["prac_a"].user)
    env.client.cookies.set(SESSION_COOKIE, cookie)
    body = {"case_id": "CS-CSRF", "data": opened()}
    refused = env.client.post("/api/cases", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf_failed"
    wrong = env.client.post("/api/cases", json=body, headers={CSRF_HEADER: "x" * 43})
    assert wrong.status_code == 403
    assert env.app.store.stream_version("CS-CSRF") == 0
    ok = env.client.post("/api/cases", json=body, headers={CSRF_HEADER: csrf})
    assert ok.status_code == 201
    assert env.client.get("/api/me").json()["via"] == "session"


def test_unexpected_failure_is_a_500_with_a_reference_and_no_details(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: CaseGuard, case_id: str) -> str:
        raise RuntimeError("secret detail: child C-TEST0001 born 2010-05-17")

    monkeypatch.setattr(CaseGuard, "teams_of", broken)
    resp = env.client.get("/api/cases/CS-API1/history", headers=env["auditor"].headers)
    assert resp.status_code == 500
    body = resp.json()
    assert body["error"] == "internal_error"
    assert body["reference"] == resp.headers["x-request-id"]
    assert "secret" not in resp.text
    assert "2010" not in resp.text


def test_unknown_path_and_method(env: Env) -> None:
    resp = env.client.get("/api/nothing-here", headers=env["auditor"].headers)
    assert resp.status_code == 404
    assert resp.json()["error"] == "not_found"
    resp = env.client.put("/api/cases", headers=env["auditor"].headers)
    assert resp.status_code == 405


def test_openapi_document_is_served_with_every_event_type(env: Env) -> None:
    doc = env.client.get("/openapi.json").json()
    paths = doc["paths"]
    assert "/api/cases" in paths
    assert "/api/cases/{case_id}/events/contact_missed" in paths
    assert "/api/access-log" in paths
    err = paths["/api/cases/{case_id}/events/contact_missed"]["post"]["responses"]
    assert {"401", "403", "409", "422"} <= set(err)
    assert not any(p.startswith("/cases") or p == "/login" for p in paths)  # pages are not API


def test_a_correction_is_stored_as_its_replacement_model_reads_it(env: Env) -> None:
    """A "4" sent for a number is validated as 4 and stored as 4, so the read side folds it
    (it used to be stored as sent, and the case's reads failed); a retry of the same
    correction is still recognised as the same."""
    assert open_case(env).status_code == 201
    headers = env["prac_a"].headers
    first = env.client.post("/api/cases/CS-API1/events/contact_attended", headers=headers,
                            json={"data": {"kind": "phone", "participation": 3},
                                  "occurred_at": "2026-10-20T10:00:00Z"})
    assert first.status_code == 201, first.text
    target = first.json()["events"][0]["event_id"]
    body = {"data": {"target_event_id": target, "reason": "typed the wrong rating",
                     "replacement_type": "contact_attended",
                     "replacement": {"kind": "phone", "participation": "4"}},
            "event_id": str(uuid.uuid4()), "occurred_at": "2026-10-21T10:00:00Z"}
    fixed = env.client.post("/api/cases/CS-API1/events/event_superseded", json=body,
                            headers=headers)
    assert fixed.status_code == 201, fixed.text
    again = env.client.post("/api/cases/CS-API1/events/event_superseded", json=body,
                            headers=headers)
    assert again.status_code == 201, again.text
    stored = env.app.store.read_stream("CS-API1")[-1].event
    assert stored.replacement["participation"] == 4  # type: ignore[attr-defined]
    for path in ("", "/history", "/replay", "/export"):
        resp = env.client.get(f"/api/cases/CS-API1{path}", headers=headers)
        assert resp.status_code == 200, (path, resp.text)
