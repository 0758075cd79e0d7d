"""Enforcement by route, referral-order panels, conditional cautions and level changes:
hand-computed scenarios on both sides (what is due, which alerts hold, what may be recorded).
Dates are worked out by hand from the default policy (no bank holidays fall in them)."""

from __future__ import annotations

import pytest

from projections.alerts import candidates
from tests.projections.conftest import History, obligation

OBJECTIVES = [{"domain": "desistance", "description": "Repair the damage done.",
               "target_date": "2026-06-30"}]





def _rules(h: History, on: str) -> set[str]:
    return {c.rule for c in candidates(h.views(on), h.policy)}


class TestAcceptabilityFollowsTheReason:
    @pytest.mark.parametrize(("acceptable", "reason"), [
        (True, "no_reason_given"), (True, "refused"), (True, "forgot"),
        (False, "illness_with_evidence"), (False, "agreed_rearrangement"),
    ])
    def test_a_contradiction_is_refused_naming_the_field(self, acceptable: bool,
                                                         reason: str) -> None:
        h = History()
        err = h.refused("contact_missed", {"kind": "office", "acceptable": acceptable,
                                             "reason": reason}, "2026-01-12")
        assert err.field == "data.acceptable" and reason in err.reason

    @pytest.mark.parametrize("acceptable", [True, False])
    def test_a_reason_left_to_judgement_takes_either(self, acceptable: bool) -> None:
        History().accepted("contact_missed", {"kind": "office", "acceptable": acceptable,
                                                "reason": "family_emergency"}, "2026-01-12")

    def test_a_correction_cannot_bring_the_contradiction_in(self) -> None:
        h = History()
        missed = h.miss("2026-01-12")
        err = h.refused("event_superseded", {
            "target_event_id": str(missed.event_id), "reason": "Wrong reason recorded.",
            "replacement_type": "contact_missed",
            "replacement": {"kind": "office", "acceptable": True,
                            "reason": "no_reason_given"}}, "2026-01-13")
        assert err.field == "data.replacement.acceptable"


class TestRequirementFailures:
    def test_a_failed_curfew_counts_towards_breach(self) -> None:
        h = History(start="2026-01-05")
        f1 = h.miss("2026-01-12")
        h.warn(f1, "2026-01-13")
        f2 = h.accepted("requirement_failed", {"requirement": "curfew"}, "2026-02-02")
        h.accepted("warning_issued", {"failure_event_id": str(f2.event_id)}, "2026-02-03")
        f3 = h.accepted("requirement_failed", {"requirement": "curfew"}, "2026-03-02")
        enf = h.views("2026-03-02").enforcement
        assert [(f["kind"], f["reason"]) for f in enf["failures"]] == [
            ("missed_appointment", "no_reason_given"), ("requirement", "curfew"),
            ("requirement", "curfew")]
        assert [d["failure_event_id"] for d in enf["breach_due"]] == [str(f3.event_id)]
        assert "breach_due" in _rules(h, "2026-03-02")
        h.accepted("breach_initiated", {"failure_event_ids": [str(f3.event_id)]}, "2026-03-03")

    def test_not_on_a_caution(self) -> None:
        h = History(disposal_type="youth_caution", route="out_of_court")
        err = h.refused("requirement_failed", {"requirement": "curfew"}, "2026-01-12")
        assert "(youth_caution)" in str(err)


class TestReferralOrder:
    """Sentence Monday 5 January 2026. Initial panel (and contract) due 20 working days
    later: Monday 2 February. Contract agreed at the initial panel on 28 January; contact
    months and reviews run from it; a progress panel is due by 28 April, then 3 months
    after each."""

    def _sentenced(self) -> History:
        h = History(start="2026-01-05", disposal_type="referral_order", expected_end_date=
                    "2026-10-04")
        h.allocate("2026-01-05")
        h.attend("2026-01-07")            # first appointment, due 12 January
        h.assess("2026-01-26")            # due 20 working days on: 2 February
        return h

    def test_before_the_panel_the_panel_and_contract_are_due_then_overdue(self) -> None:
        h = self._sentenced()
        assert obligation(h.stage("2026-02-02", "review"), "initial_panel")["status"] == "due"
        assert obligation(h.stage("2026-02-02", "planning"), "contract")["due"] == "2026-02-02"
        assert h.views("2026-02-02").aspire["months"] == []   # supervision runs from contract
        assert {"panel_overdue", "contract_not_agreed"} <= _rules(h, "2026-02-03")
        assert "contact_shortfall" not in _rules(h, "2026-03-10")

    def test_sentence_panel_contract_and_progress_panel(self) -> None:
        h = self._sentenced()
        roles = ["child", "parent_carer", "panel_member", "yot_officer"]
        h.accepted("panel_held", {"kind": "initial", "attendee_roles": roles,
                                    "victim_views_presented": True}, "2026-01-28")
        h.accepted("contract_agreed", {"objectives": OBJECTIVES}, "2026-01-28")
        h.plan("2026-02-04")
        views = h.views("2026-02-10")
        assert views.aspire["months"][0]["from"] == "2026-01-28"
        assert views.aspire["months"][0]["to"] == "2026-02-27"
        assert obligation(views.aspire["stages"]["review"], "progress_panel")["due"] == (
            "2026-04-28")
        # The progress panel is the order's review (domain.md §11): no second review cycle.
        kinds = {o["kind"] for o in views.aspire["stages"]["review"]["obligations"]}
        assert kinds == {"initial_panel", "progress_panel", "final_panel"}
        assert obligation(views.aspire["stages"]["review"], "final_panel")["due"] == (
            "2026-10-04")   # by the order's expected end (Sentencing Act 2020 s.101)
        assert not {"panel_overdue", "contract_not_agreed"} & _rules(h, "2026-02-10")
        # Non-compliance goes to a panel progress meeting, not a warning.
        failure = h.miss("2026-03-03")
        err = h.refused("warning_issued", {"failure_event_id": str(failure.event_id)},
                       "2026-03-04")
        assert "(referral_order)" in str(err) and "panel progress meeting" in str(err)
        enf = h.views("2026-03-04").enforcement
        assert (enf["route"], enf["status"], enf["panel_due"]) == (
            "referral_panel", "panel_due", [str(failure.event_id)])
        h.accepted("panel_held", {"kind": "progress", "attendee_roles": roles,
                                    "victim_views_presented": False}, "2026-03-10")
        views = h.views("2026-03-11")
        assert views.enforcement["panel_due"] == []
        assert obligation(views.aspire["stages"]["review"], "progress_panel")["due"] == (
            "2026-06-10")
        assert "panel_overdue" in _rules(h, "2026-06-11")
        h.accepted("referred_back_to_court", {"reason": "non_compliance"}, "2026-03-10")
        assert h.views("2026-03-11").enforcement["status"] == "referred_back"

    def test_the_panel_order_is_kept(self) -> None:
        h = self._sentenced()
        roles = ["child", "panel_member"]
        err = h.refused("panel_held", {"kind": "progress", "attendee_roles": roles,
                                         "victim_views_presented": False}, "2026-01-20")
        assert err.field == "data.kind"
        assert h.refused("contract_agreed", {"objectives": OBJECTIVES},
                        "2026-01-20").field == "event_type"
        h.accepted("panel_held", {"kind": "initial", "attendee_roles": roles,
                                    "victim_views_presented": False}, "2026-01-21")
        assert h.refused("panel_held", {"kind": "initial", "attendee_roles": roles,
                                          "victim_views_presented": False},
                        "2026-01-22").field == "data.kind"

    def test_no_panels_on_a_yro(self) -> None:
        err = History().refused("panel_held", {
            "kind": "initial", "attendee_roles": ["child"], "victim_views_presented": False},
            "2026-01-12")
        assert "(yro)" in str(err) and "no referral-order panels" in str(err)


class TestConditionalCaution:
    """A youth conditional caution given 5 January with a reparation condition due by
    1 March; it fails without reasonable excuse on 2 March and the CPS decides."""

    def test_a_failed_condition_leads_to_a_prosecution_decision(self) -> None:
        h = History(start="2026-01-05", disposal_type="youth_conditional_caution",
                    route="out_of_court")
        h.accepted("condition_set", {"condition_id": "C1", "kind": "reparation",
                                       "deadline": "2026-03-01"}, "2026-01-05")
        h.accepted("condition_set", {"condition_id": "C2", "kind": "education",
                                       "deadline": "2026-02-01"}, "2026-01-05")
        h.accepted("condition_completed", {"condition_id": "C2"}, "2026-01-30")
        enf = h.views("2026-03-01").enforcement
        assert [(c["condition_id"], c["status"]) for c in enf["conditions"]] == [
            ("C1", "open"), ("C2", "completed")]
        assert h.views("2026-03-02").enforcement["conditions"][0]["status"] == "overdue"
        failed = h.accepted("condition_failed", {"condition_id": "C1",
                                                   "reasonable_excuse": False}, "2026-03-02")
        enf = h.views("2026-03-02").enforcement
        assert (enf["status"], enf["prosecution_decision_due"]) == (
            "prosecution_due", [str(failed.event_id)])
        missed = h.miss("2026-03-03")
        assert h.refused("warning_issued", {"failure_event_id": str(missed.event_id)},
                        "2026-03-04").field == "event_type"
        assert h.refused("condition_completed", {"condition_id": "C1"},
                        "2026-03-04").field == "data.condition_id"
        h.accepted("prosecution_decided", {"failure_event_id": str(failed.event_id),
                                             "decision": "prosecute", "decided_by": "cps"},
                  "2026-03-09")
        enf = h.views("2026-03-10").enforcement
        assert enf["prosecution_decision_due"] == []
        assert enf["conditions"][0]["prosecution_decision"] == "prosecute"

    def test_an_excused_failure_has_no_prosecution_decision(self) -> None:
        h = History(start="2026-01-05", disposal_type="youth_conditional_caution",
                    route="out_of_court")
        h.accepted("condition_set", {"condition_id": "C1", "kind": "reparation",
                                       "deadline": "2026-03-01"}, "2026-01-05")
        failed = h.accepted("condition_failed", {"condition_id": "C1",
                                                   "reasonable_excuse": True}, "2026-03-02")
        err = h.refused("prosecution_decided", {"failure_event_id": str(failed.event_id),
                                                  "decision": "prosecute",
                                                  "decided_by": "cps"}, "2026-03-03")
        assert err.field == "data.failure_event_id"

    def test_no_conditions_on_a_yro(self) -> None:
        err = History().refused("condition_set", {"condition_id": "C1", "kind": "reparation",
                                                    "deadline": "2026-03-01"}, "2026-01-12")
        assert "(yro)" in str(err)


class TestInterventionLevel:
    """Opened standard on 5 January; raised to intensive from 5 February (the second
    supervision month's first day): month 1 needs 2 contacts, month 2 needs 8."""

    def test_contacts_follow_the_level_in_force_each_month(self) -> None:
        h = History(start="2026-01-05")
        change = {"intervention_level": "intensive", "reason": "risk_increased"}
        h.accepted("intervention_level_changed", change, "2026-02-05")
        months = h.views("2026-03-20").aspire["months"]
        assert [(m["level"], m["required"]) for m in months] == [
            ("standard", 2), ("intensive", 8), ("intensive", 8)]
        assert h.views("2026-02-04").header["intervention_level"] == "standard"
        assert h.views("2026-03-20").header["intervention_level"] == "intensive"
        err = h.refused("intervention_level_changed", change, "2026-03-01")
        assert err.field == "data.intervention_level"

    def test_attendance_of_required_beside_the_rate_each_labelled(self) -> None:
        h = History(start="2026-01-05")
        for day in ("2026-01-06", "2026-01-20"):            # month 1: 2 of 2 (standard)
            h.attend(day)
        h.accepted("intervention_level_changed", {
            "intervention_level": "intensive", "reason": "risk_increased"}, "2026-02-05")
        for day in ("2026-02-09", "2026-02-16", "2026-02-23"):  # month 2: 3 of 8
            h.attend(day)
        h.miss("2026-02-26")
        att = h.views("2026-03-20").engagement["attendance"]
        assert att["of_required"] == {
            "attended": 5, "required": 10, "rate": 0.5, "label": att["of_required"]["label"]}
        assert "required" in att["of_required"]["label"]
        assert (att["rate"], att["rate_label"]) == (
            0.833, "attended / (attended + unacceptable absences)")
        assert "contact_shortfall" in _rules(h, "2026-03-20")


class TestJointDecision:
    """A youth caution opened 5 January: a proportionate assessment on 12 January informs the
    joint decision of 14 January, so the assessment is due by the decision."""

    DECISION = {"outcome": "youth_caution", "agencies_present": ["yot", "police", "social_care"],
                "proportionate_assessment": True}

    def _case(self) -> History:
        h = History(start="2026-01-05", disposal_type="youth_caution", route="out_of_court")
        h.allocate("2026-01-05")
        return h

    def test_the_assessment_comes_before_the_decision(self) -> None:
        h = self._case()
        h.assess("2026-01-12")
        h.accepted("joint_decision_made", self.DECISION, "2026-01-14")
        views = h.views("2026-01-20")
        ob = obligation(views.aspire["stages"]["assessment"], "assessment")
        assert (ob["due"], ob["status"]) == ("2026-01-14", "done_on_time")
        decision = views.aspire["decision"]
        assert decision is not None
        assert (decision["minimum_agencies_present"], decision["assessed_before"]) == (True, True)
        assert views.aspire["stages"]["review"]["obligations"] == []   # no 3-monthly reviews

    def test_a_decision_before_any_assessment_makes_it_overdue(self) -> None:
        h = self._case()
        h.accepted("joint_decision_made", {**self.DECISION, "agencies_present": ["police"],
                                             "proportionate_assessment": False}, "2026-01-08")
        assert "assessment_overdue" in _rules(h, "2026-01-09")
        h.assess("2026-01-12")
        views = h.views("2026-01-12")
        assert obligation(views.aspire["stages"]["assessment"], "assessment")["status"] == (
            "done_late")
        decision = views.aspire["decision"]
        assert decision is not None
        assert (decision["minimum_agencies_present"], decision["assessed_before"]) == (
            False, False)

    def test_what_may_be_recorded(self) -> None:
        h = self._case()
        other = {**self.DECISION, "outcome": "community_resolution"}
        assert h.refused("joint_decision_made", other, "2026-01-08").field == "data.outcome"
        h.accepted("joint_decision_made", self.DECISION, "2026-01-08")
        assert h.refused("joint_decision_made", self.DECISION,
                        "2026-01-09").field == "event_type"
        err = History().refused("joint_decision_made", self.DECISION, "2026-01-09")
        assert "(yro)" in str(err)
