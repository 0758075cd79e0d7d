"""A referral order's panels after a failure and at the end, and home-visit expectations:
hand-computed deadlines (default policy, no bank holidays in the dates), the alerts that
hold, and a policy override followed by both."""

from __future__ import annotations

from projections.alerts import candidates
from tests.projections.conftest import History, obligation
from tracker.domain.policy import build_policy

ROLES = ["child", "parent_carer", "panel_member", "yot_officer"]
OBJECTIVES = [{"domain": "desistance", "description": "Repair the damage done.",
               "target_date": "2026-06-30"}]


def _rules(h: History, on: str) -> set[str]:
    return {c.rule for c in candidates(h.views(on), h.policy)}


def _subjects(h: History, on: str, rule: str) -> set[str]:
    return {c.subject for c in candidates(h.views(on), h.policy) if c.rule == rule}


def _order(end: str | None = "2026-10-30") -> History:
    """Sentenced Monday 5 January 2026; initial panel and contract on 28 January."""
    h = History(start="2026-01-05", disposal_type="referral_order", expected_end_date=end)
    h.allocate("2026-01-05")
    h.attend("2026-01-07")
    h.assess("2026-01-26")
    h.accepted("panel_held", {"kind": "initial", "attendee_roles": ROLES,
                              "victim_views_presented": True}, "2026-01-28")
    h.accepted("contract_agreed", {"objectives": OBJECTIVES}, "2026-01-28")
    h.plan("2026-02-04")
    return h


class TestPanelAfterAFailure:
    """A missed appointment on Tuesday 3 March: its progress panel is due 10 working days
    later, Tuesday 17 March (policy ``panels.after_failure_working_days``)."""

    def test_due_then_overdue_then_met_by_a_progress_panel(self) -> None:
        h = _order()
        failure = h.miss("2026-03-03")
        fid = str(failure.event_id)
        ob = obligation(h.stage("2026-03-17", "review"), "panel_after_failure")
        assert (ob["due"], ob["status"], ob["subject"]) == (
            "2026-03-17", "due", f"failure_panel:{fid}")
        route = h.views("2026-03-17").enforcement["panels_after_failure"]
        assert route == [{"failure_event_id": fid, "date": "2026-03-03", "due": "2026-03-17",
                          "panel_event_id": None, "panel_date": None, "status": "due"}]
        assert "panel_after_failure_overdue" not in _rules(h, "2026-03-17")
        assert _subjects(h, "2026-03-18", "panel_after_failure_overdue") == {
            f"failure_panel:{fid}"}
        panel = h.accepted("panel_held", {"kind": "progress", "attendee_roles": ROLES,
                                          "victim_views_presented": False}, "2026-03-19")
        views = h.views("2026-03-20")
        [item] = views.enforcement["panels_after_failure"]
        assert (item["panel_event_id"], item["panel_date"], item["status"]) == (
            str(panel.event_id), "2026-03-19", "done_late")
        assert views.enforcement["panel_due"] == []
        assert "panel_after_failure_overdue" not in _rules(h, "2026-03-20")

    def test_a_policy_override_moves_the_deadline(self) -> None:
        h = _order()
        h.miss("2026-03-03")
        h.policy = build_policy({"panels": {"after_failure_working_days": 5}})
        ob = obligation(h.stage("2026-03-10", "review"), "panel_after_failure")
        assert (ob["due"], ob["status"]) == ("2026-03-10", "due")
        assert "panel_after_failure_overdue" in _rules(h, "2026-03-11")
        shown = {r.rule: r for r in h.policy.rules_in_force("referral_order")}
        assert shown["panels.after_failure_working_days"].value == 5
        assert "Sentencing Act 2020 s.99" in build_policy(None).panels.source_of(
            "after_failure_working_days")

    def test_an_acceptable_absence_needs_no_panel(self) -> None:
        h = _order()
        h.miss("2026-03-03", acceptable=True, reason="illness_with_evidence")
        assert h.views("2026-04-01").enforcement["panels_after_failure"] == []
        assert "panel_after_failure_overdue" not in _rules(h, "2026-04-01")

    def test_no_such_route_on_a_yro(self) -> None:
        h = History(start="2026-01-05")
        h.miss("2026-03-03")
        assert h.views("2026-04-01").enforcement["panels_after_failure"] == []


class TestFinalPanel:
    """Expected end Friday 30 October 2026: the final panel is due that day (policy
    ``panels.final_before_end_working_days`` = 0), shown as due from 10 working days
    before (16 October)."""

    def test_not_due_then_due_then_overdue_then_held(self) -> None:
        h = _order()
        for day in ("2026-04-20", "2026-07-15", "2026-10-12"):
            h.accepted("panel_held", {"kind": "progress", "attendee_roles": ROLES,
                                      "victim_views_presented": False}, day)
        assert obligation(h.stage("2026-10-15", "review"), "final_panel")["status"] == (
            "not_due")
        ob = obligation(h.stage("2026-10-16", "review"), "final_panel")
        assert (ob["due"], ob["status"]) == ("2026-10-30", "due")
        assert "final_panel_overdue" not in _rules(h, "2026-10-30")
        assert "final_panel_overdue" in _rules(h, "2026-11-02")
        h.accepted("panel_held", {"kind": "final", "attendee_roles": ROLES,
                                  "victim_views_presented": False}, "2026-10-29")
        ob = obligation(h.stage("2026-11-02", "review"), "final_panel")
        assert (ob["done"], ob["status"]) == ("2026-10-29", "done_on_time")
        assert not {"final_panel_overdue", "panel_overdue"} & _rules(h, "2026-11-02")

    def test_working_days_before_the_end(self) -> None:
        h = _order()
        h.policy = build_policy({"panels": {"final_before_end_working_days": 5}})
        # five working days before Friday 30 October: Friday 23 October
        assert obligation(h.stage("2026-10-20", "review"), "final_panel")["due"] == (
            "2026-10-23")

    def test_no_expected_end_no_final_panel(self) -> None:
        h = _order(end=None)
        kinds = {o["kind"] for o in h.stage("2026-11-02", "review")["obligations"]}
        assert "final_panel" not in kinds


class TestHomeVisitAlert:
    """A YRO from 5 January with a home visit every 2 months (a service's policy): the
    period 5 March to 4 May has none, so the alert holds on 5 May; never by default."""

    def test_raised_only_where_the_profile_expects_visits(self) -> None:
        h = History(start="2026-01-05")
        h.attend("2026-02-10", kind="home_visit")
        assert "home_visit_overdue" not in _rules(h, "2026-06-01")
        h.policy = build_policy({"disposals": {"yro": {"home_visit_every_months": 2}}})
        assert "home_visit_overdue" not in _rules(h, "2026-05-04")
        assert _subjects(h, "2026-05-05", "home_visit_overdue") == {"home_visit:2"}
        h.attend("2026-05-04", kind="home_visit", hour=15)
        assert "home_visit_overdue" not in _rules(h, "2026-05-05")

    def test_not_on_a_disposal_without_the_expectation(self) -> None:
        h = History(start="2026-01-05", disposal_type="community_resolution",
                    route="out_of_court")
        h.policy = build_policy({"disposals": {"yro": {"home_visit_every_months": 1}}})
        assert "home_visit_overdue" not in _rules(h, "2026-06-01")
