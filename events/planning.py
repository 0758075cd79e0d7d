"""Planning: the SP of ASPIRE, a plan with objectives, targets and contingency."""

from __future__ import annotations

from pydantic import Field

from events.base import BoundedDate, Domain, Event, Fact, PersonalText


class Objective(Fact):
    """One objective of a plan, in one domain, with a target date."""

    domain: Domain
    description: PersonalText
    target_date: BoundedDate


class _Plan(Event):
    """What an agreed or revised plan says (not an event type of its own)."""

    objectives: list[Objective] = Field(min_length=1, max_length=30)
    contingency_for_safety: bool
    contingency_for_risk: bool
    child_involved: bool
    parent_carer_involved: bool


class PlanAgreed(_Plan):
    """A plan was agreed with the child (and parent/carer)."""

    type = "plan_agreed"
    family = "planning"


class PlanRevised(_Plan):
    """An agreed plan was changed (after a review, a change, or a transition)."""

    type = "plan_revised"
    family = "planning"

    reason: PersonalText | None = None
