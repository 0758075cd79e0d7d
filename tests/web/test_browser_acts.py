"""Every practitioner act of issue 12 in a real headless Chromium (Debian's), with
JavaScript turned off (the pages must work without it), against the demo as ``tracker
demo`` sets it up. Each test leaves screenshots in ``artifacts/screenshots/``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import missing_server
from tests.web.live import error_text, fill_date
from tests.web.test_browser import (
    ARGS,
    CHROMIUM,
    SHOTS,
    Demo,
    open_alert_ids,
    pick_case,
    shot,
    sign_in,
)

# The demo fixture, re-exported so this module gets its own (module-scoped) demo.
from tests.web.test_browser import demo as demo
from tracker.kernel.clock import LONDON

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def no_js(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A browser with JavaScript disabled: every act must work as plain forms."""
    if not os.path.exists(CHROMIUM):
        missing_server("Chromium", f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-nojs")), executable_path=CHROMIUM,
            headless=True, args=ARGS, viewport={"width": 1280, "height": 900},
            locale="en-GB", timezone_id="Europe/London", java_script_enabled=False,
        )
        context.set_default_timeout(15_000)
        yield context
        context.close()


def local(demo: Demo, days: int = 0, hour: int | None = None) -> str:
    """A ``datetime-local`` value ``days`` from now (UK time)."""
    moment = demo.app.clock.now().astimezone(LONDON) + timedelta(days=days)
    if hour is not None:
        moment = moment.replace(hour=hour, minute=0)
    return moment.strftime("%Y-%m-%dT%H:%M")


def case_manager_shown(page: Any) -> str:
    """The case manager the case page's summary list shows."""
    row = page.locator("#case-header .govuk-summary-list__row", has_text="Case manager")
    text: str = row.locator(".govuk-summary-list__value").inner_text()
    return text.strip()


def banner_focused(page: Any, text: str) -> None:
    """The success banner is at the top, says ``text`` and has the focus (no anchor jump)."""
    notice = page.locator("#notice")
    assert text in notice.inner_text()
    assert "#" not in page.url
    # Chromium focuses an autofocus element at its next rendering step, which may come
    # after the load event: wait for it (this fails if the banner never gets the focus).
    page.wait_for_function("document.activeElement && document.activeElement.id === 'notice'")
    assert notice.bounding_box()["y"] < 400


def open_new_case(page: Any, demo: Demo, case_id: str) -> None:
    """Open a case through the form; it comes back allocated to the opener."""
    page.goto(f"{demo.url}/cases/new")
    page.fill("#case_id", case_id)
    page.fill("#child_id", f"C-{case_id}")
    page.select_option("#disposal_type", "yro")
    page.fill("#service", "YJS-DEMO")
    page.select_option("#team", demo.logins["practitioner"].teams[0])
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?recorded=open$"))


def save(page: Any) -> None:
    page.click("#act-form button[type=submit]")
    page.wait_for_load_state()


def test_follow_up_from_the_alert_clears_the_managers_alert(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    case_id = pick_case(demo)["case_id"]
    rule = "missed_appointment_not_followed_up"
    sign_in(page, demo, "practitioner")
    page.goto(f"{demo.url}/cases/{case_id}/log/missed")
    fill_date(page, "occurred_at", local(demo, -5, 10))
    page.select_option("#kind", "office")
    page.check("input[name=acceptable][value=no]")
    page.select_option("#reason", "no_reason_given")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?recorded=missed$"))
    demo.workers.join()
    raised = open_alert_ids(demo, case_id, rule)
    assert raised, "an unfollowed missed appointment raises the manager's alert"

    page.reload()
    shot(page, "a01-case-with-follow-up-alert")
    page.locator("#case-alerts").get_by_role("link", name="Record the follow-up").first.click()
    page.wait_for_url(re.compile(rf".*/cases/{case_id}/follow-up\?missed=.*"))
    assert page.locator("#missed_event_id option:checked").inner_text().startswith(
        "Office appointment missed")
    page.click("#act-form button[type=submit]")  # nothing chosen: errors beside the fields
    assert error_text(page, "child_reached") == "is required"
    assert page.title().startswith("Error: ")
    shot(page, "a02-follow-up-errors")
    page.select_option("#method", "home_visit")
    page.check("input[name=child_reached][value=yes]")
    page.fill("#note", "Visited; child at home, agreed a new time.")
    save(page)
    banner_focused(page, "Saved: Follow up a missed appointment.")
    assert "followed up by home visit — child reached" in page.locator("#timeline").inner_text()
    shot(page, "a03-follow-up-saved")

    demo.workers.join()
    assert not (open_alert_ids(demo, case_id, rule) & raised), "the follow-up clears it"
    sign_in(page, demo, "manager")
    for alert_id in raised:
        anchor = "alert-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in alert_id)
        assert page.locator(f"#{anchor}").count() == 0
    shot(page, "a04-manager-dashboard-after-follow-up")
    page.close()


def test_open_schedule_and_log_from_the_diary(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    me = demo.logins["practitioner"]
    sign_in(page, demo, "practitioner")
    open_new_case(page, demo, "CS-WEB-DIARY")
    banner_focused(page, "Case opened")
    assert case_manager_shown(page) == me.display_name
    shot(page, "a05-opened-and-allocated")
    page.goto(f"{demo.url}/caseload")
    assert page.locator("#caseload a[href='/cases/CS-WEB-DIARY']").count() == 1  # My cases

    page.goto(f"{demo.url}/cases/CS-WEB-DIARY")
    page.get_by_role("link", name="Schedule an appointment").click()
    page.select_option("#kind", "home_visit")
    fill_date(page, "scheduled_for", local(demo, 1, 10))
    shot(page, "a06-schedule-form")
    save(page)
    banner_focused(page, "Saved: Schedule an appointment.")
    demo.workers.join()
    page.goto(f"{demo.url}/caseload")
    page.get_by_role("link", name=re.compile("My diary")).first.click()
    week = page.locator("#diary-week")
    row = week.locator("tr", has_text="CS-WEB-DIARY")
    assert "Home visit" in row.inner_text()
    shot(page, "a07-diary")
    row.get_by_role("link", name="Attended").click()
    assert page.locator("#kind option:checked").inner_text() == "Home visit"
    fill_date(page, "occurred_at", local(demo))
    page.check("input[name=participation][value='4']")
    save(page)
    banner_focused(page, "Saved: Log a contact.")
    assert "Home visit — participation 4/5" in page.locator("#timeline").inner_text()
    demo.workers.join()
    page.goto(f"{demo.url}/diary")
    assert "CS-WEB-DIARY" not in page.locator("main").inner_text()
    shot(page, "a08-diary-after-logging")
    page.close()


def test_end_and_allocate_a_case_manager(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    me = demo.logins["practitioner"]
    sign_in(page, demo, "practitioner")
    open_new_case(page, demo, "CS-WEB-ALLOC")
    page.get_by_role("link", name="End a case manager's allocation").click()
    page.select_option("#holding", f"{me.user_id}|case_manager")
    page.select_option("#reason", "reallocated")
    save(page)
    banner_focused(page, "Saved: End a case manager's allocation.")
    assert case_manager_shown(page) == "None allocated"
    page.get_by_role("link", name="Allocate a case manager").click()
    assert page.locator("#practitioner_id option:checked").inner_text() == me.display_name
    shot(page, "a09-allocate-form")
    save(page)
    banner_focused(page, "Saved: Allocate a case manager.")
    assert f"{me.display_name} allocated as case manager" in page.locator("#timeline").inner_text()
    assert me.user_id not in page.locator("#timeline").inner_text()  # names, not ids
    shot(page, "a10-allocated")
    page.close()


def test_warning_then_breach_for_a_missed_appointment(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_new_case(page, demo, "CS-WEB-WARN")
    assert page.get_by_role("link", name="Record a warning").count() == 0
    page.goto(f"{demo.url}/cases/CS-WEB-WARN/log/missed")
    page.select_option("#kind", "office")
    page.check("input[name=acceptable][value=no]")
    page.select_option("#reason", "refused")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.get_by_role("link", name="Record a warning").click()
    assert "Office appointment missed" in page.locator("#failure_event_id").inner_text()
    page.select_option("#failure_event_id", index=1)
    shot(page, "a11-warning-form")
    save(page)
    banner_focused(page, "Saved: Record a warning.")
    assert "Warning issued" in page.locator("#timeline li").first.inner_text()
    shot(page, "a12-warning-saved")
    page.get_by_role("link", name="Start breach proceedings").click()
    page.locator("input[name=failure_event_ids]").first.check()
    page.check("input[name=serious_failure]")
    shot(page, "a20-breach-form")
    save(page)
    banner_focused(page, "Saved: Start breach proceedings.")
    assert "Breach proceedings started" in page.locator("#timeline li").first.inner_text()
    shot(page, "a21-breach-saved")
    page.close()


def test_correct_and_retract_entries_from_the_timeline(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_new_case(page, demo, "CS-WEB-CORR")
    for participation in ("2", "3"):
        page.goto(f"{demo.url}/cases/CS-WEB-CORR/log/contact")
        page.select_option("#kind", "office")
        page.check(f"input[name=participation][value='{participation}']")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    entry = page.locator("#timeline li", has_text="Office — participation 2/5")
    entry.get_by_role("link", name=re.compile("^Correct")).click()
    assert "Office — participation 2/5" in page.locator("#original").inner_text()
    assert page.locator("input[name=participation][value='2']").is_checked()  # pre-filled
    page.check("input[name=participation][value='4']")
    page.fill("#correction_reason", "Wrong score typed.")
    shot(page, "a13-correct-beside-original")
    save(page)
    banner_focused(page, "Saved: Correct an entry.")
    timeline = page.locator("#timeline").inner_text()
    assert re.search(r"Correction — entry v\d+ superseded", timeline)
    assert "superseded by v" in timeline
    shot(page, "a14-corrected")

    entry = page.locator("#timeline li", has_text="Office — participation 3/5")
    entry.get_by_role("link", name=re.compile("^Retract")).click()
    page.fill("#reason", "Recorded on the wrong case.")
    shot(page, "a15-retract")
    page.get_by_role("button", name="Retract this entry").click()
    page.wait_for_load_state()
    banner_focused(page, "Saved: Retract an entry.")
    assert "retracted by v" in page.locator("#timeline").inner_text()
    page.close()


def test_close_the_case_with_a_confirmation(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_new_case(page, demo, "CS-WEB-CLOSE")
    page.get_by_role("link", name="Close the case").click()
    page.select_option("#reason", "order_completed")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert "Are you sure you want to close case CS-WEB-CLOSE?" in page.locator(
        "#confirm").inner_text()
    shot(page, "a16-close-confirm")
    page.get_by_role("button", name="Yes, close the case").click()
    page.wait_for_load_state()
    banner_focused(page, "Saved: Close the case.")
    assert "Closed" in page.locator("h1").inner_text()
    assert page.locator("#acts").count() == 0
    shot(page, "a17-closed")
    page.close()


def test_timeline_filter_and_pages_without_javascript(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    case_id = pick_case(demo)["case_id"]
    sign_in(page, demo, "practitioner")
    page.goto(f"{demo.url}/cases/{case_id}")
    assert page.locator("#timeline li").count() <= 20
    page.select_option("#family", "contacts")
    page.click("#timeline-filter button[type=submit]")
    page.wait_for_load_state()
    assert "family=contacts" in page.url
    headings = page.locator("#timeline h3.what").all_inner_texts()
    assert headings and all(re.search(r"participation \d/5|appointment|booked", h)
                            for h in headings), headings
    shot(page, "a18-timeline-contacts")
    if page.locator("#timeline-pages a[rel=next]").count():
        page.locator("#timeline-pages a[rel=next]").click()
        page.wait_for_load_state()
        assert "page=2" in page.url and "family=contacts" in page.url
        shot(page, "a19-timeline-page-2")
    page.close()
