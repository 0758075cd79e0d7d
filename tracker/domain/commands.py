"""Commands: what a person asks the tracker to do. Validated at the edge, decided purely."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator

from events.base import Identifier


class Command(BaseModel):
    """Base of every command: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordEvent(Command):
    """Record that something happened on a case (opening it is recording ``case_opened``).

    ``event_id`` makes a retry safe: sending the same command twice records it once.
    """

    case_id: Identifier
    event_type: str
    data: dict[str, Any]
    occurred_at: datetime
    event_id: UUID = Field(default_factory=uuid4)
    expected_version: int | None = Field(default=None, ge=0)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must include a time zone (e.g. 2026-03-01T10:00:00+00:00)")
        return value
