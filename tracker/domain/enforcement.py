"""The warned period (CJIA 2008 Sch. 2, domain.md §5), as the policy sets it.

One definition for both sides: ``decide`` refuses a breach the warnings do not support,
and ``projections.enforcement`` says which failures are breach due. Days are ordinals
(``date.toordinal()``), the unit the read models keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import TypeVar

from tracker.domain.policy import EnforcementPolicy

W = TypeVar("W")


def in_warned_period(warning_day: int, day: int, rules: EnforcementPolicy) -> bool:
    """Whether a warning given on ``warning_day`` still counts on ``day`` (same day included)."""
    return 0 <= day - warning_day <= rules.warned_period_days


def warnings_in_period(
    warnings: Iterable[W], day: int, rules: EnforcementPolicy, day_of: Callable[[W], int]
) -> list[W]:
    """The warnings that count on ``day``: given on or before it, within the warned period."""
    return [w for w in warnings if in_warned_period(day_of(w), day, rules)]


def warnings_allow_breach(count: int, rules: EnforcementPolicy) -> bool:
    """Whether ``count`` warnings in the period are enough for a further failure to be breach."""
    return count >= rules.warnings_before_breach


def warned_until(warning_day: int, rules: EnforcementPolicy) -> date:
    """The last day a warning given on ``warning_day`` counts."""
    return date.fromordinal(warning_day) + timedelta(days=rules.warned_period_days)
