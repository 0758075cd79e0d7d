"""Each thing due on the caseload (and on the case page) links to the form that does it, for
a reader who may do it (review item: the due list was plain text): a follow-up to the
follow-up form for that missed appointment, an overdue assessment to the assessment form, a
document awaiting countersignature to its countersign page for the team's manager. The
links come from one map (``due_forms``) and the caseload line alone (``due_shown``), and
every form they name is a real page."""

from __future__ import annotations

import html
import re

from projections.projector import Projector
from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import sign_in
from tracker.edges.web.due_forms import DUE_FORMS

CASE = "/cases/CS-TEST1"


def due_links(page: str) -> list[tuple[str, str]]:
    """The caseload's due-item links: (address, text)."""
    table = page.split('id="caseload"', 1)[1]
    return [(html.unescape(href), text) for href, text in
            re.findall(r'<a class="govuk-link due-link" href="([^"]+)">([^<]+)</a>', table)]


def allocated(env: Env, start: str | None = None) -> None:
    open_case(env.app, **({"start_date": start} if start else {}))
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A", "manager_id": "M-TEST01"}, at(start or "2026-01-05", 11))


def test_a_missed_appointment_links_to_its_follow_up_and_the_assessment_to_its_form(
        env: Env) -> None:
    allocated(env, "2026-10-01")  # a month on: the initial assessment is overdue
    [missed] = record(env.app, "CS-TEST1", "contact_missed", {
        "kind": "office", "acceptable": False, "reason": "no_reason_given"}, at("2026-10-20"))
    Projector(env.app).catch_up()
    sign_in(env.client, "prac.a")
    links = due_links(env.client.get("/caseload").text)
    follow_up = f"{CASE}/follow-up?missed={missed.event_id}"
    assert (follow_up, "Follow up (delivery)") in links
    assert (f"{CASE}/log/assessment", "Assessment (assessment)") in links
    assert (f"{CASE}/log/contact", "First appointment (delivery)") in links
    form = env.client.get(follow_up)
    assert form.status_code == 200
    # The case page's own due list links the same forms, from the same map.
    due = env.client.get(CASE).text.split('id="due-list"', 1)[1].split("</ul>", 1)[0]
    assert f'href="{html.escape(follow_up)}">Record the follow-up' in due
    assert f'href="{CASE}/log/assessment">Record the assessment' in due
    assert f'<option value="{missed.event_id}" selected>' in form.text  # that appointment
    assessment = env.client.get(f"{CASE}/log/assessment")
    assert assessment.status_code == 200 and "Record an assessment" in assessment.text
    sign_in(env.client, "manager.a")  # a manager may not record these: the items stay text
    page = env.client.get("/caseload").text
    assert due_links(page) == [] and "Follow up (delivery)" in page
    due = env.client.get(CASE).text.split('id="due-list"', 1)[1].split("</ul>", 1)[0]
    assert "Assessment by" in due and "href=" not in due


def test_a_document_awaiting_countersignature_links_the_manager_to_its_page(
        env: Env) -> None:
    allocated(env, "2026-10-01")
    [doc] = record(env.app, "CS-TEST1", "assessment_completed", {
        "kind": "initial", "likelihood_of_reoffending": "high",
        "safety_and_wellbeing": "medium", "risk_of_serious_harm": "high",
        "strengths_recorded": True, "child_involved": True, "parent_carer_involved": True,
        "victim_considered": True, "other_agencies_information_used": True},
        at("2026-10-05", 12))
    Projector(env.app).catch_up()
    sign_in(env.client, "manager.a")
    page = env.client.get("/caseload").text
    link = f'href="{CASE}/countersign/{doc.event_id}"'
    assert link in page
    form = env.client.get(f"{CASE}/countersign/{doc.event_id}")
    assert form.status_code == 200 and 'id="original"' in form.text
    sign_in(env.client, "prac.a")  # the practitioner sees that it waits, without the link
    page = env.client.get("/caseload?scope=team").text
    assert "assessment awaiting countersignature" in page and link not in page


def test_every_form_a_due_item_names_is_a_page_of_the_app(env: Env) -> None:
    allocated(env, "2026-10-01")
    Projector(env.app).catch_up()
    sign_in(env.client, "prac.a")
    for kind, form in DUE_FORMS.items():
        found = env.client.get(f"{CASE}/{form.path}")
        assert found.status_code not in (404, 405), (kind, found.status_code)
