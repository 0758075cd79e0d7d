"""Disposal routes through the write door and the projector, on SQLite and PostgreSQL: a
referral order from sentence through panel, contract and progress panels, and a youth
conditional caution with a failed condition. The clock is 2 November 2026."""

from __future__ import annotations

from typing import Any

import pytest

from projections import queries
from projections.projector import Projector
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.domain.policy import build_policy
from tracker.kernel.errors import RuleViolation

ROLES = ["child", "parent_carer", "panel_member", "yot_officer"]


def _alerts(app: App, case_id: str) -> set[tuple[str, str]]:
    Projector(app).catch_up()
    return {(a["rule"], a["subject"]) for a in queries.list_alerts(app)
            if a["case_id"] == case_id}


def _panel(app: App, kind: str, day: str) -> None:
    record(app, "CS-RO1", "panel_held", {"kind": kind, "attendee_roles": ROLES,
                                         "victim_views_presented": kind == "initial"}, at(day))


def test_a_referral_order_from_sentence_to_progress_panels(app: App) -> None:
    open_case(app, "CS-RO1", disposal_type="referral_order")
    # Initial panel and contract due 2 February: both overdue now.
    assert {("panel_overdue", "initial_panel"), ("contract_not_agreed", "contract")} <= (
        _alerts(app, "CS-RO1"))
    _panel(app, "initial", "2026-01-28")
    record(app, "CS-RO1", "contract_agreed", {"objectives": [
        {"domain": "desistance", "description": "Repair the damage done.",
         "target_date": "2026-06-30"}]}, at("2026-01-28", 11))
    rules = _alerts(app, "CS-RO1")
    assert ("contract_not_agreed", "contract") not in rules
    assert ("panel_overdue", "progress_panel") in rules   # first progress panel due 28 April
    for day in ("2026-04-20", "2026-07-15", "2026-10-12"):
        _panel(app, "progress", day)
    assert not {r for r, _s in _alerts(app, "CS-RO1")} & {"panel_overdue",
                                                          "contract_not_agreed"}
    missed = record(app, "CS-RO1", "contact_missed", {
        "kind": "office", "acceptable": False, "reason": "no_reason_given"},
        at("2026-10-20"))
    with pytest.raises(RuleViolation, match=r"referral order \(referral_order\)"):
        record(app, "CS-RO1", "warning_issued",
               {"failure_event_id": str(missed[0].event_id)}, at("2026-10-21"))
    view: Any = queries.case_view(app, "CS-RO1")
    assert view["enforcement"]["panel_due"] == [str(missed[0].event_id)]
    assert view["aspire"]["months"][0]["from"] == "2026-01-28"


def test_a_conditional_caution_with_a_failed_condition(app: App) -> None:
    open_case(app, "CS-YCC1", disposal_type="youth_conditional_caution",
              route="out_of_court", expected_end_date="2026-04-30")
    record(app, "CS-YCC1", "condition_set", {"condition_id": "C1", "kind": "reparation",
                                             "deadline": "2026-03-01"}, at("2026-01-05", 11))
    failed = record(app, "CS-YCC1", "condition_failed",
                    {"condition_id": "C1", "reasonable_excuse": False}, at("2026-03-02"))
    Projector(app).catch_up()
    view: Any = queries.case_view(app, "CS-YCC1")
    assert view["enforcement"]["prosecution_decision_due"] == [str(failed[0].event_id)]
    record(app, "CS-YCC1", "prosecution_decided", {
        "failure_event_id": str(failed[0].event_id), "decision": "no_further_action",
        "decided_by": "police"}, at("2026-03-09"))
    view = queries.case_view(app, "CS-YCC1")
    assert view["enforcement"]["prosecution_decision_due"] == []
    assert view["enforcement"]["conditions"][0]["prosecution_decision"] == "no_further_action"
    rules = {r for r, _s in _alerts(app, "CS-YCC1")}
    assert not rules & {"contact_shortfall", "review_overdue", "first_appointment_overdue",
                        "breach_due"}


def test_a_referral_orders_failure_panel_and_final_panel(app: App) -> None:
    """Expected end 30 October; a failure on 1 October needs a progress panel by 15 October
    (10 working days). On 2 November both are overdue; the panels clear both alerts."""
    open_case(app, "CS-RO1", disposal_type="referral_order", expected_end_date="2026-10-30")
    _panel(app, "initial", "2026-01-28")
    record(app, "CS-RO1", "contract_agreed", {"objectives": [
        {"domain": "desistance", "description": "Repair the damage done.",
         "target_date": "2026-06-30"}]}, at("2026-01-28", 11))
    for day in ("2026-04-20", "2026-07-15"):
        _panel(app, "progress", day)
    missed = record(app, "CS-RO1", "contact_missed", {
        "kind": "office", "acceptable": False, "reason": "no_reason_given"},
        at("2026-10-01"))
    failure = str(missed[0].event_id)
    rules = _alerts(app, "CS-RO1")
    assert {("panel_after_failure_overdue", f"failure_panel:{failure}"),
            ("final_panel_overdue", "final_panel")} <= rules
    view: Any = queries.case_view(app, "CS-RO1")
    [route] = view["enforcement"]["panels_after_failure"]
    assert (route["failure_event_id"], route["due"], route["status"]) == (
        failure, "2026-10-15", "overdue")
    _panel(app, "progress", "2026-10-14")
    view = queries.case_view(app, "CS-RO1")
    assert view["enforcement"]["panels_after_failure"][0]["status"] == "done_on_time"
    _panel(app, "final", "2026-10-29")
    assert not {r for r, _s in _alerts(app, "CS-RO1")} & {
        "panel_after_failure_overdue", "final_panel_overdue", "panel_overdue"}


def test_home_visits_count_where_the_profile_expects_them(app: App) -> None:
    """With a service's policy of a home visit every 3 months on a YRO from 5 January, the
    period 5 July to 4 October had none: overdue on 2 November; never on the defaults."""
    open_case(app, "CS-HV1")
    for day in ("2026-02-10", "2026-05-12"):
        record(app, "CS-HV1", "contact_attended", {"kind": "home_visit", "participation": 3},
               at(day))
    assert "home_visit_overdue" not in {r for r, _s in _alerts(app, "CS-HV1")}
    app.extras["tracker.domain.policy"] = build_policy(
        {"disposals": {"yro": {"home_visit_every_months": 3}}})
    Projector(app).rebuild()
    assert ("home_visit_overdue", "home_visit:3") in _alerts(app, "CS-HV1")
