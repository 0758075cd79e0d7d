"""Account rules as pure functions: the sign-in throttle's growing delays, password rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.services.accounts import LoginThrottle, check_password
from tracker.services.accounts.throttle import ADDRESS_MAX_DELAY, FREE_FAILURES, USER_MAX_DELAY

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_five_failures_cost_nothing_and_then_delays_grow() -> None:
    throttle = LoginThrottle()
    for _ in range(FREE_FAILURES):
        throttle.failed("sam", "10.0.0.9", T0)
    assert throttle.retry_after("sam", "10.0.0.9", T0) == 0  # no lock after five
    waits = []
    for _ in range(4):
        throttle.failed("sam", "10.0.0.9", T0)
        waits.append(throttle.retry_after("sam", "10.0.0.9", T0))
    assert waits == sorted(waits) and waits[0] < waits[-1]  # growing
    assert throttle.retry_after("sam", "10.0.0.9", T0 + timedelta(seconds=waits[-1])) == 0


def test_an_attacker_cannot_lock_a_named_user_out() -> None:
    throttle = LoginThrottle()
    for _ in range(200):
        throttle.failed("sam", "203.0.113.7", T0)
    # the attacker's own address waits long; the user, elsewhere, only briefly
    assert throttle.retry_after("sam", "203.0.113.7", T0) == ADDRESS_MAX_DELAY.total_seconds()
    assert throttle.retry_after("sam", "10.0.0.9", T0) == USER_MAX_DELAY.total_seconds()
    assert throttle.retry_after("sam", "10.0.0.9", T0 + USER_MAX_DELAY) == 0
    # another user signing in from elsewhere is not slowed at all
    assert throttle.retry_after("alex", "10.0.0.9", T0) == 0


def test_a_success_clears_the_count() -> None:
    throttle = LoginThrottle()
    for _ in range(FREE_FAILURES + 3):
        throttle.failed("sam", "10.0.0.9", T0)
    throttle.succeeded("sam", "10.0.0.9")
    assert throttle.retry_after("sam", "10.0.0.9", T0) == 0


@pytest.mark.parametrize("password", [
    "password1234", "Password1234!", "P@ssw0rd2024", "qwertyuiop12", "Summer2024!!",
    "aaaaaaaaaaaaaaa", "121212121212", "123456789012", "my name is sam.jones ok",
])
def test_common_repetitive_or_username_passwords_are_refused(password: str) -> None:
    problems = check_password(password, "sam.jones")
    assert [p.field for p in problems] == ["password"], password


@pytest.mark.parametrize("password", [
    "correct-horse-battery-staple", "plum kettle orbit 47", "Blue-Otter-Library-Tuesday",
])
def test_long_uncommon_passphrases_are_accepted(password: str) -> None:
    assert check_password(password, "sam.jones") == []
