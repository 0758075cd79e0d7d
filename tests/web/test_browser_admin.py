"""The admin's acts in a real headless Chromium (Debian's) with JavaScript off: a user
invited from the users page sets their own password from the link and signs in; a child's
personal data erased after the confirmation step."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.live import error_text
from tests.web.test_browser import Demo, shot, sign_in

# The fixtures, re-exported so this module gets its own (module-scoped) demo and browser.
from tests.web.test_browser import demo as demo
from tests.web.test_browser_acts import banner_focused
from tests.web.test_browser_acts import no_js as no_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_admins_invitation_is_used_to_set_a_password(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "admin")
    team = demo.logins["practitioner"].teams[0]
    page.fill("#username", "new.starter")
    page.fill("#display_name", "Nia Starter")
    page.select_option("#role", "practitioner")
    page.fill("#new_team", team[:-1] + team[-1].lower() + "X")  # a near-miss of a team
    page.click("main form[action='/admin/users'] button[type=submit]")
    page.wait_for_load_state()
    assert "tick it in the list instead" in error_text(page, "new_team")
    page.fill("#new_team", "")
    page.check(f"main form[action='/admin/users'] input[name=teams][value={team}]")
    page.click("main form[action='/admin/users'] button[type=submit]")
    page.wait_for_load_state()
    banner_focused(page, "Added Nia Starter (practitioner)")
    link = page.locator("#invitation-link").inner_text().strip()
    assert re.match(r"^http://127\.0\.0\.1:\d+/set-password/inv_", link)
    shot(page, "b01-admin-invitation")

    page.context.clear_cookies()
    page.goto(link)
    assert "Set your password" in page.locator("h1").inner_text()
    page.fill("#password", "tea and biscuits at four")
    page.fill("#repeat_password", "tea and biscuits at four")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "Password set" in page.locator("h1").inner_text()
    shot(page, "b02-password-set")
    page.goto(f"{demo.url}/login")
    page.fill("#username", "new.starter")
    page.fill("#password", "tea and biscuits at four")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/caseload")
    page.goto(link)
    assert "no longer works" in page.locator("h1").inner_text()
    page.close()


def test_an_admin_erases_a_child_after_confirming(demo: Demo, no_js: Any) -> None:
    from projections.queries import caseload

    page = no_js.new_page()
    sign_in(page, demo, "admin")
    row = caseload(demo.app, team=demo.logins["practitioner"].teams[0])[-1]
    page.goto(f"{demo.url}/admin/erase")
    page.fill("#child_id", row["child_id"])
    page.select_option("#reason", "erasure_request")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert "Are you sure" in page.locator("#confirm").inner_text()
    shot(page, "b03-erase-confirm")
    page.get_by_role("button", name="Yes, erase it").click()
    page.wait_for_load_state()
    banner_focused(page, f"Erased the personal data of {row['child_id']}")
    shot(page, "b04-erased")
    # The child's label went with the key: the auditor's case header reads as erased.
    demo.workers.join()
    sign_in(page, demo, "auditor")
    page.goto(f"{demo.url}/cases/{row['case_id']}")
    child = page.locator("#case-header .govuk-summary-list__row", has_text="Child").first
    assert child.locator(".govuk-summary-list__value").inner_text().strip() == "[erased]"
    assert row["child_label"] and row["child_label"] not in page.locator("main").inner_text()
    shot(page, "b05-erased-label-on-the-case")
    page.close()
