"""The decision state of one case, folded from its events: what ``decide`` checks against.

This is the write side's own small model (what is needed to enforce the rules), not a
read model: the views people look at live in ``projections``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from events.allocation import CaseManagerAllocated, CaseManagerAllocationEnded
from events.assessment import AssessmentCompleted
from events.audit import AuditActionCompleted, CaseAudited
from events.base import Event
from events.case import (
    CaseClosed,
    CaseOpened,
    InterventionLevelChangeAgreed,
    InterventionLevelChanged,
)
from events.correction import EventRetracted, EventSuperseded
from events.countersignature import DocumentCountersigned, DocumentReturned
from events.delivery import ContactAttended, ContactMissed, ContactScheduled
from events.enforcement import (
    BreachAuthorised,
    BreachDeclined,
    BreachInitiated,
    ConditionCompleted,
    ConditionFailed,
    ConditionSet,
    ExceptionalCircumstancesRecorded,
    ProsecutionDecided,
    RequirementFailed,
    WarningIssued,
)
from events.envelope import RecordedEvent
from events.oversight import ManagementOversightRecorded, OversightActionCompleted
from events.panels import ContractAgreed, JointDecisionMade, PanelHeld, ReferredBackToCourt
from events.planning import PlanAgreed, PlanRevised
from events.transfer import CaretakingEnded, TransferAccepted, TransferRejected, TransferRequested
from events.transition import TransitionCompleted, TransitionPlanned
from tracker.domain.corrections import apply_corrections
from tracker.domain.outcomes import OutcomeState, evolve_outcomes
from tracker.domain.teams import (
    KEYWORKER,
    CaseTeams,
    Move,
    Order,
    Request,
    case_team,
    case_teams,
    current_case_manager,
    home_team,
    since_last_move,
    transfer_step,
)
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
    requests: dict[str, Request] = field(default_factory=dict)  # transfers by id
    moves: tuple[Move, ...] = ()  # accepted transfers, in order
    audit_actions: dict[str, bool] = field(default_factory=dict)  # action id -> completed
    documents: dict[UUID, tuple[str, date]] = field(default_factory=dict)
    """Assessments and plans standing on the case: id -> ("assessment" | "plan", day)."""
    signed_off: dict[UUID, str] = field(default_factory=dict)
    """Documents a manager acted on: id -> "countersigned" | "returned"."""
    breaches: dict[UUID, str] = field(default_factory=dict)  # id -> open|authorised|declined
    level_changes: dict[UUID, bool] = field(default_factory=dict)  # id -> agreed
    oversight: dict[str, str] = field(default_factory=dict)  # id -> no_action|open|done
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
        if self.opened is None:
            return None
        return case_team(home_team(self.opened.team, self.moves), self._owning_manager())

    @property
    def teams(self) -> CaseTeams | None:
        """Who has a part in the case (``tracker.domain.teams.CaseTeams``); None if never
        opened."""
        if self.opened is None:
            return None
        keyworkers = (a.practitioner for a in self.allocations if a.role == KEYWORKER)
        return case_teams(self.opened.team, self._owning_manager(), self.moves,
                          self.requests.values(), keyworkers)

    def _owning_manager(self) -> Holding | None:
        return current_case_manager(since_last_move(self.allocations, self.moves, _order))

    def holds(self, practitioner: str, role: str) -> bool:
        """Whether ``practitioner`` holds the case in ``role`` now."""
        return any(a.practitioner == practitioner and a.role == role for a in self.allocations)


_FIELDS = frozenset(f.name for f in fields(CaseState))

if TYPE_CHECKING:
    from dataclasses import replace  # what the handlers' calls are checked against
else:

    def replace(obj: Any, /, **changes: Any) -> Any:
        """``dataclasses.replace`` for a ``CaseState`` without its per-call work (it walks
        every field and runs ``__init__``): the handlers call it for every event folded,
        and it was most of a long case's fold. Same result: a new frozen state with
        ``changes``; an unknown field is still an error."""
        if type(obj) is not CaseState or not hasattr(obj, "__dict__"):
            return dataclasses.replace(obj, **changes)
        if not changes.keys() <= _FIELDS:
            raise TypeError(f"CaseState has no field {sorted(changes.keys() - _FIELDS)}")
        new = object.__new__(CaseState)
        new.__dict__.update(obj.__dict__)
        new.__dict__.update(changes)
        return new


def evolve(state: CaseState, rec: RecordedEvent) -> CaseState:
    """The state after one (effective) event. Pure: no IO, no clock."""
    types = {**state.event_types, rec.event_id: rec.event.type}
    return _handle(replace(state, event_types=types), rec)


def _handle(s: CaseState, rec: RecordedEvent) -> CaseState:
    """What one event changes, except ``event_types`` (kept by the callers: copying that
    dict for every event made a fold quadratic in the case's length)."""
    ev = rec.event
    s = _kpi_data(s, ev)
    if isinstance(ev, CaseOpened):
        return replace(s, opened=ev, setting=ev.setting, level=ev.intervention_level)
    if isinstance(ev, InterventionLevelChanged):
        agreed = ev.v1_manager_id is not None or rec.recorded_role == "manager"
        return replace(s, level=ev.intervention_level,
                       level_changes={**s.level_changes, rec.event_id: agreed})
    if isinstance(ev, InterventionLevelChangeAgreed):
        return replace(s, level_changes={**s.level_changes, ev.change_event_id: True})
    if isinstance(ev, BreachInitiated):
        return replace(s, breaches={**s.breaches, rec.event_id: "open"})
    if isinstance(ev, BreachAuthorised | BreachDeclined):
        done = "authorised" if isinstance(ev, BreachAuthorised) else "declined"
        return replace(s, breaches={**s.breaches, ev.breach_event_id: done})
    if isinstance(ev, ManagementOversightRecorded):
        # action_due is not sealed: the decision state is folded without opening notes
        status = "open" if ev.action_due is not None else "no_action"
        return replace(s, oversight={**s.oversight, ev.oversight_id: status})
    if isinstance(ev, OversightActionCompleted):
        return replace(s, oversight={**s.oversight, ev.oversight_id: "done"})
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
    if isinstance(ev, CaseAudited):
        found = {a.action_id: False for a in ev.actions}
        return replace(s, audit_actions={**found, **s.audit_actions})
    if isinstance(ev, AuditActionCompleted):
        return replace(s, audit_actions={**s.audit_actions, ev.action_id: True})
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
    if isinstance(ev, AssessmentCompleted | PlanAgreed | PlanRevised):
        kind = "assessment" if isinstance(ev, AssessmentCompleted) else "plan"
        s = replace(s, documents={**s.documents,
                                  rec.event_id: (kind, local_date(rec.occurred_at))})
        return replace(s, has_plan=True) if isinstance(ev, PlanAgreed) else s
    if isinstance(ev, DocumentCountersigned | DocumentReturned):
        done = "countersigned" if isinstance(ev, DocumentCountersigned) else "returned"
        return replace(s, signed_off={**s.signed_off, ev.document_event_id: done})
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
    if isinstance(ev, TransferRequested | TransferAccepted | TransferRejected | CaretakingEnded):
        return _transfer(s, ev, rec)
    return s


def _transfer(
    s: CaseState,
    ev: TransferRequested | TransferAccepted | TransferRejected | CaretakingEnded,
    rec: RecordedEvent,
) -> CaseState:
    if isinstance(ev, TransferRequested):
        step, kind, team, service = "requested", ev.kind, ev.to_team, ev.to_service
    elif isinstance(ev, TransferAccepted):
        step, kind, team, service = "accepted", None, ev.team, None
    elif isinstance(ev, TransferRejected):
        step, kind, team, service = "rejected", None, None, None
    else:
        step, kind, team, service = "ended", None, None, None
    requests, moves = transfer_step(
        s.requests, s.moves, step=step, transfer_id=ev.transfer_id, kind=kind, team=team,
        to_service=service, current_team=s.team or "", at=rec.occurred_at,
        order=(_us(rec.occurred_at), rec.stream_version),
    )
    return replace(s, requests=requests, moves=moves)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _order(held: Holding) -> Order:
    return (_us(held.since[0]), held.since[1])


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
    state = _thawed(CaseState(case_id=case_id))
    # Every raw event is addressable (a correction may target one later superseded).
    types = {rec.event_id: rec.event.type for rec in recorded}
    for rec in apply_corrections(recorded):
        types[rec.event_id] = rec.event.type  # a replacement's type, where superseded
        state = _handle(state, rec)
    version = recorded[-1].stream_version if recorded else 0
    return _frozen(state, version=version, event_types=types)


def fold_on(state: CaseState, more: Iterable[RecordedEvent]) -> CaseState | None:
    """``state`` carried on over the events that follow it: what ``fold`` of the whole
    stream gives, at the cost of the tail only (a cached or snapshotted state).

    None when the tail does not start right after ``state.version`` or holds a correction:
    a correction may change an event before it, so only a full ``fold`` is right then.
    """
    more = list(more)
    if not more:
        return state
    if more[0].stream_version != state.version + 1 or any(
        isinstance(rec.event, EventSuperseded | EventRetracted) for rec in more
    ):
        return None
    types = dict(state.event_types)
    for rec in more:
        types[rec.event_id] = rec.event.type
        state = _handle(state, rec)
    return replace(state, version=more[-1].stream_version, event_types=types)


class _Growing(set[Any]):
    """A set field while one ``fold`` owns the state: ``s.field | {x}`` adds in place
    instead of copying the whole set for every event (which made a fold quadratic in the
    case's length). The handlers stay as they are; the intermediate states are never
    seen, and ``fold`` returns frozensets again (``_frozen``)."""

    def __or__(self, other: AbstractSet[Any]) -> _Growing:
        self.update(other)
        return self


_SET_FIELDS = tuple(f.name for f in fields(CaseState) if isinstance(f.default, frozenset))


def _thawed(state: CaseState) -> CaseState:
    changes: dict[str, Any] = {name: _Growing(getattr(state, name)) for name in _SET_FIELDS}
    return replace(state, **changes)


def _frozen(state: CaseState, **more: Any) -> CaseState:
    changes: dict[str, Any] = {name: frozenset(getattr(state, name)) for name in _SET_FIELDS}
    return replace(state, **changes, **more)
