"""Two points of issue 10 with no scenario of their own before: a YRO with intensive
supervision and surveillance (what is due, which alerts hold, what may be recorded), and
the quality indicators under the lens Annexe A puts them, with timeliness beside them.
Dates are worked out by hand from the default policy (no bank holidays fall in them)."""

from __future__ import annotations

from projections.alerts import candidates
from tests.projections.conftest import History, obligation


def _rules(h: History, on: str) -> set[str]:
    return {c.rule for c in candidates(h.views(on), h.policy)}


class TestYroWithIss:
    """Sentenced Monday 5 January 2026 at the intensive level: first appointment due
    12 January (5 working days), assessment 26 January (15), first review 5 April
    (3 months); 8 contacts in month 1 (5 January to 4 February, inside the first 12 weeks)."""

    def _case(self) -> History:
        h = History(start="2026-01-05", disposal_type="yro_iss",
                    intervention_level="intensive")
        h.allocate("2026-01-05")
        for day in ("2026-01-07", "2026-01-14", "2026-01-21"):
            h.attend(day)
        return h

    def test_what_is_due(self) -> None:
        views = self._case().views("2026-02-05")
        stages = views.aspire["stages"]
        first = obligation(stages["delivery"], "first_appointment")
        assert (first["due"], first["status"]) == ("2026-01-12", "done_on_time")
        assessment = obligation(stages["assessment"], "assessment")
        assert (assessment["due"], assessment["status"]) == ("2026-01-26", "overdue")
        assert obligation(stages["review"], "review")["due"] == "2026-04-05"
        month = views.aspire["months"][0]
        assert (month["from"], month["to"], month["required"], month["contacts"],
                month["status"]) == ("2026-01-05", "2026-02-04", 8, 3, "short")

    def test_which_alerts_hold(self) -> None:
        rules = _rules(self._case(), "2026-02-05")
        assert {"assessment_overdue", "contact_shortfall"} <= rules
        assert not rules & {"panel_overdue", "contract_not_agreed", "home_visit_overdue"}

    def test_what_may_be_recorded(self) -> None:
        h = self._case()
        failure = h.miss("2026-02-09")
        h.accepted("warning_issued", {"failure_event_id": str(failure.event_id)},
                   "2026-02-10")
        err = h.refused("panel_held", {"kind": "initial", "attendee_roles": ["child"],
                                       "victim_views_presented": False}, "2026-02-10")
        assert "(yro_iss)" in str(err)
        err = h.refused("condition_set", {"condition_id": "C1", "kind": "reparation",
                                          "deadline": "2026-03-01"}, "2026-02-10")
        assert "(yro_iss)" in str(err)


class TestLenses:
    """A YRO from 5 January: assessment due 26 January."""

    def test_victims_count_under_desistance_and_timeliness_is_beside(self) -> None:
        late = History(start="2026-01-05")
        late.assess("2026-02-02")                      # late, every prompt met
        views = late.views("2026-02-03")
        assert views.aspire["quality"]["assessment"]["desistance"]["answer"] is True
        assert views.aspire["timeliness"]["assessment"] is False
        unmet = History(start="2026-01-05")
        unmet.assess("2026-01-20", victim_considered=False)
        quality = unmet.views("2026-01-21").aspire["quality"]["assessment"]
        assert quality["desistance"]["indicators"]["victim_considered"] is False
        assert quality["desistance"]["answer"] is False
        assert "victim_considered" not in quality["safety_wellbeing"]["indicators"]
        assert "victim_considered" not in quality["risk_of_harm"]["indicators"]

    def test_enforcement_counts_under_desistance(self) -> None:
        h = History(start="2026-01-05")
        h.miss("2026-01-12")                           # neither warned nor excused
        delivery = h.views("2026-01-20").aspire["quality"]["delivery"]
        assert delivery["desistance"]["indicators"]["failures_actioned"] is False
        assert delivery["desistance"]["answer"] is False
        assert "failures_actioned" not in delivery["risk_of_harm"]["indicators"]

    def test_review_involvement_is_the_child_and_the_parents_or_carers(self) -> None:
        h = History(start="2026-01-05")
        h.add("review_completed", {"trigger": "scheduled", "changed_domains": [],
                                   "plan_adjusted": False, "child_involved": True,
                                   "parent_carer_involved": False}, "2026-03-30")
        review = h.views("2026-04-01").aspire["quality"]["review"]["desistance"]
        assert review["indicators"]["child_involved"] is True
        assert review["indicators"]["parent_carer_involved"] is False
        assert review["answer"] is False
