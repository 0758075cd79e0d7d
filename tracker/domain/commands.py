"""Commands: what a person asks the tracker to do. Validated at the edge, decided purely."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from events.base import Identifier, moment_in_range
from events.catalogue import problems_from
from tracker.domain.case import CaseState
from tracker.kernel.errors import InvalidInput


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
        return moment_in_range(value)


def parse_command(fields: Mapping[str, Any], *, context: str = "") -> RecordEvent:
    """A ``RecordEvent`` from what an edge received (API body, web form, CLI, import line).

    Every bad field is reported as ``InvalidInput`` (with ``context``, e.g. "line 12").
    """
    try:
        return RecordEvent.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc), context=context) from None


def plan_event_type(state: CaseState) -> str:
    """What recording a plan is on this case: the first is agreed, later ones revise it."""
    return "plan_revised" if state.has_plan else "plan_agreed"


def as_plan(state: CaseState, command: RecordEvent) -> RecordEvent:
    """A "record the plan" command made the plan event this case needs (a revision keeps
    its ``reason``; a first agreement has none)."""
    event_type = plan_event_type(state)
    data = command.data
    if event_type == "plan_agreed":
        data = {k: v for k, v in data.items() if k != "reason"}
    return command.model_copy(update={"event_type": event_type, "data": data})
