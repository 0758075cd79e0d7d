"""The enforcement rules come from the policy, and both sides read the same ones: what
``decide`` lets a practitioner record as breach is what the read side calls breach due."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.projections.conftest import History, moment
from tracker.domain.case import fold
from tracker.domain.commands import RecordEvent
from tracker.domain.decide import decide
from tracker.domain.policy import Policy, build_policy, default_policy
from tracker.kernel.errors import RuleViolation

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
SHORT = build_policy({"enforcement": {"warned_period_months": 3, "warnings_before_breach": 1}})


def _warned_once_then_failed(policy: Policy, failed_on: str) -> tuple[History, str]:
    h = History(start="2025-02-03", policy=policy)
    first = h.miss("2025-03-03")
    h.warn(first, "2025-03-04")
    return h, str(h.miss(failed_on).event_id)


def _breach_allowed(h: History, failure: str, day: str) -> bool:
    command = RecordEvent(case_id=h.case_id, event_type="breach_initiated",
                          data={"failure_event_ids": [failure]}, occurred_at=moment(day, 12))
    try:
        decide(fold(h.case_id, h.events), command, NOW, h.policy)
    except RuleViolation as exc:
        if exc.field != "data.serious_failure":  # refused for the warnings, not anything else
            raise
        return False
    return True


@pytest.mark.parametrize(("policy", "failed_on", "due"), [
    (default_policy(), "2025-04-01", False),  # one warning is not enough by default
    (SHORT, "2025-04-01", True),              # one is, under the service's policy...
    (SHORT, "2025-06-03", True),              # ...on the last day of its 3 months (from 4 March)
    (SHORT, "2025-06-04", False),             # ...and not after it
    (default_policy(), "2026-03-04", False),
])
def test_write_and_read_side_agree_under_the_policy(
    policy: Policy, failed_on: str, due: bool
) -> None:
    h, failure = _warned_once_then_failed(policy, failed_on)
    enforcement = h.views(failed_on).enforcement
    assert [d["failure_event_id"] for d in enforcement["breach_due"]] == ([failure] if due else [])
    assert _breach_allowed(h, failure, failed_on) is due


def test_warning_expiry_follows_the_policy() -> None:
    h, _failure = _warned_once_then_failed(SHORT, "2025-04-01")
    enforcement = h.views("2025-04-01").enforcement
    assert enforcement["warnings"][0]["expires"] == "2025-06-03"
    assert enforcement["warned_until"] == "2025-06-03"
