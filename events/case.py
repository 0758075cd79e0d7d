"""Case lifecycle: a period of supervision of one child under one disposal opens and closes."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import StringConstraints, model_validator

from events.base import (
    BASIC,
    PERSONAL,
    BoundedDate,
    Event,
    Identifier,
    InterventionLevel,
    PersonalDate,
    PersonalText,
    Setting,
    StoredOnlyIdentifier,
)

CourtDisposal = Literal["referral_order", "yro", "yro_iss", "dto", "remand"]
OutOfCourtDisposal = Literal["community_resolution", "youth_caution", "youth_conditional_caution"]
DisposalType = Literal[
    "referral_order", "yro", "yro_iss", "dto", "remand",
    "community_resolution", "youth_caution", "youth_conditional_caution",
]
OffenceCategory = Literal[
    "violence_against_the_person", "sexual_offences", "robbery", "burglary",
    "theft_and_handling", "vehicle_theft", "criminal_damage", "arson", "drugs",
    "public_order", "racially_or_religiously_aggravated", "domestic_abuse",
    "motoring", "fraud_and_forgery", "breach_of_statutory_order", "other",
]
"""The main offence's category, where a service records it (the offence groups of the YJB's
Youth Justice Statistics, with arson and domestic abuse that services single out for
countersignature: seed 004 "all cases where there is a specific offence category")."""
ChildLabel = Annotated[str, StringConstraints(min_length=1, max_length=40), PERSONAL, BASIC]
"""The service-controlled label the child is shown by (e.g. "Child K7", or the initials a
service uses): personal, so sealed with the child's key like the date of birth and erased
with it. Identity (BASIC): kept when the records are reduced to basic information, so a
reduced case can still be recognised. Forty characters: a label, never a narrative."""

COURT_DISPOSALS = frozenset({"referral_order", "yro", "yro_iss", "dto", "remand"})
CUSTODIAL_DISPOSALS = frozenset({"dto", "remand"})


class CaseOpened(Event):
    """Supervision of a child under a disposal began. Version 2 added ``setting`` and renamed
    ``level`` to ``intervention_level``; version-1 payloads are upcast when read."""

    type = "case_opened"
    version = 2
    family = "case"

    child_id: Identifier
    date_of_birth: PersonalDate | None = None
    disposal_type: DisposalType
    route: Literal["court", "out_of_court"]
    start_date: BoundedDate
    expected_end_date: BoundedDate | None = None
    setting: Setting = "community"
    intervention_level: InterventionLevel
    service: Identifier
    team: Identifier
    offence_category: OffenceCategory | None = None
    child_label: ChildLabel | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CaseOpened:
        expected_route = "court" if self.disposal_type in COURT_DISPOSALS else "out_of_court"
        if self.route != expected_route:
            raise ValueError(
                f"route must be '{expected_route}' for disposal_type '{self.disposal_type}'"
            )
        if self.expected_end_date is not None and self.expected_end_date < self.start_date:
            raise ValueError("expected_end_date must not be before start_date")
        if self.setting == "custody" and self.disposal_type not in CUSTODIAL_DISPOSALS:
            raise ValueError("setting 'custody' needs a custodial disposal (dto or remand)")
        if self.date_of_birth is not None and self.date_of_birth >= self.start_date:
            raise ValueError("date_of_birth must be before start_date")
        return self


class CaseClosed(Event):
    """Supervision under this disposal ended."""

    type = "case_closed"
    family = "case"

    reason: Literal[
        "order_completed", "order_revoked", "resentenced", "transferred_to_probation",
        "transferred_to_another_service", "other",
    ]
    note: PersonalText | None = None


class InterventionLevelChanged(Event):
    """The intervention level changed; contact requirements follow the level in force in
    each month from the day it changed.

    Version 2: the agreeing manager is no longer a typed field. A manager who records the
    change agrees it by recording it; a practitioner's change awaits a manager's
    ``intervention_level_change_agreed`` when the policy says so ([manager_decisions]).
    A version-1 payload's ``manager_id`` is upcast to ``v1_manager_id`` (stored only)."""

    type = "intervention_level_changed"
    version = 2
    family = "case"

    intervention_level: InterventionLevel
    reason: Literal["risk_increased", "risk_decreased", "engagement", "review_outcome",
                    "transition", "other"]
    note: PersonalText | None = None
    v1_manager_id: StoredOnlyIdentifier = None


class InterventionLevelChangeAgreed(Event):
    """A manager agreed a change of intervention level a practitioner recorded (domain.md
    §12: agreeing a change of contact level is the manager's act)."""

    type = "intervention_level_change_agreed"
    family = "case"

    change_event_id: UUID
    note: PersonalText | None = None


class ChildLabelChanged(Event):
    """The service changed the label the child is shown by (a new label replaces the one
    the case was opened with, or gives one to a case opened without)."""

    type = "child_label_changed"
    family = "case"

    child_label: ChildLabel
