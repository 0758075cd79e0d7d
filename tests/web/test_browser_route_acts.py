"""A referral order's panel forms in a real headless Chromium (Debian's) with JavaScript
turned off: offered from the case page of a referral order (not of a YRO), the initial
panel with its errors beside the fields, then the contract, each with its banner."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.live import error_text, fill_date
from tests.web.test_browser import Demo, shot, sign_in

# The fixtures, re-exported so this module gets its own (module-scoped) demo and browser.
from tests.web.test_browser import demo as demo
from tests.web.test_browser_acts import banner_focused, local, save
from tests.web.test_browser_acts import no_js as no_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_case(page: Any, demo: Demo, case_id: str, disposal: str) -> None:
    page.goto(f"{demo.url}/cases/new")
    page.fill("#case_id", case_id)
    page.fill("#child_id", f"C-{case_id}")
    page.select_option("#disposal_type", disposal)
    page.fill("#service", "YJS-DEMO")
    page.select_option("#team", demo.logins["practitioner"].teams[0])
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?recorded=open$"))


def test_initial_panel_and_contract_on_a_referral_order(demo: Demo, no_js: Any) -> None:
    page = no_js.new_page()
    sign_in(page, demo, "practitioner")
    open_case(page, demo, "CS-WEB-YRO", "yro")
    assert page.get_by_role("link", name="Record a panel meeting").count() == 0
    open_case(page, demo, "CS-WEB-RO", "referral_order")
    assert page.get_by_role("link", name="Record the contract agreed").count() == 0
    page.get_by_role("link", name="Record a panel meeting").click()
    page.wait_for_url(re.compile(r".*/cases/CS-WEB-RO/act/panel$"))
    page.select_option("#kind", "initial")
    save(page)                                   # nobody attended, no answer on the victim
    assert page.title().startswith("Error: ")
    assert error_text(page, "victim_views_presented") == "is required"
    page.check("input[name=victim_views_presented][value=yes]")
    save(page)
    assert error_text(page, "attendee_roles") == "give at least one"
    shot(page, "r01-panel-errors")
    for role in ("child", "parent_carer", "panel_member", "yot_officer"):
        page.check(f"input[name=attendee_roles][value={role}]")
    fill_date(page, "occurred_at", local(demo, 0, 10))
    save(page)
    banner_focused(page, "Saved: Record a panel meeting.")
    shot(page, "r02-panel-saved")
    page.get_by_role("link", name="Record the contract agreed").click()
    fill_date(page, "occurred_at", local(demo, 0, 11))
    page.select_option("#objective_1_domain", "desistance")
    page.fill("#objective_1_description", "Write a letter of apology and repair the fence.")
    fill_date(page, "objective_1_target_date", (demo.app.clock.now().date().replace(day=1)
                                           ).isoformat())
    save(page)
    banner_focused(page, "Saved: Record the contract agreed.")
    assert page.get_by_role("link", name="Record the contract agreed").count() == 0
    shot(page, "r03-contract-saved")
    page.close()
