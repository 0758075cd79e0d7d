"""ASPIRE compliance: each rule at its boundaries, judged as at explicit dates."""

from __future__ import annotations

from tests.projections.conftest import History, obligation, policy_with

# Monday 5 January 2026: the 15th working day after it is Monday 26 January.


class TestAssessment:
    def test_due_from_the_start_with_its_date(self, history: History) -> None:
        stage = history.stage("2026-01-05", "assessment")
        assert stage["status"] == "due"
        assert stage["due"] == "2026-01-26"

    def test_day_15_is_on_time(self, history: History) -> None:
        history.assess("2026-01-26")
        assert history.stage("2026-02-10", "assessment")["status"] == "done_on_time"

    def test_day_16_is_late(self, history: History) -> None:
        history.assess("2026-01-27")
        assert history.stage("2026-02-10", "assessment")["status"] == "done_late"

    def test_overdue_from_the_day_after_the_due_day(self, history: History) -> None:
        assert history.stage("2026-01-26", "assessment")["status"] == "due"
        assert history.stage("2026-01-27", "assessment")["status"] == "overdue"

    def test_a_referral_order_has_20_working_days(self) -> None:
        h = History(disposal_type="referral_order")
        assert h.stage("2026-01-05", "assessment")["due"] == "2026-02-02"

    def test_bank_holidays_push_the_due_date(self) -> None:
        h = History(start="2026-03-30")
        assert h.stage("2026-03-30", "assessment")["due"] == "2026-04-22"
        h.assess("2026-04-22")
        assert h.stage("2026-05-01", "assessment")["status"] == "done_on_time"

    def test_an_assessment_recorded_later_does_not_count_before_it_happened(
            self, history: History) -> None:
        history.assess("2026-01-20")
        assert history.stage("2026-01-19", "assessment")["status"] == "due"
        assert history.stage("2026-01-20", "assessment")["status"] == "done_on_time"

    def test_a_service_policy_changes_the_deadline(self, history: History) -> None:
        history.assess("2026-01-21")
        strict = policy_with(disposals={"yro": {"assessment_working_days": 10}})
        assert history.views("2026-02-01", strict).aspire["stages"]["assessment"][
            "status"] == "done_late"


class TestPlanning:
    def test_not_due_until_the_assessment_is_done(self, history: History) -> None:
        assert history.stage("2026-01-20", "planning")["status"] == "not_due"

    def test_ten_working_days_after_the_assessment(self, history: History) -> None:
        history.assess("2026-01-12")
        stage = history.stage("2026-01-12", "planning")
        assert (stage["status"], stage["due"]) == ("due", "2026-01-26")
        assert history.stage("2026-01-27", "planning")["status"] == "overdue"
        history.plan("2026-01-26")
        assert history.stage("2026-01-27", "planning")["status"] == "done_on_time"

    def test_a_late_plan_is_done_late(self, history: History) -> None:
        history.assess("2026-01-12")
        history.plan("2026-01-27")
        assert history.stage("2026-02-01", "planning")["status"] == "done_late"


class TestReview:
    def test_every_three_months_from_the_start(self, history: History) -> None:
        ob = obligation(history.stage("2026-01-05", "review"), "review")
        assert ob["due"] == "2026-04-05"
        assert history.stage("2026-01-05", "review")["status"] == "not_due"
        assert history.stage("2026-03-25", "review")["status"] == "due"
        assert history.stage("2026-04-05", "review")["status"] == "due"
        assert history.stage("2026-04-06", "review")["status"] == "overdue"

    def test_a_review_restarts_the_cycle(self, history: History) -> None:
        history.review("2026-03-20")
        stage = history.stage("2026-03-21", "review")
        assert stage["status"] == "done_on_time"
        assert obligation(stage, "review")["due"] == "2026-06-20"
        history.review("2026-06-22")
        assert history.stage("2026-06-23", "review")["status"] == "done_late"

    def test_a_significant_change_needs_a_review_within_ten_working_days(
            self, history: History) -> None:
        history.change("2026-02-02", ("risk_of_harm",))
        stage = history.stage("2026-02-02", "review")
        assert stage["status"] == "due"
        assert obligation(stage, "review_after_change")["due"] == "2026-02-16"
        assert history.stage("2026-02-17", "review")["status"] == "overdue"
        history.review("2026-02-16", trigger="significant_change")
        assert history.stage("2026-02-17", "review")["status"] == "done_on_time"


class TestDelivery:
    def test_first_appointment_within_five_working_days(self, history: History) -> None:
        assert obligation(history.stage("2026-01-05", "delivery"), "first_appointment")[
            "due"] == "2026-01-12"
        history.attend("2026-01-13")
        first = obligation(history.stage("2026-01-20", "delivery"), "first_appointment")
        assert first["status"] == "done_late"

    def test_a_phone_call_is_not_a_counted_contact(self, history: History) -> None:
        history.attend("2026-01-07", kind="phone")
        first = obligation(history.stage("2026-01-20", "delivery"), "first_appointment")
        assert first["status"] == "overdue"

    def test_contacts_per_month_in_the_first_twelve_weeks_and_after(self) -> None:
        h = History(intervention_level="enhanced")
        months = h.views("2026-06-01").aspire["months"]
        assert [m["required"] for m in months[:5]] == [4, 4, 4, 2, 2]
        assert months[0]["from"] == "2026-01-05" and months[0]["to"] == "2026-02-04"

    def test_a_month_short_of_contacts_is_overdue_until_a_later_month_is_met(self) -> None:
        h = History()  # standard: 2 a month in the first 12 weeks
        h.attend("2026-01-06")
        stage = h.stage("2026-02-05", "delivery")
        assert stage["status"] == "overdue"
        short = [o for o in stage["obligations"] if o["kind"] == "contacts"]
        assert [(o["due"], o["status"]) for o in short] == [
            ("2026-02-04", "overdue"), ("2026-03-04", "due")]
        h.attend("2026-02-10")
        h.attend("2026-02-20")
        assert h.views("2026-03-05").aspire["months"][1]["status"] == "met"
        contacts = [o for o in h.stage("2026-03-05", "delivery")["obligations"]
                    if o["kind"] == "contacts"]
        assert "overdue" not in {o["status"] for o in contacts}

    def test_the_current_month_is_due_until_met(self, history: History) -> None:
        history.attend("2026-01-06")
        current = obligation(history.stage("2026-01-20", "delivery"), "contacts")
        assert (current["status"], current["due"]) == ("due", "2026-02-04")
        history.attend("2026-01-21")
        assert obligation(history.stage("2026-01-22", "delivery"), "contacts")[
            "status"] == "done_on_time"

    def test_months_in_custody_are_exempt(self) -> None:
        h = History(disposal_type="dto", setting="custody")
        assert {m["status"] for m in h.views("2026-04-01").aspire["months"]} == {"exempt"}

    def test_missed_appointment_follow_up_across_a_bank_holiday(self) -> None:
        h = History(start="2026-08-03")
        missed = h.miss("2026-08-28")  # Friday; Monday 31 August is a bank holiday
        ob = obligation(h.stage("2026-08-28", "delivery"), "follow_up")
        assert ob["due"] == "2026-09-01"
        assert obligation(h.stage("2026-09-01", "delivery"), "follow_up")["status"] == "due"
        assert obligation(h.stage("2026-09-02", "delivery"), "follow_up")["status"] == "overdue"
        h.follow_up(missed, "2026-09-01")
        assert obligation(h.stage("2026-09-02", "delivery"), "follow_up")[
            "status"] == "done_on_time"

    def test_a_follow_up_two_working_days_later_is_late(self, history: History) -> None:
        missed = history.miss("2026-01-07")
        history.follow_up(missed, "2026-01-09")
        assert obligation(history.stage("2026-01-12", "delivery"), "follow_up")[
            "status"] == "done_late"

    def test_an_agreed_rearrangement_needs_no_follow_up(self, history: History) -> None:
        history.miss("2026-01-07", acceptable=True, reason="agreed_rearrangement")
        kinds = [o["kind"] for o in history.stage("2026-01-20", "delivery")["obligations"]]
        assert "follow_up" not in kinds


class TestClosedCases:
    def test_judged_as_at_the_closing_day(self, history: History) -> None:
        history.close("2026-01-20")
        views = history.views("2026-06-01")
        assert views.header["open"] is False
        assert views.aspire["stages"]["assessment"]["status"] == "due"  # due 26th, closed 20th
        assert views.aspire["stages"]["review"]["obligations"] == []


class TestQualityIndicators:
    def test_contingency_is_asked_only_when_risk_is_medium_or_higher(self) -> None:
        low = History()
        low.assess("2026-01-12", safety="low", harm="low")
        low.plan("2026-01-20", contingency_for_safety=False, contingency_for_risk=False)
        q = low.views("2026-02-01").aspire["quality"]["planning"]
        assert q["safety_wellbeing"]["answer"] is None
        assert q["risk_of_harm"]["answer"] is None

        high = History()
        high.assess("2026-01-12", safety="high", harm="medium")
        high.plan("2026-01-20", domains=("desistance", "safety_wellbeing", "risk_of_harm"),
                  contingency_for_safety=True, contingency_for_risk=False)
        q = high.views("2026-02-01").aspire["quality"]["planning"]
        assert q["safety_wellbeing"]["answer"] is True
        assert q["risk_of_harm"]["answer"] is False
        assert q["risk_of_harm"]["indicators"]["contingency_when_medium_or_higher"] is False

    def test_assessment_involvement_and_strengths(self) -> None:
        h = History()
        h.assess("2026-01-12", parent_carer_involved=False)
        q = h.views("2026-02-01").aspire["quality"]["assessment"]["desistance"]
        assert q["answer"] is False
        assert q["indicators"]["parent_carer_involved"] is False
        assert q["indicators"]["strengths_recorded"] is True

    def test_plan_adjusted_after_a_review_that_found_change(self) -> None:
        h = History()
        h.assess("2026-01-12")
        h.plan("2026-01-20")
        h.review("2026-03-02", changed=("desistance",), adjusted=False)
        q = h.views("2026-03-03").aspire["quality"]["review"]["desistance"]
        assert q["indicators"]["plan_adjusted_after_change"] is False
        h.plan("2026-03-05", revised=True)
        q = h.views("2026-03-06").aspire["quality"]["review"]["desistance"]
        assert q["indicators"]["plan_adjusted_after_change"] is True

    def test_nothing_to_judge_gives_no_answer(self, history: History) -> None:
        q = history.views("2026-01-06").aspire["quality"]
        assert all(q["assessment"][lens]["answer"] is None
                   for lens in ("desistance", "safety_wellbeing", "risk_of_harm"))
