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
from events.case import CaseOpened, InterventionLevelChanged
from events.catalogue import event_class, parse_event
from events.correction import EventRetracted, EventSuperseded
from events.delivery import (
    ContactAttended,
    ContactMissed,
    ContactScheduled,
    MissedContactFollowedUp,
)
from events.enforcement import (
    BreachInitiated,
    ConditionCompleted,
    ConditionFailed,
    ConditionSet,
    ExceptionalCircumstancesRecorded,
    ProsecutionDecided,
    RequirementFailed,
    WarningIssued,
)
from events.envelope import Draft
from events.panels import ContractAgreed, JointDecisionMade, PanelHeld, ReferredBackToCourt
from events.planning import PlanRevised
from events.transition import TransitionCompleted, TransitionPlanned
from tracker.domain.case import CaseState, Failure
from tracker.domain.commands import RecordEvent
from tracker.domain.enforcement import warnings_allow_breach, warnings_in_period
from tracker.domain.inspection import known_sets, question_set
from tracker.domain.outcome_rules import check_outcome
from tracker.domain.policy import DatesPolicy, DisposalProfile, EnforcementPolicy, Policy
from tracker.kernel.clock import local_date
from tracker.kernel.errors import CaseAlreadyExists, CaseNotFound, RuleViolation

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server clock an occurred-at may be (devices drift)."""

ALLOWED_ON_CLOSED = frozenset(
    {"event_superseded", "event_retracted", "case_audited", "personal_data_erased",
     "feedback_given", "victim_satisfaction_recorded"}  # surveys often come after the end
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
    if isinstance(ev, Enforcing):
        _check_route(state, ev, policy)
    if isinstance(ev, Paneled):
        _check_panels(state, ev, policy)
    elif isinstance(ev, ConditionSet | ConditionCompleted | ConditionFailed | ProsecutionDecided):
        _check_conditions(state, ev)
    elif isinstance(ev, JointDecisionMade):
        _check_decision(state, ev, policy)
    elif isinstance(ev, InterventionLevelChanged):
        if ev.intervention_level == state.level:
            raise RuleViolation("data.intervention_level",
                                f"is already the case's level ({state.level})")
    elif isinstance(ev, CaseManagerAllocated):
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
        check_payload(ev, "data")
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
        _check_audit(state, ev)
    elif ev.family == "outcomes":
        check_outcome(state, ev, day)


def profile_of(state: CaseState, policy: Policy) -> DisposalProfile:
    """The disposal profile the case is under (its opening names the disposal)."""
    assert state.opened is not None
    return policy.profile(state.opened.disposal_type)


Enforcing = (WarningIssued | BreachInitiated | ExceptionalCircumstancesRecorded
             | RequirementFailed | ConditionSet | ConditionCompleted | ConditionFailed
             | ProsecutionDecided)
Paneled = PanelHeld | ContractAgreed | ReferredBackToCourt

_WHAT = {
    "warning_issued": "a warning", "breach_initiated": "breach proceedings",
    "exceptional_circumstances_recorded": "exceptional circumstances",
    "requirement_failed": "a failed requirement", "condition_set": "a caution condition",
    "condition_completed": "a caution condition", "condition_failed": "a caution condition",
    "prosecution_decided": "a prosecution decision", "panel_held": "a referral-order panel",
    "contract_agreed": "a referral-order contract",
    "referred_back_to_court": "a referral back to court by a panel",
}


def _allowed(profile: DisposalProfile, ev: Event) -> bool:
    """Whether the disposal's route has a place for this enforcement or panel event."""
    if isinstance(ev, WarningIssued):
        return profile.warnings
    if isinstance(ev, BreachInitiated | ExceptionalCircumstancesRecorded):
        return profile.breach
    if isinstance(ev, RequirementFailed):
        return profile.failures
    if isinstance(ev, PanelHeld | ContractAgreed | ReferredBackToCourt):
        return profile.panels
    return profile.enforcement == "caution_conditions"


def _check_route(state: CaseState, ev: Event, policy: Policy) -> None:
    """Refuse what the case's disposal has no route for, naming the disposal and why."""
    profile = profile_of(state, policy)
    if not _allowed(profile, ev):
        assert state.opened is not None
        why = (profile.enforcement_note if not isinstance(ev, Paneled)
               else "it has no referral-order panels")
        raise RuleViolation(
            "event_type",
            f"{_WHAT[ev.type]} cannot be recorded on a {profile.label.lower()} "
            f"({state.opened.disposal_type}): {why}",
        )


ACCEPTABLE_REASONS = frozenset({"illness_with_evidence", "agreed_rearrangement"})
UNACCEPTABLE_REASONS = frozenset({"no_reason_given", "refused", "forgot"})
"""Reasons that settle a missed appointment's acceptability (domain.md §5); the others
(education or work, a family emergency, other) are the practitioner's judgement."""


def check_payload(ev: Event, prefix: str) -> None:
    """Rules within one event's own fields (also applied to a correction's replacement)."""
    if isinstance(ev, ContactMissed):
        if ev.acceptable and ev.reason in UNACCEPTABLE_REASONS:
            raise RuleViolation(f"{prefix}.acceptable",
                                f"cannot be true when the reason is '{ev.reason}'")
        if not ev.acceptable and ev.reason in ACCEPTABLE_REASONS:
            raise RuleViolation(f"{prefix}.acceptable",
                                f"cannot be false when the reason is '{ev.reason}'")


def _check_panels(
    state: CaseState, ev: PanelHeld | ContractAgreed | ReferredBackToCourt, policy: Policy
) -> None:
    _check_route(state, ev, policy)
    if isinstance(ev, PanelHeld):
        if ev.kind == "initial" and "initial" in state.panels:
            raise RuleViolation("data.kind", "the initial panel has already been held")
        if ev.kind != "initial" and "initial" not in state.panels:
            raise RuleViolation("data.kind", "the initial panel has not been held yet")
    elif isinstance(ev, ContractAgreed):
        if state.contract:
            raise RuleViolation("event_type", "the contract has already been agreed")
        if not state.panels:
            raise RuleViolation("event_type", "a contract is agreed at a panel: none held yet")
    elif not state.panels:
        raise RuleViolation("event_type", "only a panel refers back to court: none held yet")


def _check_decision(state: CaseState, ev: JointDecisionMade, policy: Policy) -> None:
    """A joint decision is made once, on an out-of-court case, for the case's disposal."""
    profile = profile_of(state, policy)
    assert state.opened is not None
    disposal = state.opened.disposal_type
    if profile.route != "out_of_court":
        raise RuleViolation("event_type", f"a joint decision-making panel decides out-of-court "
                                          f"disposals, not a {profile.label.lower()} ({disposal})")
    if state.decided_out_of_court:
        raise RuleViolation("event_type", "the joint decision has already been recorded")
    if ev.outcome != disposal:
        raise RuleViolation("data.outcome", f"must be the case's disposal ({disposal}); "
                                            "another outcome is another case")


def _check_conditions(
    state: CaseState, ev: ConditionSet | ConditionCompleted | ConditionFailed | ProsecutionDecided
) -> None:
    if isinstance(ev, ConditionSet):
        if ev.condition_id in state.conditions:
            raise RuleViolation("data.condition_id", "is already used on this case")
        assert state.start_date is not None
        if ev.deadline < state.start_date:
            raise RuleViolation("data.deadline", "is before the caution was given")
    elif isinstance(ev, ConditionCompleted | ConditionFailed):
        status = state.conditions.get(ev.condition_id)
        if status is None:
            raise RuleViolation("data.condition_id", "was not set on this case")
        if status != "set":
            raise RuleViolation("data.condition_id", f"is already recorded as {status}")
    else:
        if ev.failure_event_id not in state.condition_failures:
            raise RuleViolation("data.failure_event_id",
                                "is not a condition failed without reasonable excuse")
        if ev.failure_event_id in state.decided:
            raise RuleViolation("data.failure_event_id", "already has a prosecution decision")


def _failure(state: CaseState, failure_id: UUID, field: str) -> Failure:
    for failure in state.failures:
        if failure.event_id == failure_id:
            return failure
    raise RuleViolation(field, "is not an unacceptable failure to comply recorded on this case")


def _check_breach(state: CaseState, ev: BreachInitiated, policy: Policy) -> None:
    failures = [_failure(state, fid, "data.failure_event_ids") for fid in ev.failure_event_ids]
    if ev.serious_failure or not profile_of(state, policy).warnings:
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
            f"breach needs a further unacceptable failure within the warned periods of "
            f"{_warnings(rules)} ({rules.warned_period_months} months beginning with the day "
            f"each was given), or a serious failure",
        )


def _warnings(rules: EnforcementPolicy) -> str:
    n = rules.warnings_before_breach
    return {1: "a warning", 2: "two warnings", 3: "three warnings"}.get(n, f"{n} warnings")


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
    check_payload(parse_event(target_type, ev.replacement, context="data.replacement"),
                  "data.replacement")


def _check_audit(state: CaseState, ev: CaseAudited) -> None:
    """An audit answers its question set's casework standards for the case's domain (an
    out-of-court case has no review or resettlement standard), each key question once."""
    if ev.question_set not in known_sets():
        raise RuleViolation("data.question_set",
                            f"is not a known question set; known: {', '.join(known_sets())}")
    assert state.opened is not None
    domain = state.opened.route
    allowed = set(question_set(ev.question_set).casework(domain))
    if domain == "court":
        allowed.add("resettlement")
    seen: set[tuple[str, str]] = set()
    for answer in ev.answers:
        key = (answer.standard, answer.lens)
        if key in seen:
            raise RuleViolation("data.answers", f"{answer.standard}/{answer.lens} answered twice")
        if answer.standard not in allowed:
            raise RuleViolation(
                "data.answers", f"{answer.standard} is not a standard for "
                f"{domain.replace('_', '-')} work in {ev.question_set} "
                f"(standards: {', '.join(sorted(allowed))})")
        seen.add(key)
