"""A full scenario with recognisable synthetic markers, through the API: two cases of one
child with a date of birth, a contact note, a correction's reason and a manager's
acknowledgement note, projected. Shared by the subject-access and the marker-scan tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.projector import Projector
from tests.api.conftest import Env
from tests.support import opened

CHILD = "C-MARK0001"
DOB = "2009-02-11"
SEVENTEEN_AND_A_HALF = "2026-08-11"  # DOB + 17 years 6 months: gives the DOB away
NOTE = "ZQXNOTE-7731"
REASON = "ZQXREASON-4410"
ACK = "ZQXACK-9902"
MARKERS = (DOB, SEVENTEEN_AND_A_HALF, NOTE, REASON, ACK)
CASES = ("CS-MARK1", "CS-MARK2")


@dataclass(frozen=True)
class Scenario:
    alert_id: str


def _post(env: Env, who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = env.client.post(path, json=body, headers=env[who].headers)
    assert resp.status_code in (200, 201), resp.text
    result: dict[str, Any] = resp.json()
    return result


def _event(env: Env, case_id: str, event_type: str, data: dict[str, Any], on: str
           ) -> dict[str, Any]:
    return _post(env, "prac_a", f"/api/cases/{case_id}/events", {
        "event_type": event_type, "data": data, "occurred_at": f"{on}T10:00:00Z"})


def run_scenario(env: Env) -> Scenario:
    """Both cases opened and worked on by the team's practitioner, projected, and an
    alert acknowledged by the manager with a note."""
    for n, case_id in enumerate(CASES):
        _post(env, "prac_a", "/api/cases", {"case_id": case_id, "data": opened(
            child_id=CHILD, date_of_birth=DOB, start_date=f"2026-10-0{n + 1}",
            expected_end_date="2027-06-30")})
        _event(env, case_id, "case_manager_allocated", {
            "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
            "team": "TEAM-A", "manager_id": "M-TEST01"}, f"2026-10-0{n + 1}")
    _event(env, CASES[0], "contact_missed", {"kind": "office", "acceptable": False,
                                             "reason": "other", "note": NOTE}, "2026-10-07")
    wrong = _event(env, CASES[0], "contact_missed", {
        "kind": "home_visit", "acceptable": True, "reason": "illness_with_evidence"},
        "2026-10-08")
    _event(env, CASES[0], "event_retracted", {"target_event_id": wrong["events"][0]["event_id"],
                                              "reason": REASON}, "2026-10-09")
    Projector(env.app).catch_up()
    alerts = env.client.get("/api/alerts", headers=env["manager_a"].headers).json()
    alert_id = next(a["alert_id"] for a in alerts if a["case_id"] == CASES[0])
    _post(env, "manager_a", f"/api/alerts/{alert_id}/acknowledge", {"note": ACK})
    Projector(env.app).catch_up()
    return Scenario(alert_id)
