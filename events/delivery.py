"""Delivery: the I of ASPIRE, contacts scheduled, attended or missed, and follow-up."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from events.base import Barrier, BoundedMoment, ContactKind, Event, Identifier, PersonalText


class ContactScheduled(Event):
    """An appointment was made with the child."""

    type = "contact_scheduled"
    family = "delivery"

    contact_id: Identifier
    kind: ContactKind
    scheduled_for: BoundedMoment


class ContactAttended(Event):
    """A contact took place, with how the child took part and any barriers seen."""

    type = "contact_attended"
    family = "delivery"

    contact_id: Identifier | None = None
    kind: ContactKind
    participation: int = Field(ge=1, le=5, description="1 disengaged … 5 fully engaged")
    barriers_noted: list[Barrier] = Field(default_factory=list, max_length=11)
    barriers_addressed: list[Barrier] = Field(default_factory=list, max_length=11)
    parent_carer_present: bool = False
    note: PersonalText | None = None


class ContactMissed(Event):
    """An appointment did not happen; acceptable absences do not count towards enforcement."""

    type = "contact_missed"
    family = "delivery"

    contact_id: Identifier | None = None
    kind: ContactKind
    acceptable: bool
    reason: Literal[
        "illness_with_evidence", "agreed_rearrangement", "education_or_work", "family_emergency",
        "no_reason_given", "refused", "forgot", "other",
    ]
    note: PersonalText | None = None


class MissedContactFollowedUp(Event):
    """The practitioner followed up a missed appointment (call, visit, letter)."""

    type = "missed_contact_followed_up"
    family = "delivery"

    missed_event_id: UUID
    method: Literal["phone", "home_visit", "letter", "text_message", "email", "other"]
    child_reached: bool
    note: PersonalText | None = None
