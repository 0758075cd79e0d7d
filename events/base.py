"""The base of every event: a small frozen fact, versioned, with its personal fields marked.

An event class says *what* happened. *When* it happened, who recorded it and where it sits
in the log live in the envelope (``events.envelope``), so that the same fact can be
back-dated or corrected without the payload knowing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationInfo

PERSONAL = "personal"
"""Marker placed in ``Annotated`` metadata: the field holds personal data and is sealed
with the child's key before it is stored (see ``events.sealing``)."""

BASIC = "basic"
"""Second marker on a personal field: identity (the date of birth), kept when the child's
records are reduced to basic information (domain.md §10) and erased only with the rest.
Every other personal field is narrative (DETAIL): sealed under the child's detail key,
which reduction destroys."""

DETAIL = "detail"
"""The tier of every personal field not marked ``BASIC`` (notes, reasons, descriptions)."""

PersonalText = Annotated[str, StringConstraints(max_length=4000), PERSONAL]
"""Free text about the child (notes, reasons): sealed in storage, erased by crypto-shredding."""

EARLIEST_YEAR = 1900
LATEST_YEAR = 2199
"""The calendar years any date in the log may fall in: the store's format range, wide enough
for every child's date of birth and every horizon a policy may set, and narrow enough that
any moment in it converts to any time zone and to whole microseconds since 1970 (a year-1
or year-9999 moment overflows the read side's conversions). The case-relative bounds a
service sets (age, horizon) are in the policy and checked by ``decide``."""

_RANGE = f"must be between {EARLIEST_YEAR}-01-01 and {LATEST_YEAR}-12-31"

STORED = {"stored": True}
"""Validation context for reading the log: a stored event was accepted under the bounds in
force when it was recorded, so it is read as it is (the projector quarantines what it cannot
fold) and a correction of it can still be decided."""


def _stored(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and bool(context.get("stored"))


def date_in_range(value: date) -> date:
    """A new date must lie inside the log's years."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(_RANGE)
    return value


def _check_date(value: date, info: ValidationInfo) -> date:
    return value if _stored(info) else date_in_range(value)


def _check_moment(value: datetime, info: ValidationInfo) -> datetime:
    return value if _stored(info) else moment_in_range(value)


def moment_in_range(value: datetime) -> datetime:
    """A new moment must have a time zone and lie inside the log's years."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a time zone (e.g. 2026-03-01T10:00:00+00:00)")
    # Checked on the wall-clock year: within these years, any offset (at most a day) keeps
    # the UTC moment inside what datetime can represent.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(_RANGE)
    return value


BoundedDate = Annotated[date, AfterValidator(_check_date)]
"""A calendar date inside the log's years."""

BoundedMoment = Annotated[datetime, AfterValidator(_check_moment)]
"""A moment with a time zone, inside the log's years (a naive time is ambiguous, and the
read side cannot place it)."""

PersonalDate = Annotated[date, AfterValidator(_check_date), PERSONAL, BASIC]
"""A personal date (date of birth): identity, so BASIC; sealed in storage, erased by
crypto-shredding, kept when the records are reduced to basic information."""

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$", strip_whitespace=True)
]
"""A pseudonymous id for a child, case, practitioner, team or service: never a name."""

RiskLevel = Literal["low", "medium", "high", "very_high"]
Domain = Literal["desistance", "safety_wellbeing", "risk_of_harm"]
"""The three lenses: the child's desistance, the child's safety, other people's safety."""
Agency = Literal["yot", "secure_establishment"]
AllocationRole = Literal["case_manager", "secure_keyworker"]
Setting = Literal["community", "custody"]
InterventionLevel = Literal["standard", "enhanced", "intensive"]
ContactKind = Literal["office", "home_visit", "phone", "video", "intervention_session"]
Barrier = Literal[
    "travel", "timing", "childcare", "caring_responsibilities", "education_or_work",
    "health", "motivation", "family", "accommodation", "substance_use", "other",
]
TransitionKind = Literal[
    "community_to_custody", "custody_to_community", "to_probation", "between_services"
]


class Event(BaseModel):
    """A past-tense fact about one case. Subclasses set ``type`` and ``version``."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    type: ClassVar[str]
    version: ClassVar[int] = 1
    family: ClassVar[str]


class Fact(BaseModel):
    """A nested value inside an event (an objective, an answer): frozen and strict too."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


PersonalReason = Annotated[str, StringConstraints(min_length=1, max_length=4000), PERSONAL]
"""A required free-text reason (for a correction): personal, so sealed like any note."""


def _stored_only(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None and not _stored(info):
        raise ValueError("is taken from the signed-in manager who records it; it cannot be typed")
    return value


StoredOnlyIdentifier = Annotated[Identifier | None, AfterValidator(_stored_only)]
"""An id that only a stored event of an older version carries (e.g. the manager a v1
exceptional-circumstances entry named in a field): new input may not set it, because who
decided now comes from the envelope's actor, the signed-in principal."""
