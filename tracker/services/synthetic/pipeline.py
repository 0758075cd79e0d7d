"""Planned commands, checked by the write side's own rules, then simulated or recorded.

Every story in this package plans ``Proposal`` objects; this module is the one place they
meet ``decide`` and ``CaseService``: ``check`` (every proposal must be accepted, or it
says which is not), ``accept`` (keep the accepted ones), ``simulate`` (in memory) and
``write`` (through ``CaseService``, in one transaction: all of it or none of it).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from events.base import Event
from events.catalogue import parse_event
from events.envelope import Actor, RecordedEvent
from events.store import EventStore
from tracker.domain.case import CaseState
from tracker.domain.case import evolve as case_evolve
from tracker.domain.commands import RecordEvent
from tracker.domain.decide import decide
from tracker.domain.policy import Policy, default_policy
from tracker.kernel.clock import LONDON, Clock
from tracker.kernel.errors import TrackerError
from tracker.services.app import App, policy_for
from tracker.services.cases import CaseService

SYNTH_ACTOR = Actor("synthetic", "system")

_LABEL_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"


def synthetic_label(seed: str) -> str:
    """A synthetic child label ("Child KT-417") made from ``seed`` (the case id) by a hash,
    not the story's random stream, so adding labels changes no other synthetic fact. It is
    never a name: two letters and a number."""
    digest = hashlib.sha256(seed.encode()).digest()
    first, second = (_LABEL_LETTERS[b % len(_LABEL_LETTERS)] for b in digest[:2])
    return f"Child {first}{second}-{int.from_bytes(digest[2:4], 'big') % 900 + 100}"


@dataclass(frozen=True)
class Proposal:
    """One command a story would record, and when it would be recorded."""

    case_id: str
    event_type: str
    data: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    event_id: UUID
    actor: Actor | None = None
    """Who records it when not the seeder itself: a manager records a manager's decision
    (``tracker.domain.access.MANAGER_ACTS``) in their own name."""

    def command(self) -> RecordEvent:
        return RecordEvent(
            case_id=self.case_id, event_type=self.event_type, data=self.data,
            occurred_at=self.occurred_at, event_id=self.event_id,
        )

    @property
    def label(self) -> str:
        return f"{self.case_id} {self.event_type}"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time on ``day``, in UTC (how the store keeps times)."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def new_uuid(rng: random.Random) -> UUID:
    """A deterministic event id drawn from the story's own random stream."""
    return UUID(int=rng.getrandbits(128), version=4)


def recorded_order(proposals: Iterable[Proposal]) -> list[Proposal]:
    """In the order a service would have recorded them (stable within a case)."""
    return sorted(proposals, key=lambda p: (p.recorded_at, p.case_id))


def check(
    proposals: Sequence[Proposal], now: datetime | None = None, *, policy: Policy | None = None
) -> None:
    """Raise the rules' own error (labelled) unless ``decide`` accepts every proposal."""
    _decided(proposals, now, policy or default_policy(), strict=True)


def accept(
    proposals: Iterable[Proposal], now: datetime | None = None, *, policy: Policy | None = None
) -> list[Proposal]:
    """The proposals the write side accepts under ``policy``, in recorded order (others dropped).

    Pass the policy the history will be written under (``write`` decides again with the
    app's), or a proposal accepted here could be refused there.
    """
    return _decided(recorded_order(proposals), now, policy or default_policy(), strict=False)


def _decided(
    ordered: Sequence[Proposal], now: datetime | None, policy: Policy, *, strict: bool
) -> list[Proposal]:
    """Decide each proposal against its case's evolving state, as ``record_many`` does."""
    states: dict[str, CaseState] = {}
    kept: list[Proposal] = []
    for p in ordered:
        state = states.get(p.case_id) or CaseState(case_id=p.case_id)
        try:
            drafts = decide(state, p.command(), now or p.recorded_at, policy)
        except TrackerError as exc:
            if strict:
                exc.args = (f"{p.label}: {exc}",)
                raise
            continue
        for draft in drafts:
            rec = _provisional(p, draft.event, state.version + 1, 0)
            state = replace(case_evolve(state, rec), version=state.version + 1)
        states[p.case_id] = state
        kept.append(p)
    return kept


def simulate(accepted: Sequence[Proposal], *, first_position: int = 1) -> list[RecordedEvent]:
    """The events a store would hold after recording ``accepted`` in order (pure)."""
    versions: dict[str, int] = {}
    out: list[RecordedEvent] = []
    for i, p in enumerate(accepted):
        version = versions.get(p.case_id, 0) + 1
        versions[p.case_id] = version
        out.append(_provisional(p, parse_event(p.event_type, p.data), version, first_position + i))
    return out


def _provisional(p: Proposal, event: Event, version: int, position: int) -> RecordedEvent:
    return RecordedEvent(
        position=position, event_id=p.event_id, stream_id=p.case_id, stream_version=version,
        type=event.type, schema_version=type(event).version, occurred_at=p.occurred_at,
        recorded_at=p.recorded_at, recorded_by=(p.actor or SYNTH_ACTOR).user_id,
        recorded_role=(p.actor or SYNTH_ACTOR).role, correlation_id="synthetic", event=event,
        prev_hash="", hash="",
    )


def write(
    app: App, accepted: Sequence[Proposal], *, actor: Actor = SYNTH_ACTOR,
    correlation_id: str = "synthetic", clock: Clock | None = None,
) -> int:
    """Record ``accepted`` through ``CaseService`` with their recorded-at times.

    One ``record_many``: every command is decided before anything is appended, and the
    append is one transaction, so a refused command or a failed write leaves nothing.
    The store trusts the given recorded-at times (the history is synthetic) and has no
    append listeners: whoever writes runs one projection catch-up afterwards.
    """
    clock = clock or _LastRecorded(accepted)
    store = EventStore(app.engine, app.keyring, clock, trust_recorded_at=True)
    service = CaseService(store, clock, policy_for(app))
    recorded = service.record_many(
        [p.command() for p in accepted], actor=actor, correlation_id=correlation_id,
        recorded_at=[p.recorded_at for p in accepted], labels=[p.label for p in accepted],
        actors=[p.actor for p in accepted],
    )
    return len(recorded)


class _LastRecorded:
    """A clock at the last recorded time, so no accepted command is "in the future"."""

    def __init__(self, accepted: Sequence[Proposal]) -> None:
        self._now = max((p.recorded_at for p in accepted), default=datetime.now(UTC))

    def now(self) -> datetime:
        return self._now
