"""Slowing password guessing, per username, in memory."""

from __future__ import annotations

from datetime import datetime, timedelta


class LoginThrottle:
    """Slows password guessing: after ``limit`` failures for a username within ``window``,
    that username is refused until the window has passed (per process, in memory)."""

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, list[datetime]] = {}

    def _recent(self, username: str, now: datetime) -> list[datetime]:
        recent = [t for t in self._failures.get(username, []) if now - t < self.window]
        if recent:
            self._failures[username] = recent
        else:
            self._failures.pop(username, None)
        return recent

    def blocked(self, username: str, now: datetime) -> bool:
        """Whether sign-in for this username is refused for now."""
        return len(self._recent(username, now)) >= self.limit

    def failed(self, username: str, now: datetime) -> None:
        if len(self._failures) > 10_000:  # bound the memory a flood of names can take
            self._failures.clear()
        self._failures.setdefault(username, []).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(username, None)
