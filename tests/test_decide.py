"""The case rules, as pure functions: fold events into state, decide a command, no IO."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from events.catalogue import parse_event
from events.envelope import RecordedEvent
from tests.support import at, opened
from tracker.domain.case import CaseState, fold
from tracker.domain.commands import RecordEvent
from tracker.domain.decide import decide
from tracker.domain.policy import default_policy
from tracker.kernel.errors import CaseAlreadyExists, CaseNotFound, InvalidInput, RuleViolation

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
POLICY = default_policy()


class History:
    """Build a case's recorded events in memory, through decide, as the service would."""

    def __init__(self, case_id: str = "CS-1", **case: Any) -> None:
        self.case_id = case_id
        self.events: list[RecordedEvent] = []
        self.add("case_opened", opened(**case), at(opened(**case)["start_date"]))

    @property
    def state(self) -> CaseState:
        return fold(self.case_id, self.events)

    def command(self, event_type: str, data: dict[str, Any], when: datetime) -> RecordEvent:
        return RecordEvent(case_id=self.case_id, event_type=event_type, data=data,
                           occurred_at=when)

    def add(self, event_type: str, data: dict[str, Any], when: datetime) -> UUID:
        drafts = decide(self.state, self.command(event_type, data, when), NOW, POLICY)
        for d in drafts:
            n = len(self.events) + 1
            self.events.append(RecordedEvent(
                position=n, event_id=d.event_id, stream_id=self.case_id, stream_version=n,
                type=d.event.type, schema_version=1, occurred_at=d.occurred_at,
                recorded_at=NOW, recorded_by="t", recorded_role="t", correlation_id="t",
                event=d.event, prev_hash="", hash=""))
        return drafts[0].event_id

    def refuse(self, event_type: str, data: dict[str, Any], when: datetime) -> RuleViolation:
        with pytest.raises(RuleViolation) as info:
            decide(self.state, self.command(event_type, data, when), NOW, POLICY)
        return info.value

    def miss(self, day: str, acceptable: bool = False) -> UUID:
        reason = "illness_with_evidence" if acceptable else "no_reason_given"
        return self.add("contact_missed", {"kind": "office", "acceptable": acceptable,
                                           "reason": reason}, at(day))


def test_opening_twice_is_refused_and_other_events_need_a_case() -> None:
    h = History()
    with pytest.raises(CaseAlreadyExists):
        decide(h.state, h.command("case_opened", opened(), at("2026-01-05")), NOW, POLICY)
    with pytest.raises(CaseNotFound):
        decide(CaseState("CS-9"), RecordEvent(
            case_id="CS-9", event_type="review_completed", occurred_at=at("2026-02-01"),
            data={"trigger": "scheduled", "plan_adjusted": False, "child_involved": True}),
            NOW, POLICY)


def test_occurred_at_before_start_or_in_future_is_refused() -> None:
    h = History()
    data = {"kind": "office", "participation": 3}
    err = h.refuse("contact_attended", data, at("2026-01-04"))
    assert err.field == "occurred_at" and "before the case started on 2026-01-05" in err.reason
    assert h.refuse("contact_attended", data, NOW + timedelta(hours=1)).reason == "is in the future"
    h.add("contact_attended", data, at("2026-01-05"))  # the start day itself is fine


def test_closed_case_takes_only_corrections_and_audits() -> None:
    h = History()
    contact = h.add("contact_attended", {"kind": "office", "participation": 3}, at("2026-02-01"))
    h.add("case_closed", {"reason": "order_completed"}, at("2026-06-01"))
    err = h.refuse("contact_attended", {"kind": "office", "participation": 3}, at("2026-06-02"))
    assert err.field == "event_type" and "closed" in err.reason
    h.add("event_retracted", {"target_event_id": str(contact), "reason": "wrong case"},
          at("2026-06-02"))
    h.add("case_audited", {"audit_type": "thematic", "theme": "education", "prompts": [
        {"key_question": "2.1.1", "prompt": "a", "answer": "yes"}]}, at("2026-06-03"))


def test_warning_needs_an_earlier_unacceptable_failure_and_only_one() -> None:
    h = History()
    acceptable = h.miss("2026-02-02", acceptable=True)
    err = h.refuse("warning_issued", {"failure_event_id": str(acceptable)}, at("2026-02-03"))
    assert err.field == "data.failure_event_id" and "unacceptable" in err.reason
    failure = h.miss("2026-02-10")
    early = h.refuse("warning_issued", {"failure_event_id": str(failure)}, at("2026-02-09"))
    assert early.reason == "happened after this warning"
    h.add("warning_issued", {"failure_event_id": str(failure)}, at("2026-02-11"))
    err = h.refuse("warning_issued", {"failure_event_id": str(failure)}, at("2026-02-12"))
    assert "already has a warning" in err.reason
    unknown = h.refuse("warning_issued", {"failure_event_id": str(uuid4())}, at("2026-02-12"))
    assert unknown.field == "data.failure_event_id"


def _two_warnings(h: History, first: str, second: str) -> None:
    for day in (first, second):
        f = h.miss(day)
        h.add("warning_issued", {"failure_event_id": str(f)}, at(day, 15))


def test_breach_after_two_warnings_within_twelve_months() -> None:
    h = History(start_date="2025-01-06", expected_end_date="2027-01-01")
    _two_warnings(h, "2025-03-03", "2025-06-02")
    third = h.miss("2026-03-02")  # 364 days after the first warning: inside
    h.add("breach_initiated", {"failure_event_ids": [str(third)]}, at("2026-03-03"))


def test_breach_refused_when_first_warning_is_outside_twelve_months() -> None:
    h = History(start_date="2025-01-06", expected_end_date="2027-01-01")
    _two_warnings(h, "2025-03-03", "2025-06-02")
    third = h.miss("2026-03-04")  # 366 days after the first warning: outside
    err = h.refuse("breach_initiated", {"failure_event_ids": [str(third)]}, at("2026-03-05"))
    assert err.field == "data.serious_failure"
    # A serious failure may go straight to breach.
    h.add("breach_initiated", {"failure_event_ids": [str(third)], "serious_failure": True},
          at("2026-03-05"))


def test_exceptional_circumstances_stop_a_breach() -> None:
    h = History()
    _two_warnings(h, "2026-02-02", "2026-03-02")
    third = h.miss("2026-04-01")
    h.add("exceptional_circumstances_recorded", {"failure_event_id": str(third),
          "note": "synthetic"}, at("2026-04-02"))
    err = h.refuse("breach_initiated", {"failure_event_ids": [str(third)]}, at("2026-04-03"))
    assert "exceptional circumstances" in err.reason


def test_transitions_follow_the_setting() -> None:
    h = History()
    err = h.refuse("transition_completed", {"kind": "custody_to_community",
                   "information_shared": True, "handover_meeting_held": True,
                   "accommodation_arranged": True}, at("2026-02-01"))
    assert err.field == "data.kind" and "not in custody" in err.reason
    h.add("transition_completed", {"kind": "community_to_custody", "information_shared": True,
          "handover_meeting_held": False, "accommodation_arranged": False}, at("2026-02-01"))
    assert h.state.setting == "custody"
    assert "already in custody" in h.refuse("transition_completed", {
        "kind": "community_to_custody", "information_shared": True,
        "handover_meeting_held": False, "accommodation_arranged": False}, at("2026-02-02")).reason


def test_allocations_and_contacts_must_match_what_is_recorded() -> None:
    h = History()
    alloc = {"practitioner_id": "P-1", "agency": "yot", "role": "case_manager"}
    h.add("case_manager_allocated", alloc, at("2026-01-05"))
    assert "already allocated" in h.refuse("case_manager_allocated", alloc, at("2026-01-06")).reason
    h.add("case_manager_allocation_ended", {"practitioner_id": "P-1", "role": "case_manager",
          "reason": "reallocated"}, at("2026-01-07"))
    assert "not allocated" in h.refuse("case_manager_allocation_ended", {
        "practitioner_id": "P-1", "role": "case_manager", "reason": "other"},
        at("2026-01-08")).reason
    assert "not scheduled" in h.refuse("contact_attended", {
        "contact_id": "K1", "kind": "office", "participation": 3}, at("2026-01-08")).reason


def test_corrections_must_target_an_uncorrected_event_of_the_same_type() -> None:
    h = History()
    contact = h.add("contact_attended", {"kind": "office", "participation": 3}, at("2026-02-01"))
    bad_type = h.refuse("event_superseded", {
        "target_event_id": str(contact), "reason": "typo", "replacement_type": "contact_missed",
        "replacement": {"kind": "office", "acceptable": True, "reason": "other"}},
        at("2026-02-02"))
    assert bad_type.field == "data.replacement_type"
    with pytest.raises(InvalidInput) as info:
        decide(h.state, h.command("event_superseded", {
            "target_event_id": str(contact), "reason": "typo",
            "replacement_type": "contact_attended",
            "replacement": {"kind": "office", "participation": 9}}, at("2026-02-02")), NOW, POLICY)
    assert info.value.problems[0].field == "data.replacement.participation"
    h.add("event_superseded", {"target_event_id": str(contact), "reason": "typo",
          "replacement_type": "contact_attended",
          "replacement": {"kind": "home_visit", "participation": 3}}, at("2026-02-02"))
    again = h.refuse("event_retracted", {"target_event_id": str(contact), "reason": "x"},
                     at("2026-02-03"))
    assert "already been corrected" in again.reason


def test_bad_fields_are_named() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_event("contact_missed", {"kind": "carrier pigeon", "acceptable": "maybe",
                                       "reason": "no_reason_given", "colour": 1})
    fields = {p.field for p in info.value.problems}
    assert fields == {"kind", "acceptable", "colour"}
    with pytest.raises(InvalidInput) as info:
        parse_event("case_opened", opened(route="out_of_court"))
    assert "route must be 'court'" in info.value.problems[0].reason
