"""axe-core over every page, for each role, at desktop and phone widths, with error and
empty states: 0 violations at any impact (issue 12 §5).

axe-core comes bundled with axe-playwright-python (no download); it runs inside Debian's
Chromium against the live demo server, with JavaScript on (axe needs it), while the
JS-off behaviour of the pages is covered by the other browser tests. Each page is loaded
once, at desktop width, and checked there and again after resizing to phone width.
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


def at_width(page: Any, size: dict[str, int]) -> None:
    """Resize the viewport and let the page react before axe looks.

    The server sends the same HTML at every width; the layout is CSS media queries, and
    GOV.UK Frontend's responsive components follow ``matchMedia`` change events. Two
    animation frames after the resize, the page is what a load at that width would show,
    so one navigation serves both widths (half the page loads of one load per width).
    """
    if page.viewport_size != size:
        page.set_viewport_size(size)
    page.evaluate("() => new Promise(done => requestAnimationFrame("
                  "() => requestAnimationFrame(() => done(null))))")
    assert page.evaluate("() => window.innerWidth") == size["width"]


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
    sign_in(page, demo, role)
    for path in pages_for(role, case_id):
        page.set_viewport_size(WIDTHS["desktop"])
        page.goto(f"{demo.url}{path}")
        for width_name, size in WIDTHS.items():  # one load, axe at every width
            at_width(page, size)
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
