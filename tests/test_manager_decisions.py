"""Manager decisions (issue 11 §1), pure: the role matrix for manager acts, the v1 -> v2
upcasts that take the manager off the typed field, and who the read side names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from events.base import STORED
from events.catalogue import event_class, parse_event, upcast
from events.enforcement import ExceptionalCircumstancesRecorded
from events.envelope import RecordedEvent
from projections.record import fold
from tracker.domain.access import (
    MANAGER_ACTS,
    Principal,
    authorise,
    can_record,
    can_write_case,
)
from tracker.domain.case import CaseState
from tracker.domain.case import fold as fold_state
from tracker.domain.commands import parse_command
from tracker.kernel.errors import AccessDenied, InvalidInput

PRAC_A = Principal("P-1", "practitioner", frozenset({"TEAM-A"}))
MGR_A = Principal("M-1", "manager", frozenset({"TEAM-A"}))
MGR_B = Principal("M-2", "manager", frozenset({"TEAM-B"}))
AUDITOR = Principal("A-1", "auditor", frozenset())

OPENED = {"child_id": "C-1", "disposal_type": "yro", "route": "court",
          "start_date": "2026-01-05", "intervention_level": "standard",
          "service": "YJS", "team": "TEAM-A"}


def rec(event_type: str, data: dict[str, Any], version: int, by: str = "P-1",
        role: str = "practitioner", schema_version: int | None = None) -> RecordedEvent:
    event = event_class(event_type).model_validate(data, context=STORED)
    when = datetime(2026, 3, version, 10, tzinfo=UTC)
    return RecordedEvent(
        position=version, event_id=uuid4(), stream_id="CS-1", stream_version=version,
        type=event_type, schema_version=schema_version or type(event).version,
        occurred_at=when, recorded_at=when, recorded_by=by, recorded_role=role,
        correlation_id="t", event=event, prev_hash="", hash="")


def state() -> CaseState:
    return fold_state("CS-1", [rec("case_opened", OPENED, 1)])


def command(event_type: str, data: dict[str, Any]) -> Any:
    return parse_command({"case_id": "CS-1", "event_type": event_type, "data": data,
                          "occurred_at": datetime(2026, 3, 5, tzinfo=UTC)})


@pytest.mark.parametrize("act", sorted(MANAGER_ACTS))
def test_only_a_manager_of_the_cases_team_may_record_a_manager_act(act: str) -> None:
    assert can_record(MGR_A, "TEAM-A", act)
    for who, team in ((PRAC_A, "TEAM-A"), (MGR_B, "TEAM-A"), (AUDITOR, "TEAM-A"),
                      (MGR_A, "TEAM-B"), (MGR_A, None)):
        assert not can_record(who, team, act), (who.role, team)


def test_practitioners_acts_stay_the_practitioners() -> None:
    for act in ("contact_attended", "breach_initiated", "intervention_level_changed",
                "oversight_action_completed"):
        assert can_record(PRAC_A, "TEAM-A", act)
        assert not can_record(MGR_A, "TEAM-A", act)
    assert can_write_case(MGR_A, "TEAM-A") and not can_write_case(MGR_B, "TEAM-A")


def test_authorise_judges_a_correction_as_the_entry_it_corrects() -> None:
    oversight = rec("management_oversight_recorded", {
        "oversight_id": "OV-1", "category": "allocation", "note": "n"}, 2, "M-1", "manager")
    s = fold_state("CS-1", [rec("case_opened", OPENED, 1), oversight])
    retract = command("event_retracted", {"target_event_id": str(oversight.event_id),
                                          "reason": "r"})
    with pytest.raises(AccessDenied):
        authorise(PRAC_A, s, retract)
    authorise(MGR_A, s, retract)
    with pytest.raises(AccessDenied):
        authorise(MGR_B, s, retract)


def test_v1_entries_upcast_keeping_the_manager_they_named() -> None:
    v1 = {"failure_event_id": str(uuid4()), "manager_id": "M-OLD", "note": "n"}
    data = upcast("exceptional_circumstances_recorded", 1, v1)
    assert data["v1_manager_id"] == "M-OLD" and "manager_id" not in data
    stored = ExceptionalCircumstancesRecorded.model_validate(data, context=STORED)
    assert stored.v1_manager_id == "M-OLD"
    level = upcast("intervention_level_changed", 1, {
        "intervention_level": "enhanced", "reason": "other", "manager_id": "M-OLD"})
    assert level["v1_manager_id"] == "M-OLD"


def test_new_input_may_not_type_the_manager() -> None:
    for typed in ({"manager_id": "M-1"}, {"v1_manager_id": "M-1"}):
        with pytest.raises(InvalidInput) as err:
            parse_event("exceptional_circumstances_recorded",
                        {"failure_event_id": str(uuid4()), "note": "n", **typed})
        assert err.value.problems[0].field.endswith("manager_id")


def test_the_read_side_names_the_recorder_or_the_v1_field() -> None:
    failure = str(uuid4())
    record = fold("CS-1", [
        rec("case_opened", OPENED, 1),
        rec("exceptional_circumstances_recorded", {"failure_event_id": failure, "note": "n"},
            2, "M-1", "manager"),
        rec("exceptional_circumstances_recorded", {
            "failure_event_id": failure, "note": "n", "v1_manager_id": "M-OLD"}, 3),
    ])
    assert [e.manager for e in record.excuses] == ["M-1", "M-OLD"]
