"""Keyboard-only runs of the main forms (issue 12 §5), in a real headless Chromium (Debian's)
against the demo: signing in, recording a contact after recovering from the error summary,
following up a missed appointment from its timeline entry, and a manager's exceptional
circumstances.

Focus moves only by keys (Tab, Shift+Tab, arrows, Space, Enter) and text is typed into
whatever has the focus: no clicks and no ``fill`` on an element found by a selector (a
selector only *checks* where the focus landed). Every stop the focus makes on the way must
be visibly focused (GOV.UK's yellow focus ring: an outline or a box shadow), and it lands
where GOV.UK's patterns say: the error summary on a failed submit, the field when its error
link is followed, the success banner after saving. Each run leaves screenshots.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.test_browser import Demo, open_alert_ids, pick_case, shot

# The fixtures, re-exported so this module gets its own (module-scoped) demo and browser.
from tests.web.test_browser import browser_context as browser_context
from tests.web.test_browser import demo as demo
from tests.web.test_browser_manager import CASE as BREACH_CASE
from tests.web.test_browser_manager import breach_due_case

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESCRIBE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "nothing";
  return `${e.tagName.toLowerCase()}#${e.id || ""}[name=${e.getAttribute("name") || ""}]` +
         ` "${(e.innerText || e.value || "").trim().slice(0, 40)}"`;
}"""

VISIBLE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return false;
  const ring = (s) => (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2
                       && s.outlineColor !== "rgba(0, 0, 0, 0)")
                      || (s.boxShadow && s.boxShadow !== "none");
  if (ring(getComputedStyle(e))) return true;
  // GOV.UK radios and checkboxes draw the ring on the label's ::before (the input is hidden)
  const label = e.labels && e.labels[0];
  return !!label && (ring(getComputedStyle(label, "::before"))
                     || ring(getComputedStyle(label, "::after")));
}"""


def where(page: Any) -> str:
    found: str = page.evaluate(DESCRIBE)
    return found


def focus_visible(page: Any) -> bool:
    return bool(page.evaluate(VISIBLE))


def focused(page: Any, css: str) -> bool:
    return bool(page.evaluate(
        "(css) => !!document.activeElement && document.activeElement.matches(css)", css))


def tab_to(page: Any, css: str, *, back: bool = False, limit: int = 250) -> int:
    """Press Tab (Shift+Tab with ``back``) until the focus is on ``css``; every stop on the
    way must show the focus. Returns the number of key presses."""
    hidden: list[str] = []
    for presses in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if not focus_visible(page):
            hidden.append(where(page))
        if focused(page, css):
            assert hidden == [], f"focus not visible on: {hidden}"
            return presses
    raise AssertionError(f"{limit} presses never reached {css}; the focus is on {where(page)}")


def choose(page: Any, value: str, *, limit: int = 40) -> None:
    """In the focused select, move with the arrow keys to the option ``value``."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {value!r} in {where(page)}")


def pick_radio(page: Any, name: str, value: str) -> None:
    """Tab into the radio group ``name`` and check ``value`` with the arrows (or Space)."""
    tab_to(page, f"input[type=radio][name={name}]")
    page.keyboard.press("Space")  # checks the radio that has the focus
    for _ in range(10):
        if page.evaluate("() => document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowRight")  # moves to the next radio and checks it
    raise AssertionError(f"no radio {value!r} in {name}")


def type_into(page: Any, text: str) -> None:
    """Replace what the focused field holds with ``text``, typed."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def submit(page: Any, css: str = "main form button[type=submit]") -> None:
    tab_to(page, css)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()


def banner_has_focus(page: Any, text: str) -> None:
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'notice'")
    assert text in page.locator("#notice").inner_text()
    assert focus_visible(page), "the success banner has the focus but does not show it"


def keyboard_sign_in(page: Any, demo: Demo, role: str) -> None:
    """Sign in from the sign-in page by keyboard alone."""
    page.context.clear_cookies()
    page.goto(f"{demo.url}/login")
    login = demo.logins[role]
    tab_to(page, "#username")
    page.keyboard.type(login.username)
    page.keyboard.press("Tab")
    assert focused(page, "#password"), where(page)  # the next stop is the password
    assert focus_visible(page)
    page.keyboard.type(login.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def test_sign_in_and_record_a_contact_after_the_error_summary(
        demo: Demo, browser_context: Any) -> None:
    page = browser_context.new_page()
    case_id = pick_case(demo)["case_id"]
    keyboard_sign_in(page, demo, "practitioner")
    assert page.url.endswith("/caseload")
    shot(page, "k01-keyboard-signed-in")

    page.goto(f"{demo.url}/cases/{case_id}/log/contact")
    submit(page)  # nothing chosen
    assert page.title().startswith("Error: ")
    page.wait_for_function("() => !!document.activeElement"
                           " && !!document.activeElement.closest('.govuk-error-summary')")
    assert focus_visible(page), "the error summary has the focus but does not show it"
    shot(page, "k02-keyboard-error-summary-focused")
    presses = tab_to(page, ".govuk-error-summary a[href='#kind']", limit=5)
    assert presses <= 2, "the first error link follows the summary"
    page.keyboard.press("Enter")  # GOV.UK's error summary moves the focus to the field
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'kind'")
    assert focus_visible(page)
    choose(page, "office")
    pick_radio(page, "participation", "4")
    shot(page, "k03-keyboard-contact-filled")
    submit(page)
    banner_has_focus(page, "Saved: Log a contact.")
    assert re.search(r"participation 4/5", page.locator("#timeline").inner_text())
    assert "#" not in page.url
    shot(page, "k04-keyboard-contact-saved")
    page.close()


def test_follow_up_a_missed_appointment_from_its_entry(demo: Demo, browser_context: Any) -> None:
    page = browser_context.new_page()
    case_id = pick_case(demo)["case_id"]
    keyboard_sign_in(page, demo, "practitioner")
    page.goto(f"{demo.url}/cases/{case_id}/log/missed")
    tab_to(page, "#kind")
    choose(page, "home_visit")
    pick_radio(page, "acceptable", "no")
    tab_to(page, "#reason")
    choose(page, "no_reason_given")
    submit(page)
    banner_has_focus(page, "Saved: Log a missed appointment.")
    # From the missed entry at the top of the timeline (newest first), by keyboard.
    entry = page.locator("#timeline li").first
    assert "missed" in entry.inner_text().lower()
    link = entry.locator("a[href*='/follow-up?missed=']")
    href = link.get_attribute("href")
    tab_to(page, f"#timeline a[href='{href}']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "/follow-up?missed=" in page.url
    tab_to(page, "#method")
    choose(page, "phone")
    pick_radio(page, "child_reached", "yes")
    shot(page, "k05-keyboard-follow-up")
    submit(page, "#act-form button[type=submit]")
    banner_has_focus(page, "Saved: Follow up a missed appointment.")
    assert "followed up by phone — child reached" in page.locator("#timeline").inner_text()
    shot(page, "k06-keyboard-follow-up-saved")
    page.close()


def test_a_managers_exceptional_circumstances_by_keyboard(
        demo: Demo, browser_context: Any) -> None:
    third = breach_due_case(demo)
    assert open_alert_ids(demo, BREACH_CASE, "breach_due")
    page = browser_context.new_page()
    keyboard_sign_in(page, demo, "manager")
    page.goto(f"{demo.url}/cases/{BREACH_CASE}")
    tab_to(page, "#manager-acts a[href$='/exceptional-circumstances']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    tab_to(page, "#failure_event_id")
    choose(page, third)
    tab_to(page, "#note")
    page.keyboard.type("Bereavement in the family; supported to re-engage.")
    # Back up with Shift+Tab to the event chosen, and on again: the choice holds.
    tab_to(page, "#failure_event_id", back=True, limit=10)
    assert page.evaluate("() => document.activeElement.value") == third
    shot(page, "k07-keyboard-exceptional-circumstances")
    submit(page, "#act-form button[type=submit]")
    banner_has_focus(page, "Saved: Record exceptional circumstances.")
    demo.workers.join()
    assert not open_alert_ids(demo, BREACH_CASE, "breach_due")
    shot(page, "k08-keyboard-exceptional-circumstances-saved")
    page.close()
