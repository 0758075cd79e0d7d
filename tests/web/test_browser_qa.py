"""QA in a real headless Chromium (Debian's) against the demo as ``tracker demo`` sets it
up: QA draws an inspection sample, opens a sampled case's audit form from the sample,
answers every prompt (one yes / no / not applicable group each) with an override and an
action, and the sample then shows the case audited; the case shows the action as due.
Screenshots go to ``artifacts/screenshots/``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.live import fill_date
from tests.web.test_browser import Demo, shot, sign_in

# The fixtures, re-exported so this module gets its own (module-scoped) demo and browser.
from tests.web.test_browser import browser_context as browser_context
from tests.web.test_browser import demo as demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_qa_audits_a_sampled_case(demo: Demo, browser_context: Any) -> None:
    page = browser_context.new_page()
    sign_in(page, demo, "qa")
    assert page.url.endswith("/qa/samples")
    page.check("input[name=preset][value=inspection]")
    page.fill("#seed", "11")
    shot(page, "qa-01-draw")
    page.click("#sample-form button[type=submit]")
    page.wait_for_load_state()
    assert "/qa/samples/" in page.url
    assert "Ari Example" in page.locator("#sample-parameters").inner_text()
    rows = page.locator("#sample-cases tbody tr")
    assert rows.count() >= 1
    first = rows.first
    case_id = first.locator("td").first.inner_text().strip()
    assert "not yet" in first.inner_text()
    sample_url = page.url
    shot(page, "qa-02-sample")

    first.locator("a", has_text="Audit").click()
    page.wait_for_load_state()
    assert f"/cases/{case_id}/audit" in page.url
    page.check("input[name=audit_type][value=full]")
    yes = page.locator("input[type=radio][value=yes]")
    assert yes.count() in (52, 34)  # every prompt of the case's domain: court or out of court
    for i in range(yes.count()):
        yes.nth(i).check()
    first_kq = page.locator("fieldset.objective").first
    kq_slug = (first_kq.get_attribute("id") or "").removeprefix("kq-")
    page.select_option(f"#o_{kq_slug}", "no")
    page.fill(f"#r_{kq_slug}", "Analysis of offending is thin.")
    page.fill("#a1_description", "Add the victim's views to the assessment.")
    owners = page.locator("#a1_owner option")
    assert owners.count() >= 2, "the case's team has staff to own the action"
    page.select_option("#a1_owner", index=1)
    fill_date(page, "a1_due", "2030-01-31")
    shot(page, "qa-03-audit-form")
    page.click("#audit-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url == sample_url, page.locator("main").inner_text()[:2000]
    row = page.locator(f"#case-{case_id}")
    assert "audited" in row.inner_text() and "not yet" not in row.inner_text()
    shot(page, "qa-04-sample-audited")

    page.goto(f"{demo.url}/cases/{case_id}")
    actions = page.locator("#audit-actions")
    assert "Add the victim's views" in actions.inner_text()
    assert "due" in actions.inner_text()
    shot(page, "qa-05-case-actions")
