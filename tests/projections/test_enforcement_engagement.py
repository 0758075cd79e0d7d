"""Enforcement (warned period, breach due) and engagement (attendance, trend, barriers)."""

from __future__ import annotations

from tests.projections.conftest import History


def _warned_twice(h: History) -> None:
    f1 = h.miss("2025-03-03")
    h.warn(f1, "2025-03-04")
    f2 = h.miss("2025-06-02")
    h.warn(f2, "2025-06-03")


class TestEnforcement:
    def test_third_failure_inside_twelve_months_is_breach_due(self) -> None:
        h = History(start="2025-02-03")
        _warned_twice(h)
        third = h.miss("2026-03-03")  # the last day of 12 months beginning with 4 March 2025
        enf = h.views("2026-03-04").enforcement
        assert enf["status"] == "breach_due"
        assert [d["failure_event_id"] for d in enf["breach_due"]] == [str(third.event_id)]

    def test_third_failure_outside_twelve_months_is_not(self) -> None:
        h = History(start="2025-02-03")
        _warned_twice(h)
        h.miss("2026-03-04")  # a year to the day after the first warning: that one has ended
        enf = h.views("2026-03-05").enforcement
        assert enf["breach_due"] == []
        assert enf["failures"][-1]["warnings_in_period_before"] == 1
        assert enf["unactioned_failures"] == [enf["failures"][-1]["event_id"]]

    def test_acceptable_absences_do_not_count(self) -> None:
        h = History(start="2025-02-03")
        _warned_twice(h)
        h.miss("2025-07-01", acceptable=True, reason="illness_with_evidence")
        assert h.views("2025-07-02").enforcement["breach_due"] == []

    def test_exceptional_circumstances_stop_breach_due(self) -> None:
        h = History(start="2025-02-03")
        _warned_twice(h)
        third = h.miss("2025-07-01")
        h.add("exceptional_circumstances_recorded", {
            "failure_event_id": str(third.event_id),
            "note": "A family emergency."}, "2025-07-02", by=("M-1", "manager"))
        enf = h.views("2025-07-03").enforcement
        assert enf["breach_due"] == []
        assert enf["failures"][-1]["excused"] is True
        # The manager is whoever recorded it (the envelope's actor), not a typed field.
        assert enf["exceptional_circumstances"][-1]["manager"] == "M-1"

    def test_initiating_breach_for_the_failure_ends_breach_due(self) -> None:
        h = History(start="2025-02-03")
        _warned_twice(h)
        third = h.miss("2025-07-01")
        assert h.views("2025-07-01").enforcement["status"] == "breach_due"
        breach = h.add("breach_initiated", {"failure_event_ids": [str(third.event_id)]},
                       "2025-07-03")
        enf = h.views("2025-07-04").enforcement
        # The policy requires a manager's authorisation: the breach awaits it.
        assert enf["status"] == "breach_awaiting"
        assert enf["awaiting_authorisation"] == [str(breach.event_id)]
        assert enf["breach_due"] == []
        h.add("breach_authorised", {"breach_event_id": str(breach.event_id)}, "2025-07-04",
              hour=12, by=("M-1", "manager"))
        enf = h.views("2025-07-05").enforcement
        assert enf["status"] == "breach_initiated"
        assert enf["awaiting_authorisation"] == []
        assert (enf["breaches"][0]["authorisation"], enf["breaches"][0]["decided_by"]) == (
            "authorised", "M-1")

    def test_warned_period_and_count(self) -> None:
        h = History(start="2025-02-03")
        _warned_twice(h)
        enf = h.views("2025-06-10").enforcement
        assert enf["warnings_in_period"] == 2
        assert enf["warned_until"] == "2026-06-02"
        assert h.views("2026-03-04").enforcement["warnings_in_period"] == 1
        assert h.views("2026-06-02").enforcement["status"] == "warned"
        assert h.views("2026-06-03").enforcement["status"] == "none"


class TestEngagement:
    def test_attendance_keeps_acceptable_absences_apart(self, history: History) -> None:
        for day in ("2026-01-06", "2026-01-13", "2026-01-20"):
            history.attend(day)
        history.miss("2026-01-27", acceptable=True, reason="illness_with_evidence")
        history.miss("2026-02-03")
        att = history.views("2026-02-04").engagement["attendance"]
        assert (att["attended"], att["missed_acceptable"], att["missed_unacceptable"]) == (
            3, 1, 1)
        assert att["rate"] == 0.75
        assert att["rate_including_acceptable"] == 0.6

    def test_days_since_last_contact_and_home_visit(self, history: History) -> None:
        history.attend("2026-01-06", kind="home_visit")
        history.attend("2026-01-20", kind="office")
        eng = history.views("2026-01-30").engagement
        assert eng["days_since_contact"] == 10
        assert eng["days_since_home_visit"] == 24

    def test_falling_participation(self, history: History) -> None:
        for day in ("2026-01-06", "2026-01-13", "2026-01-20", "2026-01-27"):
            history.attend(day, participation=5)
        for day in ("2026-02-20", "2026-02-27", "2026-03-06"):
            history.attend(day, participation=2)
        part = history.views("2026-03-08").engagement["participation"]
        assert part["trend"] == "falling"
        assert part["falling"] is True
        assert part["reason"] == "participation"

    def test_steady_participation_is_not_falling(self, history: History) -> None:
        for day in ("2026-01-06", "2026-01-13", "2026-01-20", "2026-02-20", "2026-02-27"):
            history.attend(day, participation=4)
        part = history.views("2026-03-02").engagement["participation"]
        assert (part["trend"], part["falling"]) == ("steady", False)

    def test_poor_recent_attendance_is_falling_engagement(self, history: History) -> None:
        history.attend("2026-01-06")
        for day in ("2026-01-13", "2026-01-20", "2026-01-27"):
            history.miss(day)
        part = history.views("2026-01-28").engagement["participation"]
        assert part["falling"] is True
        assert part["reason"] == "attendance"

    def test_barriers_noted_then_addressed(self, history: History) -> None:
        history.attend("2026-01-06", barriers_noted=["travel", "timing"])
        history.attend("2026-01-13", barriers_addressed=["travel"])
        barriers = history.views("2026-01-14").engagement["barriers"]
        assert barriers["noted"] == {"travel": 1, "timing": 1}
        assert barriers["outstanding"] == ["timing"]

    def test_child_involvement_and_warnings_in_period(self, history: History) -> None:
        history.assess("2026-01-12", child_involved=False)
        history.plan("2026-01-20")
        failure = history.miss("2026-01-21")
        history.warn(failure, "2026-01-22")
        eng = history.views("2026-01-23").engagement
        assert eng["involvement"]["child"] == {"yes": 1, "of": 2}
        assert eng["warnings_in_warned_period"] == 1
