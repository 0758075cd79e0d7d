"""Accounts at rest: argon2 hashes, tokens kept only as SHA-256, session expiry, and an
access log the database will not let anyone change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.api.conftest import PASSWORD, Env
from tracker.db.account_tables import api_tokens, sessions, users
from tracker.kernel.clock import FixedClock
from tracker.services.access_log import record_access, search
from tracker.services.accounts import sha256


def test_passwords_are_argon2id_hashes(env: Env) -> None:
    with env.app.engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(select(users.c.password_hash))]
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)
    assert env.accounts.authenticate("prac.a", PASSWORD) is not None
    assert env.accounts.authenticate("prac.a", PASSWORD + "x") is None
    assert env.accounts.authenticate("nobody", PASSWORD) is None


def test_api_tokens_and_sessions_are_kept_only_as_hashes(env: Env) -> None:
    secret = env["prac_a"].token
    cookie, _csrf = env.accounts.start_session(env["prac_a"].user)
    with env.app.engine.connect() as conn:
        token_rows = conn.execute(select(api_tokens)).all()
        session_rows = conn.execute(select(sessions)).all()
    stored = " ".join(str(v) for row in [*token_rows, *session_rows] for v in row)
    assert secret not in stored
    assert cookie not in stored
    assert sha256(secret) in {r.token_hash for r in token_rows}
    assert sha256(cookie) in {r.token_hash for r in session_rows}


def test_sessions_expire_when_idle_and_after_twelve_hours(env: Env) -> None:
    clock = env.app.clock
    assert isinstance(clock, FixedClock)
    start = clock.now()
    cookie, _ = env.accounts.start_session(env["manager_a"].user)
    clock.set(start + timedelta(hours=1, minutes=59))
    assert env.accounts.session(cookie) is not None
    clock.set(start + timedelta(hours=3, minutes=58))  # active an hour and 59 minutes ago
    assert env.accounts.session(cookie) is not None
    clock.set(start + timedelta(hours=6))
    assert env.accounts.session(cookie) is None  # idle for over two hours
    cookie, _ = env.accounts.start_session(env["manager_a"].user)
    for hour in range(1, 12):
        clock.set(start + timedelta(hours=6 + hour))
        assert env.accounts.session(cookie) is not None
    clock.set(start + timedelta(hours=18, minutes=1))
    assert env.accounts.session(cookie) is None  # twelve hours after signing in


def test_session_lifetimes_are_the_services_settings(env: Env) -> None:
    """``session_idle_minutes`` and ``session_absolute_hours`` decide when a session ends."""
    clock = env.app.clock
    assert isinstance(clock, FixedClock)
    env.app.settings = env.app.settings.model_copy(update={
        "session_idle_minutes": 30, "session_absolute_hours": 1, "session_touch_minutes": 1})
    start = clock.now()
    cookie, _ = env.accounts.start_session(env["manager_a"].user)
    clock.set(start + timedelta(minutes=29))
    assert env.accounts.session(cookie) is not None
    clock.set(start + timedelta(minutes=58))  # active 29 minutes ago
    assert env.accounts.session(cookie) is not None
    clock.set(start + timedelta(hours=1))
    assert env.accounts.session(cookie) is None  # an hour after signing in
    cookie, _ = env.accounts.start_session(env["manager_a"].user)
    clock.set(start + timedelta(hours=1, minutes=30))
    assert env.accounts.session(cookie) is None  # idle for 30 minutes


def test_deactivating_a_user_ends_their_session(env: Env) -> None:
    cookie, _ = env.accounts.start_session(env["prac_b"].user)
    assert env.accounts.session(cookie) is not None
    env.accounts.update_user("P-TEST02", active=False)
    assert env.accounts.session(cookie) is None
    env.accounts.update_user("P-TEST02", active=True)
    assert env.accounts.session(cookie) is None  # ended, not merely suspended


@pytest.mark.parametrize("statement", [
    "UPDATE access_log SET outcome = 'allowed'",
    "DELETE FROM access_log",
])
def test_the_access_log_is_append_only(env: Env, statement: str) -> None:
    record_access(env.app, user_id="P-TEST02", role="practitioner", case_ids=["CS-1"],
                  action="GET /cases/{case_id}", outcome="refused")
    with pytest.raises(DBAPIError), env.app.engine.begin() as conn:
        conn.execute(text(statement))
    entries = search(env.app).entries
    assert [(e.case_id, e.outcome) for e in entries] == [("CS-1", "refused")]
