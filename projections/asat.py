""""As at": the explicit moment every "is it due? is it overdue?" question is asked against.

``AsAt.moment(m)`` counts every fact that happened at or before ``m`` and judges due dates
against the London calendar day of ``m``. ``AsAt.end_of(day)`` is "as it stood on that
date": everything that happened on or before the day, judged on that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from projections.record import to_us
from tracker.kernel.clock import local_date, start_of_local_day


@dataclass(frozen=True)
class AsAt:
    """A cut-off (facts with ``t <= us`` count) and the calendar day due dates are judged on."""

    us: int
    day: date
    moment: datetime

    @classmethod
    def at(cls, moment: datetime) -> AsAt:
        if moment.tzinfo is None:
            raise ValueError("as_at needs an aware datetime")
        return cls(us=to_us(moment), day=local_date(moment), moment=moment)

    @classmethod
    def end_of(cls, day: date) -> AsAt:
        moment = start_of_local_day(day + timedelta(days=1)) - timedelta(microseconds=1)
        return cls(us=to_us(moment), day=day, moment=moment)
