"""Dates and times as people in England and Wales write them, in UK local time.

One formatter for every edge: the pages and the CLI write months in full
(``28 November 2026``, as GOV.UK's style does; ``month="short"`` where space is tight);
both read a moment in London time, so a contact at 00:30 BST is shown on the day the
practitioner saw it, not the UTC day before.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from tracker.kernel.clock import LONDON

Month = Literal["long", "short"]
_MONTH = {"long": "%B", "short": "%b"}


def day(value: date | datetime | str | None, month: Month = "long") -> str:
    """A date: ``28 November 2026`` (a moment is first put in London time; text that is not
    an ISO date is returned as it is)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date() if value.tzinfo else value.date()
    return f"{value.day} {value.strftime(_MONTH[month])} {value.year}"


def when(value: datetime | str | None, month: Month = "long", weekday: bool = False) -> str:
    """A moment in UK local time: ``28 November 2026, 10:30`` (a naive moment is taken as
    already local; a bare ISO date is shown as a date)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) == 10:
        return day(value, month)
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    local = value.astimezone(LONDON) if value.tzinfo else value
    prefix = local.strftime("%a ") if weekday else ""
    return f"{prefix}{day(local.date(), month)}, {local.strftime('%H:%M')}"
