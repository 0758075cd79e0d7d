"""Transfers through the real pages, on both back ends: the case's team requests one with
the act form; the receiving team's manager sees accept and reject on the case and answers;
others get a 403 and nothing is recorded; a mistake is a 422 beside its field."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Env
from tests.support import open_case
from tests.web.conftest import errors_beside, sign_in

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
