"""Referral-order panels (Sentencing Act 2020 ss.83-103, Sch 3 and Sch 4): the youth offender
panel meets the child, agrees the contract, reviews progress and may refer back to court."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import Event, PersonalText
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
