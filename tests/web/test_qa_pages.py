"""QA through the real pages (no browser), on both back ends: draw a sample, work through
it with the audit form (a yes/no/N-A group per prompt), see it audited; the audit's actions
on the case page, done / due / overdue, completed by the team; ratings over a sample; and
the pages' role matrix for the new role."""

from __future__ import annotations

import re
from typing import Any

from projections.projector import Projector
from tests.api.conftest import Env, add_qa
from tests.support import at, open_case, record
from tests.web.conftest import errors_beside, sign_in
from tracker.domain.audits import prompt_ids
from tracker.domain.inspection import question_set
from tracker.services.access_log import search

CASE = "/cases/CS-TEST1"


def post(env: Env, path: str, csrf: str, **data: Any) -> Any:
    return env.client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def full_form(**extra: str) -> dict[str, str]:
    """Every court prompt answered yes on the form."""
    fields = {f"p_{kq.replace('.', '-')}_{p}": "yes"
              for kq, p in prompt_ids(question_set(), "court")}
    return fields | {"audit_type": "full"} | extra


def test_qa_draws_a_sample_and_audits_a_case_from_it(env: Env) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env.app)  # TEAM-A, commenced 5 Jan 2026
    Projector(env.app).catch_up()
    csrf = sign_in(env.client, "qa.b")
    page = env.client.get("/qa/samples")
    assert page.status_code == 200 and 'id="sample-form"' in page.text
    bad = post(env, "/qa/samples", csrf, preset="inspection", seed="x")
    assert bad.status_code == 422 and errors_beside(bad.text, "seed") == "enter a whole number"
    drawn = post(env, "/qa/samples", csrf, preset="inspection", seed="7", start="2026-01-01",
                 end="2026-03-31")
    assert drawn.status_code == 303
    sample_url = drawn.headers["location"]
    sample = env.client.get(sample_url)
    assert sample.status_code == 200
    assert "QA Q-TEST02" in sample.text  # drawn by: the display name, not the id
    assert 'id="case-CS-TEST1"' in sample.text and "not yet" in sample.text
    sample_id = sample_url.rsplit("/", 1)[1]
    audit_link = f"{CASE}/audit?sample={sample_id}"
    assert f'href="{audit_link}"' in sample.text

    form = env.client.get(audit_link)
    assert form.status_code == 200
    radios = re.findall(r'name="(p_[^"]+)" type="radio" value="not_applicable"',
                        form.text)
    assert len(radios) == len(prompt_ids(question_set(), "court")) == 52
    assert "2.1.1 Does assessment sufficiently analyse" in form.text

    missing = post(env, f"{CASE}/audit", csrf, audit_type="full", sample=sample_id,
                   **{"p_2-1-1_a": "yes"})
    assert missing.status_code == 422 and "a full audit answers every prompt" in missing.text
    no_reason = post(env, f"{CASE}/audit", csrf, **full_form(**{"o_2-1-2": "no"}),
                     sample=sample_id)
    assert no_reason.status_code == 422
    assert errors_beside(no_reason.text, "r_2-1-2") == "give the reason for overriding the roll-up"
    half_action = post(env, f"{CASE}/audit", csrf, **full_form(
        a1_description="Write the safety plan."), sample=sample_id)
    assert half_action.status_code == 422
    assert errors_beside(half_action.text, "a1_due") == "needed for each action"
    # the error summary links to the date's first box (GOV.UK's summary, as every form)
    assert 'href="#a1_due-day"' in half_action.text and 'id="a1_due-day"' in half_action.text
    stale = post(env, f"{CASE}/audit", csrf, **full_form(), sample=sample_id,
                 expected_version="0")
    assert stale.status_code == 409 and "Someone else recorded on this case" in stale.text
    assert [r.type for r in env.app.store.read_stream("CS-TEST1")] == ["case_opened"]
    saved = post(env, f"{CASE}/audit", csrf, **full_form(
        **{"o_2-1-2": "no", "r_2-1-2": "No safety plan on file.", "sample": sample_id,
           "a1_description": "Write the safety plan.", "a1_owner": "P-TEST01",
           "a1_due": "2026-11-20", "c_2-1-1_a": "Thorough."}))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == sample_url
    event: Any = env.app.store.read_stream("CS-TEST1")[-1].event
    assert event.type == "case_audited" and len(event.prompts) == 52
    answers = {(a.standard, a.lens): a.answer for a in event.answers}
    assert answers[("assessment", "safety_wellbeing")] is False  # overridden
    assert answers[("assessment", "desistance")] is True
    assert event.prompts[0].comment == "Thorough."
    assert event.actions[0].owner_id == "P-TEST01"
    assert 'audited</span> 2 November 2026 by QA Q-TEST02' in env.client.get(sample_url).text

    assert search(env.app, user_id="Q-TEST02", outcome="refused").total == 0
    shown = search(env.app, user_id="Q-TEST02", case_id="CS-TEST1").entries
    assert {e.outcome for e in shown} == {"allowed"} and len(shown) >= 3


def test_qa_may_not_audit_its_own_team_or_record_anything_else_on_the_pages(env: Env) -> None:
    add_qa(env, "qa.a", ["TEAM-A"], "Q-TEST01")
    open_case(env.app)
    csrf = sign_in(env.client, "qa.a")
    assert env.client.get(f"{CASE}/audit").status_code == 403
    assert post(env, f"{CASE}/audit", csrf, **full_form()).status_code == 403
    assert env.client.get(f"{CASE}/log/contact").status_code == 403
    assert env.client.get(f"{CASE}/audit-action").status_code == 403
    case = env.client.get(CASE)
    assert case.status_code == 200 and 'id="audit-link"' not in case.text
    assert [r.type for r in env.app.store.read_stream("CS-TEST1")] == ["case_opened"]
    assert search(env.app, user_id="Q-TEST01", case_id="CS-TEST1",
                  outcome="refused").total == 4


def test_the_pages_role_matrix_for_samples_and_audits(env: Env) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env.app)
    expected = {  # sign-in name -> (samples page, draw form shown, audit form, ratings)
        "prac.a": (403, False, 403, 403),
        "manager.a": (403, False, 403, 200),
        "auditor": (200, False, 403, 200),
        "admin": (403, False, 403, 403),
        "qa.b": (200, True, 200, 200),
    }
    for name, (samples, form, audit, ratings) in expected.items():
        sign_in(env.client, name)
        page = env.client.get("/qa/samples")
        assert page.status_code == samples, name
        assert ('id="sample-form"' in page.text) is form, name
        assert env.client.get(f"{CASE}/audit").status_code == audit, name
        assert env.client.get("/manager/ratings").status_code == ratings, name
    csrf = sign_in(env.client, "auditor")
    assert post(env, "/qa/samples", csrf, preset="inspection", seed="1").status_code == 403


def audited_with_actions(env: Env) -> None:
    """A thematic audit that found two actions: AA-1 due 1 October (overdue on the tests'
    clock, 2 November 2026), AA-2 due 1 December."""
    record(env.app, "CS-TEST1", "case_audited", {
        "audit_type": "thematic", "theme": "education",
        "prompts": [{"key_question": "2.1.1", "prompt": "a", "answer": "no"}],
        "actions": [{"action_id": "AA-1", "description": "Chase the school report.",
                     "owner_id": "P-TEST01", "due_date": "2026-10-01"},
                    {"action_id": "AA-2", "description": "Update the plan.",
                     "owner_id": "M-TEST01", "due_date": "2026-12-01"}]}, at("2026-09-20"))


def test_audit_actions_show_on_the_case_and_the_team_completes_them(env: Env) -> None:
    open_case(env.app)
    audited_with_actions(env)
    env.accounts.update_user("P-TEST01", display_name="Sam Example")
    csrf = sign_in(env.client, "prac.a")
    case = env.client.get(CASE).text
    assert 'id="audit-actions"' in case
    row1 = re.search(r'id="audit-action-AA-1">(.*?)</tr>', case, re.S)
    row2 = re.search(r'id="audit-action-AA-2">(.*?)</tr>', case, re.S)
    assert row1 and "overdue" in row1.group(1) and "Sam Example" in row1.group(1)
    assert row2 and "due</span> by 1 December 2026" in row2.group(1)
    form = env.client.get(f"{CASE}/audit-action")
    assert form.status_code == 200 and 'value="AA-1"' in form.text
    done = post(env, f"{CASE}/audit-action", csrf, action_id="AA-1",
                occurred_at="2026-11-02T09:00")
    assert done.status_code == 303, done.text
    row1 = re.search(r'id="audit-action-AA-1">(.*?)</tr>', env.client.get(CASE).text, re.S)
    assert row1 and "done</span>" in row1.group(1)
    sign_in(env.client, "prac.b")
    assert env.client.get(f"{CASE}/audit-action").status_code == 403


def audit_alerts(env: Env) -> list[dict[str, Any]]:
    resp = env.client.get("/api/alerts", headers=env["manager_a"].headers)
    assert resp.status_code == 200, resp.text
    return [a for a in resp.json() if a["rule"] == "audit_action_overdue"]


def test_open_audit_actions_are_due_with_an_alert_and_marked_done_right_there(
        env: Env) -> None:
    open_case(env.app)
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A", "manager_id": "M-TEST01"}, at("2026-01-05", 11))
    audited_with_actions(env)
    Projector(env.app).catch_up()
    env.accounts.update_user("P-TEST01", display_name="Sam Example")
    # The tests' clock is 2 November 2026: AA-1 (due 1 October) is overdue, AA-2 is due.
    [alert] = audit_alerts(env)
    assert (alert["case_id"], alert["details"]["due"]) == ("CS-TEST1", "2026-10-01")
    rows = env.client.get("/api/caseload", params={"team": "TEAM-A"},
                          headers=env["prac_a"].headers).json()
    due = [(d["subject"], d["status"], d["due"]) for r in rows for d in r["due"]
           if d["stage"] == "audit"]
    assert due == [("audit:AA-1", "overdue", "2026-10-01"), ("audit:AA-2", "due", "2026-12-01")]
    sign_in(env.client, "prac.a")
    caseload = env.client.get("/caseload").text
    assert "Action from a QA audit</a> by 1 October 2026" in caseload
    assert f'href="{CASE}/audit-action">Action from a QA audit</a>' in caseload  # its form

    case = env.client.get(CASE).text
    due_list = case.split('id="due-list"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", due_list, re.S)
    [first] = [i for i in items if "Chase the school report." in i]
    assert ">overdue</span>" in first and "(Sam Example) by 1 October 2026" in first
    assert any("Update the plan." in i and ">due</span>" in i for i in items)
    form = re.search(r'<form method="post" action="(/cases/CS-TEST1/audit-action)"[^>]*'
                     r'id="done-AA-1">(.*?)</form>', first, re.S)
    assert form is not None, first
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert fields["action_id"] == "AA-1" and "Mark done" in form.group(2)
    done = env.client.post(form.group(1), data=fields, follow_redirects=False)
    assert done.status_code == 303, done.text
    last = env.app.store.read_stream("CS-TEST1")[-1]
    assert (last.type, last.recorded_by) == ("audit_action_completed", "P-TEST01")
    assert last.occurred_at == env.app.clock.now()  # marked done as the button was pressed
    Projector(env.app).catch_up()
    after = env.client.get(done.headers["location"]).text
    assert "Chase the school report." not in after.split('id="due-list"', 1)[1].split(
        "</ul>", 1)[0]
    assert 'id="done-AA-2"' in after
    assert audit_alerts(env) == []
    again = env.client.post(form.group(1), data=fields, follow_redirects=False)
    assert again.status_code == 422  # done already: no longer one of the choices


def test_the_ratings_page_rates_one_drawn_sample(env: Env) -> None:
    add_qa(env, "qa.b", ["TEAM-B"], "Q-TEST02")
    open_case(env.app)
    open_case(env.app, "CS-TEST2", child_id="C-TEST0002")
    Projector(env.app).catch_up()
    csrf = sign_in(env.client, "qa.b")
    drawn = post(env, "/qa/samples", csrf, preset="custom", seed="3", size="1",
                 start="2026-01-01", end="2026-01-31")
    assert drawn.status_code == 303
    sample_id = drawn.headers["location"].rsplit("/", 1)[1]
    page = env.client.get(f"/manager/ratings?sample={sample_id}")
    assert page.status_code == 200
    assert f'<option value="{sample_id}" selected>' in page.text
    assert 'id="rated-sample"' in page.text
    assert "Sample: 1 cases" in page.text
    every = env.client.get("/manager/ratings?start=2026-01-01&end=2026-01-31")
    assert "Sample: 2 cases" in every.text and 'id="rated-sample"' not in every.text
