"""What a case record shows as at a moment: the facts that had happened, in the order they
happened, and the few things every read model derives from them (setting, case managers).

Pure: built from ``(record, as_at, policy)`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple, TypedDict, TypeVar

from projections.asat import AsAt
from projections.record import (
    Alloc,
    AllocEnd,
    Assess,
    Attend,
    CaseRecord,
    Closed,
    Opened,
    TDone,
    Xfer,
    from_us,
)
from tracker.domain.policy import DisposalProfile, Policy
from tracker.domain.teams import (
    CASE_MANAGER,
    Move,
    Request,
    case_team,
    current_case_manager,
    home_team,
    since_last_move,
    transfer_step,
)
from tracker.domain.workdays import WorkingDays, calendar_for

F = TypeVar("F", bound=tuple[Any, ...])

def iso(ordinal: int | None) -> str | None:
    return date.fromordinal(ordinal).isoformat() if ordinal is not None else None


@lru_cache(maxsize=1 << 16)
def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = 31 if month == 12 else (date(year, month + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def moves_of(transfers: list[Xfer] | tuple[Xfer, ...]) -> tuple[Move, ...]:
    """The accepted transfers, folded with the write side's ``transfer_step`` (in the order
    they happened). The read side needs only who owns and hosts the case, so the sending
    team (which the write side's access rules use) is not tracked here."""
    requests: dict[str, Request] = {}
    moves: tuple[Move, ...] = ()
    for x in sorted(transfers, key=_BY_TIME):
        requests, moves = transfer_step(
            requests, moves, step=x.step, transfer_id=x.transfer_id, kind=x.kind,
            team=x.team, to_service=x.to_service, current_team="", at=from_us(x.t),
            order=(x.t, x.pos),
        )
    return moves


class FailureFact(NamedTuple):
    """An unacceptable failure to comply, whichever event recorded it."""

    id: str
    pos: int
    t: int
    d: int
    kind: str  # missed_appointment | requirement
    reason: str  # the missed appointment's reason, or the requirement failed


@dataclass(frozen=True)
class Period:
    """A span of days (``end`` None = still running)."""

    start: date
    end: date | None


AllocationView = TypedDict("AllocationView", {
    "practitioner": str, "agency": str, "role": str, "team": str | None,
    "manager": str | None, "from": str, "to": str | None, "end_reason": str | None,
})


class CaseHeader(TypedDict, total=False):
    """What a case is, as at a moment: empty when there is no case."""

    case_id: str
    child_id: str
    service: str
    team: str
    disposal: str
    route: str
    intervention_level: str
    start_date: str | None
    expected_end_date: str | None
    closed_on: str | None
    closed_reason: str | None
    open: bool
    setting: str
    case_manager: str | None
    manager: str | None
    child_label_token: str | None  # sealed: opened only for a reader of the case
    child_label: str  # opened by ``queries.case_view`` for its reader, never stored


@dataclass(frozen=True)
class Allocation:
    """One practitioner holding the case in one role, from a day to a day (None = still)."""

    practitioner: str
    agency: str
    role: str
    team: str | None
    manager: str | None
    start: date
    end: date | None
    end_reason: str | None
    start_event: str
    end_event: str | None
    start_t: int
    start_pos: int = 0

    def to_dict(self) -> AllocationView:
        return {
            "practitioner": self.practitioner, "agency": self.agency, "role": self.role,
            "team": self.team, "manager": self.manager, "from": self.start.isoformat(),
            "to": self.end.isoformat() if self.end else None, "end_reason": self.end_reason,
        }


_BY_TIME = itemgetter(2, 1)


def _visible(items: tuple[F, ...], us: int) -> list[F]:
    """Facts that had happened by the cut-off, sorted by when they happened."""
    if not items:
        return []
    out = [f for f in items if f[2] <= us]
    out.sort(key=_BY_TIME)
    return out


@dataclass
class Visible:
    """A case as at a moment. ``started`` is False before the order's start date."""

    record: CaseRecord
    at: AsAt
    policy: Policy
    wd: WorkingDays = field(init=False)
    opened: Opened | None = field(init=False)
    closed: Closed | None = field(init=False)

    def __post_init__(self) -> None:
        r, us = self.record, self.at.us
        self.wd = calendar_for(self.policy.calendar)
        self.opened = r.opened if r.opened is not None and r.opened.t <= us else None
        self.closed = r.closed if r.closed is not None and r.closed.t <= us else None
        self.allocs = _visible(r.allocs, us)
        self.alloc_ends = _visible(r.alloc_ends, us)
        self.assessments = _visible(r.assessments, us)
        self.changes = _visible(r.changes, us)
        self.plans = _visible(r.plans, us)
        self.scheduled = _visible(r.scheduled, us)
        self.attended = _visible(r.attended, us)
        self.missed = _visible(r.missed, us)
        self.followups = _visible(r.followups, us)
        self.reviews = _visible(r.reviews, us)
        self.tplans = _visible(r.tplans, us)
        self.tdone = _visible(r.tdone, us)
        self.warnings = _visible(r.warnings, us)
        self.breaches = _visible(r.breaches, us)
        self.excuses = _visible(r.excuses, us)
        self.audits = _visible(r.audits, us)
        self.audit_done = _visible(r.audit_done, us)
        self.levels = _visible(r.levels, us)
        self.req_failures = _visible(r.req_failures, us)
        self.conditions = _visible(r.conditions, us)
        self.condition_ends = _visible(r.condition_ends, us)
        self.prosecutions = _visible(r.prosecutions, us)
        self.panels = _visible(r.panels, us)
        self.contracts = _visible(r.contracts, us)
        self.referrals = _visible(r.referrals, us)
        self.decisions = _visible(r.decisions, us)
        self.transfers = _visible(r.transfers, us)
        self.signoffs = _visible(r.signoffs, us)
        self.level_agreements = _visible(r.level_agreements, us)
        self.breach_decisions = _visible(r.breach_decisions, us)
        self.oversights = _visible(r.oversights, us)
        self.oversight_done = _visible(r.oversight_done, us)
        self.offences = _visible(r.offences, us)
        self.labels = _visible(r.labels, us)
        self._custody: list[Period] | None = None
        self._allocations: list[Allocation] | None = None
        self.cache: dict[str, Any] = {}
        self._start = date.fromordinal(self.opened.start) if self.opened is not None else None
        self._closed_on = date.fromordinal(self.closed.d) if self.closed is not None else None
        today = self.at.day
        self._last_day = min(today, self._closed_on) if self._closed_on is not None else today

    # -- the case ---------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return self.opened is not None

    @property
    def profile(self) -> DisposalProfile:
        """The case's disposal profile: which obligations apply and how it is enforced."""
        assert self.opened is not None
        return self.policy.profile(self.opened.disposal)

    @property
    def today(self) -> date:
        return self.at.day

    @property
    def start(self) -> date:
        assert self._start is not None
        return self._start

    @property
    def closed_on(self) -> date | None:
        return self._closed_on

    @property
    def is_open(self) -> bool:
        """Opened, started by today, and not closed."""
        return self.opened is not None and self.closed is None and self.start <= self.today

    @property
    def last_day(self) -> date:
        """The day obligations are judged on: today, or the closing day if it closed."""
        return self._last_day

    def header(self) -> CaseHeader:
        o = self.opened
        assert o is not None
        cm = self.case_manager()
        return {
            "case_id": self.record.case_id,
            "child_id": o.child_id,
            "service": o.service,
            "team": self.team(),
            "disposal": o.disposal,
            "route": o.route,
            "intervention_level": self.level_on(self.last_day),
            "start_date": iso(o.start),
            "expected_end_date": iso(o.expected_end),
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "closed_reason": self.closed.reason if self.closed else None,
            "open": self.is_open,
            "setting": self.setting(),
            "case_manager": cm.practitioner if cm else None,
            "manager": cm.manager if cm else None,
            "child_label_token": self.labels[-1].token if self.labels else o.label,
        }

    def level_on(self, day: date) -> str:
        """The intervention level in force on ``day``: the opening's, then each change."""
        assert self.opened is not None
        level = self.opened.level
        for change in self.levels:
            if change.d > day.toordinal():
                break
            level = change.level
        return level

    def team(self) -> str:
        """The case's team (``tracker.domain.teams``): the case manager's (allocated since
        the last accepted full transfer), else the transfer's receiving team, else the
        opening's."""
        assert self.opened is not None
        moves = moves_of(self.transfers)
        return case_team(home_team(self.opened.team, moves), self.owning_case_manager(moves))

    def owning_case_manager(self, moves: tuple[Move, ...] | None = None) -> Allocation | None:
        """The case manager who holds the case for its owning team: one allocated since the
        last accepted full transfer (``tracker.domain.teams.since_last_move``)."""
        moves = moves_of(self.transfers) if moves is None else moves
        current = (a for a in self.allocations() if a.end is None)
        return current_case_manager(
            since_last_move(current, moves, lambda a: (a.start_t, a.start_pos))
        )

    def owner(self) -> str:
        """Who an alert goes to: the owning case manager's manager, or else the team."""
        cm = self.owning_case_manager()
        if cm is not None and cm.manager:
            return cm.manager
        return f"team:{self.team()}"

    # -- setting ------------------------------------------------------------------------

    def custody_periods(self) -> list[Period]:
        """Spans in custody, from the opening setting and the completed transitions."""
        if self._custody is None:
            periods: list[Period] = []
            o = self.opened
            current: date | None = None
            if o is not None and o.setting == "custody":
                current = date.fromordinal(o.start)
            for done in self.tdone:
                day = date.fromordinal(done.d)
                if done.kind == "community_to_custody" and current is None:
                    current = day
                elif done.kind == "custody_to_community" and current is not None:
                    periods.append(Period(current, day))
                    current = None
            if current is not None:
                periods.append(Period(current, None))
            self._custody = periods
        return self._custody

    def in_custody(self, day: date | None = None) -> bool:
        """In custody on ``day`` (default: the last day judged); a release day is community."""
        day = day or self.last_day
        return any(
            p.start <= day and (p.end is None or day < p.end) for p in self.custody_periods()
        )

    def setting(self) -> str:
        return "custody" if self.in_custody() else "community"

    def releases(self) -> list[TDone]:
        return [d for d in self.tdone if d.kind == "custody_to_community"]

    # -- allocations --------------------------------------------------------------------

    def allocations(self) -> list[Allocation]:
        """Every allocation period, in the order they started."""
        if self._allocations is None:
            events: list[tuple[int, int, int, Alloc | AllocEnd]] = []
            for a in self.allocs:
                events.append((a.t, a.pos, 1, a))
            for e in self.alloc_ends:
                events.append((e.t, e.pos, 0, e))
            events.sort(key=lambda x: (x[0], x[1]))
            active: dict[tuple[str, str], Allocation] = {}
            done: list[Allocation] = []
            for _t, _pos, _kind, fact in events:
                if isinstance(fact, Alloc):
                    key = (fact.practitioner, fact.role)
                    if key in active:
                        continue
                    active[key] = Allocation(
                        fact.practitioner, fact.agency, fact.role, fact.team, fact.manager,
                        date.fromordinal(fact.d), None, None, fact.id, None, fact.t,
                        fact.pos,
                    )
                else:
                    key = (fact.practitioner, fact.role)
                    started = active.pop(key, None)
                    if started is None:
                        continue
                    done.append(Allocation(
                        started.practitioner, started.agency, started.role, started.team,
                        started.manager, started.start, date.fromordinal(fact.d), fact.reason,
                        started.start_event, fact.id, started.start_t, started.start_pos,
                    ))
            allocations = done + list(active.values())
            allocations.sort(key=lambda a: (a.start_t, a.start_event))
            self._allocations = allocations
        return self._allocations

    def case_managers(self) -> list[Allocation]:
        """The YOT case managers (the community case manager role), in order."""
        return [a for a in self.allocations() if a.role == CASE_MANAGER]

    def case_manager(self) -> Allocation | None:
        """The case manager holding the case now (the latest if, briefly, two do)."""
        return current_case_manager(a for a in self.allocations() if a.end is None)

    # -- assessments and contacts ----------------------------------------------------------

    def latest_assessment(self) -> Assess | None:
        return self.assessments[-1] if self.assessments else None

    def judged(self, lens: str) -> bool:
        """Whether the safety or harm lens applies: the latest rating is medium or higher."""
        latest = self.latest_assessment()
        if latest is None:
            return False
        level = latest.safety if lens == "safety_wellbeing" else latest.harm
        return level in self.policy.ratings.judged_levels

    def failures(self) -> list[FailureFact]:
        """The unacceptable failures to comply, in the order they happened: missed
        appointments without an acceptable reason and failed requirements. Empty under a
        disposal whose route enforces neither (remand, out-of-court cases)."""
        if not self.profile.failures:
            return []
        found = [FailureFact(m.id, m.pos, m.t, m.d, "missed_appointment", m.reason)
                 for m in self.missed if not m.acceptable]
        found += [FailureFact(r.id, r.pos, r.t, r.d, "requirement", r.requirement)
                  for r in self.req_failures]
        found.sort(key=_BY_TIME)
        return found

    def counted_contacts(self) -> list[Attend]:
        kinds = self.policy.contacts.counted_kinds
        return [a for a in self.attended if a.kind in kinds]

    def counted_days(self) -> list[int]:
        return sorted(a.d for a in self.counted_contacts())
