"""Issue 9 §1: every date on a case has sane bounds, refused at the edge with field: reason.

A year-1 or year-9999 moment used to be accepted and then overflowed every projector run;
a case starting in year 1 made engagement series of 24,312 months.
"""

from __future__ import annotations

from typing import Any

import pytest

from events.catalogue import parse_event
from tests.support import at, opened
from tests.test_decide import NOW, POLICY, History
from tracker.domain.case import CaseState
from tracker.domain.commands import RecordEvent, parse_command
from tracker.domain.decide import decide
from tracker.kernel.errors import InvalidInput, RuleViolation

EXTREMES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]


def _problems(type_name: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        parse_event(type_name, data, context="data")
    return [(p.field, p.reason) for p in info.value.problems]


@pytest.mark.parametrize("moment", EXTREMES)
def test_an_unrepresentable_moment_is_refused_by_the_event_model(moment: str) -> None:
    problems = _problems("contact_scheduled",
                         {"contact_id": "c1", "kind": "office", "scheduled_for": moment})
    assert problems == [("data.scheduled_for", "must be between 1900-01-01 and 2199-12-31")]


def test_a_moment_without_a_time_zone_is_refused() -> None:
    data = {"contact_id": "c1", "kind": "office", "scheduled_for": "2026-01-05T10:00"}
    problems = _problems("contact_scheduled", data)
    assert [f for f, _ in problems] == ["data.scheduled_for"]


@pytest.mark.parametrize(("type_name", "data", "field"), [
    ("case_opened", opened(start_date="0001-01-01", date_of_birth=None,
                           expected_end_date=None), "data.start_date"),
    ("case_opened", opened(date_of_birth="0001-01-01"), "data.date_of_birth"),
    ("case_opened", opened(expected_end_date="9999-12-31"), "data.expected_end_date"),
    ("transition_planned", {"transition_id": "t1", "kind": "to_probation",
                            "planned_date": "9999-12-31"}, "data.planned_date"),
    ("plan_agreed", {"objectives": [{"domain": "desistance", "description": "x",
                                     "target_date": "0001-01-01"}],
                     "contingency_for_safety": True, "contingency_for_risk": True,
                     "child_involved": True, "parent_carer_involved": False},
     "data.objectives.0.target_date"),
])
def test_every_date_field_of_the_catalogue_is_bounded(
    type_name: str, data: dict[str, Any], field: str
) -> None:
    assert field in [f for f, _ in _problems(type_name, data)]


def test_an_occurred_at_in_year_one_is_refused_with_its_field() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_command({"case_id": "CS-1", "event_type": "case_closed", "data": {},
                       "occurred_at": "0001-01-01T00:00:00+14:00"})
    assert [p.field for p in info.value.problems] == ["occurred_at"]


def test_the_policy_bounds_dates_relative_to_the_case() -> None:
    h = History()  # started 2026-01-05
    err = h.refuse("contact_scheduled", {"contact_id": "c1", "kind": "office",
                                         "scheduled_for": "2031-01-06T10:00:00Z"}, at("2026-02-01"))
    assert err.field == "data.scheduled_for" and "5 years after the case started" in err.reason
    h.add("contact_scheduled", {"contact_id": "c1", "kind": "office",
                                "scheduled_for": "2031-01-05T10:00:00Z"}, at("2026-02-01"))
    err = h.refuse("transition_planned", {"transition_id": "t1", "kind": "to_probation",
                                          "planned_date": "2000-01-04"}, at("2026-02-01"))
    assert err.field == "data.planned_date" and "could have been born" in err.reason


def test_a_date_of_birth_or_start_outside_the_policy_is_refused() -> None:
    def refuse(**overrides: Any) -> str:
        data = opened(**overrides)
        cmd = RecordEvent(case_id="CS-2", event_type="case_opened", data=data,
                          occurred_at=at(data["start_date"]))
        with pytest.raises(RuleViolation) as info:
            decide(CaseState("CS-2"), cmd, NOW, POLICY)
        return info.value.field

    assert refuse(date_of_birth="1990-01-01") == "data.date_of_birth"
    assert refuse(start_date="1901-01-01", date_of_birth=None,
                  expected_end_date=None) == "data.start_date"
    assert refuse(expected_end_date="2032-01-05") == "data.expected_end_date"


def test_a_correction_cannot_bring_in_a_date_the_policy_refuses() -> None:
    h = History()
    target = h.add("transition_planned", {"transition_id": "t1", "kind": "to_probation",
                                          "planned_date": "2026-06-01"}, at("2026-02-01"))
    err = h.refuse("event_superseded", {
        "target_event_id": str(target), "reason": "typo", "replacement_type": "transition_planned",
        "replacement": {"transition_id": "t1", "kind": "to_probation",
                        "planned_date": "2040-06-01"}}, at("2026-02-02"))
    assert err.field == "data.replacement.planned_date"
    err = h.refuse("event_superseded", {
        "target_event_id": str(target), "reason": "typo", "replacement_type": "transition_planned",
        "replacement_occurred_at": "1990-01-01T00:00:00Z",
        "replacement": {"transition_id": "t1", "kind": "to_probation",
                        "planned_date": "2026-06-01"}}, at("2026-02-02"))
    assert err.field == "data.replacement_occurred_at"
