"""When a child's records have been kept long enough (domain.md §10). Pure: no IO, no clock.

A closed case runs out ``years_after_last_action`` after its last recorded action; with
``or_at_age``, also when the child reaches that age, the ``whichever`` (by default the
later) of the two deciding. An open case never runs out. A child's data is erased only
when every one of their cases has run out: the key, and so the erasure, is per child.

A period with ``basic_only_after_years`` keeps only basic information (identity and every
non-personal fact; the narrative erased) from that many years after the last action.
A child is reduced when every case of theirs is past that point, or past its expiry
(a case with no basic-only point counts from its expiry), and not every case has expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from tracker.domain.policy import RetentionPolicy


@dataclass(frozen=True)
class CaseFacts:
    """What retention needs to know of one case (the date of birth already opened)."""

    case_id: str
    disposal_type: str
    last_action: date
    closed: bool
    date_of_birth: date | None


@dataclass(frozen=True)
class CaseExpiry:
    """When one case runs out (None: it does not, while open or without a period)."""

    case_id: str
    rule: str
    expires_on: date | None
    basic_only_from: date | None = None


RetentionAction = Literal["erase", "reduce"]
"""What is due: erase every personal value, or reduce to basic information."""


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass(frozen=True)
class ChildExpiry:
    """A child whose data is due for ``action`` since ``expires_on``: the latest date at
    which one of their cases became due."""

    child_id: str
    cases: tuple[CaseExpiry, ...]
    expires_on: date
    action: RetentionAction = "erase"

    def to_dict(self) -> dict[str, object]:
        """For the dry run and the logs: ids, rules and dates; never a date of birth."""
        return {
            "child_id": self.child_id, "action": self.action,
            "expires_on": self.expires_on.isoformat(),
            "cases": [{"case_id": c.case_id, "rule": c.rule, "expires_on": _iso(c.expires_on),
                       "basic_only_from": _iso(c.basic_only_from)}
                      for c in self.cases],
        }


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def case_expiry(facts: CaseFacts, policy: RetentionPolicy) -> CaseExpiry:
    """When this case's records run out under ``policy``."""
    found = policy.period_for(facts.disposal_type)
    if found is None:
        return CaseExpiry(facts.case_id, "no_period", None)
    name, period = found
    if not facts.closed:
        return CaseExpiry(facts.case_id, name, None)
    after_action = add_years(facts.last_action, period.years_after_last_action)
    expires = after_action
    if period.or_at_age is not None and facts.date_of_birth is not None:
        at_age = add_years(facts.date_of_birth, period.or_at_age)
        expires = max(after_action, at_age) if period.whichever == "later" \
            else min(after_action, at_age)
    basic = (add_years(facts.last_action, period.basic_only_after_years)
             if period.basic_only_after_years is not None else None)
    return CaseExpiry(facts.case_id, name, expires, basic)


def _all_by(dates: list[date | None], today: date) -> date | None:
    """The latest of ``dates`` if every one is known and on or before ``today``."""
    known = [d for d in dates if d is not None]
    if not known or len(known) < len(dates) or max(known) > today:
        return None
    return max(known)


def child_expiry(
    child_id: str, cases: list[CaseFacts], policy: RetentionPolicy, today: date, *,
    reduced: bool = False,
) -> ChildExpiry | None:
    """What is due for the child by ``today``: erasure if every case has run out, else
    reduction to basic information if every case is past its basic-only point (and the
    child is not ``reduced`` already), else None."""
    expiries = tuple(case_expiry(c, policy) for c in cases)
    expired = _all_by([e.expires_on for e in expiries], today)
    if expired is not None:
        return ChildExpiry(child_id, expiries, expired)
    if reduced or all(e.basic_only_from is None for e in expiries):
        return None
    basic = _all_by([e.basic_only_from or e.expires_on for e in expiries], today)
    return ChildExpiry(child_id, expiries, basic, "reduce") if basic is not None else None
