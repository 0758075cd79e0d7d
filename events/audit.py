"""Quality assurance: a case audit answering the inspection key questions yes or no.

The key questions are carried as data (``projections/policy``), not code: an audit stores
the question ids it answered and the version of the question set it used.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import Event, Fact, Identifier, PersonalText

Standard = Literal["assessment", "planning", "implementation", "review", "resettlement"]
Lens = Literal["desistance", "safety_wellbeing", "risk_of_harm"]


class AuditAnswer(Fact):
    """One key question (standard x lens) answered yes or no by the auditor."""

    standard: Standard
    lens: Lens
    answer: bool


class CaseAudited(Event):
    """A QA lead or inspector audited the case against the key questions."""

    type = "case_audited"
    family = "audit"

    auditor_id: Identifier
    question_set: Identifier = "hmip-youth-2021"
    answers: list[AuditAnswer] = Field(min_length=1, max_length=15)
    note: PersonalText | None = None
