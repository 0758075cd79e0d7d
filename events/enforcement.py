"""Enforcement: warnings, breach and a manager's exceptional circumstances (YRO: Sentencing
Act 2020 Sch 7, formerly CJIA 2008 Sch 2; DTO supervision: Sch 12). Which disposals may
record them is the disposal profile's enforcement route (``tracker/domain/policy.toml``)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from events.base import Event, Identifier, PersonalText


class WarningIssued(Event):
    """A formal warning for an unacceptable failure to comply; opens a warned period of 12
    calendar months beginning with the day it was given (Sentencing Act 2020 Sch 7 para 4)."""

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
