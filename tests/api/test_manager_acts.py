"""Manager decisions are manager acts (issue 11 §1), through the JSON API on SQLite and
PostgreSQL: who may record each, the manager taken from the signed-in principal, breach
authorisation, agreement to a level change, and oversight actions with their alerts."""

from __future__ import annotations

from typing import Any

import pytest

from events.envelope import Actor
from tests.api.conftest import Env
from tests.support import at, opened
from tracker.domain.access import MANAGER_ACTS
from tracker.domain.commands import parse_command
from tracker.kernel.errors import AccessDenied
from tracker.services.cases import CaseService

CASE = "CS-MGR1"


def post(env: Env, who: str, event_type: str, data: dict[str, Any], on: str,
         case_id: str = CASE) -> Any:
    return env.client.post(
        f"/api/cases/{case_id}/events/{event_type}",
        json={"data": data, "occurred_at": f"{on}T10:00:00+00:00"},
        headers=env[who].headers,
    )


def ok(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def open_allocated(env: Env, case_id: str = CASE) -> None:
    ok(env.client.post("/api/cases", json={"case_id": case_id, "data": opened(
        start_date="2026-01-05", expected_end_date="2027-06-30")}, headers=env["prac_a"].headers))
    ok(post(env, "prac_a", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A", "manager_id": "M-TEST01"}, "2026-01-05", case_id))


def miss(env: Env, on: str, case_id: str = CASE) -> str:
    body = ok(post(env, "prac_a", "contact_missed", {
        "kind": "office", "acceptable": False, "reason": "no_reason_given"}, on, case_id))
    return str(body["events"][0]["event_id"])


def breach_due(env: Env) -> str:
    """Two warnings, then a third unacceptable failure in the warned period: breach due."""
    for day in ("2026-09-01", "2026-09-15"):
        failure = miss(env, day)
        ok(post(env, "prac_a", "warning_issued", {"failure_event_id": failure}, day))
    return miss(env, "2026-10-01")


def alerts(env: Env, rule: str, who: str = "manager_a") -> list[dict[str, Any]]:
    resp = env.client.get("/api/alerts", headers=env[who].headers)
    assert resp.status_code == 200, resp.text
    return [a for a in resp.json() if a["rule"] == rule and a["case_id"] == CASE]


def test_manager_records_exceptional_circumstances_and_breach_due_clears(env: Env) -> None:
    open_allocated(env)
    third = breach_due(env)
    due = alerts(env, "breach_due")
    assert len(due) == 1 and due[0]["owner"] == "M-TEST01"
    data = {"failure_event_id": third, "note": "Bereavement in the family."}
    # A practitioner can no longer record a manager's decision; another team's manager
    # is refused the same way (403, nothing revealed).
    for who in ("prac_a", "manager_b", "auditor", "admin"):
        refused = post(env, who, "exceptional_circumstances_recorded", data, "2026-10-02")
        assert refused.status_code == 403, who
        assert refused.json() == post(env, who, "exceptional_circumstances_recorded", data,
                                      "2026-10-02", "CS-NOPE").json()
    # The manager is never typed: neither the old field nor the stored-only one.
    for typed in ({"manager_id": "M-TEST01"}, {"v1_manager_id": "M-TEST01"}):
        resp = post(env, "manager_a", "exceptional_circumstances_recorded",
                    {**data, **typed}, "2026-10-02")
        assert resp.status_code == 422, resp.text
    body = ok(post(env, "manager_a", "exceptional_circumstances_recorded", data, "2026-10-02"))
    event = body["events"][0]
    assert (event["recorded_by"], event["recorded_role"]) == ("M-TEST01", "manager")
    assert alerts(env, "breach_due") == []
    view = env.client.get(f"/api/cases/{CASE}", headers=env["manager_a"].headers).json()
    assert view["enforcement"]["exceptional_circumstances"][0]["manager"] == "M-TEST01"


def test_case_service_refuses_a_practitioner_recording_a_manager_act(env: Env) -> None:
    open_allocated(env)
    third = breach_due(env)
    command = parse_command({
        "case_id": CASE, "event_type": "exceptional_circumstances_recorded",
        "data": {"failure_event_id": third, "note": "synthetic"},
        "occurred_at": at("2026-10-02")})
    service = CaseService.of(env.app)
    with pytest.raises(AccessDenied):
        service.record(command, actor=env["prac_a"].user, correlation_id="t")
    # On the command line the operator's role is the one recorded: a practitioner's is refused.
    with pytest.raises(AccessDenied):
        service.record(command, actor=Actor("P-TEST01", "practitioner"), correlation_id="t")
    recorded = service.record(command, actor=Actor("M-TEST01", "manager"), correlation_id="t")
    assert recorded[0].recorded_by == "M-TEST01"


def test_breach_awaits_authorisation_with_an_alert_until_a_manager_decides(env: Env) -> None:
    open_allocated(env)
    third = breach_due(env)
    breach = ok(post(env, "prac_a", "breach_initiated", {"failure_event_ids": [third]},
                     "2026-10-03"))["events"][0]["event_id"]
    waiting = alerts(env, "breach_awaiting_authorisation")
    assert len(waiting) == 1 and waiting[0]["owner"] == "M-TEST01"
    assert waiting[0]["severity"] == "high"  # policy.toml [alerts]
    enf = env.client.get(f"/api/cases/{CASE}", headers=env["prac_a"].headers).json()[
        "enforcement"]
    assert enf["status"] == "breach_awaiting"
    assert enf["breaches"][0]["authorisation"] == "awaiting"
    assert post(env, "prac_a", "breach_authorised", {"breach_event_id": breach},
                "2026-10-04").status_code == 403
    assert post(env, "manager_b", "breach_authorised", {"breach_event_id": breach},
                "2026-10-04").status_code == 403
    # Declining needs a reason.
    resp = post(env, "manager_a", "breach_declined", {"breach_event_id": breach}, "2026-10-04")
    assert resp.status_code == 422 and "reason" in resp.text
    ok(post(env, "manager_a", "breach_authorised", {"breach_event_id": breach}, "2026-10-04"))
    assert alerts(env, "breach_awaiting_authorisation") == []
    enf = env.client.get(f"/api/cases/{CASE}", headers=env["prac_a"].headers).json()[
        "enforcement"]
    assert (enf["status"], enf["breaches"][0]["authorisation"],
            enf["breaches"][0]["decided_by"]) == ("breach_initiated", "authorised", "M-TEST01")
    # Decided once.
    again = post(env, "manager_a", "breach_declined", {"breach_event_id": breach,
                                                        "reason": "second thoughts"},
                 "2026-10-05")
    assert again.status_code == 422 and "already authorised" in again.text


def test_a_declined_breach_records_the_reason_and_clears_the_alert(env: Env) -> None:
    open_allocated(env)
    third = breach_due(env)
    breach = ok(post(env, "prac_a", "breach_initiated", {"failure_event_ids": [third]},
                     "2026-10-03"))["events"][0]["event_id"]
    ok(post(env, "manager_a", "breach_declined",
            {"breach_event_id": breach, "reason": "Re-engaging well since."}, "2026-10-04"))
    assert alerts(env, "breach_awaiting_authorisation") == []
    enf = env.client.get(f"/api/cases/{CASE}", headers=env["manager_a"].headers).json()[
        "enforcement"]
    assert enf["breaches"][0]["authorisation"] == "declined"
    assert enf["breach_due"] == []


def test_a_practitioners_change_of_level_awaits_a_managers_agreement(env: Env) -> None:
    open_allocated(env)
    # The agreeing manager is no longer a typed field.
    resp = post(env, "prac_a", "intervention_level_changed", {
        "intervention_level": "intensive", "reason": "risk_increased",
        "manager_id": "M-TEST01"}, "2026-10-01")
    assert resp.status_code == 422
    change = ok(post(env, "prac_a", "intervention_level_changed", {
        "intervention_level": "intensive", "reason": "risk_increased"}, "2026-10-01"))[
        "events"][0]["event_id"]
    view = env.client.get(f"/api/cases/{CASE}", headers=env["prac_a"].headers).json()
    assert [c["event_id"] for c in view["levels_awaiting_agreement"]] == [change]
    assert post(env, "prac_a", "intervention_level_change_agreed",
                {"change_event_id": change}, "2026-10-02").status_code == 403
    # Managers do not record practitioners' entries either.
    assert post(env, "manager_a", "intervention_level_changed", {
        "intervention_level": "standard", "reason": "other"}, "2026-10-02").status_code == 403
    ok(post(env, "manager_a", "intervention_level_change_agreed", {"change_event_id": change},
            "2026-10-02"))
    view = env.client.get(f"/api/cases/{CASE}", headers=env["prac_a"].headers).json()
    assert view["levels_awaiting_agreement"] == []


def test_oversight_entry_with_an_action_due_then_overdue_then_done(env: Env) -> None:
    open_allocated(env)
    entry = {"oversight_id": "OV-1", "category": "risk_review",
             "note": "Discussed in supervision.", "action": "Update the risk assessment.",
             "action_due": "2026-10-20"}
    assert post(env, "prac_a", "management_oversight_recorded", entry,
                "2026-10-01").status_code == 403
    assert post(env, "manager_b", "management_oversight_recorded", entry,
                "2026-10-01").status_code == 403
    bad = post(env, "manager_a", "management_oversight_recorded",
               {**entry, "category": "gossip"}, "2026-10-01")
    assert bad.status_code == 422 and "data.category" in bad.text
    half = {k: v for k, v in entry.items() if k != "action_due"}
    assert post(env, "manager_a", "management_oversight_recorded", half,
                "2026-10-01").status_code == 422
    body = ok(post(env, "manager_a", "management_oversight_recorded", entry, "2026-10-01"))
    assert body["events"][0]["recorded_by"] == "M-TEST01"
    view = env.client.get(f"/api/cases/{CASE}", headers=env["prac_a"].headers).json()
    (item,) = view["oversight"]
    # The tests' clock is 2 November 2026: the action due on 20 October is overdue.
    assert (item["category"], item["manager"], item["status"], item["due"]) == (
        "risk_review", "M-TEST01", "overdue", "2026-10-20")
    overdue = alerts(env, "oversight_action_overdue")
    assert len(overdue) == 1 and overdue[0]["details"]["due"] == "2026-10-20"
    # It is due on the practitioner's caseload (what is due) too.
    rows = env.client.get("/api/caseload", params={"team": "TEAM-A"},
                          headers=env["prac_a"].headers).json()
    due = [d for r in rows if r["case_id"] == CASE for d in r["due"]
           if d["stage"] == "oversight"]
    assert [(d["subject"], d["status"], d["due"]) for d in due] == [
        ("oversight:OV-1", "overdue", "2026-10-20")]
    # The practitioner marks it done (a manager's entry, the practitioner's act).
    assert post(env, "manager_a", "oversight_action_completed", {"oversight_id": "OV-1"},
                "2026-10-25").status_code == 403
    ok(post(env, "prac_a", "oversight_action_completed", {"oversight_id": "OV-1"},
            "2026-10-25"))
    assert alerts(env, "oversight_action_overdue") == []
    view = env.client.get(f"/api/cases/{CASE}", headers=env["prac_a"].headers).json()
    assert view["oversight"][0]["status"] == "done"


def test_a_practitioner_cannot_retract_a_managers_decision(env: Env) -> None:
    open_allocated(env)
    entry = {"oversight_id": "OV-2", "category": "case_discussion", "note": "Noted."}
    event_id = ok(post(env, "manager_a", "management_oversight_recorded", entry,
                       "2026-10-01"))["events"][0]["event_id"]
    retract = {"target_event_id": event_id, "reason": "Not mine to keep."}
    assert post(env, "prac_a", "event_retracted", retract, "2026-10-02").status_code == 403
    ok(post(env, "manager_a", "event_retracted", retract, "2026-10-02"))


# The countersignature acts' own matrix is tests/web/test_countersign_pages.py.
@pytest.mark.parametrize(
    "act", sorted(MANAGER_ACTS - {"document_countersigned", "document_returned"}))
def test_role_matrix_for_each_manager_act(env: Env, act: str) -> None:
    """Every manager act: only a manager of the case's own team gets past the role matrix
    (another team's manager, practitioners, auditors and admins get the same bare 403)."""
    open_allocated(env)
    # With a body valid except for the case's facts, the manager of the team reaches the
    # rules (422 naming the field, or recorded), and everyone else is refused first (403).
    bodies = {
        "exceptional_circumstances_recorded": {
            "failure_event_id": "00000000-0000-4000-8000-000000000000", "note": "n"},
        "breach_authorised": {"breach_event_id": "00000000-0000-4000-8000-000000000000"},
        "breach_declined": {"breach_event_id": "00000000-0000-4000-8000-000000000000",
                            "reason": "r"},
        "intervention_level_change_agreed": {
            "change_event_id": "00000000-0000-4000-8000-000000000000"},
        "management_oversight_recorded": {"oversight_id": "OV-X", "category": "allocation",
                                          "note": "n"},
    }
    body = bodies[act]
    for who in ("prac_a", "prac_b", "manager_b", "auditor", "admin"):
        assert post(env, who, act, body, "2026-10-01").status_code == 403, who
    mine = post(env, "manager_a", act, body, "2026-10-01")
    assert mine.status_code in (201, 422), mine.text
    if act == "management_oversight_recorded":
        assert mine.status_code == 201
