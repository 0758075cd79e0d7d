"""Request and response bodies of the JSON API (what the OpenAPI document shows)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from events.base import date_in_range, moment_in_range
from events.envelope import RecordedEvent
from events.erasure import ErasureReason
from tracker.domain.access import Role

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$"


AwareDatetime = Annotated[datetime, AfterValidator(moment_in_range)]
"""A moment with a time zone, in the years the log's dates may take (``events.base``): a
query or body moment out there is refused naming the parameter, not overflowed later."""

BoundedDay = Annotated[date, AfterValidator(date_in_range)]
"""A day in the years the log's dates may take (an ``as_at``, a period's end)."""


def _plain(value: str) -> str:
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


PlainText = Annotated[str, AfterValidator(_plain)]
"""Free text that is stored as it is (not sealed): no control characters."""


class Body(BaseModel):
    """Request bodies: unknown fields are an error, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    """One field that was wrong, and why."""

    field: str
    reason: str


class ErrorBody(BaseModel):
    """Every error answer: a code, a sentence, and where it applies the fields at fault."""

    error: str = Field(description="a stable code, e.g. invalid_input, forbidden, version_conflict")
    message: str
    fields: list[FieldError] | None = None
    expected_version: int | None = None
    actual_version: int | None = None
    reference: str | None = Field(
        default=None, description="the request's correlation id (quote it when reporting a fault)"
    )


class RecordBody(Body):
    """Record any catalogued event on a case (generic form: type and data side by side)."""

    event_type: str = Field(min_length=1, max_length=64, examples=["contact_missed"])
    data: dict[str, Any] = Field(description="the event's fields; see GET /api/event-types")
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when it happened (may be back-dated); default: now"
    )
    event_id: UUID | None = Field(
        default=None, description="set it to make a retry safe: the same id is recorded once"
    )
    expected_version: int | None = Field(
        default=None, ge=0, description="the case version you last saw; stale means 409"
    )


class RecordedOut(BaseModel):
    """One stored event with its envelope."""

    event_id: UUID
    case_id: str
    version: int
    position: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    recorded_role: str
    correlation_id: str
    hash: str
    data: dict[str, Any]

    @classmethod
    def of(cls, rec: RecordedEvent) -> RecordedOut:
        return cls(
            event_id=rec.event_id, case_id=rec.stream_id, version=rec.stream_version,
            position=rec.position, type=rec.type, schema_version=rec.schema_version,
            occurred_at=rec.occurred_at, recorded_at=rec.recorded_at,
            recorded_by=rec.recorded_by, recorded_role=rec.recorded_role,
            correlation_id=rec.correlation_id, hash=rec.hash,
            data=rec.event.model_dump(mode="json"),
        )


class RecordResult(BaseModel):
    """What a write recorded and the case's version after it."""

    case_id: str
    version: int
    events: list[RecordedOut]


class EventTypeOut(BaseModel):
    """A catalogued event type and the JSON schema of its data."""

    type: str
    family: str
    version: int
    description: str
    schema_: dict[str, Any] = Field(alias="schema")

    model_config = ConfigDict(populate_by_name=True)


class AcknowledgeBody(Body):
    """A manager's note on acknowledging (or resolving) an alert."""

    note: PlainText = Field(min_length=1, max_length=2000)


class ResolveBody(Body):
    """A manager resolving an alert whose condition still holds: why, and when to look again
    (the alert comes back on that date if the condition still holds)."""

    note: PlainText = Field(min_length=1, max_length=2000)
    review_on: BoundedDay


class EraseBody(Body):
    """Why a child's personal data is erased: a reason code, and optionally a reference."""

    reason: ErasureReason
    reference: Annotated[str | None, Field(pattern=CASE_ID_PATTERN)] = None


class ErasureOut(BaseModel):
    """What an erasure did (ids only)."""

    child_id: str
    key_destroyed: bool
    case_ids: list[str]
    recorded_on: list[str]


class UserOut(BaseModel):
    """A user account (never its password)."""

    user_id: str
    username: str
    display_name: str
    role: str
    teams: list[str]
    active: bool


class NewUserBody(Body):
    """Add a user."""

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=12, max_length=256)
    role: Role
    teams: list[str] = Field(default_factory=list, max_length=50)
    user_id: str | None = Field(default=None, pattern=CASE_ID_PATTERN)
    display_name: PlainText | None = Field(default=None, min_length=1, max_length=128)


class UpdateUserBody(Body):
    """Change a user; fields left out stay as they are."""

    role: Role | None = None
    teams: list[str] | None = Field(default=None, max_length=50)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=12, max_length=256)
    display_name: PlainText | None = Field(default=None, min_length=1, max_length=128)


class NewTokenBody(Body):
    """Issue an API token."""

    name: PlainText = Field(default="api", min_length=1, max_length=64)


class TokenOut(BaseModel):
    """An API token as listed; ``token`` is present only in the answer that created it."""

    token_id: str
    user_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    token: str | None = None


class AccessEntryOut(BaseModel):
    """One access-log row."""

    id: int
    at: datetime
    user_id: str
    role: str
    case_id: str
    action: str
    outcome: str
    correlation_id: str
    client_request_id: str | None = Field(
        default=None, description="the X-Request-ID the client sent, if it was well-formed"
    )


class AccessLogOut(BaseModel):
    """A page of the access log, newest first."""

    total: int
    entries: list[AccessEntryOut]


class MeOut(BaseModel):
    """Who the request is authenticated as."""

    user: UserOut
    via: Literal["token", "session"]


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give (always 401, 403, 422, 503)."""
    wanted = sorted({400, 401, 403, 422, 503, *codes})
    return {code: {"model": ErrorBody} for code in wanted}
