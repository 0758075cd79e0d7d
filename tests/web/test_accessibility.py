"""axe-core over every page, for each role, at desktop and phone widths, with error and
empty states: 0 violations at any impact (issue 12 §5).

axe-core comes bundled with axe-playwright-python (no download); it runs inside Debian's
Chromium against the live demo server, with JavaScript on (axe needs it), while the
JS-off behaviour of the pages is covered by the other browser tests. Each page is loaded
once, at desktop width, and checked there and again after resizing to phone width.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from events.envelope import Actor
from tests.web.test_browser import Demo, pick_case, shot, sign_in
from tests.web.test_browser import browser_context as browser_context
from tests.web.test_browser import demo as demo
from tracker.domain.commands import RecordEvent
from tracker.edges.cli.demo_cmds import DemoLogin
from tracker.kernel.clock import LONDON
from tracker.services.accounts import Accounts
from tracker.services.cases import CaseService
from tracker.services.synthetic.demo import KEYWORKERS, TEAMS

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
        "secure_keyworker": [],  # their pages need their own case: see ``more_pages``
    }[role]


ROLES = ["practitioner", "manager", "auditor", "qa", "admin", "secure_keyworker"]


@pytest.fixture(scope="module")
def more_pages(demo: Demo) -> dict[str, list[str]]:
    """The pages that need something to exist first, each role's: a document awaiting the
    manager's countersignature, a transfer offered to the manager's team, an alert's
    history, a drawn dip sample, the secure keyworker's cases (with a keyworker's login,
    made here when the demo's keyworker has no case in it). Recorded through the one door,
    as a person's acts would."""
    from projections.queries import draw_dip_sample, list_alerts

    prac, mgr = demo.logins["practitioner"], demo.logins["manager"]
    team = mgr.teams[0]
    service = CaseService.of(demo.app)
    now = demo.app.clock.now().astimezone(LONDON).replace(hour=10, minute=0)

    def rec(case_id: str, actor: str, event_type: str, data: dict[str, Any], days: int) -> str:
        out = service.record(RecordEvent(case_id=case_id, event_type=event_type, data=data,
                                         occurred_at=now - timedelta(days=days)),
                             actor=Actor(actor, "practitioner"), correlation_id="axe")
        return str(out[0].event_id)

    def opened(case_id: str, team_id: str, practitioner: str, manager: str) -> None:
        rec(case_id, practitioner, "case_opened", {
            "child_id": f"C-{case_id}", "disposal_type": "yro", "route": "court",
            "start_date": (now - timedelta(days=40)).date().isoformat(),
            "intervention_level": "standard", "service": "YJS-DEMO", "team": team_id,
            "child_label": f"Child {case_id[-4:]}"}, 40)
        rec(case_id, practitioner, "case_manager_allocated", {
            "practitioner_id": practitioner, "agency": "yot", "role": "case_manager",
            "team": team_id, "manager_id": manager}, 40)

    opened("CS-AXE-SIGN", team, prac.user_id, mgr.user_id)
    doc = rec("CS-AXE-SIGN", prac.user_id, "assessment_completed", {
        "kind": "initial", "likelihood_of_reoffending": "high",
        "safety_and_wellbeing": "medium", "risk_of_serious_harm": "high",
        "strengths_recorded": True, "child_involved": True, "parent_carer_involved": True,
        "victim_considered": True, "other_agencies_information_used": True}, 5)
    other = next(t for t in TEAMS if t != team)
    opened("CS-AXE-XFER", other, TEAMS[other][1][0], TEAMS[other][0])
    rec("CS-AXE-XFER", TEAMS[other][1][0], "transfer_requested", {
        "transfer_id": "T-AXE", "kind": "full", "to_team": team,
        "reason": "synthetic: the family moved"}, 1)
    demo.workers.join()
    alert = next(a["alert_id"] for a in list_alerts(demo.app) if a["team"] == team)
    sample = draw_dip_sample(demo.app, drawn_by=demo.logins["qa"].user_id,
                             preset="inspection", seed=3)
    keyworker, kcase = next(
        (k, c) for k in KEYWORKERS for c in demo.app.store.streams_allocated_to(k))
    password = secrets.token_urlsafe(12)
    if keyworker != demo.logins["secure_keyworker"].user_id:  # the demo's has no case here
        Accounts(demo.app).create_user("axe.keyworker", password, "secure_keyworker", [],
                                       user_id=keyworker, display_name="Kai Keyworker")
        demo.logins["secure_keyworker"] = DemoLogin(
            "secure_keyworker", "axe.keyworker", password, keyworker, (), "Kai Keyworker")
    sign, xfer = "/cases/CS-AXE-SIGN", "/cases/CS-AXE-XFER"
    missing = "/cases/CS-NO-SUCH-CASE"  # an error state: not found (or not yours)
    return {
        "practitioner": ["/search?q=child", f"{sign}/log/label", f"{sign}/allocate",
                         f"{sign}/allocation/end", f"{sign}/follow-up", f"{sign}/warning",
                         f"{sign}/breach",
                         f"{sign}/act/requirement-failed", f"{sign}/act/level", missing],
        "manager": [f"{sign}/countersign/{doc}", f"{sign}/return/{doc}", sign,
                    xfer, f"{xfer}/transfer/accept", f"{xfer}/transfer/reject",
                    f"/alerts/{alert}", f"{sign}/oversight", f"{sign}/level/agree",
                    "/search?q=child", missing],
        "auditor": ["/search?q=child", f"/alerts/{alert}", sign, missing],
        "qa": [f"/qa/samples/{sample['sample_id']}", "/search?q=zzz-nothing", sign,
               f"{sign}/replay"],
        "admin": [missing, "/qa/samples"],  # error states: not found, not allowed
        "secure_keyworker": ["/custody", f"/cases/{kcase}", f"/cases/{kcase}/log/contact",
                             f"/cases/{kcase}/replay", "/help", "/search"],
    }


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
    """axe-core's violations on the page as it is now.

    axe is injected once per document (572 KB of script sent through Playwright and parsed
    by Chromium each time): the second width's run on the same load finds it already there
    and only runs it. A navigation makes a new document, which gets it afresh.
    """
    from axe_playwright_python.sync_playwright import Axe

    loaded = page.evaluate("() => typeof window.axe === 'object' && window.axe !== null")
    result = (Axe(axe_script="undefined") if loaded else Axe()).run(page)
    found: list[str] = []
    for v in result.response["violations"]:
        targets = [", ".join(node["target"]) for node in v["nodes"]][:3]
        found.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe(demo: Demo, browser_context: Any, more_pages: dict[str, list[str]],
                               role: str) -> None:
    page = browser_context.new_page()
    case_id = pick_case(demo)["case_id"]
    problems: list[str] = []
    checked = 0
    sign_in(page, demo, role)
    for path in [*pages_for(role, case_id), *more_pages[role]]:
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
