"""Time, made explicit: every "now" and "is it overdue?" is asked of a clock passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    """Something that says what time it is (aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The server clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told: for tests, replays and the seeder."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


def local_date(moment: datetime) -> date:
    """The calendar date in England and Wales of an aware moment."""
    return moment.astimezone(LONDON).date()


def start_of_local_day(day: date) -> datetime:
    """00:00 London time on ``day``, as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(UTC)


def local_noon(day: date) -> datetime:
    """12:00 London time on ``day``: what a date given without a time is taken to mean."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=LONDON).astimezone(UTC)
