"""The decision state of one case, folded from its events: what ``decide`` checks against.

This is the write side's own small model (what is needed to enforce the rules), not a
read model: the views people look at live in ``projections``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from uuid import UUID

from events.allocation import CaseManagerAllocated, CaseManagerAllocationEnded
from events.base import Event
from events.case import CaseClosed, CaseOpened, InterventionLevelChanged
from events.correction import EventRetracted, EventSuperseded
from events.delivery import ContactAttended, ContactMissed, ContactScheduled
from events.enforcement import (
    ConditionCompleted,
    ConditionFailed,
    ConditionSet,
    ExceptionalCircumstancesRecorded,
    ProsecutionDecided,
    RequirementFailed,
    WarningIssued,
)
from events.envelope import RecordedEvent
from events.panels import ContractAgreed, JointDecisionMade, PanelHeld, ReferredBackToCourt
from events.planning import PlanAgreed
from events.transition import TransitionCompleted, TransitionPlanned
from tracker.domain.corrections import apply_corrections
from tracker.domain.outcomes import OutcomeState, evolve_outcomes
from tracker.domain.teams import case_team, current_case_manager
from tracker.kernel.clock import local_date


@dataclass(frozen=True)
class Failure:
    """An unacceptable failure to comply, as enforcement sees it."""

    event_id: UUID
    day: date


@dataclass(frozen=True)
class Holding:
    """A current allocation: who holds the case in which role, for which team, since when."""

    practitioner: str
    role: str
    team: str | None
    manager: str | None
    since: tuple[datetime, int]  # (occurred at, stream version): the read models' order


@dataclass(frozen=True)
class CaseState:
    """Everything ``decide`` needs to know about a case, and nothing more."""

    case_id: str
    version: int = 0
    opened: CaseOpened | None = None
    closed: bool = False
    setting: str = "community"
    event_types: dict[UUID, str] = field(default_factory=dict)
    corrected: frozenset[UUID] = frozenset()
    allocations: tuple[Holding, ...] = ()  # current ones, in the order they started
    scheduled: frozenset[str] = frozenset()
    resolved: frozenset[str] = frozenset()
    missed: frozenset[UUID] = frozenset()
    failures: tuple[Failure, ...] = ()
    warned: frozenset[UUID] = frozenset()
    warning_days: tuple[date, ...] = ()
    excused: frozenset[UUID] = frozenset()
    has_plan: bool = False
    transitions: frozenset[str] = frozenset()
    level: str | None = None
    conditions: dict[str, str] = field(default_factory=dict)  # id -> set|completed|failed
    condition_failures: frozenset[UUID] = frozenset()  # failed without reasonable excuse
    decided: frozenset[UUID] = frozenset()  # condition failures with a prosecution decision
    panels: tuple[str, ...] = ()  # kinds of the panels held, in order
    contract: bool = False
    referred_back: bool = False
    decided_out_of_court: bool = False
    outcomes: OutcomeState = field(default_factory=OutcomeState)  # the KPI data (issue 13)
    was_in_custody: bool = False  # at any time on this case: "on release" needs it

    @property
    def exists(self) -> bool:
        return self.opened is not None

    @property
    def child_id(self) -> str | None:
        return self.opened.child_id if self.opened else None

    @property
    def start_date(self) -> date | None:
        return self.opened.start_date if self.opened else None

    @property
    def case_manager(self) -> Holding | None:
        """The case manager holding the case now (``tracker.domain.teams``)."""
        return current_case_manager(self.allocations)

    @property
    def team(self) -> str | None:
        """The case's team (``tracker.domain.teams``), or None if it was never opened."""
        return case_team(self.opened.team, self.case_manager) if self.opened else None

    def holds(self, practitioner: str, role: str) -> bool:
        """Whether ``practitioner`` holds the case in ``role`` now."""
        return any(a.practitioner == practitioner and a.role == role for a in self.allocations)


def evolve(state: CaseState, rec: RecordedEvent) -> CaseState:
    """The state after one (effective) event. Pure: no IO, no clock."""
    ev = rec.event
    s = replace(state, event_types={**state.event_types, rec.event_id: ev.type})
    s = _kpi_data(s, ev)
    if isinstance(ev, CaseOpened):
        return replace(s, opened=ev, setting=ev.setting, level=ev.intervention_level)
    if isinstance(ev, InterventionLevelChanged):
        return replace(s, level=ev.intervention_level)
    if isinstance(ev, RequirementFailed):
        failure = Failure(rec.event_id, local_date(rec.occurred_at))
        return replace(s, failures=(*s.failures, failure))
    if isinstance(ev, ConditionSet):
        return replace(s, conditions={**s.conditions, ev.condition_id: "set"})
    if isinstance(ev, ConditionCompleted | ConditionFailed):
        done = "completed" if isinstance(ev, ConditionCompleted) else "failed"
        s = replace(s, conditions={**s.conditions, ev.condition_id: done})
        if isinstance(ev, ConditionFailed) and not ev.reasonable_excuse:
            s = replace(s, condition_failures=s.condition_failures | {rec.event_id})
        return s
    if isinstance(ev, ProsecutionDecided):
        return replace(s, decided=s.decided | {ev.failure_event_id})
    if isinstance(ev, PanelHeld):
        return replace(s, panels=(*s.panels, ev.kind))
    if isinstance(ev, ContractAgreed):
        return replace(s, contract=True)
    if isinstance(ev, ReferredBackToCourt):
        return replace(s, referred_back=True)
    if isinstance(ev, JointDecisionMade):
        return replace(s, decided_out_of_court=True)
    if isinstance(ev, CaseClosed):
        return replace(s, closed=True)
    if isinstance(ev, CaseManagerAllocated):
        if s.holds(ev.practitioner_id, ev.role):
            return s
        held = Holding(ev.practitioner_id, ev.role, ev.team, ev.manager_id,
                       (rec.occurred_at, rec.stream_version))
        return replace(s, allocations=tuple(sorted((*s.allocations, held), key=_since)))
    if isinstance(ev, CaseManagerAllocationEnded):
        return replace(s, allocations=tuple(
            a for a in s.allocations
            if (a.practitioner, a.role) != (ev.practitioner_id, ev.role)
        ))
    if isinstance(ev, ContactScheduled):
        return replace(s, scheduled=s.scheduled | {ev.contact_id})
    if isinstance(ev, ContactAttended | ContactMissed):
        resolved = s.resolved | {ev.contact_id} if ev.contact_id else s.resolved
        s = replace(s, resolved=resolved)
        if isinstance(ev, ContactMissed):
            s = replace(s, missed=s.missed | {rec.event_id})
            if not ev.acceptable:
                failure = Failure(rec.event_id, local_date(rec.occurred_at))
                s = replace(s, failures=(*s.failures, failure))
        return s
    if isinstance(ev, WarningIssued):
        return replace(
            s,
            warned=s.warned | {ev.failure_event_id},
            warning_days=(*s.warning_days, local_date(rec.occurred_at)),
        )
    if isinstance(ev, ExceptionalCircumstancesRecorded):
        return replace(s, excused=s.excused | {ev.failure_event_id})
    if isinstance(ev, PlanAgreed):
        return replace(s, has_plan=True)
    if isinstance(ev, TransitionPlanned):
        return replace(s, transitions=s.transitions | {ev.transition_id})
    if isinstance(ev, TransitionCompleted):
        if ev.kind == "community_to_custody":
            return replace(s, setting="custody")
        if ev.kind == "custody_to_community":
            return replace(s, setting="community")
        return s
    if isinstance(ev, EventSuperseded | EventRetracted):
        return replace(s, corrected=s.corrected | {ev.target_event_id})
    return s


def _kpi_data(s: CaseState, ev: Event) -> CaseState:
    """The KPI data's part of the state (``tracker.domain.outcomes``), and whether the
    child was ever in custody on the case."""
    custody = (isinstance(ev, CaseOpened) and ev.setting == "custody") or (
        isinstance(ev, TransitionCompleted) and ev.kind == "community_to_custody")
    outcomes = evolve_outcomes(s.outcomes, ev)
    if custody or outcomes is not s.outcomes:
        return replace(s, outcomes=outcomes, was_in_custody=s.was_in_custody or custody)
    return s


def _since(held: Holding) -> tuple[datetime, int]:
    return held.since


def fold(case_id: str, recorded: Iterable[RecordedEvent]) -> CaseState:
    """The state of a case from its stored events, corrections applied."""
    recorded = list(recorded)
    state = CaseState(case_id=case_id)
    # Every raw event is addressable (a correction may target one later superseded).
    raw_types = {rec.event_id: rec.event.type for rec in recorded}
    for rec in apply_corrections(recorded):
        state = evolve(state, rec)
    version = recorded[-1].stream_version if recorded else 0
    return replace(state, version=version, event_types={**raw_types, **state.event_types})
