"""Countersignature: a manager signs off an assessment or a plan, or returns it for revision.

Services set "the levels of countersignature they require" (seed 004, Ways to improve
quality); which documents need it is the policy's (``tracker.domain.countersignature``).
Each event names the document it acts on by the event id of the assessment or plan. Only a
manager of the case's team records them (``tracker.domain.access.MANAGER_ACTS``); who signed
is the envelope's recorder, never a field.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from events.base import Event, PersonalText

ReturnReason = Literal[
    "analysis_insufficient", "risk_not_addressed", "safety_not_addressed",
    "plan_not_congruent_with_assessment", "child_or_family_not_involved",
    "information_missing_or_out_of_date", "other",
]
"""Why a document goes back: the gaps seed 004 names (comprehensive and up to date
assessments, congruence between assessment and plan) and the three lenses."""


class DocumentCountersigned(Event):
    """A manager countersigned an assessment or plan of the case."""

    type = "document_countersigned"
    family = "countersignature"

    document_event_id: UUID
    note: PersonalText | None = None


class DocumentReturned(Event):
    """A manager returned an assessment or plan for revision: a new one is due from the
    practitioner (the policy's ``countersignature.resubmit_working_days``)."""

    type = "document_returned"
    family = "countersignature"

    document_event_id: UUID
    reason: ReturnReason
    note: PersonalText | None = None
