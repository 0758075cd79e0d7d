"""The forms of each disposal's own events through the real pages (no browser), on both
back ends: offered from the case page only where the disposal's profile has a place for
them; each records its event through the one door; a disposal without the route gets the
reason and records nothing; a mistake is a 422 naming the field."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import errors_beside, sign_in

CASE = "/cases/CS-TEST1"


def types(env: Env) -> list[str]:
    return [r.type for r in env.app.store.read_stream("CS-TEST1")]


def last(env: Env) -> Any:
    return env.app.store.read_stream("CS-TEST1")[-1].event


def post(env: Env, slug: str, csrf: str, **data: Any) -> Any:
    return env.client.post(f"{CASE}/act/{slug}", data={"csrf_token": csrf, **data},
                           follow_redirects=False)


def links(env: Env) -> set[str]:
    return set(re.findall(r'href="/cases/CS-TEST1/act/([a-z-]+)"', env.client.get(CASE).text))


def refusal(html: str) -> str:
    found = re.search(r'<p class="flash bad" id="refusal">([^<]*)</p>', html)
    return found.group(1) if found else ""


def test_a_referral_order_through_its_panels(env: Env) -> None:
    open_case(env.app, disposal_type="referral_order")
    csrf = sign_in(env.client, "prac.a")
    assert links(env) == {"panel", "requirement-failed", "level"}
    due = env.client.get(CASE).text.split('id="due-list"')[1].split("</ul>")[0]
    assert "Initial panel by" in due and f'href="{CASE}/act/panel">Record the panel' in due
    bad = post(env, "panel", csrf, occurred_at="2026-01-28T10:00", kind="initial")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "victim_views_presented") == "is required"
    bad = post(env, "panel", csrf, occurred_at="2026-01-28T10:00", kind="initial",
               victim_views_presented="yes")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "attendee_roles") == "give at least one"
    early = post(env, "panel", csrf, occurred_at="2026-01-20T10:00", kind="progress",
                 attendee_roles=["child"], victim_views_presented="no")
    assert early.status_code == 422
    assert "initial panel has not been held" in errors_beside(early.text, "kind")
    ok = post(env, "panel", csrf, occurred_at="2026-01-28T10:00", kind="initial",
              attendee_roles=["child", "parent_carer", "panel_member"],
              victim_views_presented="yes")
    assert ok.status_code == 303 and ok.headers["location"] == f"{CASE}?recorded=panel"
    held = last(env)
    assert (held.type, held.kind, held.attendee_roles, held.victim_views_presented) == (
        "panel_held", "initial", ["child", "parent_carer", "panel_member"], True)
    assert "Saved: Record a panel meeting." in env.client.get(ok.headers["location"]).text
    assert {"contract", "refer-back"} <= links(env)
    ok = post(env, "contract", csrf, occurred_at="2026-01-28T11:00",
              objective_1_domain="desistance", objective_1_description="Repair the damage.",
              objective_1_target_date="2026-06-30")
    assert ok.status_code == 303 and types(env)[-1] == "contract_agreed"
    assert "contract" not in links(env)
    ok = post(env, "refer-back", csrf, occurred_at="2026-03-10T10:00",
              reason="non_compliance")
    assert ok.status_code == 303 and last(env).reason == "non_compliance"
    ok = post(env, "requirement-failed", csrf, occurred_at="2026-03-03T21:00",
              requirement="curfew")
    assert ok.status_code == 303 and types(env)[-1] == "requirement_failed"
    assert refusal(env.client.get(f"{CASE}/act/condition").text).startswith(
        "A referral order has no caution conditions")


def test_panels_are_not_offered_on_a_yro(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    assert links(env) == {"requirement-failed", "level"}
    page = env.client.get(f"{CASE}/act/panel")
    assert page.status_code == 200 and "no referral-order panels" in refusal(page.text)
    before = types(env)
    refused = post(env, "panel", csrf, occurred_at="2026-01-28T10:00", kind="initial",
                   attendee_roles=["child"], victim_views_presented="no")
    assert refused.status_code == 422 and "no referral-order panels" in refusal(refused.text)
    assert types(env) == before


def test_a_conditional_caution_with_a_failed_condition(env: Env) -> None:
    open_case(env.app, disposal_type="youth_conditional_caution", route="out_of_court")
    csrf = sign_in(env.client, "prac.a")
    assert links(env) == {"joint-decision", "condition"}
    form = env.client.get(f"{CASE}/act/joint-decision")
    assert '<option value="youth_conditional_caution" selected>' in form.text
    ok = post(env, "joint-decision", csrf, occurred_at="2026-01-05T10:00",
              outcome="youth_conditional_caution",
              agencies_present=["yot", "police", "social_care"],
              proportionate_assessment="yes")
    assert ok.status_code == 303 and last(env).agencies_present == [
        "yot", "police", "social_care"]
    bad = post(env, "condition", csrf, occurred_at="2026-01-05T11:00", condition_id="C1",
               kind="reparation", deadline="1 March")
    assert errors_beside(bad.text, "deadline") == "must be a date (day, month and year)"
    ok = post(env, "condition", csrf, occurred_at="2026-01-05T11:00", condition_id="C1",
              kind="reparation", deadline="2026-03-01", description="Clean the wall.")
    assert ok.status_code == 303 and str(last(env).deadline) == "2026-03-01"
    assert {"condition-completed", "condition-failed"} <= links(env)
    assert "C1: Reparation, by 2026-03-01" in env.client.get(
        f"{CASE}/act/condition-failed").text
    ok = post(env, "condition-failed", csrf, occurred_at="2026-03-02T10:00",
              condition_id="C1", reasonable_excuse="no")
    assert ok.status_code == 303
    failure = str(env.app.store.read_stream("CS-TEST1")[-1].event_id)
    assert "prosecution" in links(env)
    ok = post(env, "prosecution", csrf, occurred_at="2026-03-09T10:00",
              failure_event_id=failure, decision="prosecute", decided_by="cps")
    assert ok.status_code == 303 and (last(env).decision, last(env).decided_by) == (
        "prosecute", "cps")
    assert "prosecution" not in links(env)


def test_the_level_form_leaves_the_agreement_to_a_manager(env: Env) -> None:
    open_case(env.app)
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A"}, at("2026-01-05"))
    csrf = sign_in(env.client, "prac.a")
    form = env.client.get(f"{CASE}/act/level")
    assert 'name="manager_id"' not in form.text  # the manager agrees as their own act
    same = post(env, "level", csrf, occurred_at="2026-02-05T10:00",
                intervention_level="enhanced", reason="risk_increased")
    assert same.status_code == 422
    assert "enhanced" in errors_beside(same.text, "intervention_level")
    ok = post(env, "level", csrf, occurred_at="2026-02-05T10:00",
              intervention_level="intensive", reason="risk_increased")
    assert ok.status_code == 303 and last(env).intervention_level == "intensive"


def test_another_teams_case_is_refused(env: Env) -> None:
    open_case(env.app, disposal_type="referral_order")
    csrf = sign_in(env.client, "prac.b")
    assert env.client.get(f"{CASE}/act/panel").status_code == 403
    before = types(env)
    assert post(env, "panel", csrf, occurred_at="2026-01-28T10:00", kind="initial",
                attendee_roles=["child"], victim_views_presented="no").status_code == 403
    assert types(env) == before
