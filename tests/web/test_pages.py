"""The pages through the real application (no browser): sign-in, CSRF, forms, roles."""

from __future__ import annotations

import re
from datetime import timedelta

from httpx import Response

from tests.api.conftest import PASSWORD, Env
from tests.support import at, open_case, record
from tests.web.conftest import errors_beside, sign_in
from tracker.edges.api.auth import SESSION_COOKIE
from tracker.kernel.clock import FixedClock
from tracker.services.access_log import search


def test_pages_need_a_session(env: Env) -> None:
    resp = env.client.get("/cases/CS-TEST1", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=%2Fcases%2FCS-TEST1"
    token_only = env.client.get("/cases/CS-TEST1", headers=env["prac_a"].headers,
                                follow_redirects=False)
    assert token_only.status_code == 303  # API tokens do not open pages


def test_sign_in_sets_an_httponly_session_and_sign_out_ends_it(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a", next_="/cases/CS-TEST1")
    cookie = env.client.cookies.get(SESSION_COOKIE)
    assert cookie
    assert env.client.get("/cases/CS-TEST1").status_code == 200
    resp = env.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    env.client.cookies.set(SESSION_COOKIE, cookie)  # replaying the old cookie
    again = env.client.get("/cases/CS-TEST1", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


def test_session_cookie_flags(env: Env) -> None:
    page = env.client.get("/login")
    token = page.text.split('name="login_csrf" value="')[1].split('"')[0]
    resp = env.client.post("/login", data={"username": "prac.a", "password": PASSWORD,
                                           "login_csrf": token}, follow_redirects=False)
    set_cookie = [v for k, v in resp.headers.multi_items() if k == "set-cookie"
                  and v.startswith(SESSION_COOKIE)]
    assert len(set_cookie) == 1
    assert "HttpOnly" in set_cookie[0]
    assert "SameSite=lax" in set_cookie[0]


def test_wrong_password_and_forged_login_form_are_refused(env: Env) -> None:
    page = env.client.get("/login")
    token = page.text.split('name="login_csrf" value="')[1].split('"')[0]
    wrong = env.client.post("/login", data={"username": "prac.a", "password": "nope-nope-nope",
                                            "login_csrf": token})
    assert wrong.status_code == 400
    assert "do not match" in wrong.text
    assert SESSION_COOKIE not in wrong.cookies
    env.client.cookies.clear()
    forged = env.client.post("/login", data={"username": "prac.a", "password": PASSWORD,
                                             "login_csrf": "made-up"})
    assert forged.status_code == 400
    assert "expired" in forged.text
    assert SESSION_COOKIE not in env.client.cookies


def _attempt(env: Env, password: str) -> Response:
    page = env.client.get("/login")
    token = page.text.split('name="login_csrf" value="')[1].split('"')[0]
    return env.client.post("/login", data={"username": "prac.a", "password": password,
                                           "login_csrf": token}, follow_redirects=False)


def test_five_wrong_passwords_do_not_lock_the_user_out(env: Env) -> None:
    """Anyone could lock anyone out for 15 minutes with five wrong passwords; now the user
    still signs in, and further failures only make the next attempt wait (never a lock)."""
    for _ in range(5):
        assert _attempt(env, "wrong-password!").status_code == 400
    assert _attempt(env, PASSWORD).status_code == 303  # signed in at once
    env.client.cookies.clear()
    for _ in range(7):
        _attempt(env, "wrong-password!")
    slowed = _attempt(env, PASSWORD)
    assert slowed.status_code == 429
    assert SESSION_COOKIE not in slowed.cookies
    wait = int(slowed.headers["Retry-After"])
    assert 1 <= wait <= 30  # a short, growing delay, not a 15-minute lock
    clock = env.app.clock
    assert isinstance(clock, FixedClock)
    clock.set(clock.now() + timedelta(seconds=wait))
    assert _attempt(env, PASSWORD).status_code == 303


def test_practitioner_logs_a_missed_appointment_through_the_form(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    form = env.client.get("/cases/CS-TEST1/log/missed")
    assert form.status_code == 200
    resp = env.client.post("/cases/CS-TEST1/log/missed", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", "kind": "office",
        "acceptable": "no", "reason": "no_reason_given", "note": "did not come",
        "expected_version": "1",
    }, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/cases/CS-TEST1?recorded=missed")
    stored = env.app.store.read_stream("CS-TEST1")
    assert [r.type for r in stored] == ["case_opened", "contact_missed"]
    assert (stored[1].recorded_by, stored[1].recorded_role) == ("P-TEST01", "practitioner")
    ev = stored[1].event
    assert (ev.kind, ev.acceptable, ev.reason, ev.note) == (  # type: ignore[attr-defined]
        "office", False, "no_reason_given", "did not come")
    page = env.client.get(resp.headers["location"])
    assert "Missed office appointment — unacceptable, no reason given" in page.text


def test_form_errors_are_shown_beside_their_fields(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    resp = env.client.post("/cases/CS-TEST1/log/missed", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", "kind": "carrier-pigeon",
    })
    assert resp.status_code == 422
    assert errors_beside(resp.text, "acceptable") == "is required"
    assert errors_beside(resp.text, "reason") == "is required"
    assert "Traceback" not in resp.text
    resp = env.client.post("/cases/CS-TEST1/log/missed", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", "kind": "carrier-pigeon",
        "acceptable": "yes", "reason": "forgot",
    })
    assert resp.status_code == 422
    assert errors_beside(resp.text, "kind") == "choose one of the options"
    future = env.client.post("/cases/CS-TEST1/log/contact", data={
        "csrf_token": csrf, "occurred_at": "2031-01-01T10:00", "kind": "office",
        "participation": "4",
    })
    assert future.status_code == 422
    assert errors_beside(future.text, "occurred_at") == "is in the future"
    plan = env.client.post("/cases/CS-TEST1/log/plan", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00",
        "objective_2_domain": "desistance", "objective_2_description": "attend school",
        "objective_2_target_date": "not a date",
    })
    assert plan.status_code == 422
    assert errors_beside(plan.text, "objective_2_target_date").startswith("must be a date")
    assert len(env.app.store.read_stream("CS-TEST1")) == 1


def test_a_form_without_the_sessions_csrf_token_records_nothing(env: Env) -> None:
    open_case(env.app)
    sign_in(env.client, "prac.a")
    for token in ("", "forged-token-value"):
        resp = env.client.post("/cases/CS-TEST1/log/missed", data={
            "csrf_token": token, "occurred_at": "2026-10-30T10:00", "kind": "office",
            "acceptable": "no", "reason": "forgot",
        })
        assert resp.status_code == 403
    assert len(env.app.store.read_stream("CS-TEST1")) == 1


def test_stale_form_reports_the_conflict_and_records_nothing(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "prac.a")
    record(env.app, "CS-TEST1", "contact_attended", {"kind": "phone", "participation": 3},
           at("2026-10-29"))
    resp = env.client.post("/cases/CS-TEST1/log/missed", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", "kind": "office",
        "acceptable": "no", "reason": "forgot", "expected_version": "1",
    })
    assert resp.status_code == 409
    assert "Someone else recorded on this case" in resp.text
    assert len(env.app.store.read_stream("CS-TEST1")) == 2


def test_other_team_and_missing_case_look_the_same(env: Env) -> None:
    open_case(env.app)
    sign_in(env.client, "prac.b")
    for path in ("", "/log/missed", "/replay", "/export.csv"):
        existing = env.client.get(f"/cases/CS-TEST1{path}")
        missing = env.client.get(f"/cases/CS-NOPE{path}")
        assert existing.status_code == missing.status_code == 403
        strip = [existing.text.replace(existing.headers["x-request-id"], ""),
                 missing.text.replace(missing.headers["x-request-id"], "")]
        assert strip[0] == strip[1]
    refused = {(e.case_id, e.outcome) for e in search(env.app, user_id="P-TEST02").entries}
    assert ("CS-TEST1", "refused") in refused
    assert ("CS-NOPE", "refused") in refused


def test_manager_reads_but_cannot_use_the_forms(env: Env) -> None:
    open_case(env.app)
    csrf = sign_in(env.client, "manager.a")
    page = env.client.get("/cases/CS-TEST1")
    assert page.status_code == 200
    assert "/log/missed" not in page.text
    assert env.client.get("/cases/CS-TEST1/log/missed").status_code == 403
    resp = env.client.post("/cases/CS-TEST1/log/missed", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", "kind": "office",
        "acceptable": "no", "reason": "forgot",
    })
    assert resp.status_code == 403
    assert len(env.app.store.read_stream("CS-TEST1")) == 1


def test_practitioner_opens_a_case_with_the_form(env: Env) -> None:
    csrf = sign_in(env.client, "prac.a")
    base = {"csrf_token": csrf, "case_id": "CS-NEW1", "child_id": "C-NEW1",
            "disposal_type": "referral_order", "start_date": "2026-10-01",
            "setting": "community", "intervention_level": "standard", "service": "YJS-TEST",
            "team": "TEAM-A"}
    bad = env.client.post("/cases/new", data={**base, "case_id": "has spaces",
                                              "start_date": "2027-01-01"})
    assert bad.status_code == 422
    assert errors_beside(bad.text, "case_id").startswith("use 2 to 64 letters")
    ok = env.client.post("/cases/new", data=base, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    opened = env.app.store.read_stream("CS-NEW1")[0].event
    assert opened.route == "court"  # type: ignore[attr-defined]
    again = env.client.post("/cases/new", data=base)
    assert again.status_code == 422
    assert errors_beside(again.text, "case_id") == "is already in use"
    other_team = env.client.post("/cases/new", data={**base, "case_id": "CS-NEW2",
                                                     "team": "TEAM-B"})
    assert other_team.status_code == 403
    assert env.app.store.stream_version("CS-NEW2") == 0


def test_auditor_replays_as_at_an_earlier_date_with_marks(env: Env) -> None:
    open_case(env.app)
    record(env.app, "CS-TEST1", "contact_attended", {"kind": "office", "participation": 4},
           at("2026-03-02"))
    missed = record(env.app, "CS-TEST1", "contact_missed",
                    {"kind": "office", "acceptable": False, "reason": "forgot"},
                    at("2026-10-01"))
    record(env.app, "CS-TEST1", "event_retracted",
           {"target_event_id": str(missed[0].event_id), "reason": "entered on wrong case"},
           at("2026-10-02"))
    sign_in(env.client, "auditor")
    early = env.client.get("/cases/CS-TEST1/replay?as_of=2026-06-30")
    assert early.status_code == 200
    in_view = early.text.split('id="later"')[0]
    assert "Contact attended" in in_view
    assert "Contact missed" not in in_view
    assert "happened after this date" in early.text.split('id="later"')[1]
    full = env.client.get("/cases/CS-TEST1/replay")
    assert "retracted by v4" in full.text
    assert "back-dated" in full.text  # the clock says Nov 2026: everything was back-dated
    before = env.client.get("/cases/CS-TEST1/replay?as_of=2025-12-01")
    assert before.status_code == 200
    assert "The case had not been opened by then." in before.text
    known = env.client.get("/cases/CS-TEST1/replay?as_known_at=2026-11-01T12:00")
    assert known.status_code == 200
    assert "Nothing about this case had been recorded by then" in known.text
    bad = env.client.get("/cases/CS-TEST1/replay?as_of=31/06/2026")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "as_of").startswith("must be a date")


def test_auditor_and_admin_pages(env: Env) -> None:
    open_case(env.app)
    sign_in(env.client, "auditor")
    assert env.client.get("/cases/CS-TEST1").status_code == 200
    verify = env.client.get("/audit/verify")
    assert verify.status_code == 200
    assert "Intact" in verify.text
    log = env.client.get("/audit/access-log?case_id=CS-TEST1")
    assert log.status_code == 200
    assert "GET /cases/{case_id}" in log.text
    assert env.client.get("/admin/users").status_code == 403
    bad = env.client.get("/audit/access-log?since=nonsense")
    assert bad.status_code == 422
    assert errors_beside(bad.text, "since").startswith("must be a date")

    csrf = sign_in(env.client, "admin")
    assert env.client.get("/cases/CS-TEST1").status_code == 403
    assert env.client.get("/admin/users").status_code == 200
    assert env.client.get("/audit/access-log").status_code == 200
    added = env.client.post("/admin/users", data={
        "csrf_token": csrf, "username": "new.manager", "role": "manager",
        "teams": ["TEAM-A"], "new_team": "TEAM-C", "display_name": "New Manager",
    })
    assert added.status_code == 200
    assert 'id="invitation-link"' in added.text  # no password chosen by the admin
    user = env.accounts.by_username("new.manager")
    assert user is not None
    assert user.teams == frozenset({"TEAM-A", "TEAM-C"})
    typo = env.client.post("/admin/users", data={
        "csrf_token": csrf, "username": "x.y", "role": "manager", "new_team": "TEAM-AA"})
    assert typo.status_code == 422
    assert errors_beside(typo.text, "new_team") == "looks like TEAM-A: tick it in the list instead"
    assert env.accounts.by_username("x.y") is None
    deactivate = env.client.post(f"/admin/users/{user.user_id}", data={
        "csrf_token": csrf, "action": "deactivate"})
    assert deactivate.status_code == 200
    assert env.accounts.get(user.user_id).active is False  # type: ignore[union-attr]
    users_page = env.client.get("/admin/users").text
    rows = re.findall(r"<td data-label=\"User\">([^<]*)</td>", users_page)
    assert "New Manager" in rows and user.user_id not in rows  # the account log shows names


def test_practitioner_cannot_reach_audit_or_admin_pages(env: Env) -> None:
    sign_in(env.client, "prac.a")
    for path in ("/audit", "/audit/verify", "/audit/access-log", "/admin/users"):
        assert env.client.get(path).status_code == 403, path


def test_cookies_are_secure_behind_an_https_public_url(env: Env) -> None:
    env.app.settings.public_url = "https://tracker.example.gov.uk"
    page = env.client.get("/login")
    token = page.text.split('name="login_csrf" value="')[1].split('"')[0]
    login_cookie = page.headers["set-cookie"]
    assert "secure" in login_cookie.lower()
    cookie_value = login_cookie.split(";")[0]  # an http test client keeps Secure cookies back
    env.client.cookies.clear()
    resp = env.client.post("/login", data={"username": "prac.a", "password": PASSWORD,
                                           "login_csrf": token}, headers={"Cookie": cookie_value},
                           follow_redirects=False)
    assert resp.status_code == 303
    session = [v for k, v in resp.headers.multi_items() if k == "set-cookie"
               and v.startswith(SESSION_COOKIE)]
    assert "Secure" in session[0]


def test_opening_a_form_page_is_logged_as_a_read(env: Env) -> None:
    """A form page shows the case (its version, its state): it is a read of case data."""
    open_case(env.app)
    sign_in(env.client, "prac.a")
    assert env.client.get("/cases/CS-TEST1/log/missed").status_code == 200
    logged = search(env.app, case_id="CS-TEST1").entries
    assert [(e.user_id, e.action, e.outcome) for e in logged] == [
        ("P-TEST01", "GET /cases/{case_id}/log/{slug}", "allowed")]


def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves_on_the_page(
    env: Env,
) -> None:
    csrf = sign_in(env.client, "admin")
    own_role = env.client.post("/admin/users/AD-TEST01", data={
        "csrf_token": csrf, "action": "teams", "role": "auditor", "teams": ""})
    assert own_role.status_code == 422
    assert "cannot change your own role" in own_role.text
    own_activity = env.client.post("/admin/users/AD-TEST01", data={
        "csrf_token": csrf, "action": "deactivate"})
    assert own_activity.status_code == 422
    me = env.accounts.get("AD-TEST01")
    assert me is not None and (me.role, me.active) == ("admin", True)
    other = env.client.post("/admin/users/P-TEST02", data={
        "csrf_token": csrf, "action": "deactivate"})
    assert other.status_code == 200
    assert 'id="account-log"' in other.text and "deactivated" in other.text
