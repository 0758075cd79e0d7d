"""Quality assurance: a case audit answering the inspection key questions yes or no.

The key questions are carried as data (``tracker/domain/inspection``: one versioned file per
question set, seed 001 Annexe A), not code: an audit stores
the question ids it answered and the version of the question set it used.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import Event, Fact, Identifier, PersonalText, RiskLevel

Standard = Literal["assessment", "planning", "implementation", "review", "resettlement"]
Lens = Literal["desistance", "safety_wellbeing", "risk_of_harm"]


class AuditAnswer(Fact):
    """One key question (standard x lens) answered yes or no by the auditor."""

    standard: Standard
    lens: Lens
    answer: bool


class CaseAudited(Event):
    """A QA lead or inspector audited the case against the key questions.

    ``safety_and_wellbeing`` / ``risk_of_serious_harm`` are the auditor's own judgement of
    the case's risk (inspectors judge the safety and harm questions only for cases they
    rate medium or higher); left out, the ratings use the latest assessment before the
    audit. Both are optional, so audits recorded before they existed read unchanged.
    """

    type = "case_audited"
    family = "audit"

    auditor_id: Identifier
    question_set: Identifier = "hmip-youth-2021"
    answers: list[AuditAnswer] = Field(min_length=1, max_length=15)
    safety_and_wellbeing: RiskLevel | None = None
    risk_of_serious_harm: RiskLevel | None = None
    note: PersonalText | None = None
