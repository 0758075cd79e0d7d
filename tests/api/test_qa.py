"""QA audits and dip sampling (issue 11 §3, issue 10 §6) through the JSON API, on SQLite and
PostgreSQL: the qa role's one write, prompts rolled up to key questions and on to ratings,
overrides with reasons, peer audit by policy, samples drawn, recorded, listed and rated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Env, add_qa
from tests.support import opened
from tracker.domain.audits import prompt_ids
from tracker.domain.inspection import question_set
from tracker.domain.policy import build_policy
from tracker.edges.http import create_app

WHEN = "2026-10-20T10:00:00+00:00"


def open_case(env: Env, case_id: str, who: str = "prac_a", **overrides: Any) -> None:
    data = opened(**overrides)
    resp = env.client.post("/api/cases", json={
        "case_id": case_id, "data": data, "occurred_at": f"{data['start_date']}T09:00:00+00:00"},
        headers=env[who].headers)
    assert resp.status_code == 201, resp.text


def all_yes(route: str = "court") -> dict[str, str]:
    return {f"{kq} {p}": "yes" for kq, p in prompt_ids(question_set(), route)}


def audit(env: Env, who: str, case_id: str, given: dict[str, str], *,
          occurred_at: str | None = WHEN, **data: Any) -> Any:
    prompts = [{"key_question": k.split()[0], "prompt": k.split()[1], "answer": v}
               for k, v in given.items()]
    body: dict[str, Any] = {"data": {"prompts": prompts, **data}}
    if occurred_at is not None:
        body["occurred_at"] = occurred_at
    return env.client.post(f"/api/cases/{case_id}/events/case_audited", json=body,
                           headers=env[who].headers)


def hand_worked() -> dict[str, str]:
    """A full audit of a court case, every prompt yes except:
    2.1.1 (7 prompts): f no, g not applicable -> 5 of 6 applicable yes = 83.3% >= 75: yes;
    2.1.2 (3 prompts): b, c no -> 1 of 3 = 33.3%: no;
    2.1.3 (3 prompts): all not applicable -> not judged;
    2.2.2 (prompts a-d): c, d no -> 2 of 4 = 50% < 75: no;
    2.4.3 (prompts a-d): d no -> 3 of 4 = exactly 75%: yes (at least the policy's 75%)."""
    answers = all_yes()
    answers |= {"2.1.1 f": "no", "2.1.1 g": "not_applicable", "2.1.2 b": "no", "2.1.2 c": "no",
                "2.1.3 a": "not_applicable", "2.1.3 b": "not_applicable",
                "2.1.3 c": "not_applicable", "2.2.2 c": "no", "2.2.2 d": "no",
                "2.4.3 d": "no"}
    return answers


def test_a_qa_audit_rolls_up_from_prompts_to_key_questions_and_ratings(env: Env) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env, "CS-QA1", start_date="2026-09-01")
    resp = audit(env, "qa.b", "CS-QA1", hand_worked(), safety_and_wellbeing="high",
                 risk_of_serious_harm="high")
    assert resp.status_code == 201, resp.text
    stored = env.app.store.read_stream("CS-QA1")[-1]
    assert (stored.recorded_by, stored.recorded_role) == ("Q-TEST02", "qa")
    answers = {(a.standard, a.lens): a.answer for a in stored.event.answers}  # type: ignore[attr-defined]
    assert answers[("assessment", "desistance")] is True
    assert answers[("assessment", "safety_wellbeing")] is False
    assert ("assessment", "risk_of_harm") not in answers
    assert answers[("planning", "safety_wellbeing")] is False
    assert answers[("planning", "desistance")] is True
    assert answers[("review", "risk_of_harm")] is True
    assert len(answers) == 11  # 12 court key questions, 2.1.3 not judged

    resp = env.client.get("/api/ratings?start=2026-09-01&end=2026-10-31",
                          headers=env["qa.b"].headers)
    assert resp.status_code == 200, resp.text
    court = resp.json()["audits"]["domains"]["court"]
    assert court["assessment"]["questions"]["desistance"]["pct"] == 100.0
    assert court["assessment"]["questions"]["safety_wellbeing"] == {
        "yes": 0, "judged": 1, "pct": 0.0, "band": "inadequate"}
    assert court["assessment"]["questions"]["risk_of_harm"]["judged"] == 0
    assert (court["assessment"]["rating"], court["assessment"]["lowest"]) == (
        "inadequate", "safety_wellbeing")
    assert court["planning"]["rating"] == "inadequate"
    assert court["implementation"]["rating"] == "outstanding"


def test_the_auditor_overrides_a_key_question_with_a_reason(env: Env) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env, "CS-QA2")
    no_reason = audit(env, "qa.b", "CS-QA2", hand_worked(), overrides=[
        {"key_question": "2.1.2", "answer": True, "reason": ""}])
    assert no_reason.status_code == 422
    assert any(f["field"] == "data.overrides.0.reason" for f in no_reason.json()["fields"])
    elsewhere = audit(env, "qa.b", "CS-QA2", hand_worked(), overrides=[
        {"key_question": "3.1.1", "answer": True, "reason": "Out-of-court question."}])
    assert elsewhere.status_code == 422
    assert "3.1.1 is not a key question of this audit" in elsewhere.text
    sent = audit(env, "qa.b", "CS-QA2", hand_worked(), answers=[
        {"standard": "assessment", "lens": "desistance", "answer": False}])
    assert sent.status_code == 422 and "worked out from the prompts" in sent.text
    resp = audit(env, "qa.b", "CS-QA2", hand_worked(), overrides=[
        {"key_question": "2.1.2", "answer": True,
         "reason": "The safety plan sits in the social care record."}])
    assert resp.status_code == 201, resp.text
    event: Any = env.app.store.read_stream("CS-QA2")[-1].event
    answers = {(a.standard, a.lens): a.answer for a in event.answers}
    assert answers[("assessment", "safety_wellbeing")] is True  # the roll-up said no
    assert event.overrides[0].reason == "The safety plan sits in the social care record."


def test_a_full_audit_answers_every_prompt_and_a_thematic_one_names_a_policy_theme(
    env: Env
) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env, "CS-QA3")
    partial = {"2.1.1 a": "yes"}
    missing = audit(env, "qa.b", "CS-QA3", partial)
    assert missing.status_code == 422 and "a full audit answers every prompt" in missing.text
    no_theme = audit(env, "qa.b", "CS-QA3", partial, audit_type="thematic", theme="fishing")
    assert no_theme.status_code == 422 and "data.theme" in no_theme.text
    ok = audit(env, "qa.b", "CS-QA3", partial, audit_type="thematic", theme="education")
    assert ok.status_code == 201, ok.text


def test_qa_is_refused_every_other_event(env: Env) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env, "CS-QA4")
    h = env["qa.b"].headers
    refused = [
        env.client.post("/api/cases", json={"case_id": "CS-QA5",
                                            "data": opened(team="TEAM-B")}, headers=h),
        env.client.post("/api/cases/CS-QA4/events/contact_missed", json={"data": {
            "kind": "office", "acceptable": False, "reason": "no_reason_given"},
            "occurred_at": WHEN}, headers=h),
        env.client.post("/api/cases/CS-QA4/events", json={
            "event_type": "case_closed", "data": {"reason": "order_completed"}}, headers=h),
        env.client.post("/api/cases/CS-QA4/events/audit_action_completed", json={
            "data": {"action_id": "AA-1"}}, headers=h),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert refused[1].content == refused[2].content  # nothing revealed
    assert [r.type for r in env.app.store.read_stream("CS-QA4")] == ["case_opened"]
    # and the audited team's own practitioner no longer audits its own cases
    resp = audit(env, "prac_a", "CS-QA4", all_yes())
    assert resp.status_code == 403
    # a case that does not exist is refused the same way as one the QA may not audit
    assert audit(env, "qa.b", "CS-NOPE", all_yes()).status_code == 403


def test_own_team_audit_is_refused_unless_the_policy_allows_peer_audit(env: Env) -> None:
    add_qa(env, "qa.a", ["TEAM-A"], "Q-TEST01")
    open_case(env, "CS-QA6")
    own = audit(env, "qa.a", "CS-QA6", all_yes())
    assert own.status_code == 403
    assert own.json() == {"error": "forbidden", "message": "you do not have access to this"}
    env.app.extras["tracker.domain.policy"] = build_policy({"qa": {"allow_peer_audit": True}})
    with TestClient(create_app(env.app), raise_server_exceptions=False) as peer_client:
        resp = peer_client.post("/api/cases/CS-QA6/events/case_audited", json={
            "data": {"prompts": [{"key_question": kq, "prompt": p, "answer": "yes"}
                                 for kq, p in prompt_ids(question_set(), "court")]},
            "occurred_at": WHEN}, headers=env["qa.a"].headers)
    assert resp.status_code == 201, resp.text


def test_audit_actions_are_tracked_to_completion_on_the_case(env: Env) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env, "CS-QA7")
    resp = audit(env, "qa.b", "CS-QA7", all_yes(), actions=[
        {"action_id": "AA-1", "description": "Review the safety plan with social care.",
         "owner_id": "P-TEST01", "due_date": "2026-11-20"}])
    assert resp.status_code == 201, resp.text
    h = env["prac_a"].headers
    unknown = env.client.post("/api/cases/CS-QA7/events/audit_action_completed",
                              json={"data": {"action_id": "AA-9"}}, headers=h)
    assert unknown.status_code == 422 and "data.action_id" in unknown.text
    done = env.client.post("/api/cases/CS-QA7/events/audit_action_completed",
                           json={"data": {"action_id": "AA-1"}}, headers=h)
    assert done.status_code == 201, done.text
    again = env.client.post("/api/cases/CS-QA7/events/audit_action_completed",
                            json={"data": {"action_id": "AA-1"}}, headers=h)
    assert again.status_code == 422 and "already completed" in again.text


def _caseload(env: Env) -> None:
    """Eight cases commencing in October: four court and four out of court, over two teams."""
    for i in range(8):
        team = "TEAM-A" if i % 2 == 0 else "TEAM-B"
        who = "prac_a" if team == "TEAM-A" else "prac_b"
        extra: dict[str, Any] = ({"disposal_type": "youth_caution", "route": "out_of_court"}
                                 if i >= 4 else {})
        open_case(env, f"CS-S{i}", who=who, team=team, child_id=f"C-S000000{i}",
                  start_date=f"2026-10-{10 + i:02d}", **extra)


def test_a_sample_drawn_twice_with_the_same_seed_gives_the_same_cases_recorded_and_listed(
    env: Env
) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    _caseload(env)
    h = env["qa.b"].headers
    body = {"preset": "custom", "seed": 42, "start": "2026-10-01", "end": "2026-10-31",
            "strata": ["route"], "size": 4}
    first = env.client.post("/api/samples", json=body, headers=h)
    second = env.client.post("/api/samples", json=body, headers=h)
    assert first.status_code == second.status_code == 201, first.text
    a, b = first.json(), second.json()
    assert a["case_ids"] == b["case_ids"] and a["sample_id"] != b["sample_id"]
    assert a["drawn"] == {"cases": 4, "court": 2, "out_of_court": 2}  # 4 over two equal strata
    assert a["in_scope"] == {"cases": 8, "court": 4, "out_of_court": 4}
    assert (a["drawn_by"], a["parameters"]["strata"], a["seed"]) == ("Q-TEST02", ["route"], 42)
    other = env.client.post("/api/samples", json=body | {"seed": 43}, headers=h).json()
    assert other["drawn"]["cases"] == 4

    listed = env.client.get("/api/samples", headers=h)
    assert listed.status_code == 200
    assert {s["sample_id"] for s in listed.json()} == {a["sample_id"], b["sample_id"],
                                                      other["sample_id"]}
    shown = env.client.get(f"/api/samples/{a['sample_id']}", headers=env["auditor"].headers)
    assert shown.status_code == 200 and shown.json()["case_ids"] == a["case_ids"]
    assert all(c["audited"] is False for c in shown.json()["cases"])
    team_a = next(c for c in a["cases"] if int(c["case_id"][-1]) % 2 == 0)  # not QA's team
    resp = audit(env, "qa.b", team_a["case_id"], all_yes(team_a["route"]), occurred_at=None)
    assert resp.status_code == 201, resp.text
    worked = env.client.get(f"/api/samples/{a['sample_id']}", headers=h).json()["cases"]
    assert [(c["case_id"], c["audited_by"]) for c in worked if c["audited"]] == [
        (team_a["case_id"], "Q-TEST02")]

    inspection = env.client.post("/api/samples", json={
        "preset": "inspection", "seed": 5, "start": "2026-10-01", "end": "2026-10-31"},
        headers=h).json()
    assert inspection["drawn"] == {"cases": 8, "court": 4, "out_of_court": 4}  # under 20: all
    monthly = env.client.post("/api/samples", json={
        "preset": "monthly_dip", "seed": 5, "start": "2026-10-01", "end": "2026-10-31",
        "per_practitioner": 1}, headers=h).json()
    assert monthly["drawn"]["cases"] == 1  # no case manager allocated: one "unallocated" pool
    assert monthly["cases"][0]["stratum"] == "unallocated"

    bad = env.client.post("/api/samples", json=body | {"strata": ["colour"]}, headers=h)
    assert bad.status_code == 422
    missing = env.client.get("/api/samples/00000000-0000-0000-0000-000000000000", headers=h)
    assert missing.status_code == 404


def test_ratings_can_be_restricted_to_one_drawn_sample(env: Env) -> None:
    add_qa(env, "qa.c", ["TEAM-C"], "Q-TEST03")
    open_case(env, "CS-RA", start_date="2026-10-05", child_id="C-RA000001")
    open_case(env, "CS-RB", who="prac_b", team="TEAM-B", start_date="2026-10-06",
              child_id="C-RB000001")
    no_everywhere = dict.fromkeys(all_yes(), "no")
    assert audit(env, "qa.c", "CS-RA", all_yes()).status_code == 201
    assert audit(env, "qa.c", "CS-RB", no_everywhere).status_code == 201
    h = env["qa.c"].headers
    env.app.clock.set(env.app.clock.now() + timedelta(hours=1))  # type: ignore[attr-defined]
    drawn = env.client.post("/api/samples", json={
        "preset": "custom", "seed": 1, "start": "2026-10-01", "end": "2026-10-31",
        "team": "TEAM-A"}, headers=h).json()
    assert drawn["case_ids"] == ["CS-RA"]
    every = env.client.get("/api/ratings?start=2026-10-01&end=2026-10-31", headers=h).json()
    assert every["audits"]["sample"]["cases"] == 2
    assert every["audits"]["domains"]["court"]["planning"]["questions"]["desistance"][
        "pct"] == 50.0
    only = env.client.get(f"/api/ratings?sample_id={drawn['sample_id']}", headers=h)
    assert only.status_code == 200, only.text
    rated = only.json()
    assert rated["sample_id"] == drawn["sample_id"]
    assert rated["period"] == {"from": "2026-10-01", "to": "2026-10-31"}  # the sample's window
    assert rated["audits"]["sample"]["cases"] == 1
    assert rated["audits"]["domains"]["court"]["planning"]["questions"]["desistance"][
        "pct"] == 100.0
    assert rated["records"]["sample"]["cases"] == 1
    # the audit predates the sample: the sample still shows the case as not yet audited
    shown = env.client.get(f"/api/samples/{drawn['sample_id']}", headers=h).json()
    assert [(c["case_id"], c["audited"]) for c in shown["cases"]] == [("CS-RA", False)]
