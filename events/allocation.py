"""Allocation: who holds the case, in which agency and role, and when that ended."""

from __future__ import annotations

from typing import Literal

from events.base import Agency, AllocationRole, Event, Identifier, PersonalText


class CaseManagerAllocated(Event):
    """A practitioner took on the case (a YOT case manager or a secure-estate keyworker)."""

    type = "case_manager_allocated"
    family = "allocation"

    practitioner_id: Identifier
    agency: Agency
    role: AllocationRole
    team: Identifier | None = None
    manager_id: Identifier | None = None


class CaseManagerAllocationEnded(Event):
    """A practitioner stopped holding the case in that role."""

    type = "case_manager_allocation_ended"
    family = "allocation"

    practitioner_id: Identifier
    role: AllocationRole
    reason: Literal["reallocated", "left_service", "transition", "case_closed", "other"]
    note: PersonalText | None = None
