"""Moments as the folds keep them: whole microseconds since the epoch, and London days.

Integers rather than datetimes because the folds compare and sort millions of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.kernel.clock import LONDON

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """An aware moment as whole microseconds since the Unix epoch (exact)."""
    return (moment - EPOCH) // _US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def local_ordinal(moment: datetime) -> int:
    """The London calendar day of a moment, as a date ordinal."""
    return moment.astimezone(LONDON).date().toordinal()


_HOUR_US = 3_600_000_000
_DAY_BY_HOUR: dict[int, int] = {}


def day_of_us(us: int) -> int:
    """The London calendar day (ordinal) of a moment in epoch microseconds (cached by hour)."""
    hour = us // _HOUR_US
    found = _DAY_BY_HOUR.get(hour)
    if found is None:
        found = local_ordinal(from_us(hour * _HOUR_US))
        _DAY_BY_HOUR[hour] = found
    return found
