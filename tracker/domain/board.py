"""The management board's meetings (KPI 7): service level, not about any child.

A board meeting is recorded by a manager or an administrator with the partner agencies
invited and those who attended; KPI 7 reads partners' attendance from them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from events.base import BoundedDate, Identifier

PartnerAgency = Literal[
    "yjs", "police", "probation", "childrens_social_care", "education", "health", "housing",
    "pcc", "courts", "voluntary_sector", "other",
]
"""The agencies a management board draws on: the statutory partners (police, probation,
children's social care, education, health) and others the service invites."""


class BoardMeetingHeld(BaseModel):
    """A management board meeting was held: when, who was invited, who attended."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    service: Identifier
    held_on: BoundedDate
    agencies_invited: list[PartnerAgency] = Field(min_length=1, max_length=11)
    agencies_attending: list[PartnerAgency] = Field(max_length=11)

    @field_validator("agencies_invited", "agencies_attending")
    @classmethod
    def _once_each(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("names an agency twice")
        return values

    @field_validator("agencies_attending")
    @classmethod
    def _invited(cls, values: list[str], info: ValidationInfo) -> list[str]:
        stray = sorted(set(values) - set(info.data.get("agencies_invited") or values))
        if stray:
            raise ValueError(f"includes agencies not invited: {', '.join(stray)}")
        return values


def check_held_on(meeting: BoardMeetingHeld, today: date) -> str | None:
    """Why the meeting's date cannot be recorded (it is in the future), or None."""
    return "is in the future" if meeting.held_on > today else None
