"""Each disposal gets the obligations and the enforcement route its profile gives it
(domain.md §11), on both sides: what is due, which alerts hold, what may be recorded.
Every date below is worked out by hand from the default policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.envelope import RecordedEvent
from projections.alerts import candidates
from tests.projections.conftest import History
from tracker.domain.policy import Policy, build_policy, default_policy, load_policy


def _rules(h: History, on: str) -> list[str]:
    return [c.rule for c in candidates(h.views(on), h.policy)]


def _settled(h: History, start: str, assessed: str, planned: str) -> None:
    """A case manager, an assessment and a plan on time: nothing else is owed for them."""
    h.allocate(start)
    h.assess(assessed)
    h.plan(planned)


def _enforcement_refused(h: History, failure: RecordedEvent, day: str, disposal: str) -> None:
    fid = str(failure.event_id)
    for event_type, data in (
        ("warning_issued", {"failure_event_id": fid}),
        ("breach_initiated", {"failure_event_ids": [fid]}),
    ):
        err = h.refused(event_type, data, day)
        assert err.field == "event_type"
        assert f"({disposal})" in str(err)


class TestCommunityResolution:
    """Missed contacts on a community resolution: no alerts, and no enforcement accepted."""

    def _case(self, policy: Policy | None = None) -> tuple[History, RecordedEvent]:
        h = History(start="2026-01-05", policy=policy, disposal_type="community_resolution",
                    route="out_of_court")
        _settled(h, "2026-01-05", "2026-01-15", "2026-01-22")
        first = h.miss("2026-01-13")
        h.miss("2026-02-10")
        return h, first

    def test_no_contact_levels_reviews_first_appointment_or_follow_up(self) -> None:
        h, _ = self._case()
        views = h.views("2026-05-01")
        stages = views.aspire["stages"]
        assert stages["delivery"]["obligations"] == []
        assert stages["review"]["obligations"] == []
        assert {m["status"] for m in views.aspire["months"]} == {"not_required"}
        assert [m["required"] for m in views.aspire["months"]] == [0, 0, 0, 0]
        assert _rules(h, "2026-05-01") == []

    def test_warnings_and_breach_are_refused_naming_the_disposal(self) -> None:
        h, first = self._case()
        _enforcement_refused(h, first, "2026-02-11", "community_resolution")
        err = h.refused("warning_issued", {"failure_event_id": str(first.event_id)},
                       "2026-02-11")
        assert "community resolution" in str(err) and "voluntary" in str(err)

    def test_the_enforcement_view_has_no_route(self) -> None:
        h, _ = self._case()
        enf = h.views("2026-05-01").enforcement
        assert (enf["route"], enf["status"], enf["breach_due"]) == ("none", "no_route", [])


class TestRemand:
    def test_no_first_appointment_contacts_reviews_or_enforcement(self) -> None:
        h = History(start="2026-01-05", disposal_type="remand", setting="custody")
        _settled(h, "2026-01-05", "2026-01-20", "2026-01-30")
        missed = h.miss("2026-02-02")
        views = h.views("2026-06-01")
        assert views.aspire["stages"]["delivery"]["obligations"] == []
        assert views.aspire["stages"]["review"]["obligations"] == []
        # assessment due 15 working days after 5 January: 26 January; done on the 20th
        assert views.aspire["stages"]["assessment"]["status"] == "done_on_time"
        assert _rules(h, "2026-06-01") == []
        _enforcement_refused(h, missed, "2026-02-03", "remand")

    def test_a_remand_is_not_a_custodial_sentence(self) -> None:
        assert default_policy().profile("remand").custodial_sentence is False
        assert default_policy().profile("dto").custodial_sentence is True


class TestDto:
    """A DTO through custody and release: contact levels in the community part only;
    breach of the supervision period goes to court, with no warnings."""

    def _case(self) -> tuple[History, RecordedEvent]:
        h = History(start="2026-01-05", disposal_type="dto", setting="custody")
        _settled(h, "2026-01-05", "2026-01-15", "2026-01-22")
        h.attend("2026-01-09", kind="video")          # first appointment: due 12 January
        h.transition("2026-03-02", "custody_to_community")
        h.attend("2026-03-10")
        failure = h.miss("2026-03-17")
        h.follow_up(failure, "2026-03-18")
        return h, failure

    def test_months_in_custody_are_exempt_and_the_first_free_month_is_short(self) -> None:
        h, _ = self._case()
        months = h.views("2026-04-10").aspire["months"]
        # month 1: 5 Jan-4 Feb, 2: 5 Feb-4 Mar (released 2 March: a day in custody), 3: 5 Mar-4 Apr
        assert [(m["month"], m["status"]) for m in months] == [
            (1, "exempt"), (2, "exempt"), (3, "short"), (4, "in_progress")]
        assert months[2]["required"] == 2 and months[2]["contacts"] == 1
        assert "contact_shortfall" in _rules(h, "2026-04-10")

    def test_breach_without_warnings_and_no_warning_scheme(self) -> None:
        h, failure = self._case()
        fid = str(failure.event_id)
        err = h.refused("warning_issued", {"failure_event_id": fid}, "2026-03-18")
        assert "(dto)" in str(err) and "no warning scheme" in str(err)
        h.decide("breach_initiated", {"failure_event_ids": [fid]}, "2026-03-18")
        enf = h.views("2026-03-18").enforcement
        assert (enf["route"], enf["breach_due"]) == ("supervision_breach", [])


class TestRoutesWithoutWarnings:
    @pytest.mark.parametrize(("disposal", "route", "words"), [
        ("referral_order", "court", "panel progress meeting"),
        ("youth_caution", "out_of_court", "no conditions"),
        ("youth_conditional_caution", "out_of_court", "prosecution"),
    ])
    def test_warnings_and_breach_are_refused(self, disposal: str, route: str,
                                             words: str) -> None:
        h = History(start="2026-01-05", disposal_type=disposal, route=route)
        failure = h.miss("2026-01-20")
        _enforcement_refused(h, failure, "2026-01-21", disposal)
        err = h.refused("warning_issued", {"failure_event_id": str(failure.event_id)},
                       "2026-01-21")
        assert words in str(err)


class TestYroWarnedPeriod:
    """12 calendar months beginning with the day of the warning, across a leap day:
    a warning on 29 February 2024 counts to 28 February 2025; one on 6 March 2024 to
    5 March 2025."""

    def _case(self, third_on: str) -> tuple[History, RecordedEvent]:
        h = History(start="2024-01-08")
        f1 = h.miss("2024-02-27")
        h.warn(f1, "2024-02-29")
        f2 = h.miss("2024-03-05")
        h.warn(f2, "2024-03-06")
        return h, h.miss(third_on)

    def test_the_last_day_of_the_leap_day_warning_is_28_february(self) -> None:
        h, third = self._case("2025-02-28")
        enf = h.views("2025-02-28").enforcement
        assert enf["warnings"][0]["expires"] == "2025-02-28"
        assert enf["warnings"][1]["expires"] == "2025-03-05"
        assert [d["failure_event_id"] for d in enf["breach_due"]] == [str(third.event_id)]
        h.decide("breach_initiated", {"failure_event_ids": [str(third.event_id)]},
                "2025-02-28")

    def test_on_1_march_only_one_warning_counts(self) -> None:
        h, third = self._case("2025-03-01")
        enf = h.views("2025-03-01").enforcement
        assert enf["breach_due"] == []
        assert enf["failures"][-1]["warnings_in_period_before"] == 1
        err = h.refused("breach_initiated", {"failure_event_ids": [str(third.event_id)]},
                       "2025-03-01")
        assert err.field == "data.serious_failure"


def test_a_service_policy_file_changes_both_sides(tmp_path: Path) -> None:
    """The same community resolution under a service's file that gives it contact levels
    and the warning scheme: the read side now finds a shortfall and the write side accepts
    a warning."""
    path = tmp_path / "service.toml"
    path.write_text(
        'version = "yjs-test-1"\n'
        "[disposals.community_resolution]\n"
        'contact_levels = true\nenforcement = "sch7_warnings"\n'
        'sources = { contact_levels = "YJS test practice note 1" }\n'
    )
    local = load_policy(path)
    h, first = TestCommunityResolution()._case(local)
    assert "contact_shortfall" in _rules(h, "2026-05-01")
    h.decide("warning_issued", {"failure_event_id": str(first.event_id)}, "2026-02-11")
    shown = {r.rule: r.source for r in local.rules_in_force("community_resolution")}
    assert shown["disposals.community_resolution.contact_levels"] == "YJS test practice note 1"
    assert shown["disposals.community_resolution.enforcement"] == f"local policy (file {path})"
    assert shown["disposals.community_resolution.reviews"].startswith("seed 001 Annexe A")


def test_every_rule_in_the_shipped_policy_has_a_source() -> None:
    rules = default_policy().rules_in_force()
    assert rules and all(r.source.strip() for r in rules)
    # a shipped table without its own source would show as the service's local choice
    assert not [r.rule for r in rules if r.source.startswith("local policy (")]
    names = {r.rule for r in rules}
    assert "enforcement.warned_period_months" in names
    assert {f"disposals.{d}.enforcement" for d in default_policy().disposals} <= names
    sources = {r.rule: r.source for r in rules}
    assert "Sentencing Act 2020 Sch 7" in sources["enforcement.warned_period_months"]


def test_home_visit_expectations_follow_the_profile() -> None:
    """None by default; with a home visit every 2 months, the first period (5 January to
    4 March) is met by the visit of 10 February, the second (5 March to 4 May) is overdue
    on 6 May, and the third (to 4 July) is due."""
    h = History(start="2026-01-05")
    h.attend("2026-02-10", kind="home_visit")
    stage = h.views("2026-03-20").aspire["stages"]["delivery"]
    assert not [o for o in stage["obligations"] if o["kind"] == "home_visit"]
    h.policy = build_policy({"disposals": {"yro": {"home_visit_every_months": 2}}})
    visits = [o for o in h.views("2026-05-06").aspire["stages"]["delivery"]["obligations"]
              if o["kind"] == "home_visit"]
    assert [(o["due"], o["done"], o["status"]) for o in visits] == [
        ("2026-03-04", "2026-02-10", "done_on_time"), ("2026-05-04", None, "overdue"),
        ("2026-07-04", None, "due")]
