"""Users: a pseudonymous id, a role and teams (the ``Principal`` the rules judge), with a
username, a display name and whether they may sign in; checking a password to sign in.

User ids are pseudonymous identifiers (``U-...`` or a practitioner id such as ``P-0001``);
they are what events record as the actor. Usernames and display names never reach the logs.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tracker.db import tx
from tracker.db.account_tables import TABLES, api_tokens, sessions, user_teams, users
from tracker.domain.access import ROLES, Principal, Role
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.accounts.account_log import Change, record_changes
from tracker.services.accounts.passwords import check_password, hasher_for
from tracker.services.app import App

log = structlog.get_logger("tracker.services.accounts")

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
OPERATOR = "operator"
"""Who the account log names when no signed-in user acted (the command line's operator)."""


@dataclass(frozen=True)
class User(Principal):
    """A person's account: the principal (id, role, teams) and what only accounts need."""

    username: str
    display_name: str
    active: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "teams": sorted(self.teams),
            "active": self.active,
        }


class Users:
    """Users in the tracker's database (the base the session and token stores share)."""

    def __init__(self, app: App, hasher: PasswordHasher | None = None) -> None:
        self.app = app
        self.engine: Engine = app.engine
        self.hasher = hasher or hasher_for(app)
        self._dummy_hash: str | None = None

    # -- users ---------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password: str | None,
        role: str,
        teams: Iterable[str] = (),
        *,
        user_id: str | None = None,
        display_name: str | None = None,
        by: str = OPERATOR,
    ) -> User:
        """Add a user; every bad field is reported (``InvalidInput``) before anything is written.

        ``by`` is who added them (the account log names them)."""
        team_set = frozenset(t.strip() for t in teams if t.strip())
        problems = _check_user(username, role, team_set, user_id, display_name)
        if password is not None:
            problems.extend(check_password(password, username))
        if problems:
            raise InvalidInput(problems)
        uid = user_id or f"U-{secrets.token_hex(4).upper()}"
        name = (display_name or username).strip()
        hashed = self.hasher.hash(password) if password is not None else None
        try:
            with tx.write(self.engine, tables=TABLES) as conn:
                conn.execute(
                    insert(users).values(
                        user_id=uid, username=username, display_name=name, role=role,
                        password_hash=hashed, active=True, created_at=self.app.clock.now(),
                    )
                )
                if team_set:
                    conn.execute(
                        insert(user_teams), [{"user_id": uid, "team": t} for t in sorted(team_set)]
                    )
                record_changes(conn, at=self.app.clock.now(), actor_id=by, user_id=uid, changes=[
                    ("created", f"role {role}; teams {_teams(team_set)}"),
                ])
        except IntegrityError:
            taken = self.by_username(username) is not None
            field = "username" if taken else "user_id"
            raise InvalidInput([FieldProblem(field, "is already in use")]) from None
        log.info("user_created", user_id=uid, role=role)
        return User(user_id=uid, role=cast(Role, role), teams=team_set, username=username,
                    display_name=name, active=True, service=self.app.settings.service_id)

    def get(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        found = self._users(users.c.user_id == user_id)
        return found[0] if found else None

    def by_username(self, username: str) -> User | None:
        """The user with this username, or None."""
        found = self._users(users.c.username == username)
        return found[0] if found else None

    def list_users(self) -> list[User]:
        """Every user, by username."""
        return self._users(None)

    def _users(self, where: object) -> list[User]:
        query = select(users).order_by(users.c.username)
        if where is not None:
            query = query.where(where)  # type: ignore[arg-type]
        with tx.read(self.engine, tables=TABLES) as conn:
            rows = conn.execute(query).all()
            ids = [r.user_id for r in rows]
            team_rows = (
                conn.execute(select(user_teams).where(user_teams.c.user_id.in_(ids))).all()
                if ids
                else []
            )
        teams: dict[str, set[str]] = {}
        for t in team_rows:
            teams.setdefault(t.user_id, set()).add(t.team)
        return [
            User(
                user_id=r.user_id, role=cast(Role, r.role),
                teams=frozenset(teams.get(r.user_id, ())), username=r.username,
                display_name=r.display_name, active=bool(r.active),
                service=self.app.settings.service_id,
            )
            for r in rows
        ]

    def update_user(
        self,
        user_id: str,
        *,
        role: str | None = None,
        teams: Sequence[str] | None = None,
        active: bool | None = None,
        password: str | None = None,
        display_name: str | None = None,
        by: str = OPERATOR,
    ) -> User:
        """Change a user's role, teams, password, name or whether they may sign in.

        ``by`` is who acts: nobody changes their own role or deactivates themselves (an admin
        locking themselves out, or raising themselves, is refused). A new role or password
        ends the user's sessions and revokes their API tokens; every change is written to
        the account log in the same transaction.
        """
        user = self.get(user_id)
        if user is None:
            raise InvalidInput([FieldProblem("user_id", "no such user")])
        team_set = frozenset(t.strip() for t in teams if t.strip()) if teams is not None else None
        problems = _check_user(
            user.username, role or user.role, user.teams if team_set is None else team_set, None,
            display_name,
        )
        if password is not None:
            problems.extend(check_password(password, user.username))
        if by == user_id and role is not None and role != user.role:
            problems.append(FieldProblem("role", "you cannot change your own role"))
        if by == user_id and active is False:
            problems.append(FieldProblem("active", "you cannot deactivate yourself"))
        if problems:
            raise InvalidInput(problems)
        values: dict[str, object] = {}
        changes: list[tuple[Change, str]] = []
        if role is not None and role != user.role:
            values["role"] = role
            changes.append(("role", f"{user.role} -> {role}"))
        if active is not None and active != user.active:
            values["active"] = active
            changes.append(("reactivated" if active else "deactivated", ""))
        if display_name is not None:
            values["display_name"] = display_name.strip()
            changes.append(("display_name", ""))  # the name itself stays out of the log
        if password is not None:
            values["password_hash"] = self.hasher.hash(password)
            changes.append(("password_reset", ""))
        if team_set is not None and team_set != user.teams:
            changes.append(("teams", f"{_teams(user.teams)} -> {_teams(team_set)}"))
        now = self.app.clock.now()
        with tx.write(self.engine, tables=TABLES) as conn:
            if values:
                conn.execute(update(users).where(users.c.user_id == user_id).values(**values))
            if team_set is not None:
                conn.execute(delete(user_teams).where(user_teams.c.user_id == user_id))
                if team_set:
                    conn.execute(
                        insert(user_teams),
                        [{"user_id": user_id, "team": t} for t in sorted(team_set)],
                    )
            if "active" in values or "password_hash" in values or "role" in values:
                self._end_sessions(conn, user_id)
            if "password_hash" in values or "role" in values:
                revoked = self._revoke_tokens(conn, user_id)
                if revoked:
                    changes.append(("tokens_revoked", f"{revoked} token(s)"))
            record_changes(conn, at=now, actor_id=by, user_id=user_id, changes=changes)
        log.info("user_updated", user_id=user_id, fields=[c for c, _ in changes])
        updated = self.get(user_id)
        assert updated is not None
        return updated

    # -- passwords -----------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this username and password, or None (same cost either way)."""
        with tx.read(self.engine, tables=TABLES) as conn:
            row = conn.execute(
                select(users.c.user_id, users.c.password_hash, users.c.active).where(
                    users.c.username == username
                )
            ).first()
        stored = row.password_hash if row is not None else None
        if stored is None:
            self._burn(password)
            log.info("login_refused", reason="unknown_or_no_password")
            return None
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            log.info("login_refused", user_id=row.user_id, reason="password")  # type: ignore[union-attr]
            return None
        assert row is not None
        if not row.active:
            log.info("login_refused", user_id=row.user_id, reason="inactive")
            return None
        if self.hasher.check_needs_rehash(stored):
            with tx.write(self.engine, tables=TABLES) as conn:
                conn.execute(
                    update(users).where(users.c.user_id == row.user_id)
                    .values(password_hash=self.hasher.hash(password))
                )
        return self.get(row.user_id)

    def _burn(self, password: str) -> None:
        """Spend what a real check costs, so a missing user is not told apart by timing."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError, InvalidHashError):
            self.hasher.verify(self._dummy_hash, password)

    def _end_sessions(self, conn: Connection, user_id: str) -> None:
        conn.execute(
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
            .values(ended_at=self.app.clock.now())
        )

    def _revoke_tokens(self, conn: Connection, user_id: str) -> int:
        """Revoke every live API token of the user; how many there were."""
        done = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=self.app.clock.now())
        )
        return int(done.rowcount)


def _teams(teams: frozenset[str]) -> str:
    """Team ids as the account log shows them."""
    return ",".join(sorted(teams)) or "-"


def _check_user(
    username: str,
    role: str,
    teams: frozenset[str],
    user_id: str | None,
    display_name: str | None,
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not USERNAME_RE.match(username):
        problems.append(FieldProblem(
            "username", "must be 3 to 64 lower-case letters, digits, dots, dashes or underscores"
        ))
    if role not in ROLES:
        problems.append(FieldProblem("role", f"must be one of {', '.join(ROLES)}"))
    for team in sorted(teams):
        if not IDENTIFIER_RE.match(team):
            problems.append(FieldProblem("teams", f"'{team[:70]}' is not a valid team id"))
    if role in ("practitioner", "manager") and not teams:
        problems.append(FieldProblem("teams", f"a {role} needs at least one team"))
    if user_id is not None and not IDENTIFIER_RE.match(user_id):
        problems.append(FieldProblem("user_id", "must be an identifier like U-1234 or P-0001"))
    if display_name is not None and not 1 <= len(display_name.strip()) <= 128:
        problems.append(FieldProblem("display_name", "must be 1 to 128 characters"))
    elif display_name is not None and not plain(display_name):
        problems.append(FieldProblem("display_name", "must not contain control characters"))
    return problems


def plain(text: str) -> bool:
    """Whether free text can be stored as it is: no control characters, valid Unicode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in text)
