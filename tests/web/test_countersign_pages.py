"""Countersignature through the real pages, the JSON API and the CLI, on both back ends: the
manager of the case's team sees "Countersign" and "Return for revision" beside a document
waiting for them and records through the one door; everyone else is refused (403, nothing
recorded); the practitioner sees the returned document due again."""

from __future__ import annotations

from typing import Any

import pytest

from projections.projector import Projector
from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import errors_beside, sign_in

CASE = "/cases/CS-TEST1"


def high_risk_assessment(env: Env) -> str:
    open_case(env.app, start_date="2026-10-01")
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A", "manager_id": "M-TEST01"}, at("2026-10-01", 11))
    [rec] = record(env.app, "CS-TEST1", "assessment_completed", {
        "kind": "initial", "likelihood_of_reoffending": "high",
        "safety_and_wellbeing": "medium", "risk_of_serious_harm": "high",
        "strengths_recorded": True, "child_involved": True, "parent_carer_involved": True,
        "victim_considered": True, "other_agencies_information_used": True},
        at("2026-10-05", 12))
    Projector(env.app).catch_up()
    return str(rec.event_id)


def post(env: Env, path: str, csrf: str, **data: Any) -> Any:
    return env.client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def types(env: Env) -> list[str]:
    return [r.type for r in env.app.store.read_stream("CS-TEST1")]


def test_the_manager_countersigns_from_the_case_page(env: Env) -> None:
    doc = high_risk_assessment(env)
    csrf = sign_in(env.client, "manager.a")
    page = env.client.get(CASE)
    assert page.status_code == 200
    assert "awaiting countersignature" in page.text
    assert 'id="countersign-list"' in page.text
    assert f'href="{CASE}/countersign/{doc}"' in page.text
    assert f'href="{CASE}/return/{doc}"' in page.text
    form = env.client.get(f"{CASE}/countersign/{doc}")
    assert form.status_code == 200 and 'id="original"' in form.text
    ok = post(env, f"{CASE}/countersign/{doc}", csrf, note="Checked with the police notes.")
    assert ok.status_code == 303, ok.text
    assert ok.headers["location"] == f"{CASE}?recorded=countersign"
    last = env.app.store.read_stream("CS-TEST1")[-1]
    assert (last.type, last.recorded_by, last.recorded_role) == (
        "document_countersigned", "M-TEST01", "manager")
    after = env.client.get(ok.headers["location"])
    assert "Saved: Countersign." in after.text
    assert f'href="{CASE}/countersign/{doc}"' not in after.text
    assert ">countersigned<" in after.text
    again = post(env, f"{CASE}/countersign/{doc}", csrf)
    assert again.status_code == 422 and "already countersigned" in again.text


def test_the_manager_returns_it_and_it_is_due_again(env: Env) -> None:
    doc = high_risk_assessment(env)
    csrf = sign_in(env.client, "manager.a")
    bad = post(env, f"{CASE}/return/{doc}", csrf, reason="because")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "reason") == "choose one of the options"
    ok = post(env, f"{CASE}/return/{doc}", csrf, reason="risk_not_addressed",
              note="Add the police intelligence.")
    assert ok.status_code == 303, ok.text
    assert types(env)[-1] == "document_returned"
    sign_in(env.client, "prac.a")
    page = env.client.get(CASE)
    assert "returned for revision" in page.text
    assert "Assessment resubmission" in page.text  # in what is due
    caseload = env.client.get("/caseload")
    assert "Assessment resubmission" in caseload.text


@pytest.mark.parametrize("who", ["prac.a", "manager.b", "auditor"])
def test_no_one_else_may_sign_off(env: Env, who: str) -> None:
    doc = high_risk_assessment(env)
    csrf = sign_in(env.client, who)
    before = types(env)
    for slug in ("countersign", "return"):
        assert env.client.get(f"{CASE}/{slug}/{doc}").status_code == 403
        refused = post(env, f"{CASE}/{slug}/{doc}", csrf, reason="other")
        assert refused.status_code == 403
    assert types(env) == before
    if who == "prac.a":
        page = env.client.get(CASE)
        assert f"{CASE}/countersign/" not in page.text and "awaiting countersignature" in page.text


def test_the_api_takes_a_managers_countersignature_only(env: Env) -> None:
    doc = high_risk_assessment(env)
    body = {"data": {"document_event_id": doc}, "occurred_at": "2026-10-06T10:00:00+00:00"}
    path = "/api/cases/CS-TEST1/events/document_countersigned"
    for who in ("prac_a", "manager_b", "auditor"):
        assert env.client.post(path, json=body, headers=env[who].headers).status_code == 403
    resp = env.client.post(path, json=body, headers=env["manager_a"].headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["events"][0]["recorded_by"] == "M-TEST01"
    view = env.client.get("/api/cases/CS-TEST1", headers=env["manager_a"].headers).json()
    assert view["aspire"]["stages"]["assessment"]["status"] == "done_on_time"
    assert [d["status"] for d in view["aspire"]["countersignature"]] == ["countersigned"]


def test_odd_input_never_breaks_the_forms(env: Env) -> None:
    doc = high_risk_assessment(env)
    csrf = sign_in(env.client, "manager.a")
    for bad in ("a\x00b", "\ud7ff\U0010ffff", "x" * 5000, ""):
        for slug in ("return", "countersign"):
            resp = post(env, f"{CASE}/{slug}/{doc}", csrf, reason=bad, note=bad)
            assert resp.status_code in (303, 422), (slug, repr(bad[:10]), resp.status_code)
            assert "Traceback" not in resp.text
    assert env.client.get(f"{CASE}/countersign/{'0' * 36}").status_code == 404
