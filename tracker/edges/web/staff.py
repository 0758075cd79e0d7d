"""Staff as people know them: display names for the ids the record keeps (``P-N01``).

The record keeps ids (pseudonymous, stable); pages show the name on the account. A page
asks for names at most once (the accounts are read on first use), and an id without an
account (an import, a departed user) is shown as itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request

from tracker.services.accounts import Accounts, User


class StaffNames:
    """``names(user_id)`` -> the account's display name, or the id if there is none."""

    def __init__(self, accounts: Accounts | None) -> None:
        self.accounts = accounts
        self._users: list[User] | None = None

    @property
    def users(self) -> list[User]:
        if self._users is None:
            self._users = self.accounts.list_users() if self.accounts is not None else []
        return self._users

    def __call__(self, user_id: object) -> str:
        if user_id is None or user_id == "":
            return ""
        text = str(user_id)
        for user in self.users:
            if user.user_id == text:
                return user.display_name
        return text

    def in_teams(self, role: str, teams: Iterable[str | None]) -> list[tuple[str, str]]:
        """Active users with ``role`` in any of ``teams``, as (id, display name) choices."""
        wanted = {t for t in teams if t}
        return [(u.user_id, u.display_name) for u in self.users
                if u.active and u.role == role and u.teams & wanted]


def staff_names(request: Request) -> StaffNames:
    """The names for one request (the application's accounts)."""
    accounts: Accounts | None = getattr(request.app.state, "accounts", None)
    return StaffNames(accounts)
