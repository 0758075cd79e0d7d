"""Assessment: the A of ASPIRE, with ratings in the three domains and quality markers."""

from __future__ import annotations

from typing import Literal

from events.base import Domain, Event, PersonalText, RiskLevel


class AssessmentCompleted(Event):
    """An assessment was completed (initial, review or other), with ratings in three domains."""

    type = "assessment_completed"
    family = "assessment"

    kind: Literal["initial", "review", "pre_sentence", "out_of_court", "pre_release", "other"]
    likelihood_of_reoffending: RiskLevel
    safety_and_wellbeing: RiskLevel
    risk_of_serious_harm: RiskLevel
    strengths_recorded: bool
    child_involved: bool
    parent_carer_involved: bool
    victim_considered: bool
    other_agencies_information_used: bool
    note: PersonalText | None = None


class SignificantChangeNoted(Event):
    """Something changed that calls for a review (new offence, placement, risk, custody)."""

    type = "significant_change_noted"
    family = "assessment"

    domains: list[Domain]
    note: PersonalText | None = None
