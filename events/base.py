"""The base of every event: a small frozen fact, versioned, with its personal fields marked.

An event class says *what* happened. *When* it happened, who recorded it and where it sits
in the log live in the envelope (``events.envelope``), so that the same fact can be
back-dated or corrected without the payload knowing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

PERSONAL = "personal"
"""Marker placed in ``Annotated`` metadata: the field holds personal data and is sealed
with the child's key before it is stored (see ``events.sealing``)."""

PersonalText = Annotated[str, StringConstraints(max_length=4000), PERSONAL]
"""Free text about the child (notes, reasons): sealed in storage, erased by crypto-shredding."""

PersonalDate = Annotated[date, PERSONAL]
"""A personal date (date of birth): sealed in storage, erased by crypto-shredding."""

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
