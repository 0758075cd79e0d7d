"""``decide(state, command, now, policy) -> drafts``: the case rules, pure and in one place.

Each rule raises ``RuleViolation`` naming the field at fault and why, so the CLI, the API
and the import report it beside the field. Nothing is written when a rule fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from events.allocation import CaseManagerAllocated, CaseManagerAllocationEnded
from events.audit import CaseAudited
from events.base import Event
from events.case import CaseOpened
from events.catalogue import event_class, parse_event
from events.correction import EventRetracted, EventSuperseded
from events.delivery import (
    ContactAttended,
    ContactMissed,
    ContactScheduled,
    MissedContactFollowedUp,
)
from events.enforcement import BreachInitiated, ExceptionalCircumstancesRecorded, WarningIssued
from events.envelope import Draft
from events.planning import PlanRevised
from events.transition import TransitionCompleted, TransitionPlanned
from tracker.domain.case import CaseState, Failure
from tracker.domain.commands import RecordEvent
from tracker.domain.enforcement import warnings_allow_breach, warnings_in_period
from tracker.domain.policy import DatesPolicy, EnforcementPolicy, Policy
from tracker.kernel.clock import local_date
from tracker.kernel.errors import CaseAlreadyExists, CaseNotFound, RuleViolation

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server clock an occurred-at may be (devices drift)."""

ALLOWED_ON_CLOSED = frozenset(
    {"event_superseded", "event_retracted", "case_audited", "personal_data_erased"}
)


def decide(state: CaseState, command: RecordEvent, now: datetime, policy: Policy) -> list[Draft]:
    """The events that recording ``command`` on a case in ``state`` produces, or an error.

    ``policy`` is the service's: the enforcement rules (warned period, warnings before
    breach) are the same ones the read models judge by.
    """
    event = parse_event(command.event_type, command.data, context="data")
    _check_case(state, event, command)
    _check_time(state, event, command, now)
    _check_dates(state, event, now, policy.dates)
    _check_rules(state, event, command, policy)
    return [Draft(event=as_stored(event), occurred_at=command.occurred_at,
                  event_id=command.event_id)]


def as_stored(event: Event) -> Event:
    """The event as it is stored: a supersession's replacement written as its own model
    writes it, so every reader folds the values ``decide`` validated (a "4" sent for a
    number is stored as 4, not as the text the read side would choke on)."""
    if not isinstance(event, EventSuperseded):
        return event
    replacement = parse_event(event.replacement_type, event.replacement,
                              context="data.replacement")
    return event.model_copy(update={"replacement": replacement.model_dump(mode="json")})


def _check_case(state: CaseState, event: Event, command: RecordEvent) -> None:
    if isinstance(event, CaseOpened):
        if state.exists:
            raise CaseAlreadyExists(f"case {command.case_id} already exists")
        return
    if not state.exists:
        raise CaseNotFound(f"case {command.case_id} not found")
    if state.closed and event.type not in ALLOWED_ON_CLOSED:
        raise RuleViolation(
            "event_type", f"case {command.case_id} is closed: only corrections can be recorded"
        )


def _check_time(state: CaseState, event: Event, command: RecordEvent, now: datetime) -> None:
    if command.occurred_at > now + CLOCK_SKEW:
        raise RuleViolation("occurred_at", "is in the future")
    if isinstance(event, CaseOpened):
        if event.start_date > local_date(now):
            raise RuleViolation("data.start_date", "is in the future")
        if local_date(command.occurred_at) < event.start_date:
            raise RuleViolation("occurred_at", "is before the case's start_date")
        return
    start = state.start_date
    if start is not None and local_date(command.occurred_at) < start:
        raise RuleViolation("occurred_at", f"is before the case started on {start.isoformat()}")


def _check_dates(
    state: CaseState, event: Event, now: datetime, rules: DatesPolicy, prefix: str = "data."
) -> None:
    """Every date on the event lies between the earliest birth the policy allows for a child
    on this case and the policy's horizon after the case's start (a correction's
    replacement too); a case does not start before the earliest start the policy allows."""
    start = state.start_date
    if isinstance(event, CaseOpened):
        start = event.start_date
        earliest_start = _years_before(local_date(now), rules.earliest_start_years_ago)
        if start < earliest_start:
            raise RuleViolation(
                f"{prefix}start_date",
                f"is more than {rules.earliest_start_years_ago} years ago "
                f"(the policy's earliest start is {earliest_start.isoformat()})",
            )
    if start is None:
        return
    low = _years_before(start, rules.oldest_child_years)
    high = _years_before(start, -rules.horizon_years)
    for field, day in _dates_of(event):
        if day < low:
            raise RuleViolation(
                f"{prefix}{field}",
                f"is before {low.isoformat()}, {rules.oldest_child_years} years before the "
                "case started (the earliest the child could have been born, by policy)",
            )
        if day > high:
            raise RuleViolation(
                f"{prefix}{field}",
                f"is after {high.isoformat()}, {rules.horizon_years} years after the case "
                "started (the policy's horizon)",
            )
    if isinstance(event, EventSuperseded):
        replacement = parse_event(event.replacement_type, event.replacement,
                                  context="data.replacement")
        _check_dates(state, replacement, now, rules, prefix=f"{prefix}replacement.")


def _dates_of(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, date]]:
    """Every date and moment (as its London day) in a model, nested facts included."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = list(enumerate(value)) if isinstance(value, list | tuple) else [(None, value)]
        for index, item in items:
            where = f"{prefix}{name}" if index is None else f"{prefix}{name}.{index}"
            if isinstance(item, datetime):
                yield where, local_date(item)
            elif isinstance(item, date):
                yield where, item
            elif isinstance(item, BaseModel):
                yield from _dates_of(item, f"{where}.")


def _years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (later if negative); 29 Feb becomes 28 Feb."""
    year = day.year - years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _check_rules(state: CaseState, ev: Event, command: RecordEvent, policy: Policy) -> None:
    day = local_date(command.occurred_at)
    if isinstance(ev, CaseManagerAllocated):
        if state.holds(ev.practitioner_id, ev.role):
            raise RuleViolation(
                "data.practitioner_id", f"is already allocated to this case as {ev.role}"
            )
    elif isinstance(ev, CaseManagerAllocationEnded):
        if not state.holds(ev.practitioner_id, ev.role):
            raise RuleViolation(
                "data.practitioner_id", f"is not allocated to this case as {ev.role}"
            )
    elif isinstance(ev, ContactScheduled):
        if ev.contact_id in state.scheduled:
            raise RuleViolation("data.contact_id", "is already used on this case")
    elif isinstance(ev, ContactAttended | ContactMissed):
        if ev.contact_id is not None:
            if ev.contact_id not in state.scheduled:
                raise RuleViolation("data.contact_id", "was not scheduled on this case")
            if ev.contact_id in state.resolved:
                raise RuleViolation("data.contact_id", "was already recorded as attended or missed")
    elif isinstance(ev, MissedContactFollowedUp):
        if ev.missed_event_id not in state.missed:
            raise RuleViolation("data.missed_event_id", "is not a missed contact on this case")
    elif isinstance(ev, WarningIssued):
        failure = _failure(state, ev.failure_event_id, "data.failure_event_id")
        if failure.day > day:
            raise RuleViolation("data.failure_event_id", "happened after this warning")
        if ev.failure_event_id in state.warned:
            raise RuleViolation("data.failure_event_id", "already has a warning")
    elif isinstance(ev, ExceptionalCircumstancesRecorded):
        _failure(state, ev.failure_event_id, "data.failure_event_id")
    elif isinstance(ev, BreachInitiated):
        _check_breach(state, ev, policy)
    elif isinstance(ev, PlanRevised):
        if not state.has_plan:
            raise RuleViolation("event_type", "there is no agreed plan to revise yet")
    elif isinstance(ev, TransitionPlanned):
        if ev.transition_id in state.transitions:
            raise RuleViolation("data.transition_id", "is already used on this case")
    elif isinstance(ev, TransitionCompleted):
        _check_transition(state, ev)
    elif isinstance(ev, EventSuperseded | EventRetracted):
        _check_correction(state, ev)
    elif isinstance(ev, CaseAudited):
        _check_audit(ev)


def _failure(state: CaseState, failure_id: UUID, field: str) -> Failure:
    for failure in state.failures:
        if failure.event_id == failure_id:
            return failure
    raise RuleViolation(field, "is not an unacceptable failure to comply recorded on this case")


def _check_breach(state: CaseState, ev: BreachInitiated, policy: Policy) -> None:
    failures = [_failure(state, fid, "data.failure_event_ids") for fid in ev.failure_event_ids]
    if ev.serious_failure:
        return
    latest = max(failures, key=lambda f: f.day)
    if latest.event_id in state.excused:
        raise RuleViolation(
            "data.failure_event_ids",
            "exceptional circumstances were recorded for this failure, so it cannot lead to breach",
        )
    rules = policy.enforcement
    window = warnings_in_period(state.warning_days, latest.day.toordinal(), rules, date.toordinal)
    if not warnings_allow_breach(len(window), rules) or latest.event_id in state.warned:
        raise RuleViolation(
            "data.serious_failure",
            f"breach needs a further unacceptable failure after {_warnings(rules)} within "
            f"{_period(rules.warned_period_days)}, or a serious failure",
        )


def _warnings(rules: EnforcementPolicy) -> str:
    n = rules.warnings_before_breach
    return {1: "a warning", 2: "two warnings", 3: "three warnings"}.get(n, f"{n} warnings")


def _period(days: int) -> str:
    return "12 months" if days == 365 else f"{days} days"


def _check_transition(state: CaseState, ev: TransitionCompleted) -> None:
    if ev.transition_id is not None and ev.transition_id not in state.transitions:
        raise RuleViolation("data.transition_id", "was not planned on this case")
    if ev.kind == "community_to_custody" and state.setting == "custody":
        raise RuleViolation("data.kind", "the child is already in custody")
    if ev.kind == "custody_to_community" and state.setting != "custody":
        raise RuleViolation("data.kind", "the child is not in custody")


def _check_correction(state: CaseState, ev: EventSuperseded | EventRetracted) -> None:
    target_type = state.event_types.get(ev.target_event_id)
    if target_type is None:
        raise RuleViolation("data.target_event_id", "is not an event on this case")
    if target_type in ("event_superseded", "event_retracted"):
        raise RuleViolation("data.target_event_id", "is itself a correction")
    if ev.target_event_id in state.corrected:
        raise RuleViolation("data.target_event_id", "has already been corrected")
    if isinstance(ev, EventRetracted):
        if target_type == "case_opened":
            raise RuleViolation(
                "data.target_event_id", "a case's opening cannot be retracted; supersede it"
            )
        return
    if event_class(ev.replacement_type).type != target_type:
        raise RuleViolation(
            "data.replacement_type", f"must be '{target_type}', the type of the corrected event"
        )
    parse_event(target_type, ev.replacement, context="data.replacement")


def _check_audit(ev: CaseAudited) -> None:
    seen: set[tuple[str, str]] = set()
    for answer in ev.answers:
        key = (answer.standard, answer.lens)
        if key in seen:
            raise RuleViolation("data.answers", f"{answer.standard}/{answer.lens} answered twice")
        seen.add(key)
