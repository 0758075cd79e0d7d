"""Review: the R of ASPIRE, at least every three months and on significant change."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import Domain, Event, PersonalText


class ReviewCompleted(Event):
    """A review of the case was completed; says what changed and whether the plan moved."""

    type = "review_completed"
    family = "review"

    trigger: Literal["scheduled", "significant_change", "transition", "pre_release"]
    changed_domains: list[Domain] = Field(default_factory=list, max_length=3)
    plan_adjusted: bool
    child_involved: bool
    parent_carer_involved: bool = False
    note: PersonalText | None = None
