"""axe-core over every page, for each role, at desktop and phone widths, with error and
empty states: 0 violations at any impact (issue 12 §5).

axe-core comes bundled with axe-playwright-python (no download); it runs inside Debian's
Chromium against the live demo server, with JavaScript on (axe needs it), while the
JS-off behaviour of the pages is covered by the other browser tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import Demo, pick_case, shot, sign_in
from tests.web.test_browser import browser_context as browser_context
from tests.web.test_browser import demo as demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def pages_for(role: str, case_id: str) -> list[str]:
    """The pages a person in ``role`` uses, plus their error and empty states."""
    case = f"/cases/{case_id}"
    shared = ["/help", "/accessibility", "/privacy"]
    return {
        "practitioner": [
            "/caseload", "/caseload?scope=team", "/diary", "/cases/new", case,
            f"{case}?family=enforcement", f"{case}/log/contact", f"{case}/log/assessment",
            f"{case}/log/plan", f"{case}/schedule", f"{case}/close", f"{case}/replay",
            f"{case}/replay?as_of=31/02/2026",  # an error state
            f"{case}?family=corrections",  # often an empty state
            "/alerts", "/search", "/search?q=no-such-case",  # an empty state
            f"{case}/export", f"{case}/transfer", f"{case}/log/accommodation",
            f"{case}/log/feedback", *shared,
        ],
        "manager": ["/manager", "/caseload", "/manager/ratings", case,
                    "/manager/ratings?start=nonsense", "/alerts", "/alerts?state=closed",
                    f"{case}/oversight", f"{case}/exceptional-circumstances",
                    "/reports/kpis", "/reports/board-pack", "/reports/disproportionality",
                    "/board-meetings", "/search"],
        "auditor": ["/audit", "/caseload", "/manager/ratings", "/audit/verify",
                    "/audit/access-log", "/audit/access-log?since=nonsense",
                    "/caseload?team=NO-SUCH-TEAM", case, f"{case}/replay", "/alerts",
                    "/audit?status=closed", f"{case}/export", "/reports/kpis"],
        "qa": ["/qa/samples", "/caseload", "/manager/ratings", case, f"{case}/audit"],
        "admin": ["/admin/users", "/admin/erase", "/board-meetings", "/audit/verify",
                  "/audit/access-log", case],  # case: 403
    }[role]


def violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    found: list[str] = []
    for v in result.response["violations"]:
        targets = [", ".join(node["target"]) for node in v["nodes"]][:3]
        found.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return found


@pytest.mark.parametrize("role", ["practitioner", "manager", "auditor", "qa", "admin"])
def test_every_page_passes_axe(demo: Demo, browser_context: Any, role: str) -> None:
    page = browser_context.new_page()
    case_id = pick_case(demo)["case_id"]
    problems: list[str] = []
    checked = 0
    for width_name, size in WIDTHS.items():
        page.set_viewport_size(size)
        sign_in(page, demo, role)
        for path in pages_for(role, case_id):
            page.goto(f"{demo.url}{path}")
            problems += [f"{width_name} {path}: {p}" for p in violations(page)]
            checked += 1
    # A form sent empty: the error summary and the messages beside each field.
    page.set_viewport_size(WIDTHS["desktop"])
    if role == "practitioner":
        page.goto(f"{demo.url}/cases/{case_id}/log/contact")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".govuk-error-summary").count() == 1
        problems += [f"contact form errors: {p}" for p in violations(page)]
        shot(page, f"axe-{role}-form-errors")
        checked += 1
    page.context.clear_cookies()
    page.goto(f"{demo.url}/login")
    problems += [f"/login: {p}" for p in violations(page)]
    page.close()
    assert checked >= 8
    assert problems == [], "\n".join(problems)
