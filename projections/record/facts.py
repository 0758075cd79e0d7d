"""The facts of a case record: one per event, keyed by the recording event's id.

Named tuples because a record holds thousands of them and they are stored as JSON arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# -- facts --------------------------------------------------------------------------------
# Every fact starts with the recording event's id, its position, and when it happened.


class Opened(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    child_id: str
    disposal: str
    route: str
    start: int
    expected_end: int | None
    setting: str
    level: str
    service: str
    team: str
    dob: int | None
    dob_token: str | None = None  # the date of birth as the event stored it (sealed)
    offence: str | None = None  # the main offence's category, where recorded
    label: str | None = None  # the child's label as the event stored it (sealed)


class Label(NamedTuple):
    """A later label for the child (``child_label_changed``), kept sealed like the opening's."""

    id: str
    pos: int
    t: int
    d: int
    token: str | None


class Closed(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    reason: str


class Alloc(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    practitioner: str
    agency: str
    role: str
    team: str | None
    manager: str | None


class AllocEnd(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    practitioner: str
    role: str
    reason: str


class Assess(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    kind: str
    reoffending: str
    safety: str
    harm: str
    strengths: bool
    child: bool
    parent: bool
    victim: bool
    agencies: bool


class Change(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    domains: tuple[str, ...]


class Plan(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    revised: bool
    domains: tuple[str, ...]
    contingency_safety: bool
    contingency_risk: bool
    child: bool
    parent: bool


class Sched(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    contact_id: str
    kind: str
    for_t: int
    for_d: int


class Attend(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    contact_id: str | None
    kind: str
    participation: int
    noted: tuple[str, ...]
    addressed: tuple[str, ...]
    parent: bool


class Miss(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    contact_id: str | None
    kind: str
    acceptable: bool
    reason: str


class FollowUp(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    missed_id: str
    method: str
    reached: bool


class Review(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    trigger: str
    changed: tuple[str, ...]
    adjusted: bool
    child: bool
    parent: bool


class TPlan(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    transition_id: str
    kind: str
    planned: int
    receiving_cm: str | None
    receiving_service: str | None
    accommodation: bool
    plan: bool
    info: bool
    handover: bool


class TDone(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    transition_id: str | None
    kind: str
    receiving_cm: str | None
    receiving_service: str | None
    info: bool
    handover: bool
    accommodation: bool


class Warn(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    failure_id: str


class Breach(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    failure_ids: tuple[str, ...]
    serious: bool


class Excuse(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    failure_id: str
    manager: str


class Level(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    level: str
    reason: str
    manager: str | None  # who agreed it when recorded (v1's field, or a manager recording it)


class LevelAgreed(NamedTuple):
    """A manager agreed a practitioner's change of intervention level."""

    id: str
    pos: int
    t: int
    d: int
    change_id: str
    manager: str


class BreachDecision(NamedTuple):
    """A manager authorised or declined breach proceedings."""

    id: str
    pos: int
    t: int
    d: int
    breach_id: str
    authorised: bool
    manager: str


class Oversight(NamedTuple):
    """A management oversight entry (its note stays in the log, sealed)."""

    id: str
    pos: int
    t: int
    d: int
    oversight_id: str
    category: str
    has_action: bool
    due: int | None
    manager: str
    from_alert: str | None


class OversightDone(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    oversight_id: str


class OffenceFact(NamedTuple):
    """An ``offence_recorded``: what the offence rule (``tracker.domain.offence``) reads."""

    id: str
    pos: int
    t: int
    d: int
    category: str
    gravity: int
    first_offence: bool


class ReqFail(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    requirement: str


class Cond(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    condition_id: str
    kind: str
    deadline: int


class CondEnd(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    condition_id: str
    completed: bool
    excuse: bool


class Prosecution(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    failure_id: str
    decision: str


class Panel(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    kind: str
    roles: tuple[str, ...]
    victim_views: bool


class Contract(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    domains: tuple[str, ...]


class Referral(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    reason: str


class Decision(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    outcome: str
    agencies: tuple[str, ...]
    proportionate: bool


class Audit(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    auditor: str
    question_set: str
    answers: tuple[tuple[str, str, bool], ...]
    safety: str | None
    harm: str | None
    actions: tuple[tuple[str, str, int], ...] = ()
    """The actions it found for the practitioner: (action id, owner id, due ordinal); their
    descriptions stay in the log, sealed."""


class AuditDone(NamedTuple):
    """An action an audit found, completed."""

    id: str
    pos: int
    t: int
    d: int
    action_id: str


class SignOff(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    document_id: str
    outcome: str  # "countersigned" | "returned"
    reason: str | None


class Corr(NamedTuple):
    id: str
    pos: int
    t: int
    d: int
    target: str
    kind: str  # "superseded" | "retracted"


class Xfer(NamedTuple):
    """One step of a transfer (``tracker.domain.teams.transfer_step``): requested (``team``
    the team asked), accepted (``team`` the receiving one), rejected or (caretaking) ended."""

    id: str
    pos: int
    t: int
    d: int
    transfer_id: str
    step: str
    kind: str | None
    team: str | None
    to_service: str | None


LIST_KINDS: dict[str, type[NamedTuple]] = {
    "allocs": Alloc,
    "alloc_ends": AllocEnd,
    "assessments": Assess,
    "changes": Change,
    "plans": Plan,
    "scheduled": Sched,
    "attended": Attend,
    "missed": Miss,
    "followups": FollowUp,
    "reviews": Review,
    "tplans": TPlan,
    "tdone": TDone,
    "warnings": Warn,
    "breaches": Breach,
    "excuses": Excuse,
    "audits": Audit,
    "audit_done": AuditDone,
    "corrections": Corr,
    "levels": Level,
    "req_failures": ReqFail,
    "conditions": Cond,
    "condition_ends": CondEnd,
    "prosecutions": Prosecution,
    "panels": Panel,
    "contracts": Contract,
    "referrals": Referral,
    "decisions": Decision,
    "transfers": Xfer,
    "signoffs": SignOff,
    "level_agreements": LevelAgreed,
    "breach_decisions": BreachDecision,
    "oversights": Oversight,
    "oversight_done": OversightDone,
    "offences": OffenceFact,
    "labels": Label,
}
"""The record's fact lists by name, and the fact type each holds."""


@dataclass(frozen=True)
class CaseRecord:
    """Everything the read models know about one case (immutable; see ``evolve``)."""

    case_id: str
    position: int = 0
    version: int = 0
    opened: Opened | None = None
    closed: Closed | None = None
    allocs: tuple[Alloc, ...] = ()
    alloc_ends: tuple[AllocEnd, ...] = ()
    assessments: tuple[Assess, ...] = ()
    changes: tuple[Change, ...] = ()
    plans: tuple[Plan, ...] = ()
    scheduled: tuple[Sched, ...] = ()
    attended: tuple[Attend, ...] = ()
    missed: tuple[Miss, ...] = ()
    followups: tuple[FollowUp, ...] = ()
    reviews: tuple[Review, ...] = ()
    tplans: tuple[TPlan, ...] = ()
    tdone: tuple[TDone, ...] = ()
    warnings: tuple[Warn, ...] = ()
    breaches: tuple[Breach, ...] = ()
    excuses: tuple[Excuse, ...] = ()
    audits: tuple[Audit, ...] = ()
    audit_done: tuple[AuditDone, ...] = ()
    corrections: tuple[Corr, ...] = ()
    levels: tuple[Level, ...] = ()
    req_failures: tuple[ReqFail, ...] = ()
    conditions: tuple[Cond, ...] = ()
    condition_ends: tuple[CondEnd, ...] = ()
    prosecutions: tuple[Prosecution, ...] = ()
    panels: tuple[Panel, ...] = ()
    contracts: tuple[Contract, ...] = ()
    referrals: tuple[Referral, ...] = ()
    decisions: tuple[Decision, ...] = ()
    transfers: tuple[Xfer, ...] = ()
    signoffs: tuple[SignOff, ...] = ()
    level_agreements: tuple[LevelAgreed, ...] = ()
    breach_decisions: tuple[BreachDecision, ...] = ()
    oversights: tuple[Oversight, ...] = ()
    oversight_done: tuple[OversightDone, ...] = ()
    offences: tuple[OffenceFact, ...] = ()
    labels: tuple[Label, ...] = ()

    @property
    def exists(self) -> bool:
        return self.opened is not None
