"""A manager's decision in a real headless Chromium (Debian's), JavaScript off, against the
demo: the manager records exceptional circumstances from the case page and the breach-due
alert clears; the practitioner is not offered the act and is refused the form."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from events.envelope import Actor
from tests.web.live import error_text
from tests.web.test_browser import Demo, open_alert_ids, shot, sign_in

# The fixtures, re-exported so this module gets its own (module-scoped) demo and browser.
from tests.web.test_browser import demo as demo
from tests.web.test_browser_acts import no_js as no_js
from tracker.domain.commands import RecordEvent
from tracker.kernel.clock import LONDON
from tracker.services.cases import CaseService

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CASE = "CS-MGRB1"


def breach_due_case(demo: Demo) -> str:
    """A YRO case of the practitioner's team, its manager the demo manager: two warnings,
    then a third unacceptable failure within the warned period (breach due)."""
    prac = demo.logins["practitioner"]
    actor = Actor(prac.user_id, "practitioner")
    service = CaseService.of(demo.app)
    today = demo.app.clock.now().astimezone(LONDON).replace(hour=10, minute=0)

    def rec(event_type: str, data: dict[str, Any], days_ago: int) -> str:
        out = service.record(RecordEvent(case_id=CASE, event_type=event_type, data=data,
                                         occurred_at=today - timedelta(days=days_ago)),
                             actor=actor, correlation_id="browser-test")
        return str(out[0].event_id)

    start = (today - timedelta(days=60)).date().isoformat()
    rec("case_opened", {"child_id": "C-MGRB0001", "disposal_type": "yro", "route": "court",
                        "start_date": start, "intervention_level": "standard",
                        "service": "YJS-DEMO", "team": prac.teams[0]}, 60)
    rec("case_manager_allocated", {"practitioner_id": prac.user_id, "agency": "yot",
                                   "role": "case_manager", "team": prac.teams[0],
                                   "manager_id": demo.logins["manager"].user_id}, 60)
    failure = ""
    for days_ago, warn in ((30, True), (20, True), (10, False)):
        failure = rec("contact_missed", {"kind": "office", "acceptable": False,
                                         "reason": "no_reason_given"}, days_ago)
        if warn:
            rec("warning_issued", {"failure_event_id": failure}, days_ago - 1)
    demo.workers.join()
    return failure


def test_manager_records_exceptional_circumstances_and_breach_due_clears(
        demo: Demo, no_js: Any) -> None:
    third = breach_due_case(demo)
    assert open_alert_ids(demo, CASE, "breach_due"), "the third failure is breach due"
    page = no_js.new_page()

    sign_in(page, demo, "practitioner")
    page.goto(f"{demo.url}/cases/{CASE}")
    assert page.locator("#manager-acts").count() == 0
    refused = page.goto(f"{demo.url}/cases/{CASE}/exceptional-circumstances")
    assert refused is not None and refused.status == 403

    sign_in(page, demo, "manager")
    page.goto(f"{demo.url}/cases/{CASE}")
    shot(page, "m01-manager-case-breach-due")
    page.locator("#manager-acts").get_by_role(
        "link", name="Record exceptional circumstances").click()
    page.wait_for_url(re.compile(rf".*/cases/{CASE}/exceptional-circumstances$"))
    page.click("#act-form button[type=submit]")  # nothing given: errors beside the fields
    assert error_text(page, "note") == "is required"
    page.select_option("#failure_event_id", third)
    page.fill("#note", "Bereavement in the family; supported to re-engage.")
    shot(page, "m02-exceptional-circumstances-form")
    page.click("#act-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/cases/{CASE}\?recorded=exceptional-circumstances$"))
    assert "Saved: Record exceptional circumstances." in page.locator("#notice").inner_text()
    shot(page, "m03-exceptional-circumstances-saved")
    stored = demo.app.store.read_stream(CASE)[-1]
    assert (stored.type, stored.recorded_by, stored.recorded_role) == (
        "exceptional_circumstances_recorded", demo.logins["manager"].user_id, "manager")
    demo.workers.join()
    assert not open_alert_ids(demo, CASE, "breach_due")
