"""People who use the tracker: users, passwords, browser sessions, API tokens, sign-in throttle.

One module per concept; ``Accounts`` is all of them on one database. Who may read or write
what (the role matrix) is the domain's: ``tracker.domain.access``, re-exported here for the
callers that import it with the accounts.
"""

from __future__ import annotations

from tracker.domain.access import (
    ROLES,
    Principal,
    Role,
    can_acknowledge,
    can_manage_users,
    can_read_access_log,
    can_read_case,
    can_see_management,
    can_see_team,
    can_verify,
    can_write_case,
)
from tracker.services.accounts.invitations import Invitations
from tracker.services.accounts.passwords import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    check_password,
    same,
    sha256,
)
from tracker.services.accounts.sessions import (
    Session,
    Sessions,
)
from tracker.services.accounts.throttle import LoginThrottle
from tracker.services.accounts.tokens import TOKEN_PREFIX, TokenInfo, Tokens
from tracker.services.accounts.users import IDENTIFIER_RE, USERNAME_RE, User, Users, plain


class Accounts(Sessions, Tokens, Invitations):
    """Users, sessions, API tokens and invitations in the tracker's database."""


__all__ = [
    "IDENTIFIER_RE",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "ROLES",
    "TOKEN_PREFIX",
    "USERNAME_RE",
    "Accounts",
    "Invitations",
    "LoginThrottle",
    "Principal",
    "Role",
    "Session",
    "Sessions",
    "TokenInfo",
    "Tokens",
    "User",
    "Users",
    "can_acknowledge",
    "can_manage_users",
    "can_read_access_log",
    "can_read_case",
    "can_see_management",
    "can_see_team",
    "can_verify",
    "can_write_case",
    "check_password",
    "plain",
    "same",
    "sha256",
]
