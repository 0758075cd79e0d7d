"""Small builders for tests: commands and cases with sensible synthetic defaults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from events.base import STORED
from events.delivery import ContactScheduled
from events.envelope import Actor, Draft
from tests.conftest import TEST_KEY
from tracker.bootstrap import App
from tracker.domain.commands import RecordEvent
from tracker.edges.cli import context
from tracker.services.cases import CaseService

PRACTITIONER = Actor("P-TEST01", "practitioner")


def at(day: str, hour: int = 10) -> datetime:
    """A moment on an ISO date, in UTC."""
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def opened(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "child_id": "C-TEST0001",
        "date_of_birth": "2010-05-17",
        "disposal_type": "yro",
        "route": "court",
        "start_date": "2026-01-05",
        "expected_end_date": "2027-01-04",
        "intervention_level": "enhanced",
        "service": "YJS-TEST",
        "team": "TEAM-A",
    }
    data.update(overrides)
    return data


RECEIVING_MANAGER = Actor("M-TEST02", "manager")
QA = Actor("Q-TEST01", "qa")
OPERATOR_FOR = {"transfer_accepted": RECEIVING_MANAGER, "transfer_rejected": RECEIVING_MANAGER,
                "case_audited": QA}
"""Who records what a practitioner may not (``authorise_operator``): a transfer's answer
is the receiving manager's, an audit QA's."""


def record(app: App, case_id: str, event_type: str, data: dict[str, Any], when: datetime,
           **kwargs: Any) -> list[Any]:
    service = CaseService.of(app)
    command = RecordEvent(case_id=case_id, event_type=event_type, data=data, occurred_at=when,
                          **kwargs)
    actor = OPERATOR_FOR.get(event_type, PRACTITIONER)
    return service.record(command, actor=actor, correlation_id="test")


def open_case(app: App, case_id: str = "CS-TEST1", **overrides: Any) -> list[Any]:
    data = opened(**overrides)
    return record(app, case_id, "case_opened", data, at(data["start_date"]))


def store_unfoldable(app: App, case_id: str, version: int) -> str:
    """Store, straight through the store, a year-1 appointment on ``case_id``: what an older
    build accepted before the date bounds existed (the write side now refuses it), and what
    the read side cannot fold. Returns the event's id."""
    event = ContactScheduled.model_validate(
        {"contact_id": "c-bad", "kind": "office", "scheduled_for": "0001-01-01T00:00:00Z"},
        context=STORED)
    [stored] = app.store.append(case_id, [Draft(event=event, occurred_at=at("2026-02-01"))],
                                expected_version=version, actor=Actor("P-OLD", "practitioner"),
                                correlation_id="old")
    return str(stored.event_id)


def run_cli(monkeypatch: Any, capsys: Any, *args: str) -> tuple[int, str, str]:
    """Run ``tracker ARGS`` in-process, as the installed script does: (exit code, out, err).

    The caller sets the environment (or installs an app) first; this is the shared part.
    """
    import sys

    from tracker.main import cli as main

    monkeypatch.setattr(sys, "argv", ["tracker", *args])
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def as_operator(monkeypatch: Any, app: App, user: str = "AD-CLI01", role: str = "admin"
                ) -> None:
    """Point ``run_cli`` at ``app``'s database, acting as ``user`` in ``role`` (a fresh
    app is built from the environment on the next command)."""
    monkeypatch.setenv("TRACKER_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("TRACKER_MASTER_KEY", TEST_KEY)
    monkeypatch.setenv("TRACKER_USER", user)
    monkeypatch.setenv("TRACKER_ROLE", role)
    context.set_app(None)


def cli_runner(app: App, monkeypatch: Any, capsys: Any, user: str = "P-CLI01",
               role: str = "practitioner") -> Callable[..., tuple[int, str, str]]:
    """``tracker ARGS`` against ``app``'s database as ``user`` in ``role``: each call builds
    a fresh app from the environment, as the installed CLI does, and returns (exit code,
    stdout, stderr) of that command alone (what the test printed before is dropped)."""
    as_operator(monkeypatch, app, user, role)

    def run(*args: str) -> tuple[int, str, str]:
        context.set_app(None)
        capsys.readouterr()
        return run_cli(monkeypatch, capsys, *args)

    return run
