"""Enforcement: warnings, breach and a manager's exceptional circumstances (YRO: Sentencing
Act 2020 Sch 7, formerly CJIA 2008 Sch 2; DTO supervision: Sch 12). Which disposals may
record them is the disposal profile's enforcement route (``tracker/domain/policy.toml``)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from events.base import Event, Identifier, PersonalReason, PersonalText, StoredOnlyIdentifier


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
    """A manager recorded exceptional circumstances, so a failure does not lead to breach.

    Version 2: the manager is whoever recorded it (the envelope's actor, a signed-in
    manager), not a typed field. A version-1 payload's ``manager_id`` is upcast to
    ``v1_manager_id``, which only stored events may carry."""

    type = "exceptional_circumstances_recorded"
    version = 2
    family = "enforcement"

    failure_event_id: UUID
    note: PersonalText
    v1_manager_id: StoredOnlyIdentifier = None


class BreachAuthorised(Event):
    """A manager authorised breach proceedings a practitioner started (domain.md §12), where
    the service's policy requires it ([manager_decisions] breach_needs_authorisation)."""

    type = "breach_authorised"
    family = "enforcement"

    breach_event_id: UUID
    note: PersonalText | None = None


class BreachDeclined(Event):
    """A manager declined breach proceedings a practitioner started, with the reason: the
    failures are not taken to court."""

    type = "breach_declined"
    family = "enforcement"

    breach_event_id: UUID
    reason: PersonalReason


Requirement = Literal[
    "curfew", "electronic_monitoring", "activity", "programme", "unpaid_work", "residence",
    "exclusion", "prohibited_activity", "education", "drug_treatment", "mental_health_treatment",
    "attendance_centre", "other",
]


class RequirementFailed(Event):
    """The child failed, without reasonable excuse, to comply with a requirement of the order
    other than an appointment (e.g. a curfew). Counts as an unacceptable failure."""

    type = "requirement_failed"
    family = "enforcement"

    requirement: Requirement
    note: PersonalText | None = None


ConditionKind = Literal[
    "reparation", "rehabilitation_programme", "education", "substance_misuse",
    "mental_health", "victim_awareness", "restriction", "financial", "other",
]


class ConditionSet(Event):
    """A condition of a youth conditional caution, to be completed by its deadline
    (Crime and Disorder Act 1998 s.66A-66B)."""

    type = "condition_set"
    family = "enforcement"

    condition_id: Identifier
    kind: ConditionKind
    deadline: date
    description: PersonalText | None = None


class ConditionCompleted(Event):
    """A condition of a youth conditional caution was completed."""

    type = "condition_completed"
    family = "enforcement"

    condition_id: Identifier


class ConditionFailed(Event):
    """A condition was not completed; with no reasonable excuse a decision on prosecution for
    the original offence follows (Crime and Disorder Act 1998 s.66E)."""

    type = "condition_failed"
    family = "enforcement"

    condition_id: Identifier
    reasonable_excuse: bool
    note: PersonalText | None = None


class ProsecutionDecided(Event):
    """The decision taken after a failed condition of a youth conditional caution."""

    type = "prosecution_decided"
    family = "enforcement"

    failure_event_id: UUID
    decision: Literal["prosecute", "no_further_action", "conditions_varied"]
    decided_by: Literal["cps", "police"]
    note: PersonalText | None = None
