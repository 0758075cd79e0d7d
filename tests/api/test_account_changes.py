"""Account changes (issue 9 §5): password rules, tokens revoked by a new role or password,
the append-only account log, and no admin changing their own role or activity."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.conftest import Env
from tests.conftest import TEST_KEY
from tests.support import run_cli
from tracker.edges.cli import context as ctx
from tracker.services.accounts.account_log import read_account_log


def test_password1234_is_refused_by_the_api(env: Env) -> None:
    resp = env.client.post("/api/users", headers=env["admin"].headers, json={
        "username": "new.one", "password": "password1234", "role": "auditor", "teams": [],
    })
    assert resp.status_code == 422
    assert resp.json()["fields"] == [
        {"field": "password", "reason": "is too common: choose a less guessable passphrase"}
    ]


@pytest.mark.parametrize("change", [{"password": "plum kettle orbit 47"}, {"role": "auditor"}])
def test_a_new_password_or_role_revokes_the_users_api_tokens(
    env: Env, change: dict[str, str]
) -> None:
    prac = env["prac_a"]
    assert env.client.get("/api/me", headers=prac.headers).status_code == 200
    resp = env.client.patch(f"/api/users/{prac.user.user_id}", headers=env["admin"].headers,
                            json={**change, **({"teams": []} if "role" in change else {})})
    assert resp.status_code == 200, resp.text
    assert env.client.get("/api/me", headers=prac.headers).status_code == 401
    changes = [e.change for e in read_account_log(env.app.engine, user_id="P-TEST01").entries]
    assert "tokens_revoked" in changes


def test_every_account_change_is_in_the_account_log(env: Env) -> None:
    admin = env["admin"]
    made = env.client.post("/api/users", headers=admin.headers, json={
        "username": "sam.jones", "password": "plum kettle orbit 47", "role": "practitioner",
        "teams": ["TEAM-A"], "user_id": "P-TEST09",
    })
    assert made.status_code == 201, made.text
    for body in ({"role": "manager"}, {"teams": ["TEAM-B"]}, {"active": False},
                 {"password": "another quiet orbit 48"}):
        assert env.client.patch("/api/users/P-TEST09", headers=admin.headers,
                                json=body).status_code == 200
    log = env.client.get("/api/account-log?user_id=P-TEST09", headers=admin.headers).json()
    assert [e["change"] for e in reversed(log["entries"])] == [
        "created", "role", "teams", "deactivated", "password_reset",
    ]
    assert {e["actor_id"] for e in log["entries"]} == {"AD-TEST01"}
    assert log["entries"][-1]["detail"] == "role practitioner; teams TEAM-A"
    text_of_log = str(log)
    assert "plum kettle" not in text_of_log and "sam.jones" not in text_of_log
    assert env.client.get("/api/account-log",
                          headers=env["auditor"].headers).status_code == 403


@pytest.mark.parametrize("statement", [
    "UPDATE account_log SET change = 'created'", "DELETE FROM account_log",
])
def test_the_account_log_is_append_only(env: Env, statement: str) -> None:
    env.accounts.update_user("P-TEST02", active=False, by="AD-TEST01")
    with pytest.raises(DBAPIError), env.app.engine.begin() as conn:
        conn.execute(text(statement))
    assert "deactivated" in [e.change for e in read_account_log(env.app.engine).entries]


@pytest.mark.parametrize(("body", "field"), [
    ({"role": "auditor"}, "role"), ({"active": False}, "active"),
])
def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves(
    env: Env, body: dict[str, object], field: str
) -> None:
    resp = env.client.patch("/api/users/AD-TEST01", headers=env["admin"].headers, json=body)
    assert resp.status_code == 422
    assert [f["field"] for f in resp.json()["fields"]] == [field]
    me = env.accounts.get("AD-TEST01")
    assert me is not None and me.role == "admin" and me.active


def test_the_account_log_on_the_command_line(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.accounts.update_user("P-TEST02", active=False, by="AD-TEST01")
    monkeypatch.setenv("TRACKER_DATABASE_URL", env.app.settings.database_url)
    monkeypatch.setenv("TRACKER_MASTER_KEY", TEST_KEY)
    monkeypatch.setenv("TRACKER_USER", "AD-TEST01")
    monkeypatch.setenv("TRACKER_ROLE", "admin")
    ctx.set_app(None)
    code, out, _err = run_cli(monkeypatch, capsys, "users", "log", "--json")
    assert code == 0
    document = json.loads(out[out.index("{\n"):])  # after any log lines
    assert next(e["change"] for e in document["entries"]) == "deactivated"
    monkeypatch.setenv("TRACKER_ROLE", "practitioner")
    ctx.set_app(None)
    code, _out, err = run_cli(monkeypatch, capsys, "users", "log")
    assert code == 2 and "access" in err
