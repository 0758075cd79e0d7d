"""Quality assurance: a case audit answering the prompts of the inspection key questions.

The key questions and their prompts are carried as data (``tracker/domain/inspection``: one
versioned file per question set, seed 001 Annexe A), not code: an audit stores the prompts it
answered (yes / no / not applicable, each with an optional sealed comment), the version of the
question set it used, and the key-question answers **rolled up** from the prompts by the
policy's rule (``[qa] key_question_yes_pct``) when it was recorded — or overridden by the
auditor, with a reason. Storing the rolled-up answers keeps an audit reading the same after a
service changes its rule.

Schema history: v1 (before prompts) carried the key-question answers only and a typed
``auditor_id``; v2 takes the auditor from the signed-in recorder (the envelope's actor) and
keeps a v1 audit's typed id as ``legacy_auditor_id``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from events.base import (
    BoundedDate,
    Event,
    Fact,
    Identifier,
    PersonalReason,
    PersonalText,
    RiskLevel,
)

Standard = Literal["assessment", "planning", "implementation", "review", "resettlement"]
Lens = Literal["desistance", "safety_wellbeing", "risk_of_harm"]
PromptValue = Literal["yes", "no", "not_applicable"]
AuditType = Literal["full", "thematic"]
KeyQuestionId = Annotated[str, StringConstraints(pattern=r"^[0-9]\.[0-9]{1,2}\.[0-9]{1,2}$")]


class AuditAnswer(Fact):
    """One key question (standard x lens) answered yes or no (rolled up or overridden)."""

    standard: Standard
    lens: Lens
    answer: bool


class PromptAnswer(Fact):
    """One prompt of a key question (e.g. 2.1.1 a), answered by the auditor."""

    key_question: KeyQuestionId
    prompt: str = Field(pattern=r"^[a-z]$")
    answer: PromptValue
    comment: PersonalText | None = None


class KeyQuestionOverride(Fact):
    """The auditor's own answer to a key question, in place of the roll-up, and why."""

    key_question: KeyQuestionId
    answer: bool
    reason: PersonalReason


class AuditAction(Fact):
    """An action the audit found: who owns it (a staff id) and when it is due."""

    action_id: Identifier
    description: PersonalReason
    owner_id: Identifier
    due_date: BoundedDate


class CaseAudited(Event):
    """A QA auditor audited the case against the prompts of the key questions.

    ``answers`` is filled by ``decide`` from ``prompts`` and ``overrides`` (a command does
    not send it). ``safety_and_wellbeing`` / ``risk_of_serious_harm`` are the auditor's own
    judgement of the case's risk (inspectors judge the safety and harm questions only for
    cases they rate medium or higher); left out, the ratings use the latest assessment
    before the audit.
    """

    type = "case_audited"
    version = 2
    family = "audit"

    question_set: Identifier = "hmip-youth-2021"
    audit_type: AuditType = "full"
    theme: Identifier | None = None
    prompts: list[PromptAnswer] = Field(default_factory=list, max_length=200)
    overrides: list[KeyQuestionOverride] = Field(default_factory=list, max_length=15)
    answers: list[AuditAnswer] = Field(default_factory=list, max_length=15)
    actions: list[AuditAction] = Field(default_factory=list, max_length=30)
    safety_and_wellbeing: RiskLevel | None = None
    risk_of_serious_harm: RiskLevel | None = None
    note: PersonalText | None = None
    legacy_auditor_id: Identifier | None = None


class AuditActionCompleted(Event):
    """An action an audit found on this case was completed (by its owner or their team)."""

    type = "audit_action_completed"
    family = "audit"

    action_id: Identifier
    note: PersonalText | None = None
