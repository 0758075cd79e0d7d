"""The acts of issue 12 §1 that had no browser test yet, in a real headless Chromium
(Debian's) with JavaScript off, against the demo: a manager authorises breach proceedings,
records management oversight, agrees a change of intervention level, countersigns an
assessment and returns another, and accepts and rejects transfers; a practitioner records a
failed requirement, sets and fails a caution condition, and changes the child's label; an
admin changes a user's teams (chosen from a list) and sees it in the account log. Each is
driven through the real page from the link a person would follow, and leaves screenshots.

The facts an act needs first (an earlier failure, a transfer request) are recorded through
``CaseService``, as the other browser tests do: the act under test is the page's."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from events.envelope import Actor
from tests.web.live import error_text, fill_date
from tests.web.test_browser import Demo, shot, sign_in

# The fixtures, re-exported so this module gets its own (module-scoped) demo and browser.
from tests.web.test_browser import demo as demo
from tests.web.test_browser_acts import banner_focused, local, save
from tests.web.test_browser_acts import no_js as no_js
from tests.web.test_browser_route_acts import open_case
from tracker.domain.commands import RecordEvent
from tracker.kernel.clock import LONDON
from tracker.services.accounts import Accounts
from tracker.services.cases import CaseService
from tracker.services.synthetic.demo import TEAMS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def recorder(demo: Demo, case_id: str, who: Actor | None = None) -> Any:
    """Record facts on ``case_id`` through the one door, ``days_ago`` before now."""
    prac = demo.logins["practitioner"]
    actor = who or Actor(prac.user_id, "practitioner")
    service = CaseService.of(demo.app)
    today = demo.app.clock.now().astimezone(LONDON).replace(hour=10, minute=0)

    def rec(event_type: str, data: dict[str, Any], days_ago: int) -> str:
        out = service.record(RecordEvent(case_id=case_id, event_type=event_type, data=data,
                                         occurred_at=today - timedelta(days=days_ago)),
                             actor=actor, correlation_id="browser-test")
        return str(out[0].event_id)

    return rec


def yro_case(demo: Demo, case_id: str, team: str | None = None,
             practitioner: str | None = None, manager: str | None = None) -> Any:
    """A YRO case opened 60 days ago and allocated (by default the demo practitioner's, with
    the demo manager as manager); returns its recorder."""
    prac = demo.logins["practitioner"]
    team = team or prac.teams[0]
    practitioner = practitioner or prac.user_id
    rec = recorder(demo, case_id, Actor(practitioner, "practitioner"))
    start = (demo.app.clock.now().astimezone(LONDON) - timedelta(days=60)).date().isoformat()
    rec("case_opened", {"child_id": f"C-{case_id}", "disposal_type": "yro", "route": "court",
                        "start_date": start, "intervention_level": "standard",
                        "service": "YJS-DEMO", "team": team}, 60)
    rec("case_manager_allocated", {"practitioner_id": practitioner, "agency": "yot",
                                   "role": "case_manager", "team": team,
                                   "manager_id": manager or demo.logins["manager"].user_id}, 60)
    return rec


def manager_act(page: Any, demo: Demo, case_id: str, title: str) -> None:
    """Open the case as its manager and follow the act's link from the manager's acts."""
    page.goto(f"{demo.url}/cases/{case_id}")
    page.locator("#manager-acts").get_by_role("link", name=title).click()
    page.wait_for_load_state()


def stored_last(demo: Demo, case_id: str) -> tuple[str, str, str]:
    last = demo.app.store.read_stream(case_id)[-1]
    return last.type, last.recorded_by, last.recorded_role


def test_manager_authorises_breach_proceedings(demo: Demo, no_js: Any) -> None:
    rec = yro_case(demo, "CS-MA-BREACH")
    failure = rec("contact_missed", {"kind": "office", "acceptable": False,
                                     "reason": "no_reason_given"}, 10)
    rec("breach_initiated", {"failure_event_ids": [failure], "serious_failure": True}, 9)
    page = no_js.new_page()
    sign_in(page, demo, "manager")
    manager_act(page, demo, "CS-MA-BREACH", "Authorise breach proceedings")
    page.click("#act-form button[type=submit]")  # nothing chosen
    page.wait_for_load_state()
    assert error_text(page, "breach_event_id") == "is required"
    page.select_option("#breach_event_id", index=1)
    page.fill("#note", "Serious failure; proceedings authorised.")
    shot(page, "c01-manager-authorise-breach")
    save(page)
    banner_focused(page, "Saved: Authorise breach proceedings.")
    assert "Breach authorised by a manager" in page.locator("#timeline").inner_text()
    assert stored_last(demo, "CS-MA-BREACH") == (
        "breach_authorised", demo.logins["manager"].user_id, "manager")
    shot(page, "c02-manager-breach-authorised")
    page.close()


def test_manager_declines_breach_proceedings(demo: Demo, no_js: Any) -> None:
    rec = yro_case(demo, "CS-MA-DECLINE")
    failure = rec("contact_missed", {"kind": "office", "acceptable": False,
                                     "reason": "no_reason_given"}, 10)
    rec("breach_initiated", {"failure_event_ids": [failure], "serious_failure": True}, 9)
    page = no_js.new_page()
    sign_in(page, demo, "manager")
    manager_act(page, demo, "CS-MA-DECLINE", "Decline breach proceedings")
    page.select_option("#breach_event_id", index=1)
    page.click("#act-form button[type=submit]")  # no reason: an error beside it
    page.wait_for_load_state()
    assert error_text(page, "reason") == "is required"
    page.fill("#reason", "Engaging again since the family support started.")
    shot(page, "c22-manager-decline-breach")
    save(page)
    banner_focused(page, "Saved: Decline breach proceedings.")
    assert "Breach declined by a manager" in page.locator("#timeline").inner_text()
    assert stored_last(demo, "CS-MA-DECLINE") == (
        "breach_declined", demo.logins["manager"].user_id, "manager")
    page.close()


def test_manager_records_oversight_with_an_action(demo: Demo, no_js: Any) -> None:
    yro_case(demo, "CS-MA-OVER")
    page = no_js.new_page()
    sign_in(page, demo, "manager")
    manager_act(page, demo, "CS-MA-OVER", "Record management oversight")
    page.select_option("#category", index=1)
    page.fill("#note", "Reviewed the plan with the practitioner.")
    page.fill("#action", "Book a home visit with the carer.")
    due = (demo.app.clock.now().astimezone(LONDON) + timedelta(days=7)).date().isoformat()
    fill_date(page, "action_due", due)
    shot(page, "c03-manager-oversight-form")
    save(page)
    banner_focused(page, "Saved: Record management oversight.")
    assert "Management oversight —" in page.locator("#timeline").inner_text()
    assert stored_last(demo, "CS-MA-OVER")[0] == "management_oversight_recorded"
    shot(page, "c04-manager-oversight-saved")

    sign_in(page, demo, "practitioner")  # the action is the practitioner's to do
    page.goto(f"{demo.url}/cases/CS-MA-OVER")
    page.get_by_role("link", name="Mark an oversight action done").click()
    page.wait_for_load_state()
    page.select_option("#oversight_id", index=1)
    shot(page, "c24-oversight-action-done-form")
    save(page)
    banner_focused(page, "Saved: Mark an oversight action done.")
    assert stored_last(demo, "CS-MA-OVER")[0] == "oversight_action_completed"
    page.close()


def test_manager_agrees_a_change_of_intervention_level(demo: Demo, no_js: Any) -> None:
    yro_case(demo, "CS-MA-LEVEL")
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    page.goto(f"{demo.url}/cases/CS-MA-LEVEL")
    page.get_by_role("link", name="Change the intervention level").click()
    page.wait_for_load_state()
    page.select_option("#intervention_level", "intensive")
    page.select_option("#reason", "risk_increased")
    save(page)
    banner_focused(page, "Saved: Change the intervention level.")

    sign_in(page, demo, "manager")
    manager_act(page, demo, "CS-MA-LEVEL", "Agree a change of intervention level")
    page.select_option("#change_event_id", index=1)
    shot(page, "c05-manager-agree-level")
    save(page)
    banner_focused(page, "Saved: Agree a change of intervention level.")
    assert "Change of intervention level agreed" in page.locator("#timeline").inner_text()
    assert stored_last(demo, "CS-MA-LEVEL") == (
        "intervention_level_change_agreed", demo.logins["manager"].user_id, "manager")
    shot(page, "c06-manager-level-agreed")
    page.close()


HIGH_RISK = {"kind": "initial", "likelihood_of_reoffending": "high",
             "safety_and_wellbeing": "medium", "risk_of_serious_harm": "high",
             "strengths_recorded": True, "child_involved": True, "parent_carer_involved": True,
             "victim_considered": True, "other_agencies_information_used": True}


def test_manager_countersigns_one_document_and_returns_another(demo: Demo, no_js: Any) -> None:
    signed = yro_case(demo, "CS-MA-SIGN")("assessment_completed", HIGH_RISK, 5)
    returned = yro_case(demo, "CS-MA-RETURN")("assessment_completed", HIGH_RISK, 5)
    demo.workers.join()
    page = no_js.new_page()
    sign_in(page, demo, "manager")
    page.goto(f"{demo.url}/cases/CS-MA-SIGN")
    page.locator(f"a[href='/cases/CS-MA-SIGN/countersign/{signed}']").first.click()
    page.wait_for_load_state()
    shot(page, "c07-manager-countersign-form")
    save(page)
    banner_focused(page, "Saved: Countersign")
    assert stored_last(demo, "CS-MA-SIGN")[0] == "document_countersigned"
    shot(page, "c08-manager-countersigned")

    page.goto(f"{demo.url}/cases/CS-MA-RETURN")
    page.locator(f"a[href='/cases/CS-MA-RETURN/return/{returned}']").first.click()
    page.wait_for_load_state()
    page.click("#act-form button[type=submit]")  # no reason: an error beside it
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    page.select_option("#reason", index=1)
    shot(page, "c09-manager-return-form")
    save(page)
    banner_focused(page, "Saved: Return for revision")
    assert stored_last(demo, "CS-MA-RETURN")[0] == "document_returned"
    assert "Returned for revision" in page.locator("#timeline").inner_text()
    shot(page, "c10-manager-returned")
    page.close()


def test_manager_accepts_one_transfer_and_rejects_another(demo: Demo, no_js: Any) -> None:
    mine = demo.logins["manager"].teams[0]
    other = next(t for t in TEAMS if t != mine)
    manager, practitioners = TEAMS[other]
    for case_id in ("CS-MA-XFER1", "CS-MA-XFER2"):
        rec = yro_case(demo, case_id, team=other, practitioner=practitioners[0],
                       manager=manager)
        rec("transfer_requested", {"transfer_id": f"T-{case_id}", "kind": "full",
                                   "to_team": mine, "reason": "synthetic: the family moved"}, 1)
    page = no_js.new_page()
    sign_in(page, demo, "manager")
    page.goto(f"{demo.url}/cases/CS-MA-XFER1")
    page.get_by_role("link", name="Accept a transfer").click()
    page.wait_for_load_state()
    shot(page, "c11-manager-accept-transfer")
    save(page)
    banner_focused(page, "Saved: Accept a transfer")
    assert stored_last(demo, "CS-MA-XFER1")[0] == "transfer_accepted"
    shot(page, "c12-transfer-accepted")

    page.goto(f"{demo.url}/cases/CS-MA-XFER2")
    page.get_by_role("link", name="Reject a transfer").click()
    page.wait_for_load_state()
    page.click("#act-form button[type=submit]")  # no reason: an error beside it
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    page.fill("#reason", "synthetic: no capacity in the team this month")
    shot(page, "c13-manager-reject-transfer")
    save(page)
    # The case stays with the sending team, so the manager lands on their dashboard (the
    # case page is no longer theirs to read), with the banner there.
    assert "/manager?recorded=transfer-reject" in page.url
    banner_focused(page, "Saved: Reject a transfer.")
    assert stored_last(demo, "CS-MA-XFER2")[0] == "transfer_rejected"
    shot(page, "c23-transfer-rejected")
    page.close()


def test_practitioner_records_a_failed_requirement(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_case(page, demo, "CS-PR-REQ", "yro")
    page.get_by_role("link", name="Record a failed requirement").click()
    page.wait_for_load_state()
    page.select_option("#requirement", "curfew")
    fill_date(page, "occurred_at", local(demo, 0, 9))
    shot(page, "c14-requirement-failed-form")
    save(page)
    banner_focused(page, "Saved: Record a failed requirement.")
    assert stored_last(demo, "CS-PR-REQ")[0] == "requirement_failed"
    shot(page, "c15-requirement-failed-saved")
    page.close()


def test_practitioner_sets_and_fails_a_caution_condition(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_case(page, demo, "CS-PR-COND", "youth_conditional_caution")
    page.get_by_role("link", name="Record the joint decision").click()
    page.wait_for_load_state()
    for agency in ("yot", "police", "social_care"):
        page.check(f"input[name=agencies_present][value={agency}]")
    page.check("input[name=proportionate_assessment][value=yes]")
    shot(page, "c25-joint-decision-form")
    save(page)
    banner_focused(page, "Saved: Record the joint decision.")
    assert stored_last(demo, "CS-PR-COND")[0] == "joint_decision_made"
    due = (demo.app.clock.now().astimezone(LONDON) + timedelta(days=28)).date().isoformat()
    for condition in ("C1", "C2"):
        page.get_by_role("link", name="Set a caution condition").click()
        page.wait_for_load_state()
        page.fill("#condition_id", condition)
        page.select_option("#kind", index=1)
        fill_date(page, "deadline", due)
        shot(page, "c16-condition-form")
        save(page)
        banner_focused(page, "Saved: Set a caution condition.")
    page.get_by_role("link", name="Record a condition completed").click()
    page.wait_for_load_state()
    page.select_option("#condition_id", "C2")
    shot(page, "c26-condition-completed-form")
    save(page)
    banner_focused(page, "Saved: Record a condition completed.")
    page.get_by_role("link", name="Record a condition failed").click()
    page.wait_for_load_state()
    page.select_option("#condition_id", "C1")
    page.check("input[name=reasonable_excuse][value=no]")
    shot(page, "c17-condition-failed-form")
    save(page)
    banner_focused(page, "Saved: Record a condition failed.")
    assert stored_last(demo, "CS-PR-COND")[0] == "condition_failed"
    page.get_by_role("link", name="Record the prosecution decision").click()
    page.wait_for_load_state()
    page.select_option("#failure_event_id", index=1)
    page.select_option("#decision", index=1)
    page.select_option("#decided_by", "cps")
    shot(page, "c27-prosecution-form")
    save(page)
    banner_focused(page, "Saved: Record the prosecution decision.")
    assert stored_last(demo, "CS-PR-COND")[0] == "prosecution_decided"
    page.close()


def test_practitioner_records_a_referral_back_to_court(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_case(page, demo, "CS-PR-REFER", "referral_order")
    recorder(demo, "CS-PR-REFER")("panel_held", {
        "kind": "initial", "attendee_roles": ["child", "parent_carer", "panel_member"],
        "victim_views_presented": True}, 0)
    page.goto(f"{demo.url}/cases/CS-PR-REFER")
    page.get_by_role("link", name="Record a referral back to court").click()
    page.wait_for_load_state()
    page.select_option("#reason", index=1)
    shot(page, "c28-refer-back-form")
    save(page)
    banner_focused(page, "Saved: Record a referral back to court.")
    assert stored_last(demo, "CS-PR-REFER")[0] == "referred_back_to_court"
    page.close()


def test_practitioner_requests_a_transfer(demo: Demo, no_js: Any) -> None:
    # The form offers the service's teams that have staff: the demo's second team has its
    # manager's login (demo.manager_south).
    mine = demo.logins["practitioner"].teams[0]
    other = next(t for t in TEAMS if t != mine)
    assert Accounts(demo.app).get(TEAMS[other][0]) is not None
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_case(page, demo, "CS-PR-XFER", "yro")
    page.get_by_role("link", name="Request a transfer").click()
    page.wait_for_load_state()
    page.check("input[name=kind][value=full]")
    page.select_option("#to_team", other)
    page.fill("#reason", "synthetic: the family moved")
    shot(page, "c29-transfer-request-form")
    save(page)
    banner_focused(page, "Saved: Request a transfer.")
    assert stored_last(demo, "CS-PR-XFER")[0] == "transfer_requested"
    page.close()


def test_practitioner_changes_the_childs_label(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_case(page, demo, "CS-PR-LABEL", "yro")
    header = page.locator("#case-header")
    assert "No label" in header.inner_text()
    header.get_by_role("link", name=re.compile("^Change")).click()
    page.wait_for_load_state()
    page.fill("#child_label", "Child Heron-3")
    shot(page, "c18-label-form")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    banner_focused(page, "Saved: Change the child's label.")
    demo.workers.join()
    page.reload()
    assert "Child Heron-3" in page.locator("#case-header").inner_text()
    page.goto(f"{demo.url}/search?q=heron")
    assert page.locator("#case-index a[href='/cases/CS-PR-LABEL']").count() == 1
    shot(page, "c19-label-found-by-search")
    page.close()


def test_admin_changes_a_users_teams_and_sees_the_account_log(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "admin")
    qa = demo.logins["qa"]
    row = page.locator("#users tr", has_text=qa.username)
    team = next(iter(TEAMS))
    row.locator(f"input[name=teams][value={team}]").check()
    shot(page, "c20-admin-user-teams")
    row.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.locator("#users tr", has_text=qa.username).locator(
        f"input[name=teams][value={team}]").is_checked()
    log = page.locator("#account-log").inner_text()
    assert qa.display_name in log or qa.user_id in log
    shot(page, "c21-admin-account-log")
    page.close()
