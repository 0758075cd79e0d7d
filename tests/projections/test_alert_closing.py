"""A manager closes an alert by hand: it stays closed while its condition holds, until the
review date the manager set or until the condition has ended and come back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from events.envelope import Actor
from projections import queries
from projections.alerts import AlertView
from projections.projector import Projector
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.kernel.errors import AlertNotFound, InvalidInput

MANAGER = Actor("M-TEST", "manager")


def no_cm_alerts(app: App) -> list[AlertView]:
    rows = queries.list_alerts(app, open_only=False)
    return [a for a in rows if a["rule"] == "no_case_manager"]


def test_closed_alert_is_not_raised_again_until_its_condition_ends(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    projector = Projector(app)
    open_case(app, "CS-1", start_date="2026-10-01")  # and no case manager is allocated
    projector.catch_up()
    [alert] = no_cm_alerts(app)
    assert alert["status"] == "open"

    closed = queries.close_alert(app, alert["alert_id"], note="Covered by duty officer",
                                 actor=MANAGER, review_on=date(2026, 12, 31))
    assert (closed["status"], closed["closed_by"]) == ("resolved", "M-TEST")
    assert closed["close_note"] == "Covered by duty officer" and closed["closed_at"]
    again = queries.close_alert(app, alert["alert_id"], note="twice", actor=MANAGER,
                                review_on=date(2026, 12, 1))
    assert again["close_note"] == "Covered by duty officer"  # idempotent

    # The condition still holds: new events and the time-based sweep do not re-raise it.
    record(app, "CS-1", "contact_attended", {"kind": "phone", "participation": 3},
           at("2026-10-20"))
    projector.catch_up()
    projector.sweep(clock.now())
    assert [a["status"] for a in no_cm_alerts(app)] == ["resolved"]

    # A case manager is allocated: the condition ends (the closed alert remembers it)...
    record(app, "CS-1", "case_manager_allocated", {"practitioner_id": "P-1", "agency": "yot",
           "role": "case_manager"}, at("2026-10-21"))
    record(app, "CS-1", "case_manager_allocation_ended", {"practitioner_id": "P-1",
           "role": "case_manager", "reason": "left_service"}, clock.now() - timedelta(hours=1))
    projector.catch_up()
    assert [a["status"] for a in no_cm_alerts(app)] == ["resolved"]  # within the grace days
    # ...and when it holds again after the grace period, a new alert is raised.
    clock.set(clock.now() + timedelta(days=7))
    projector.sweep(clock.now())
    alerts = sorted(no_cm_alerts(app), key=lambda a: a["raise_count"])
    assert [(a["status"], a["raise_count"]) for a in alerts] == [("resolved", 1), ("open", 2)]


def test_closing_needs_a_note_a_review_date_and_a_real_alert(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    soon = clock.now().date() + timedelta(days=7)
    with pytest.raises(InvalidInput, match="note"):
        queries.close_alert(app, "x", note="  ", actor=MANAGER, review_on=soon)
    with pytest.raises(AlertNotFound):
        queries.close_alert(app, "no-such-alert", note="n", actor=MANAGER, review_on=soon)
    with pytest.raises(InvalidInput, match="review_on") as missing:
        queries.close_alert(app, "x", note="n", actor=MANAGER, review_on=None)
    assert missing.value.problems[0].reason.startswith("is required")
    for bad in (clock.now().date(), clock.now().date() + timedelta(days=91)):
        with pytest.raises(InvalidInput) as refused:
            queries.close_alert(app, "x", note="n", actor=MANAGER, review_on=bad)
        # the window is the policy's: [alert_review] max_days = 90
        assert refused.value.problems[0].reason == "must be after today and within 90 days"


def test_a_resolved_alert_comes_back_on_its_review_date_if_it_still_holds(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    projector = Projector(app)
    open_case(app, "CS-2", start_date="2026-10-01")  # no case manager: the condition holds
    projector.catch_up()
    [alert] = no_cm_alerts(app)
    review = clock.now().date() + timedelta(days=10)
    queries.close_alert(app, alert["alert_id"], note="Duty officer covers for now",
                        actor=MANAGER, review_on=review)
    clock.set(clock.now() + timedelta(days=9))
    projector.sweep(clock.now())
    assert [a["status"] for a in no_cm_alerts(app)] == ["resolved"]  # before the review date
    clock.set(clock.now() + timedelta(days=1))
    projector.sweep(clock.now())
    alerts = sorted(no_cm_alerts(app), key=lambda a: a["raise_count"])
    assert [(a["status"], a["raise_count"]) for a in alerts] == [("resolved", 1), ("open", 2)]
    history = queries.alert_history(app, alerts[1]["alert_id"])
    assert [(h["raise_count"], h["review_on"]) for h in history] == [
        (1, review.isoformat()), (2, None)]
