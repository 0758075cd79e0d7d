"""The admin's acts on the web: an invitation used to set a password (once), and erasing a
child's personal data after a confirmation step."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.api.conftest import Env
from tests.support import open_case
from tests.web.conftest import errors_beside, sign_in
from tracker.kernel.clock import FixedClock


def test_an_invited_user_sets_their_own_password_once(env: Env) -> None:
    csrf = sign_in(env.client, "admin")
    added = env.client.post("/admin/users", data={
        "csrf_token": csrf, "username": "sam.jones", "display_name": "Sam Jones",
        "role": "practitioner", "teams": ["TEAM-A"]})
    assert added.status_code == 200
    link = re.search(r'<code id="invitation-link">https?://[^/]+(/set-password/[^<]+)</code>',
                     added.text)
    assert link is not None
    path = link.group(1)
    env.client.cookies.clear()
    form = env.client.get(path)
    assert form.status_code == 200 and "Set your password" in form.text
    mismatch = env.client.post(path, data={"password": "a long enough phrase",
                                           "repeat_password": "another phrase here"})
    assert mismatch.status_code == 422
    assert errors_beside(mismatch.text, "repeat_password") == "does not match the password"
    done = env.client.post(path, data={"password": "a long enough phrase",
                                       "repeat_password": "a long enough phrase"})
    assert done.status_code == 200 and "Password set" in done.text
    assert env.accounts.authenticate("sam.jones", "a long enough phrase") is not None
    again = env.client.get(path)
    assert again.status_code == 410  # used once
    reuse = env.client.post(path, data={"password": "yet another phrase",
                                        "repeat_password": "yet another phrase"})
    assert reuse.status_code == 422
    assert env.accounts.authenticate("sam.jones", "yet another phrase") is None


def test_a_newer_invitation_voids_the_older_link(env: Env) -> None:
    user = env.accounts.by_username("prac.a")
    assert user is not None
    old, _ = env.accounts.invite(user.user_id)
    new, _ = env.accounts.invite(user.user_id)
    assert env.accounts.invited_user(old) is None
    assert env.accounts.invited_user(new) == user


def test_the_invitation_lifetime_is_the_services_setting(env: Env) -> None:
    """``invitation_valid_hours`` (72 by default) decides when a link stops working."""
    user = env.accounts.by_username("prac.a")
    clock = env.app.clock
    assert user is not None and isinstance(clock, FixedClock)
    start = clock.now()
    assert env.app.settings.invitation_valid_hours == 72
    _first, expires = env.accounts.invite(user.user_id)
    assert expires == start + timedelta(hours=72)
    env.app.settings = env.app.settings.model_copy(update={"invitation_valid_hours": 2})
    short, expires = env.accounts.invite(user.user_id)
    assert expires == start + timedelta(hours=2)
    clock.set(start + timedelta(hours=1))
    assert env.accounts.invited_user(short) == user
    clock.set(start + timedelta(hours=2, seconds=1))
    assert env.accounts.invited_user(short) is None


def test_admin_erases_a_child_after_confirming(env: Env) -> None:
    open_case(env.app)  # child C-TEST0001
    csrf = sign_in(env.client, "admin")
    form = env.client.get("/admin/erase")
    assert form.status_code == 200 and "cannot be undone" in form.text
    bad = env.client.post("/admin/erase", data={"csrf_token": csrf, "child_id": "C-TEST0001"})
    assert bad.status_code == 422 and errors_beside(bad.text, "reason")
    ask = env.client.post("/admin/erase", data={
        "csrf_token": csrf, "child_id": "C-TEST0001", "reason": "erasure_request"})
    assert ask.status_code == 200 and 'id="confirm"' in ask.text
    types = [r.event.type for r in env.app.store.read_stream("CS-TEST1", unseal=False)]
    assert "personal_data_erased" not in types  # nothing happens before the confirmation
    done = env.client.post("/admin/erase", data={
        "csrf_token": csrf, "child_id": "C-TEST0001", "reason": "erasure_request",
        "confirm": "yes"})
    assert done.status_code == 200
    assert "Erased the personal data of C-TEST0001 in 1 case(s)" in done.text
    types = [r.event.type for r in env.app.store.read_stream("CS-TEST1", unseal=False)]
    assert types[-1] == "personal_data_erased"
    sign_in(env.client, "prac.a")
    assert env.client.get("/admin/erase").status_code == 403


def test_a_mistyped_team_is_told_from_a_different_one() -> None:
    from tracker.services.accounts.teams import looks_like

    known = ["TEAM-A", "TEAM-B", "TEAM-NORTH"]
    assert looks_like("TEAM-NROTH", known) == "TEAM-NORTH"  # two letters swapped
    assert looks_like("TEAM-NORTHH", known) == "TEAM-NORTH"  # one letter too many
    assert looks_like("team-north", known) == "TEAM-NORTH"  # another letter case
    assert looks_like("TEAM-C", known) is None  # a different team, not a typo
    assert looks_like("TEAM-EAST", known) is None
