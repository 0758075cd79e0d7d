"""Slowing password guessing per client address and per username, with growing delays.

Nobody is locked out: after a few free failures each further one doubles the wait before
the next attempt from that address, or for that username, up to a cap. An attacker who
guesses at someone's username makes that user wait at most ``USER_MAX_DELAY`` between
attempts (today's fixed 15-minute lock let anyone lock anyone out); a real user signing
in from another address is not slowed by the attacker's address at all. The numbers are
security settings, not case rules; the state is per process, in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FREE_FAILURES = 5
"""Failures (per address, per username) before any delay: typing mistakes cost nothing."""
FIRST_DELAY = timedelta(seconds=1)
"""The delay after the first failure past the free ones; each further failure doubles it."""
ADDRESS_MAX_DELAY = timedelta(minutes=5)
"""The longest wait imposed on one client address."""
USER_MAX_DELAY = timedelta(seconds=30)
"""The longest wait imposed on a username (short: anyone can fail for any username)."""
FORGET_AFTER = timedelta(hours=1)
"""Failures older than this are forgotten."""
MAX_KEYS = 10_000
"""Bound on the memory a flood of names or addresses can take."""


@dataclass
class _Failures:
    count: int
    last: datetime


class LoginThrottle:
    """Growing delays after failed sign-ins, per client address and per username."""

    def __init__(self) -> None:
        self._by_address: dict[str, _Failures] = {}
        self._by_user: dict[str, _Failures] = {}

    @staticmethod
    def _wait(table: dict[str, _Failures], key: str, now: datetime, cap: timedelta) -> float:
        found = table.get(key)
        if found is None or now - found.last >= FORGET_AFTER:
            table.pop(key, None)
            return 0.0
        extra = found.count - FREE_FAILURES
        if extra < 1:
            return 0.0
        delay = min(FIRST_DELAY * 2 ** min(extra - 1, 30), cap)
        return float(max(0.0, (found.last + delay - now).total_seconds()))

    def retry_after(self, username: str, address: str, now: datetime) -> float:
        """Seconds to wait before this address may try this username again (0: go ahead)."""
        return max(
            self._wait(self._by_address, address, now, ADDRESS_MAX_DELAY),
            self._wait(self._by_user, username, now, USER_MAX_DELAY),
        )

    def failed(self, username: str, address: str, now: datetime) -> None:
        """Count a wrong password (or unknown username) from this address."""
        for table, key in ((self._by_address, address), (self._by_user, username)):
            if len(table) > MAX_KEYS:
                table.clear()
            found = table.get(key)
            if found is None or now - found.last >= FORGET_AFTER:
                table[key] = _Failures(1, now)
            else:
                found.count += 1
                found.last = now

    def succeeded(self, username: str, address: str) -> None:
        """A correct password clears the username's and the address's count."""
        self._by_user.pop(username, None)
        self._by_address.pop(address, None)
