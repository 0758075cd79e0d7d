"""Panels: referral-order panels (Sentencing Act 2020 ss.83-103, Sch 3 and Sch 4), where the
youth offender panel meets the child, agrees the contract, reviews progress and may refer
back to court; and the joint decision-making panel that decides an out-of-court disposal
(seed 001 Annexe A 3.4.2a)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import Event, PersonalText
from events.case import OutOfCourtDisposal
from events.planning import Objective

AttendeeRole = Literal[
    "child", "parent_carer", "panel_member", "yot_officer", "victim", "victim_representative",
    "other",
]


class PanelHeld(Event):
    """A referral-order panel met: the initial panel, a progress meeting or the final panel."""

    type = "panel_held"
    family = "panels"

    kind: Literal["initial", "progress", "final"]
    attendee_roles: list[AttendeeRole] = Field(min_length=1, max_length=7)
    victim_views_presented: bool
    note: PersonalText | None = None


class ContractAgreed(Event):
    """The youth offender contract was agreed (its date is when this happened); the order's
    supervision runs from it."""

    type = "contract_agreed"
    family = "panels"

    objectives: list[Objective] = Field(min_length=1, max_length=30)


class ReferredBackToCourt(Event):
    """A panel referred the child back to court (Sentencing Act 2020 Sch 4)."""

    type = "referred_back_to_court"
    family = "panels"

    reason: Literal["non_compliance", "no_contract_agreed", "further_offence",
                    "interests_of_justice"]
    note: PersonalText | None = None


Agency = Literal["yot", "police", "social_care", "health", "education", "victim_services",
                 "other"]


class JointDecisionMade(Event):
    """A joint decision-making panel decided the out-of-court disposal: the outcome, the
    agencies present (YOT, police and social care as a minimum, Annexe A 3.4.2a) and
    whether a proportionate assessment informed it (it comes before the decision)."""

    type = "joint_decision_made"
    family = "panels"

    outcome: OutOfCourtDisposal
    agencies_present: list[Agency] = Field(min_length=1, max_length=7)
    proportionate_assessment: bool
    note: PersonalText | None = None
