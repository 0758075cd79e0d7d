"""The practitioner's daily acts through the real pages (no browser), on both back ends:
each act records its event through the one door; refusals are 403 and record nothing; a
mistake is a 422 naming the field beside it; the case page shows a focused success banner."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import PASSWORD, Env
from tests.support import at, open_case, record
from tests.web.conftest import errors_beside, sign_in
from tracker.services.access_log import search

CASE = "/cases/CS-TEST1"


def types(env: Env, case_id: str = "CS-TEST1") -> list[str]:
    return [r.type for r in env.app.store.read_stream(case_id)]


def missed(env: Env, day: str = "2026-10-28", acceptable: bool = False) -> str:
    reason = "illness_with_evidence" if acceptable else "no_reason_given"
    recorded = record(env.app, "CS-TEST1", "contact_missed",
                      {"kind": "office", "acceptable": acceptable, "reason": reason}, at(day))
    return str(recorded[0].event_id)


def post(env: Env, path: str, csrf: str, **data: Any) -> Any:
    return env.client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def banner(html: str) -> str:
    """The success banner's text (GOV.UK's notification banner, focused on load)."""
    match = re.search(r'<div class="govuk-notification-banner govuk-notification-banner--success"'
                      r'[^>]*id="notice"[^>]*autofocus[^>]*>(.*?)</div>\s*</div>', html, re.S)
    text = re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""
    return " ".join(text.split())


def test_follow_up_from_the_missed_entry_and_the_due_item(env: Env) -> None:
    open_case(env.app)
    missed_id = missed(env)
    csrf = sign_in(env.client, "prac.a")
    case = env.client.get(CASE)
    link = f"{CASE}/follow-up?missed={missed_id}"
    assert case.text.count(f'href="{link}"') >= 2  # the timeline entry and what is due
    form = env.client.get(link)
    assert form.status_code == 200
    assert f'<option value="{missed_id}" selected>' in form.text
    bad = post(env, f"{CASE}/follow-up", csrf, occurred_at="2026-10-29T09:00",
               missed_event_id=missed_id, method="carrier_pigeon")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "method") == "choose one of the options"
    assert errors_beside(bad.text, "child_reached") == "is required"
    assert "<title>Error: " in bad.text
    ok = post(env, f"{CASE}/follow-up", csrf, occurred_at="2026-10-29T09:00",
              missed_event_id=missed_id, method="phone", child_reached="yes", note="spoke")
    assert ok.status_code == 303
    assert ok.headers["location"] == f"{CASE}?recorded=follow-up"  # no jump to #timeline
    stored = env.app.store.read_stream("CS-TEST1")[-1].event
    assert stored.type == "missed_contact_followed_up"
    assert (str(stored.missed_event_id), stored.method, stored.child_reached) == (  # type: ignore[attr-defined]
        missed_id, "phone", True)
    page = env.client.get(ok.headers["location"])
    assert "Saved: Follow up a missed appointment." in banner(page.text)
    assert "Missed appointment followed up by phone — child reached" in page.text
    assert f'href="{link}"' not in page.text  # nothing left to follow up


def test_acts_on_another_teams_case_are_refused_and_record_nothing(env: Env) -> None:
    open_case(env.app)
    missed_id = missed(env)
    csrf = sign_in(env.client, "prac.b")
    for path in ("follow-up", "schedule", "allocate", "allocation/end", "warning", "close",
                 f"retract/{missed_id}", f"correct/{missed_id}", "appointment/APT-1/contact"):
        assert env.client.get(f"{CASE}/{path}").status_code == 403, path
    before = types(env)
    refused = post(env, f"{CASE}/follow-up", csrf, occurred_at="2026-10-29T09:00",
                   missed_event_id=missed_id, method="phone", child_reached="yes")
    assert refused.status_code == 403
    refused = post(env, f"{CASE}/close", csrf, occurred_at="2026-10-29T09:00",
                   reason="order_completed", confirm="yes")
    assert refused.status_code == 403
    assert types(env) == before


def test_schedule_shows_in_the_diary_until_logged(env: Env) -> None:
    open_case(env.app)
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A"}, at("2026-01-05"))
    csrf = sign_in(env.client, "prac.a")
    bad = post(env, f"{CASE}/schedule", csrf, kind="home_visit", scheduled_for="soon")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "scheduled_for") == "must be a date and time"
    ok = post(env, f"{CASE}/schedule", csrf, kind="home_visit",
               scheduled_for="2026-11-04T15:30")
    assert ok.status_code == 303
    booked = env.app.store.read_stream("CS-TEST1")[-1].event
    assert booked.type == "contact_scheduled"
    assert booked.scheduled_for.isoformat() == "2026-11-04T15:30:00+00:00"  # type: ignore[attr-defined]
    diary = env.client.get("/diary")
    assert diary.status_code == 200
    week = diary.text.split('id="diary-week"')[1]
    assert "CS-TEST1" in week and "Home visit" in week
    contact_id = booked.contact_id  # type: ignore[attr-defined]
    log = env.client.get(f"{CASE}/appointment/{contact_id}/contact")
    assert 'value="home_visit" selected' in log.text
    done = post(env, f"{CASE}/appointment/{contact_id}/contact", csrf,
                occurred_at="2026-11-02T11:00", kind="home_visit", participation="4")
    assert done.status_code == 303
    assert env.app.store.read_stream("CS-TEST1")[-1].event.contact_id == contact_id  # type: ignore[attr-defined]
    assert "CS-TEST1" not in env.client.get("/diary").text.split('id="diary-today"')[1]
    assert "Home visit — participation 4/5" in env.client.get(CASE).text
    sign_in(env.client, "manager.a")
    assert env.client.get("/diary").status_code == 403


def test_a_case_opened_on_the_web_is_allocated_to_its_opener_or_the_one_chosen(
    env: Env,
) -> None:
    env.accounts.create_user("prac.c", PASSWORD, "practitioner", ["TEAM-A"], user_id="P-TEST03",
                             display_name="Priya Shah")
    csrf = sign_in(env.client, "prac.a")
    base = {"case_id": "CS-NEW1", "child_id": "C-NEW1", "disposal_type": "yro",
            "start_date": "2026-10-01", "setting": "community",
            "intervention_level": "standard", "service": "YJS-TEST", "team": "TEAM-A"}
    form = env.client.get("/cases/new")
    assert '<option value="P-TEST03">Priya Shah</option>' in form.text
    wrong = post(env, "/cases/new", csrf, **base, case_manager="P-TEST02")  # another team
    assert wrong.status_code == 422
    assert errors_beside(wrong.text, "case_manager") == "choose one of the options"
    assert env.app.store.stream_version("CS-NEW1") == 0
    ok = post(env, "/cases/new", csrf, **base)
    assert ok.status_code == 303
    assert types(env, "CS-NEW1") == ["case_opened", "case_manager_allocated"]
    assert env.app.store.read_stream("CS-NEW1")[1].event.practitioner_id == "P-TEST01"  # type: ignore[attr-defined]
    mine = env.client.get("/caseload")
    assert 'href="/cases/CS-NEW1"' in mine.text  # in "My cases" at once
    other = post(env, "/cases/new", csrf, **{**base, "case_id": "CS-NEW2"},
                 case_manager="P-TEST03")
    assert other.status_code == 303
    allocated = env.app.store.read_stream("CS-NEW2")[1].event
    assert allocated.practitioner_id == "P-TEST03"  # type: ignore[attr-defined]
    header = env.client.get("/cases/CS-NEW2").text.split('id="case-header"')[1]
    assert re.search(r"Case manager\s*</dt>\s*<dd[^>]*>\s*Priya Shah", header)


def test_allocate_and_end_a_case_manager(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    assert 'id="acts"' in env.client.get(CASE).text
    bad = post(env, f"{CASE}/allocate", csrf, occurred_at="2026-10-01T10:00",
               practitioner_id="P-TEST02", role="case_manager", agency="yot")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "practitioner_id") == "choose one of the options"
    ok = post(env, f"{CASE}/allocate", csrf, occurred_at="2026-10-01T10:00",
              practitioner_id="P-TEST01", role="case_manager", agency="yot",
              manager_id="M-TEST01")
    assert ok.status_code == 303
    allocated = env.app.store.read_stream("CS-TEST1")[-1].event
    assert (allocated.practitioner_id, allocated.team, allocated.manager_id) == (  # type: ignore[attr-defined]
        "P-TEST01", "TEAM-A", "M-TEST01")
    again = post(env, f"{CASE}/allocate", csrf, occurred_at="2026-10-01T11:00",
                 practitioner_id="P-TEST01", role="case_manager", agency="yot")
    assert again.status_code == 422
    assert "already allocated" in errors_beside(again.text, "practitioner_id")
    assert "prac.a allocated as case manager" in env.client.get(CASE).text  # a name, not an id
    end = post(env, f"{CASE}/allocation/end", csrf, occurred_at="2026-10-20T10:00",
               holding="P-TEST01|case_manager", reason="left_service")
    assert end.status_code == 303
    assert types(env)[-1] == "case_manager_allocation_ended"
    gone = post(env, f"{CASE}/allocation/end", csrf, occurred_at="2026-10-21T10:00",
                holding="P-TEST01|case_manager", reason="other")
    assert gone.status_code == 422
    assert errors_beside(gone.text, "holding") == "choose one of the options"


def test_close_asks_to_confirm_then_records(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    empty = post(env, f"{CASE}/close", csrf, occurred_at="2026-11-01T10:00")
    assert empty.status_code == 422
    assert errors_beside(empty.text, "reason") == "is required"
    asked = post(env, f"{CASE}/close", csrf, occurred_at="2026-11-01T10:00",
                 reason="order_completed", note="all done")
    assert asked.status_code == 200
    assert 'id="confirm"' in asked.text and "Yes, close the case" in asked.text
    assert types(env) == ["case_opened"]  # nothing recorded before confirming
    done = post(env, f"{CASE}/close", csrf, occurred_at="2026-11-01T10:00",
                reason="order_completed", note="all done", confirm="yes")
    assert done.status_code == 303
    assert types(env) == ["case_opened", "case_closed"]
    page = env.client.get(done.headers["location"])
    assert "Saved: Close the case." in banner(page.text)
    assert 'id="acts"' not in page.text  # only corrections now


def test_correct_an_entry_beside_the_original_and_retract_another(env: Env) -> None:
    open_case(env.app)
    attended = record(env.app, "CS-TEST1", "contact_attended",
                      {"kind": "home_visit", "participation": 2}, at("2026-10-05"))
    wrong_id = str(attended[0].event_id)
    missed_id = missed(env)
    csrf = sign_in(env.client, "prac.a")
    assert f'href="{CASE}/correct/{wrong_id}"' in env.client.get(CASE).text
    form = env.client.get(f"{CASE}/correct/{wrong_id}")
    assert form.status_code == 200
    original = form.text.split('id="original"')[1].split("</section>")[0]
    assert "Home visit — participation 2/5" in original
    # its own form, pre-filled
    assert 'name="participation" type="radio" value="2" checked' in form.text
    values = {"occurred_at": "2026-10-05T11:00", "kind": "home_visit", "participation": "4"}
    no_reason = post(env, f"{CASE}/correct/{wrong_id}", csrf, **values)
    assert no_reason.status_code == 422
    assert errors_beside(no_reason.text, "correction_reason") == "is required"
    bad = post(env, f"{CASE}/correct/{wrong_id}", csrf, **{**values, "participation": "9"},
               correction_reason="typo")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "participation") != ""
    ok = post(env, f"{CASE}/correct/{wrong_id}", csrf, **values, correction_reason="typo")
    assert ok.status_code == 303, ok.text
    sup = env.app.store.read_stream("CS-TEST1")[-1].event
    assert sup.type == "event_superseded"
    assert str(sup.target_event_id) == wrong_id  # type: ignore[attr-defined]
    assert sup.replacement["participation"] == 4  # type: ignore[attr-defined]
    page = env.client.get(CASE).text
    assert "Correction — entry v2 superseded" in page
    assert "superseded by v" in page
    confirm = env.client.get(f"{CASE}/retract/{missed_id}")
    assert "Retract this entry" in confirm.text
    retracted = post(env, f"{CASE}/retract/{missed_id}", csrf, reason="wrong case")
    assert retracted.status_code == 303
    assert types(env)[-1] == "event_retracted"
    opening = str(env.app.store.read_stream("CS-TEST1")[0].event_id)
    refused = post(env, f"{CASE}/retract/{opening}", csrf, reason="oops")
    assert refused.status_code == 422
    assert "cannot be retracted" in refused.text


def test_warning_for_an_unacceptable_failure(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    assert f'href="{CASE}/warning"' not in env.client.get(CASE).text  # nothing to warn for
    failure = missed(env)
    missed(env, "2026-10-29", acceptable=True)
    assert f'href="{CASE}/warning"' in env.client.get(CASE).text
    form = env.client.get(f"{CASE}/warning")
    assert form.text.count("appointment missed") == 1  # only the unacceptable one
    made_up = post(env, f"{CASE}/warning", csrf, occurred_at="2026-10-30T10:00",
                   failure_event_id="00000000-0000-0000-0000-000000000000")
    assert made_up.status_code == 422
    assert errors_beside(made_up.text, "failure_event_id") == "choose one of the options"
    ok = post(env, f"{CASE}/warning", csrf, occurred_at="2026-10-30T10:00",
              failure_event_id=failure)
    assert ok.status_code == 303
    assert types(env)[-1] == "warning_issued"
    assert "Warning issued" in env.client.get(CASE).text


def test_no_warning_where_the_disposal_has_no_warnings(env: Env) -> None:
    """A referral order is enforced through its panel, not by warnings: the warning form
    says so (the profile's own words) and a warning posted anyway is refused."""
    open_case(env.app, disposal_type="referral_order")
    csrf = sign_in(env.client, "prac.a")
    failure = missed(env)
    form = env.client.get(f"{CASE}/warning")
    assert form.status_code == 200
    refusal = re.search(r'<p class="flash bad" id="refusal">([^<]*)</p>', form.text)
    assert refusal is not None and "panel" in refusal.group(1).lower(), form.text[:500]
    refused = post(env, f"{CASE}/warning", csrf, occurred_at="2026-10-30T10:00",
                   failure_event_id=failure)
    assert refused.status_code in (409, 422)
    assert "warning_issued" not in types(env)


def test_breach_proceedings_from_the_case_page(env: Env) -> None:
    """A practitioner starts breach proceedings on the page: the failures are chosen from the
    case's own, the domain's warning rule is told beside its field, and a serious failure goes
    to breach at once."""
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    assert f'href="{CASE}/breach"' not in env.client.get(CASE).text  # no failure yet
    failure = missed(env)
    missed(env, "2026-10-29", acceptable=True)
    assert f'href="{CASE}/breach"' in env.client.get(CASE).text
    form = env.client.get(f"{CASE}/breach")
    assert form.status_code == 200
    assert form.text.count("appointment missed") == 1  # only the unacceptable one
    none_chosen = post(env, f"{CASE}/breach", csrf, occurred_at="2026-10-30T10:00")
    assert none_chosen.status_code == 422
    assert errors_beside(none_chosen.text, "failure_event_ids")
    unwarned = post(env, f"{CASE}/breach", csrf, occurred_at="2026-10-30T10:00",
                    failure_event_ids=failure)
    assert unwarned.status_code == 422
    assert "warned period" in errors_beside(unwarned.text, "serious_failure")
    assert "breach_initiated" not in types(env)
    ok = post(env, f"{CASE}/breach", csrf, occurred_at="2026-10-30T10:00",
              failure_event_ids=failure, serious_failure="on")
    assert ok.status_code == 303, ok.text[:300]
    assert types(env)[-1] == "breach_initiated"
    stored = env.app.store.read_stream("CS-TEST1")[-1]
    assert stored.recorded_role == "practitioner"
    assert "Breach proceedings started" in env.client.get(CASE).text


def test_no_breach_form_where_the_disposal_has_no_breach(env: Env) -> None:
    """Out of court, the YOT starts no breach: the form says why in the profile's words and
    a breach posted anyway stores nothing."""
    open_case(env.app, disposal_type="referral_order")
    csrf = sign_in(env.client, "prac.a")
    failure = missed(env)
    form = env.client.get(f"{CASE}/breach")
    refusal = re.search(r'<p class="flash bad" id="refusal">([^<]*)</p>', form.text)
    assert refusal is not None and refusal.group(1).strip(), form.text[:500]
    refused = post(env, f"{CASE}/breach", csrf, occurred_at="2026-10-30T10:00",
                   failure_event_ids=failure, serious_failure="on")
    assert refused.status_code in (409, 422)
    assert "breach_initiated" not in types(env)


def test_timeline_headings_filter_and_pages(env: Env) -> None:
    open_case(env.app)
    for day in range(1, 26):
        record(env.app, "CS-TEST1", "contact_attended",
               {"kind": "home_visit", "participation": 4}, at(f"2026-09-{day:02d}"))
    missed(env)
    sign_in(env.client, "prac.a")
    first = env.client.get(CASE).text
    assert first.count('<h3 class="what">') == 20
    assert "27 entries, page 1 of 2" in first
    assert "Missed office appointment — unacceptable, no reason given" in first
    assert "recorded " in first and "by prac.a (practitioner)" in first
    assert 'href="/cases/CS-TEST1?page=2#timeline-h"' in first
    second = env.client.get(f"{CASE}?page=2").text
    assert second.count('<h3 class="what">') == 7
    assert "Case opened — yro, enhanced level" in second
    enforcement = env.client.get(f"{CASE}?family=contacts").text
    assert "26 entries, page 1 of 2" in enforcement
    assert "Case opened" not in env.client.get(f"{CASE}?family=contacts&page=2").text
    assert env.client.get(f"{CASE}?page=0").status_code == 422
    assert env.client.get(f"{CASE}?family=nonsense").status_code == 200  # every entry


def test_an_act_shown_before_someone_else_wrote_is_a_clash(env: Env) -> None:
    open_case(env.app)
    missed_id = missed(env)  # the case is now at version 2
    csrf = sign_in(env.client, "prac.a")
    stale = post(env, f"{CASE}/follow-up", csrf, occurred_at="2026-10-29T09:00",
                 missed_event_id=missed_id, method="phone", child_reached="no",
                 expected_version="1")
    assert stale.status_code == 409
    assert "Someone else recorded on this case" in stale.text
    assert 'name="expected_version" value="2"' in stale.text  # the next try is at version 2
    assert types(env)[-1] == "contact_missed"


def test_each_act_request_is_logged_once(env: Env) -> None:
    """Showing an act's form is a read; a post is logged once, by its write or by the form
    shown again — never twice for one request."""
    open_case(env.app)
    missed_id = missed(env)
    csrf = sign_in(env.client, "prac.a")
    env.client.get(f"{CASE}/follow-up")
    post(env, f"{CASE}/follow-up", csrf, occurred_at="2026-10-29T09:00")  # form problems
    post(env, f"{CASE}/follow-up", csrf, occurred_at="2031-10-29T09:00",  # a rule refuses
         missed_event_id=missed_id, method="phone", child_reached="yes")
    post(env, f"{CASE}/follow-up", csrf, occurred_at="2026-10-29T09:00",
         missed_event_id=missed_id, method="phone", child_reached="yes")
    logged = search(env.app, case_id="CS-TEST1").entries
    assert sorted((e.action, e.outcome) for e in logged) == sorted(
        [("GET /cases/{case_id}/follow-up", "allowed")]
        + [("POST /cases/{case_id}/follow-up", "allowed")] * 3)
