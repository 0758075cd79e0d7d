"""The write side's rules for the KPI data (issue 13 §1), called by ``decide``.

Each keeps the recorded facts in an order the KPI reports can count without guessing: a
funnel's stages in order and with dates that do not go back, a wider-service link ended
only once started, a victim's restorative justice taken up only once offered.
"""

from __future__ import annotations

from datetime import date

from events.base import Event
from events.outcomes import (
    STAGE_RANK,
    AccommodationRecorded,
    DiversityRecorded,
    EteRecorded,
    HealthNeedRecorded,
    OffenceRecorded,
    OutOfCourtInterventionCompleted,
    RestorativeJusticeCompleted,
    RestorativeJusticeTakenUp,
    VictimIdentified,
    WiderServiceLinkEnded,
    WiderServiceLinkStarted,
)
from tracker.domain.case import CaseState
from tracker.domain.outcomes import VICTIM_STEP
from tracker.kernel.errors import RuleViolation

NEEDS_BEFORE: dict[str, tuple[str, str]] = {
    "contacted": ("identified", "was not identified on this case"),
    "consent": ("contacted", "has not been contacted yet"),
    "views": ("contacted", "has not been contacted yet"),
    "rj_offered": ("contacted", "has not been contacted yet"),
    "rj_taken_up": ("rj_offered", "has not been offered restorative justice"),
    "rj_completed": ("rj_taken_up", "has not taken up restorative justice"),
    "satisfaction": ("identified", "was not identified on this case"),
}
"""Victim step -> the step it needs first, and what to say when it is missing."""

_STAGE_WORDS = {1: "a need identified", 2: "an intervention planned or offered",
                3: "attending"}


def check_outcome(state: CaseState, ev: Event, day: date) -> None:
    """Raise ``RuleViolation`` if a KPI-data event does not fit the case (``day``: the
    London day it happened)."""
    if isinstance(ev, AccommodationRecorded | EteRecorded) and ev.point == "release":
        if not state.was_in_custody:
            raise RuleViolation("data.point", "'release' needs the child to have been in custody "
                                              "on this case")
    elif isinstance(ev, HealthNeedRecorded):
        _check_stage(state, ev, day)
    elif isinstance(ev, WiderServiceLinkStarted):
        if ev.service in state.outcomes.links:
            raise RuleViolation("data.service", "is already an open link on this case")
        if ev.start_date > day:
            raise RuleViolation("data.start_date", "is after the day it is recorded")
    elif isinstance(ev, WiderServiceLinkEnded):
        started = state.outcomes.links.get(ev.service)
        if started is None:
            raise RuleViolation("data.service", "is not an open link on this case")
        if ev.end_date < started:
            raise RuleViolation("data.end_date", f"is before the link started ({started})")
        if ev.end_date > day:
            raise RuleViolation("data.end_date", "is after the day it is recorded")
    elif isinstance(ev, OffenceRecorded):
        if ev.offence_id in state.outcomes.offences:
            raise RuleViolation("data.offence_id", "is already used on this case")
        if state.start_date is not None and ev.offence_date > state.start_date:
            raise RuleViolation("data.offence_date",
                                f"is after the case started ({state.start_date})")
    elif isinstance(ev, OutOfCourtInterventionCompleted):
        _check_ooc(state)
    elif isinstance(ev, DiversityRecorded):
        if ev.ethnicity is None and ev.sex is None:
            raise RuleViolation("data.ethnicity", "give ethnicity or sex (or 'not_stated')")
    elif type(ev) in VICTIM_STEP:
        _check_victim(state, ev)


def _check_stage(state: CaseState, ev: HealthNeedRecorded, day: date) -> None:
    if ev.stage_date > day:
        raise RuleViolation("data.stage_date", "is after the day it is recorded")
    rank = STAGE_RANK[ev.stage]
    current = state.outcomes.health.get(ev.domain)
    reached = current.rank if current else 0
    if rank > reached + 1:
        raise RuleViolation("data.stage", f"{ev.stage} needs {_STAGE_WORDS[rank - 1]} "
                                          f"({ev.domain}) recorded first")
    if current is not None and rank < current.rank:
        raise RuleViolation("data.stage", f"{ev.domain} is already at "
                                          f"{_STAGE_WORDS[current.rank]}")
    if current is not None and ev.stage_date < current.day:
        raise RuleViolation("data.stage_date",
                            f"is before the previous stage's date ({current.day})")


def _check_ooc(state: CaseState) -> None:
    if state.opened is None or state.opened.route != "out_of_court":
        raise RuleViolation("event_type", "only an out-of-court case has an out-of-court "
                                          "intervention to complete")
    if state.outcomes.ooc_completed:
        raise RuleViolation("event_type", "the intervention was already recorded as completed")
    open_conditions = sorted(c for c, status in state.conditions.items() if status != "completed")
    if open_conditions:
        raise RuleViolation("event_type", "conditions not completed: "
                                          + ", ".join(open_conditions))


def _check_victim(state: CaseState, ev: Event) -> None:
    victim_id: str = getattr(ev, "victim_id")  # noqa: B009 - every victim event has one
    steps = state.outcomes.victims.get(victim_id, frozenset())
    if isinstance(ev, VictimIdentified):
        if "identified" in steps:
            raise RuleViolation("data.victim_id", "is already identified on this case")
        return
    step = VICTIM_STEP[type(ev)]
    needed, why = NEEDS_BEFORE[step]
    if needed not in steps:
        raise RuleViolation("data.victim_id", why)
    if isinstance(ev, RestorativeJusticeTakenUp | RestorativeJusticeCompleted) and step in steps:
        raise RuleViolation("data.victim_id", "is already recorded at this step")
