"""Whose case it is: the current case manager and the case's team, defined once.

The write side (``CaseState``), the access checks and the read models (caseloads, alert
owners) all ask these two questions, so they must get the same answer: a case moved to a
case manager in another team is that team's case, to open, to list and to be alerted on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

CASE_MANAGER = "case_manager"
"""The allocation role of the YOT (community) case manager; keyworkers hold other roles."""


class Held(Protocol):
    """An allocation as either side keeps it: the role held and the holder's team."""

    @property
    def role(self) -> str: ...

    @property
    def team(self) -> str | None: ...


H = TypeVar("H", bound=Held)


def current_case_manager(current: Iterable[H]) -> H | None:
    """The case manager holding the case, from the allocations not ended, in the order they
    started: the latest-started one if, during a handover, two overlap."""
    managers = [a for a in current if a.role == CASE_MANAGER]
    return managers[-1] if managers else None


def case_team(opening_team: str, case_manager: Held | None) -> str:
    """The case's team: its case manager's, if one is allocated with a team; else the team
    that opened it (or, once transferred, ``home_team``: callers pass that in its place)."""
    if case_manager is not None and case_manager.team:
        return case_manager.team
    return opening_team


# -- transfers: the owning team changes only through events (issue 11 §4) -----------------

FULL = "full"
CARETAKING = "caretaking"
KEYWORKER = "secure_keyworker"
"""The allocation role of a secure-estate keyworker: grants that one user the case."""

Order = tuple[int, int]
"""Where a fact sits in its case: (moment in microseconds, order in the stream). Each side
builds both the allocations' and the transfers' orders the same way, so they compare."""


@dataclass(frozen=True)
class Request:
    """A transfer as it stands: requested, then accepted or rejected once."""

    transfer_id: str
    kind: str
    from_team: str
    to_team: str | None
    to_service: str | None
    status: str = "pending"  # pending | accepted | rejected


@dataclass(frozen=True)
class Move:
    """An accepted transfer: the receiving team owns (full) or hosts (caretaking) the case
    from ``at``; a caretaking move ends with ``caretaking_ended`` or a later full move."""

    transfer_id: str
    kind: str
    from_team: str
    to_team: str
    at: datetime
    order: Order
    ended: bool = False


@dataclass(frozen=True)
class CaseTeams:
    """Who has a part in a case, as the access rules judge it: the owning team; the host
    teams caretaking it; the teams that handed it on (read-only for a policy-set period
    after ``at``); teams asked to take it (their managers may read it to decide); and the
    keyworkers allocated to it (user ids)."""

    owner: str
    hosts: frozenset[str] = frozenset()
    former: tuple[tuple[str, datetime], ...] = ()
    pending: frozenset[str] = frozenset()
    keyworkers: frozenset[str] = frozenset()
    services_offered: frozenset[str] = frozenset()
    """The services (not teams) a pending transfer offers the case to: answered only on that
    service's own instance."""

    def former_reading(self, now: datetime, read_access: timedelta) -> frozenset[str]:
        """The sending teams still inside their read-only period at ``now``."""
        return frozenset(
            team for team, at in self.former if at <= now < at + read_access
        ) - {self.owner}


def since_last_move(
    current: Iterable[H], moves: Sequence[Move], order: Callable[[H], Order]
) -> list[H]:
    """The allocations made after the last full transfer: an accepted transfer gives the
    case to the receiving team, so only a case manager allocated since then moves it on."""
    last = next((m.order for m in reversed(moves) if m.kind == FULL), None)
    return [a for a in current if last is None or order(a) > last]


def home_team(opening_team: str, moves: Sequence[Move]) -> str:
    """The team that owns the case by transfer: the last full transfer's receiving team,
    else the team that opened it."""
    for move in reversed(moves):
        if move.kind == FULL:
            return move.to_team
    return opening_team


def case_teams(
    opening_team: str,
    case_manager: Held | None,
    moves: Sequence[Move],
    requests: Iterable[Request],
    keyworkers: Iterable[str],
) -> CaseTeams:
    """Everything the access rules need, from the facts both sides keep. ``case_manager``
    is the current one allocated since the last full move (``since_last_move``)."""
    owner = case_team(home_team(opening_team, moves), case_manager)
    last_full = max((i for i, m in enumerate(moves) if m.kind == FULL), default=-1)
    hosts = frozenset(m.to_team for i, m in enumerate(moves)
                      if m.kind == CARETAKING and not m.ended and i > last_full) - {owner}
    former = tuple((m.from_team, m.at) for m in moves if m.kind == FULL)
    waiting = [r for r in requests if r.status == "pending"]
    pending = frozenset(r.to_team for r in waiting if r.to_team)
    services = frozenset(r.to_service for r in waiting if r.to_team is None and r.to_service)
    return CaseTeams(owner, hosts, former, pending, frozenset(keyworkers), services)


def transfer_step(
    requests: dict[str, Request],
    moves: tuple[Move, ...],
    *,
    step: str,
    transfer_id: str,
    kind: str | None,
    team: str | None,
    to_service: str | None,
    current_team: str,
    at: datetime,
    order: Order,
) -> tuple[dict[str, Request], tuple[Move, ...]]:
    """One transfer event applied to the requests and moves (``step``: requested, accepted,
    rejected or ended; ``team`` the requested team, or the accepting one). Both the write
    side's state and the read models fold transfers with this, so they agree on the team."""
    if step == "requested":
        request = Request(transfer_id, kind or FULL, current_team, team, to_service)
        return {**requests, transfer_id: request}, moves
    found = requests.get(transfer_id)
    if found is None:
        return requests, moves
    if step == "ended":
        return requests, tuple(
            Move(m.transfer_id, m.kind, m.from_team, m.to_team, m.at, m.order, True)
            if m.transfer_id == transfer_id else m for m in moves
        )
    status = "accepted" if step == "accepted" else "rejected"
    answered = Request(found.transfer_id, found.kind, found.from_team, found.to_team,
                       found.to_service, status)
    requests = {**requests, transfer_id: answered}
    if step == "accepted" and team:
        moves = (*moves, Move(transfer_id, found.kind, found.from_team, team, at, order))
    return requests, moves
