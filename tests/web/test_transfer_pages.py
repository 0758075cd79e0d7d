"""Transfers through the real pages, on both back ends: the case's team requests one with
the act form; the receiving team's manager sees accept and reject on the case and answers;
others get a 403 and nothing is recorded; a mistake is a 422 beside its field."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import PASSWORD, Env
from tests.support import at, open_case, record
from tests.web.conftest import errors_beside, sign_in
from tracker.services.access_log import search

CASE = "/cases/CS-TEST1"


def post(env: Env, path: str, csrf: str, **data: Any) -> Any:
    return env.client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def types(env: Env) -> list[str]:
    return [r.type for r in env.app.store.read_stream("CS-TEST1")]


def requested(env: Env) -> str:
    csrf = sign_in(env.client, "prac.a")
    assert f'href="{CASE}/transfer"' in env.client.get(CASE).text
    form = env.client.get(f"{CASE}/transfer")
    assert form.status_code == 200
    assert '<option value="TEAM-B"' in form.text  # the other teams of the service
    missing = post(env, f"{CASE}/transfer", csrf, kind="full", to_team="TEAM-B")
    assert missing.status_code == 422
    assert errors_beside(missing.text, "reason") == "is required"
    ok = post(env, f"{CASE}/transfer", csrf, kind="full", to_team="TEAM-B",
              reason="synthetic: the family moved")
    assert ok.status_code == 303, ok.text
    assert ok.headers["location"] == f"{CASE}?recorded=transfer"
    stored = env.app.store.read_stream("CS-TEST1")[-1]
    assert (stored.type, stored.recorded_by) == ("transfer_requested", "P-TEST01")
    return str(stored.event.transfer_id)  # type: ignore[attr-defined]


def test_request_then_the_receiving_manager_accepts_on_the_pages(env: Env) -> None:
    open_case(env.app)
    transfer_id = requested(env)
    # The sender's manager and the receiving team's practitioner may not answer.
    for who in ("manager.a", "prac.b"):
        sign_in(env.client, who)
        assert env.client.get(f"{CASE}/transfer/accept").status_code == 403, who
    csrf = sign_in(env.client, "manager.b")
    case = env.client.get(CASE)
    assert case.status_code == 200
    assert f'href="{CASE}/transfer/accept"' in case.text
    form = env.client.get(f"{CASE}/transfer/accept")
    assert form.status_code == 200
    assert f'<option value="{transfer_id}" selected>' in form.text
    ok = post(env, f"{CASE}/transfer/accept", csrf, transfer_id=transfer_id, team="TEAM-B")
    assert ok.status_code == 303, ok.text
    stored = env.app.store.read_stream("CS-TEST1")[-1]
    assert (stored.type, stored.recorded_by, stored.recorded_role) == (
        "transfer_accepted", "M-TEST02", "manager")
    # TEAM-B's practitioner now writes; TEAM-A's reads the case but is offered no act.
    sign_in(env.client, "prac.b")
    assert f'href="{CASE}/schedule"' in env.client.get(CASE).text
    sign_in(env.client, "prac.a")
    page = env.client.get(CASE)
    assert page.status_code == 200
    assert f'href="{CASE}/schedule"' not in page.text
    assert env.client.get(f"{CASE}/schedule").status_code == 403


def test_the_receiving_manager_rejects_with_a_reason(env: Env) -> None:
    open_case(env.app)
    transfer_id = requested(env)
    csrf = sign_in(env.client, "manager.b")
    empty = post(env, f"{CASE}/transfer/reject", csrf, transfer_id=transfer_id)
    assert empty.status_code == 422
    assert errors_beside(empty.text, "reason") == "is required"
    ok = post(env, f"{CASE}/transfer/reject", csrf, transfer_id=transfer_id,
              reason="synthetic: no capacity")
    assert ok.status_code == 303, ok.text
    assert types(env)[-1] == "transfer_rejected"
    assert env.client.get(CASE).status_code == 403  # no longer offered to TEAM-B
    sign_in(env.client, "prac.a")
    assert f'href="{CASE}/schedule"' in env.client.get(CASE).text


CONTACT = {"occurred_at": "2026-10-30T10:00", "kind": "office", "participation": "4"}


def test_a_host_practitioner_records_contacts_on_the_pages_and_nothing_else(env: Env) -> None:
    open_case(env.app)
    record(env.app, "CS-TEST1", "transfer_requested",
           {"transfer_id": "T-1", "kind": "caretaking", "to_team": "TEAM-B",
            "reason": "synthetic: staying with family"}, at("2026-10-01"))
    record(env.app, "CS-TEST1", "transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"},
           at("2026-10-02"))
    csrf = sign_in(env.client, "prac.b")
    page = env.client.get(CASE)
    assert page.status_code == 200
    assert f'href="{CASE}/log/contact"' in page.text
    assert f'href="{CASE}/log/review"' not in page.text
    assert env.client.get(f"{CASE}/log/review").status_code == 403
    ok = post(env, f"{CASE}/log/contact", csrf, **CONTACT)
    assert ok.status_code == 303, ok.text
    assert types(env)[-1] == "contact_attended"


def test_a_keyworker_lands_on_their_cases_and_records_a_custody_contact(env: Env) -> None:
    env.accounts.create_user("keyworker.k", PASSWORD, "secure_keyworker", [],
                             user_id="K-TEST01")
    open_case(env.app, setting="custody", disposal_type="dto")
    open_case(env.app, "CS-TEST2", child_id="C-TEST0002")
    record(env.app, "CS-TEST1", "case_manager_allocated",
           {"practitioner_id": "K-TEST01", "agency": "secure_establishment",
            "role": "secure_keyworker"}, at("2026-01-06"))
    csrf = sign_in(env.client, "keyworker.k")
    mine = env.client.get("/custody")
    assert mine.status_code == 200
    assert 'href="/cases/CS-TEST1"' in mine.text
    assert "CS-TEST2" not in mine.text
    assert env.client.get("/cases/CS-TEST2").status_code == 403
    assert env.client.get("/caseload").status_code == 403
    page = env.client.get(CASE)
    assert page.status_code == 200
    assert f'href="{CASE}/log/contact"' in page.text
    assert f'href="{CASE}/log/plan"' not in page.text
    ok = post(env, f"{CASE}/log/contact", csrf, **CONTACT)
    assert ok.status_code == 303, ok.text
    stored = env.app.store.read_stream("CS-TEST1")[-1]
    assert (stored.type, stored.recorded_by, stored.recorded_role) == (
        "contact_attended", "K-TEST01", "secure_keyworker")
    logged = {(e.case_id, e.outcome) for e in search(env.app, user_id="K-TEST01").entries}
    assert {("CS-TEST1", "allowed"), ("CS-TEST2", "refused")} <= logged
