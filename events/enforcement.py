"""Enforcement: warnings, breach and a manager's exceptional circumstances (CJIA 2008 Sch. 2)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from events.base import Event, Identifier, PersonalText


class WarningIssued(Event):
    """A formal warning for an unacceptable failure to comply; opens a 12-month warned period."""

    type = "warning_issued"
    family = "enforcement"

    failure_event_id: UUID
    note: PersonalText | None = None


class BreachInitiated(Event):
    """Breach proceedings (return to court) were started."""

    type = "breach_initiated"
    family = "enforcement"

    failure_event_ids: list[UUID] = Field(min_length=1, max_length=20)
    serious_failure: bool = False
    note: PersonalText | None = None


class ExceptionalCircumstancesRecorded(Event):
    """A manager recorded exceptional circumstances, so a failure does not lead to breach."""

    type = "exceptional_circumstances_recorded"
    family = "enforcement"

    failure_event_id: UUID
    manager_id: Identifier
    note: PersonalText
