"""Continuity across custody and community, and the alert rules over all the views."""

from __future__ import annotations

from typing import Any

from projections.alerts import Candidate, candidates
from tests.projections.conftest import History, policy_with


def rules(h: History, on: str, **policy: Any) -> dict[str, Candidate]:
    p = policy_with(**policy) if policy else h.policy
    return {c.rule: c for c in candidates(h.views(on, p), p)}


class TestContinuity:
    def test_case_manager_history_and_change_at_a_transition(self) -> None:
        h = History(disposal_type="dto")
        h.allocate("2026-01-05", "P-1")
        h.transition("2026-02-02", "community_to_custody")
        h.end_allocation("2026-02-04", "P-1")
        h.allocate("2026-02-04", "P-2")
        cont = h.views("2026-02-10").continuity
        assert [cm["practitioner"] for cm in cont["case_managers"]] == ["P-1", "P-2"]
        assert cont["changes"] == 1
        at_transition = cont["changes_at_transition"][0]["at_transition"]
        assert at_transition is not None and at_transition["kind"] == "community_to_custody"
        assert cont["setting"] == "custody"

    def test_a_change_far_from_any_transition_is_not_flagged(self) -> None:
        h = History(disposal_type="dto")
        h.allocate("2026-01-05", "P-1")
        h.transition("2026-02-02", "community_to_custody")
        h.end_allocation("2026-04-01", "P-1")
        h.allocate("2026-04-01", "P-2")
        assert h.views("2026-04-02").continuity["changes_at_transition"] == []

    def test_gaps_with_no_case_manager(self, history: History) -> None:
        history.allocate("2026-01-05", "P-1")
        history.end_allocation("2026-01-20", "P-1")
        history.allocate("2026-01-26", "P-2")
        history.end_allocation("2026-02-02", "P-2", reason="left_service")
        cont = history.views("2026-02-10").continuity
        assert cont["gaps"] == [
            {"from": "2026-01-21", "to": "2026-01-25", "days": 5},
            {"from": "2026-02-03", "to": None, "days": 8},
        ]
        assert cont["without_case_manager_since"] == "2026-02-03"

    def test_release_without_accommodation_or_handover_is_recorded(self) -> None:
        h = History(disposal_type="dto", setting="custody")
        h.allocate("2026-01-05")
        h.add("transition_planned", {"transition_id": "R1", "kind": "custody_to_community",
                                     "planned_date": "2026-03-02",
                                     "resettlement_plan_agreed": True}, "2026-02-02")
        h.transition("2026-03-02", "custody_to_community", transition_id="R1",
                     accommodation_arranged=False, handover_meeting_held=False)
        cont = h.views("2026-03-03").continuity
        assert cont["setting"] == "community"
        missing = cont["releases_missing"][0]["missing"]
        assert set(missing) == {"accommodation_arranged", "handover_meeting_held"}

    def test_probation_transition_at_seventeen_and_a_half(self) -> None:
        h = History(date_of_birth="2008-09-15", expected_end_date="2027-06-30")
        assert h.views("2026-01-05").continuity["probation"]["status"] == "not_yet"
        assert h.views("2026-02-20").continuity["probation"]["status"] == "approaching"
        prob = h.views("2026-03-15").continuity["probation"]
        assert (prob["status"], prob["transition_date"]) == ("reached", "2026-03-15")
        h.add("transition_planned", {"transition_id": "PR", "kind": "to_probation",
                                     "planned_date": "2026-09-15"}, "2026-03-16")
        assert h.views("2026-03-17").continuity["probation"]["status"] == "planned"

    def test_no_probation_transition_when_the_order_ends_before_eighteen(self) -> None:
        h = History(date_of_birth="2008-09-15", expected_end_date="2026-06-30")
        assert h.views("2026-04-01").continuity["probation"]["status"] == "not_applicable"


class TestAlertRules:
    def test_overdue_assessment_raises_and_doing_it_resolves(self, history: History) -> None:
        history.allocate("2026-01-05")
        assert "assessment_overdue" not in rules(history, "2026-01-26")
        found = rules(history, "2026-01-27")["assessment_overdue"]
        assert found.severity == "high"
        assert found.owner == "M-1"
        assert found.caused_by == (str(history.opened.event_id),)
        history.assess("2026-01-28")
        assert "assessment_overdue" not in rules(history, "2026-01-29")

    def test_owner_is_the_team_when_no_manager_is_known(self, history: History) -> None:
        history.allocate("2026-01-05", manager=None, team="TEAM-B")
        found = rules(history, "2026-01-27")["assessment_overdue"]
        assert (found.owner, found.team) == ("team:TEAM-B", "TEAM-B")

    def test_missed_appointment_not_followed_up(self, history: History) -> None:
        history.allocate("2026-01-05")
        missed = history.miss("2026-01-07")
        assert "missed_appointment_not_followed_up" not in rules(history, "2026-01-08")
        found = rules(history, "2026-01-09")["missed_appointment_not_followed_up"]
        assert found.subject == f"missed:{missed.event_id}"
        assert found.caused_by == (str(missed.event_id),)

    def test_breach_due_names_the_failure_and_the_warnings(self) -> None:
        h = History(start="2025-02-03")
        h.allocate("2025-02-03")
        f1 = h.miss("2025-03-03")
        w1 = h.warn(f1, "2025-03-04")
        f2 = h.miss("2025-06-02")
        w2 = h.warn(f2, "2025-06-03")
        f3 = h.miss("2025-07-01")
        found = rules(h, "2025-07-01")["breach_due"]
        assert found.subject == f"failure:{f3.event_id}"
        assert set(found.caused_by) == {str(w1.event_id), str(w2.event_id), str(f3.event_id)}

    def test_no_case_manager_after_the_grace_period(self, history: History) -> None:
        assert "no_case_manager" not in rules(history, "2026-01-07")
        assert "no_case_manager" in rules(history, "2026-01-08")

    def test_custody_without_community_case_manager(self) -> None:
        h = History(disposal_type="dto", setting="custody")
        h.allocate("2026-01-05", "K-1", agency="secure_establishment", role="secure_keyworker")
        found = rules(h, "2026-01-06")
        assert "custody_without_community_case_manager" in found
        h.allocate("2026-01-07", "P-1")
        assert "custody_without_community_case_manager" not in rules(h, "2026-01-08")

    def test_release_within_ten_working_days_without_accommodation(self) -> None:
        h = History(disposal_type="dto", setting="custody")
        h.allocate("2026-01-05")
        h.add("transition_planned", {"transition_id": "R1", "kind": "custody_to_community",
                                     "planned_date": "2026-03-16",
                                     "resettlement_plan_agreed": True}, "2026-02-02")
        assert "release_not_ready" not in rules(h, "2026-02-27")  # 11 working days before
        found = rules(h, "2026-03-02")["release_not_ready"]  # 10 working days before
        assert found.subject == "release:R1"
        assert found.details["accommodation_arranged"] is False

    def test_change_at_transition_and_seventeen_and_a_half(self) -> None:
        h = History(disposal_type="dto", date_of_birth="2008-09-15")
        h.allocate("2026-01-05", "P-1")
        h.transition("2026-02-02", "community_to_custody")
        h.end_allocation("2026-02-03", "P-1")
        change = h.allocate("2026-02-03", "P-2")
        found = rules(h, "2026-02-20")
        assert found["case_manager_changed_at_transition"].subject == f"change:{change.event_id}"
        assert "probation_transition_plan_missing" in found

    def test_contact_shortfall_and_falling_engagement(self, history: History) -> None:
        history.allocate("2026-01-05")
        for day in ("2026-01-06", "2026-01-13"):
            history.attend(day, participation=5)
        history.attend("2026-01-20", participation=5)
        history.attend("2026-02-18", participation=1)
        history.attend("2026-02-25", participation=2)
        found = rules(history, "2026-03-05")
        assert "falling_engagement" in found
        assert "contact_shortfall" not in found  # February's month (5 Feb-4 Mar) had two
        assert "contact_shortfall" in rules(history, "2026-04-06")

    def test_a_disabled_rule_is_not_raised(self, history: History) -> None:
        assert "no_case_manager" not in rules(
            history, "2026-02-01",
            alerts={"no_case_manager": {"severity": "high", "enabled": False}})

    def test_a_closed_case_has_no_alerts(self, history: History) -> None:
        history.close("2026-01-20")
        assert rules(history, "2026-03-01") == {}
