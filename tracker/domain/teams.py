"""Whose case it is: the current case manager and the case's team, defined once.

The write side (``CaseState``), the access checks and the read models (caseloads, alert
owners) all ask these two questions, so they must get the same answer: a case moved to a
case manager in another team is that team's case, to open, to list and to be alerted on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

CASE_MANAGER = "case_manager"
"""The allocation role of the YOT (community) case manager; keyworkers hold other roles."""


class Held(Protocol):
    """An allocation as either side keeps it: the role held and the holder's team."""

    @property
    def role(self) -> str: ...

    @property
    def team(self) -> str | None: ...


H = TypeVar("H", bound=Held)


def current_case_manager(current: Iterable[H]) -> H | None:
    """The case manager holding the case, from the allocations not ended, in the order they
    started: the latest-started one if, during a handover, two overlap."""
    managers = [a for a in current if a.role == CASE_MANAGER]
    return managers[-1] if managers else None


def case_team(opening_team: str, case_manager: Held | None) -> str:
    """The case's team: its case manager's, if one is allocated with a team; else the team
    that opened it."""
    if case_manager is not None and case_manager.team:
        return case_manager.team
    return opening_team
