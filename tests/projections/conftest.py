"""Helpers for the read-model tests: in-memory case histories built from real event classes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import structlog

from events.catalogue import parse_event
from events.envelope import RecordedEvent
from projections.asat import AsAt
from projections.aspire import ObligationView, StageView
from projections.record import CaseRecord, fold
from projections.views import CaseViews, evaluate_all
from tests.support import run_cli
from tracker.bootstrap import App
from tracker.domain.case import fold as fold_state
from tracker.domain.commands import RecordEvent
from tracker.domain.decide import decide
from tracker.domain.policy import Policy, build_policy, default_policy
from tracker.edges.cli import context as cli_context
from tracker.kernel import logging as tlog
from tracker.kernel.errors import RuleViolation

Day = str | date
DECIDED_AT = datetime(2026, 11, 2, 12, tzinfo=UTC)
"""The server clock the write-side checks in these tests run at."""


def day_of(value: Day) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def moment(value: Day, hour: int = 10) -> datetime:
    d = day_of(value)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


class History:
    """One case's events, built in memory in the order they are recorded."""

    def __init__(self, case_id: str = "CS-T1", start: Day = "2026-01-05",
                 policy: Policy | None = None, **opened: Any) -> None:
        self.case_id = case_id
        self.events: list[RecordedEvent] = []
        self.policy = policy or default_policy()
        data: dict[str, Any] = {
            "child_id": "C-T1", "date_of_birth": "2010-05-17", "disposal_type": "yro",
            "route": "court", "start_date": day_of(start).isoformat(),
            "expected_end_date": None, "intervention_level": "standard",
            "service": "YJS-T", "team": "TEAM-A",
        }
        data.update(opened)
        self.opened = self.add("case_opened", data, start, hour=9)

    def add(self, event_type: str, data: dict[str, Any], day: Day, *, hour: int = 10,
            recorded: datetime | None = None, event_id: UUID | None = None,
            by: tuple[str, str] = ("P-TEST01", "practitioner")) -> RecordedEvent:
        """Record one event; ``by`` is the (user, role) the envelope names."""
        event = parse_event(event_type, data)
        occurred = moment(day, hour)
        position = len(self.events) + 1
        rec = RecordedEvent(
            position=position, event_id=event_id or uuid4(), stream_id=self.case_id,
            stream_version=position, type=event.type, schema_version=type(event).version,
            occurred_at=occurred, recorded_at=recorded or occurred, recorded_by=by[0],
            recorded_role=by[1], correlation_id="test", event=event, prev_hash="",
            hash="",
        )
        self.events.append(rec)
        return rec

    # -- shorthands ------------------------------------------------------------------
    def allocate(self, day: Day, practitioner: str = "P-1", *, manager: str | None = "M-1",
                 team: str | None = "TEAM-A", agency: str = "yot",
                 role: str = "case_manager") -> RecordedEvent:
        return self.add("case_manager_allocated", {
            "practitioner_id": practitioner, "agency": agency, "role": role, "team": team,
            "manager_id": manager}, day, hour=9)

    def end_allocation(self, day: Day, practitioner: str = "P-1",
                       reason: str = "reallocated") -> RecordedEvent:
        return self.add("case_manager_allocation_ended", {
            "practitioner_id": practitioner, "role": "case_manager", "reason": reason}, day,
            hour=9)

    def assess(self, day: Day, *, safety: str = "low", harm: str = "low", **flags: Any
               ) -> RecordedEvent:
        data = {"kind": "initial", "likelihood_of_reoffending": "medium",
                "safety_and_wellbeing": safety, "risk_of_serious_harm": harm,
                "strengths_recorded": True, "child_involved": True,
                "parent_carer_involved": True, "victim_considered": True,
                "other_agencies_information_used": True}
        data.update(flags)
        return self.add("assessment_completed", data, day)

    def plan(self, day: Day, *, revised: bool = False, domains: tuple[str, ...] = ("desistance",),
             **flags: Any) -> RecordedEvent:
        data = {"objectives": [{"domain": d, "description": "An objective.",
                                "target_date": (day_of(day) + timedelta(days=90)).isoformat()}
                               for d in domains],
                "contingency_for_safety": True, "contingency_for_risk": True,
                "child_involved": True, "parent_carer_involved": True}
        data.update(flags)
        return self.add("plan_revised" if revised else "plan_agreed", data, day)

    def attend(self, day: Day, *, kind: str = "office", participation: int = 3,
               hour: int = 11, **extra: Any) -> RecordedEvent:
        return self.add("contact_attended", {"kind": kind, "participation": participation,
                                             **extra}, day, hour=hour)

    def miss(self, day: Day, *, acceptable: bool = False, reason: str = "no_reason_given",
             kind: str = "office") -> RecordedEvent:
        return self.add("contact_missed", {"kind": kind, "acceptable": acceptable,
                                           "reason": reason}, day, hour=11)

    def follow_up(self, missed: RecordedEvent, day: Day) -> RecordedEvent:
        return self.add("missed_contact_followed_up", {
            "missed_event_id": str(missed.event_id), "method": "phone",
            "child_reached": True}, day, hour=15)

    def warn(self, failure: RecordedEvent, day: Day) -> RecordedEvent:
        return self.add("warning_issued", {"failure_event_id": str(failure.event_id)}, day,
                        hour=16)

    def review(self, day: Day, *, changed: tuple[str, ...] = (), adjusted: bool = False,
               child: bool = True, trigger: str = "scheduled") -> RecordedEvent:
        return self.add("review_completed", {
            "trigger": trigger, "changed_domains": list(changed), "plan_adjusted": adjusted,
            "child_involved": child}, day, hour=14)

    def change(self, day: Day, domains: tuple[str, ...] = ("desistance",)) -> RecordedEvent:
        return self.add("significant_change_noted", {"domains": list(domains)}, day)

    def transition(self, day: Day, kind: str, **flags: Any) -> RecordedEvent:
        data = {"kind": kind, "information_shared": True, "handover_meeting_held": True,
                "accommodation_arranged": True}
        data.update(flags)
        return self.add("transition_completed", data, day, hour=12)

    def close(self, day: Day) -> RecordedEvent:
        return self.add("case_closed", {"reason": "order_completed"}, day, hour=17)

    # -- the write side ------------------------------------------------------------------
    def decide(self, event_type: str, data: dict[str, Any], day: Day) -> None:
        """What ``decide`` says to recording this now (at 16:00 that day): raises a refusal."""
        command = RecordEvent(case_id=self.case_id, event_type=event_type, data=data,
                              occurred_at=moment(day, 16))
        decide(fold_state(self.case_id, self.events), command, DECIDED_AT, self.policy)

    def refused(self, event_type: str, data: dict[str, Any], day: Day) -> RuleViolation:
        """The refusal ``decide`` gives (the test fails if it accepts)."""
        with pytest.raises(RuleViolation) as err:
            self.decide(event_type, data, day)
        return err.value

    def accepted(self, event_type: str, data: dict[str, Any], day: Day) -> RecordedEvent:
        """Decide, then record it (the test fails if it is refused)."""
        self.decide(event_type, data, day)
        return self.add(event_type, data, day, hour=16)

    # -- reading ---------------------------------------------------------------------
    def record(self) -> CaseRecord:
        return fold(self.case_id, self.events)

    def views(self, on: Day, policy: Policy | None = None) -> CaseViews:
        return evaluate_all(self.record(), AsAt.end_of(day_of(on)), policy or self.policy)

    def stage(self, on: Day, stage: str) -> StageView:
        return self.views(on).aspire["stages"][stage]


def obligation(stage: StageView, kind: str) -> ObligationView:
    found = [o for o in stage["obligations"] if o["kind"] == kind]
    assert found, f"no {kind} obligation in {stage}"
    return found[-1]


@pytest.fixture
def history() -> History:
    return History()


@pytest.fixture
def policy() -> Policy:
    return default_policy()


def policy_with(**sections: Any) -> Policy:
    return build_policy(sections)


@pytest.fixture
def cli(app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Iterator[Callable[..., tuple[int, str, str]]]:
    """Run ``tracker ARGS`` in-process against the test's app: (exit code, stdout, stderr)."""
    monkeypatch.setenv("TRACKER_USER", "M-CLI01")
    monkeypatch.setenv("TRACKER_ROLE", "manager")
    saved = structlog.get_config()
    tlog.configure("INFO", json=True)  # logs to stderr, as the installed CLI does

    def run(*args: str) -> tuple[int, str, str]:
        cli_context.set_app(app)  # main() closes it afterwards: its engine simply reconnects
        return run_cli(monkeypatch, capsys, *args)

    yield run
    structlog.configure(**saved)

