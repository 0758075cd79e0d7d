"""What ``decide`` must know of a case's KPI data (issue 13 §1): the health funnels, the
open links to wider services, the offences and the victims' steps. Kept apart from
``tracker.domain.case`` so the case state only holds one field for all of it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from events.base import Event
from events.outcomes import (
    STAGE_RANK,
    HealthNeedRecorded,
    OffenceRecorded,
    OutOfCourtInterventionCompleted,
    RestorativeJusticeCompleted,
    RestorativeJusticeOffered,
    RestorativeJusticeTakenUp,
    VictimConsentRecorded,
    VictimContacted,
    VictimIdentified,
    VictimSatisfactionRecorded,
    VictimViewsTaken,
    WiderServiceLinkEnded,
    WiderServiceLinkStarted,
)

VICTIM_STEP: dict[type[Event], str] = {
    VictimIdentified: "identified",
    VictimContacted: "contacted",
    VictimConsentRecorded: "consent",
    VictimViewsTaken: "views",
    RestorativeJusticeOffered: "rj_offered",
    RestorativeJusticeTakenUp: "rj_taken_up",
    RestorativeJusticeCompleted: "rj_completed",
    VictimSatisfactionRecorded: "satisfaction",
}
"""Each victim event's step, as the state remembers it."""


@dataclass(frozen=True)
class Stage:
    """The furthest step of one health funnel reached so far, and its date."""

    rank: int
    day: date


@dataclass(frozen=True)
class OutcomeState:
    """The KPI data's part of the case state."""

    health: dict[str, Stage] = field(default_factory=dict)  # domain -> furthest stage
    links: dict[str, date] = field(default_factory=dict)  # open wider-service link -> start
    offences: frozenset[str] = frozenset()
    victims: dict[str, frozenset[str]] = field(default_factory=dict)  # id -> steps
    ooc_completed: bool = False


def evolve_outcomes(state: OutcomeState, ev: Event) -> OutcomeState:
    """The outcome state after one effective event (others leave it as it was)."""
    if isinstance(ev, HealthNeedRecorded):
        rank = STAGE_RANK[ev.stage]
        current = state.health.get(ev.domain)
        if current is None or rank >= current.rank:
            return replace(state, health={**state.health, ev.domain: Stage(rank, ev.stage_date)})
        return state
    if isinstance(ev, WiderServiceLinkStarted):
        return replace(state, links={**state.links, ev.service: ev.start_date})
    if isinstance(ev, WiderServiceLinkEnded):
        return replace(state, links={k: v for k, v in state.links.items() if k != ev.service})
    if isinstance(ev, OffenceRecorded):
        return replace(state, offences=state.offences | {ev.offence_id})
    if isinstance(ev, OutOfCourtInterventionCompleted):
        return replace(state, ooc_completed=True)
    step = VICTIM_STEP.get(type(ev))
    if step is not None:
        victim_id: str = getattr(ev, "victim_id")  # noqa: B009 - every victim event has one
        steps = state.victims.get(victim_id, frozenset()) | {step}
        return replace(state, victims={**state.victims, victim_id: steps})
    return state
