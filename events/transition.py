"""Transition: custody and community, to probation, between services; continuity's events."""

from __future__ import annotations

from events.base import BoundedDate, Event, Identifier, PersonalText, TransitionKind


class TransitionPlanned(Event):
    """A transition was planned, with what is in place so far."""

    type = "transition_planned"
    family = "transition"

    transition_id: Identifier
    kind: TransitionKind
    planned_date: BoundedDate
    receiving_case_manager: Identifier | None = None
    receiving_service: Identifier | None = None
    accommodation_arranged: bool = False
    resettlement_plan_agreed: bool = False
    information_shared: bool = False
    handover_meeting_held: bool = False
    note: PersonalText | None = None


class TransitionCompleted(Event):
    """The child moved: into custody, out of it, to probation, or to another service."""

    type = "transition_completed"
    family = "transition"

    transition_id: Identifier | None = None
    kind: TransitionKind
    receiving_case_manager: Identifier | None = None
    receiving_service: Identifier | None = None
    information_shared: bool
    handover_meeting_held: bool
    accommodation_arranged: bool
    note: PersonalText | None = None
