"""Working days: weekdays that are not bank holidays in England and Wales (or service closures).

The bank holidays come from the maintained ``holidays`` library, never typed by hand.
"N working days after X" counts X as day 0: the due date is the N-th working day after X.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays

from tracker.domain.policy import Calendar

CACHE_LIMIT = 200_000
"""Memoised answers kept per calendar (a long-running worker clears them past this)."""


class WorkingDays:
    """Working-day arithmetic for one calendar (country, subdivision, extra closures)."""

    def __init__(self, calendar: Calendar) -> None:
        self._country = calendar.country
        self._subdivision = calendar.subdivision
        self._extra = frozenset(calendar.extra_closed_days)
        self._years: dict[int, frozenset[date]] = {}
        self._add_cache: dict[tuple[int, int], date] = {}
        self._between_cache: dict[tuple[int, int], int] = {}
        self._working: dict[int, bool] = {}

    def _closed(self, year: int) -> frozenset[date]:
        found = self._years.get(year)
        if found is None:
            bank = holidays.country_holidays(
                self._country, subdiv=self._subdivision, years=[year]
            )
            found = frozenset(bank) | {d for d in self._extra if d.year == year}
            self._years[year] = found
        return found

    def is_working_day(self, day: date) -> bool:
        """A weekday that is neither a bank holiday nor a service closure."""
        key = day.toordinal()
        found = self._working.get(key)
        if found is None:
            found = self._working[key] = day.weekday() < 5 and day not in self._closed(day.year)
        return found

    def add(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself is day 0); n=0 gives ``day``."""
        if n <= 0:
            return day
        key = (day.toordinal(), n)
        found = self._add_cache.get(key)
        if found is not None:
            return found
        current, left = day, n
        while left:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        if len(self._add_cache) > CACHE_LIMIT:
            self._add_cache.clear()
        self._add_cache[key] = current
        return current

    def subtract(self, day: date, n: int) -> date:
        """The ``n``-th working day before ``day`` (n=0 gives ``day``): "N working days
        before" a date, e.g. the final referral-order panel before the order's end."""
        current, left = day, n
        while left > 0:
            current -= timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        key = (start.toordinal(), end.toordinal())
        found = self._between_cache.get(key)
        if found is None:
            found, current = 0, start
            while current < end:
                current += timedelta(days=1)
                if self.is_working_day(current):
                    found += 1
            if len(self._between_cache) > CACHE_LIMIT:
                self._between_cache.clear()
            self._between_cache[key] = found
        return found


def calendar_for(calendar: Calendar) -> WorkingDays:
    """One shared ``WorkingDays`` per calendar (the holiday tables are computed once); two
    calendars with the same days share it whatever their sources say."""
    key = (calendar.country, calendar.subdivision, calendar.extra_closed_days)
    found = _SHARED.get(key)
    if found is None:
        found = _SHARED[key] = WorkingDays(calendar)
    return found


_SHARED: dict[tuple[str, str | None, tuple[date, ...]], WorkingDays] = {}
