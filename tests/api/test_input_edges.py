"""Issue 9 §2: no input answers 500. Extreme dates in query parameters, oversized bodies,
invalid UTF-8 and NUL in a query, a form or a JSON body are refused naming the field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Env
from tests.api.test_roles import open_case
from tests.web.conftest import sign_in

EXTREME_QUERIES = [
    ("/api/cases/CS-API1?as_at=9999-12-31", "as_at", "prac_a"),
    ("/api/cases/CS-API1?as_at=0001-01-01", "as_at", "prac_a"),
    ("/api/caseload?as_at=9999-12-31", "as_at", "manager_a"),
    ("/api/compliance?as_at=9999-12-31", "as_at", "manager_a"),
    ("/api/cases/CS-API1/history?as_of=9999-12-31", "as_of", "prac_a"),
    ("/api/cases/CS-API1/history?as_known_at=9999-12-31T23:59:59-12:00", "as_known_at",
     "prac_a"),
    ("/api/cases/CS-API1/replay?as_of=0001-01-01", "as_of", "prac_a"),
    ("/api/cases/CS-API1/replay?as_known_at=0001-01-01T00:00:00%2B14:00", "as_known_at",
     "prac_a"),
    ("/api/ratings?end=9999-12-31", "end", "manager_a"),
    ("/api/ratings?start=0001-01-01", "start", "manager_a"),
    ("/api/access-log?since=0001-01-01T00:00:00%2B14:00", "since", "auditor"),
    ("/api/access-log?until=9999-12-31T23:59:59-12:00", "until", "auditor"),
]


@pytest.mark.parametrize(("url", "field", "who"), EXTREME_QUERIES)
def test_extreme_dates_in_queries_are_422_naming_the_parameter(
    env: Env, url: str, field: str, who: str
) -> None:
    assert open_case(env).status_code == 201
    resp = env.client.get(url, headers=env[who].headers)
    assert resp.status_code == 422, resp.text
    assert [f["field"] for f in resp.json()["fields"]] == [field]
    assert "between 1900-01-01 and 2199-12-31" in resp.json()["fields"][0]["reason"]


def test_the_last_day_of_the_range_is_answered(env: Env) -> None:
    assert open_case(env).status_code == 201
    for url, who in (("/api/cases/CS-API1?as_at=2199-12-31", "prac_a"),
                     ("/api/caseload?as_at=2199-12-31", "manager_a"),
                     ("/api/cases/CS-API1/replay?as_of=1900-01-01", "prac_a")):
        resp = env.client.get(url, headers=env[who].headers)
        assert resp.status_code in (200, 404), (url, resp.text)


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def test_a_body_over_the_limit_is_413_before_it_is_parsed(env: Env) -> None:
    assert open_case(env).status_code == 201
    url = "/api/cases/CS-API1/events/contact_missed"
    big = b'{"data": {"kind": "office", "acceptable": false, "reason": "' + b"x" * 1_100_000
    resp = env.client.post(url, content=big, headers={**env["prac_a"].headers,
                                                      "Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["error"] == "payload_too_large"
    # Streamed with no Content-Length: counted as it arrives.
    streamed = env.client.post(url, content=_chunks(1_200_000),
                               headers={**env["prac_a"].headers,
                                        "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "payload_too_large"
    page = env.client.post("/cases/CS-API1/log/missed", content=b"a=" + b"x" * 1_100_000,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert page.status_code == 413
    # Under the limit, the same route answers as usual.
    ok = env.client.post(url, json={"data": {"kind": "office", "acceptable": False,
                                             "reason": "no_reason_given"}},
                         headers=env["prac_a"].headers)
    assert ok.status_code == 201, ok.text


BAD_JSON = [
    (b'{"data": {"kind": "office", "acceptable": false, "reason": "no_reason_given", '
     b'"note": "bad \\u0000 nul"}}', "data.note", "NUL"),
    (b'{"data": {"kind": "office", "acceptable": false, "reason": "no_reason_given", '
     b'"note": "bad \xff\xfe bytes"}}', "data.note", "UTF-8"),
]


@pytest.mark.parametrize(("body", "field", "word"), BAD_JSON)
def test_nul_and_invalid_utf8_in_a_json_field_are_422_naming_it(
    env: Env, body: bytes, field: str, word: str
) -> None:
    assert open_case(env).status_code == 201
    resp = env.client.post("/api/cases/CS-API1/events/contact_missed", content=body,
                           headers={**env["prac_a"].headers,
                                    "Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
    [problem] = resp.json()["fields"]
    assert problem["field"] == field and word in problem["reason"]


@pytest.mark.parametrize("value", ["%00", "ab%00cd", "%FF%FE", "caf%C3"])
def test_nul_and_invalid_utf8_in_a_query_are_422_naming_it(env: Env, value: str) -> None:
    """On PostgreSQL a NUL in an access-log filter used to answer 503 store_unavailable."""
    resp = env.client.get(f"/api/access-log?user_id={value}", headers=env["auditor"].headers)
    assert resp.status_code == 422, resp.text
    assert [f["field"] for f in resp.json()["fields"]] == ["user_id"]
    case = env.client.get(f"/api/access-log?case_id={value}&limit=5",
                          headers=env["auditor"].headers)
    assert [f["field"] for f in case.json()["fields"]] == ["case_id"]


def test_invalid_utf8_in_a_form_field_is_422_naming_it(env: Env) -> None:
    """(A NUL in a form is left to the page's own check, which keeps the form: see
    tests/web/test_team_pages.py.)"""
    resp = env.client.post("/login", content=b"username=a%FFb&password=x&login_csrf=y",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 422
    assert "username" in resp.text and "UTF-8" in resp.text


def test_the_replay_page_names_an_extreme_date(env: Env) -> None:
    assert open_case(env).status_code == 201
    sign_in(env.client, "prac.a")
    page = env.client.get("/cases/CS-API1/replay?as_of=0001-01-01&as_known_at=9999-12-31T23:59")
    assert page.status_code == 422
    assert "between 1900-01-01 and 2199-12-31" in page.text
