"""The YRO warned period (Sentencing Act 2020 Sch 7 para 4; domain.md §5, §11), as the
policy sets it. One definition for both sides: ``decide`` refuses a breach the warnings do
not support, and ``projections.enforcement`` says which failures are breach due.

A warned period is ``enforcement.warned_period_months`` calendar months *beginning with* the
day the warning was given: it ends the day before the corresponding day that many months
on, or, where that month has no such day (a warning on 29 February, or on the 31st), on
the last day of that month. Days are ordinals (``date.toordinal()``), the unit the read
models keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import TypeVar

from tracker.domain.policy import EnforcementPolicy

W = TypeVar("W")


def months_beginning_with(day: date, months: int) -> date:
    """The last day of a period of ``months`` calendar months beginning with ``day``."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    try:
        corresponding = date(year, month, day.day)
    except ValueError:  # no such day that month: the period runs to the month's end
        corresponding = date(year + month // 12, month % 12 + 1, 1)
    return corresponding - timedelta(days=1)


def warned_until(warning_day: int, rules: EnforcementPolicy) -> date:
    """The last day a warning given on ``warning_day`` counts."""
    return months_beginning_with(date.fromordinal(warning_day), rules.warned_period_months)


def in_warned_period(warning_day: int, day: int, rules: EnforcementPolicy) -> bool:
    """Whether a warning given on ``warning_day`` still counts on ``day`` (same day included)."""
    return warning_day <= day <= warned_until(warning_day, rules).toordinal()


def warnings_in_period(
    warnings: Iterable[W], day: int, rules: EnforcementPolicy, day_of: Callable[[W], int]
) -> list[W]:
    """The warnings that count on ``day``: given on or before it, within the warned period."""
    return [w for w in warnings if in_warned_period(day_of(w), day, rules)]


def warnings_allow_breach(count: int, rules: EnforcementPolicy) -> bool:
    """Whether ``count`` warnings in the period are enough for a further failure to be breach."""
    return count >= rules.warnings_before_breach
