"""People who use the tracker: users, roles, teams, passwords, sessions, API tokens, CSRF.

- Passwords are hashed with argon2id (``argon2-cffi``); a hash is upgraded on login when
  the parameters change.
- A browser session is a random token in an HttpOnly cookie; the database keeps only its
  SHA-256, with the session's CSRF token, an idle and an absolute expiry.
- An API token is shown once (``trk_...``) and stored only as its SHA-256.
- The role matrix (who may read or write which case) is the pure functions at the end,
  so the API and the web pages ask the same questions.

User ids are pseudonymous identifiers (``U-...`` or a practitioner id such as ``P-0001``);
they are what events record as the actor. Usernames and display names never reach the logs.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast, get_args

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Connection,
    Engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from events.envelope import Actor
from tracker.db.account_tables import api_tokens, sessions, user_teams, users
from tracker.kernel.errors import FieldProblem, InvalidInput, SchemaNotReady, StoreUnavailable
from tracker.services.app import App

log = structlog.get_logger("tracker.services.accounts")

Role = Literal["practitioner", "manager", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

SESSION_IDLE = timedelta(hours=2)
"""A browser session ends after this long without a request."""
SESSION_ABSOLUTE = timedelta(hours=12)
"""A browser session ends this long after login, whatever happens."""
SESSION_TOUCH = timedelta(minutes=5)
"""``last_seen_at`` is written at most this often (one write per request would be waste)."""
TOKEN_PREFIX = "trk_"  # noqa: S105 - a label, not a secret
MIN_PASSWORD = 12
MAX_PASSWORD = 256

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")

@dataclass(frozen=True)
class User:
    """A person's account: a pseudonymous id, a role and the teams whose cases they work."""

    user_id: str
    username: str
    display_name: str
    role: Role
    teams: frozenset[str]
    active: bool

    @property
    def actor(self) -> Actor:
        """What events record as the author: the id and the role, never the name."""
        return Actor(user_id=self.user_id, role=self.role)

    def to_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "teams": sorted(self.teams),
            "active": self.active,
        }


@dataclass(frozen=True)
class Session:
    """A live browser session: whose it is and the CSRF token its forms must carry."""

    user: User
    csrf_token: str


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (the secret itself is never stored)."""

    token_id: str
    user_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def sha256(value: str) -> str:
    """Hex SHA-256: how session and API tokens are kept (random, so no salt needed)."""
    return hashlib.sha256(value.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


class Accounts:
    """Users, sessions and API tokens in the tracker's database."""

    def __init__(self, app: App, hasher: PasswordHasher | None = None) -> None:
        self.app = app
        self.engine: Engine = app.engine
        self.hasher = hasher or _hasher(app)
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
    ) -> User:
        """Add a user; every bad field is reported (``InvalidInput``) before anything is written."""
        team_set = frozenset(t.strip() for t in teams if t.strip())
        problems = _check_user(username, role, team_set, user_id, display_name)
        if password is not None:
            problems.extend(check_password(password))
        if problems:
            raise InvalidInput(problems)
        uid = user_id or f"U-{secrets.token_hex(4).upper()}"
        name = (display_name or username).strip()
        hashed = self.hasher.hash(password) if password is not None else None
        try:
            with _write(self.engine) as conn:
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
        except IntegrityError:
            taken = self.by_username(username) is not None
            field = "username" if taken else "user_id"
            raise InvalidInput([FieldProblem(field, "is already in use")]) from None
        log.info("user_created", user_id=uid, role=role)
        return User(uid, username, name, cast(Role, role), team_set, True)

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
        with _read(self.engine) as conn:
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
                r.user_id, r.username, r.display_name, cast(Role, r.role),
                frozenset(teams.get(r.user_id, ())), bool(r.active),
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
    ) -> User:
        """Change a user's role, teams, password, name or whether they may sign in."""
        user = self.get(user_id)
        if user is None:
            raise InvalidInput([FieldProblem("user_id", "no such user")])
        team_set = frozenset(t.strip() for t in teams if t.strip()) if teams is not None else None
        problems = _check_user(
            user.username, role or user.role, user.teams if team_set is None else team_set, None,
            display_name,
        )
        if password is not None:
            problems.extend(check_password(password))
        if problems:
            raise InvalidInput(problems)
        values: dict[str, object] = {}
        if role is not None:
            values["role"] = role
        if active is not None:
            values["active"] = active
        if display_name is not None:
            values["display_name"] = display_name.strip()
        if password is not None:
            values["password_hash"] = self.hasher.hash(password)
        with _write(self.engine) as conn:
            if values:
                conn.execute(update(users).where(users.c.user_id == user_id).values(**values))
            if team_set is not None:
                conn.execute(delete(user_teams).where(user_teams.c.user_id == user_id))
                if team_set:
                    conn.execute(
                        insert(user_teams),
                        [{"user_id": user_id, "team": t} for t in sorted(team_set)],
                    )
            if active is False or password is not None or role is not None:
                self._end_sessions(conn, user_id)
        log.info("user_updated", user_id=user_id, fields=sorted([*values, *(
            ["teams"] if team_set is not None else [])]))
        updated = self.get(user_id)
        assert updated is not None
        return updated

    # -- passwords -----------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this username and password, or None (same cost either way)."""
        with _read(self.engine) as conn:
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
            with _write(self.engine) as conn:
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

    # -- browser sessions ----------------------------------------------------------------

    def start_session(self, user: User) -> tuple[str, str]:
        """A new session for ``user``: (cookie value, CSRF token). Only the hash is kept."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.app.clock.now()
        with _write(self.engine) as conn:
            conn.execute(
                insert(sessions).values(
                    token_hash=sha256(token), user_id=user.user_id, csrf_token=csrf,
                    created_at=now, last_seen_at=now, expires_at=now + SESSION_ABSOLUTE,
                )
            )
        log.info("session_started", user_id=user.user_id)
        return token, csrf

    def session(self, token: str) -> Session | None:
        """The live session behind a cookie value, or None (ended, expired, user inactive)."""
        if not token or len(token) > 128:
            return None
        key = sha256(token)
        with _read(self.engine) as conn:
            row = conn.execute(select(sessions).where(sessions.c.token_hash == key)).first()
        if row is None or row.ended_at is not None:
            return None
        now = self.app.clock.now()
        if now >= row.expires_at or now - row.last_seen_at >= SESSION_IDLE:
            return None
        user = self.get(row.user_id)
        if user is None or not user.active:
            return None
        if now - row.last_seen_at >= SESSION_TOUCH:
            with _write(self.engine) as conn:
                conn.execute(
                    update(sessions).where(sessions.c.token_hash == key).values(last_seen_at=now)
                )
        return Session(user=user, csrf_token=row.csrf_token)

    def end_session(self, token: str) -> None:
        """Sign out: the cookie stops working at once."""
        with _write(self.engine) as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == sha256(token), sessions.c.ended_at.is_(None))
                .values(ended_at=self.app.clock.now())
            )

    def _end_sessions(self, conn: Connection, user_id: str) -> None:
        conn.execute(
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
            .values(ended_at=self.app.clock.now())
        )

    # -- API tokens ----------------------------------------------------------------------

    def create_token(self, user_id: str, name: str = "api") -> tuple[str, TokenInfo]:
        """A new API token for a user: (the secret, shown once; what is kept about it)."""
        user = self.get(user_id)
        if user is None:
            raise InvalidInput([FieldProblem("user_id", "no such user")])
        name = name.strip()
        if not name or len(name) > 64 or not plain(name):
            raise InvalidInput([FieldProblem("name", "must be 1 to 64 printable characters")])
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            token_id=secrets.token_hex(4), user_id=user_id, name=name,
            created_at=self.app.clock.now(), revoked_at=None,
        )
        with _write(self.engine) as conn:
            conn.execute(
                insert(api_tokens).values(
                    token_hash=sha256(secret), token_id=info.token_id, user_id=user_id,
                    name=name, created_at=info.created_at,
                )
            )
        log.info("api_token_created", user_id=user_id, token_id=info.token_id)
        return secret, info

    def token_user(self, secret: str) -> User | None:
        """The active user an API token belongs to, or None (unknown or revoked)."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
            return None
        with _read(self.engine) as conn:
            row = conn.execute(
                select(api_tokens.c.user_id, api_tokens.c.revoked_at).where(
                    api_tokens.c.token_hash == sha256(secret)
                )
            ).first()
        if row is None or row.revoked_at is not None:
            return None
        user = self.get(row.user_id)
        return user if user is not None and user.active else None

    def list_tokens(self, user_id: str | None = None) -> list[TokenInfo]:
        """API tokens (never their secrets), newest first."""
        query = select(api_tokens).order_by(api_tokens.c.created_at.desc())
        if user_id is not None:
            query = query.where(api_tokens.c.user_id == user_id)
        with _read(self.engine) as conn:
            rows = conn.execute(query).all()
        return [
            TokenInfo(r.token_id, r.user_id, r.name, r.created_at, r.revoked_at) for r in rows
        ]

    def revoke_token(self, token_id: str) -> bool:
        """Stop a token working; False if there was no such live token."""
        with _write(self.engine) as conn:
            done = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=self.app.clock.now())
            )
        return bool(done.rowcount)


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


def check_password(password: str) -> list[FieldProblem]:
    """What is wrong with a new password (length only: long passphrases beat rules)."""
    if len(password) < MIN_PASSWORD:
        return [FieldProblem("password", f"must be at least {MIN_PASSWORD} characters")]
    if len(password) > MAX_PASSWORD:
        return [FieldProblem("password", f"must be at most {MAX_PASSWORD} characters")]
    return []


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


def _hasher(app: App) -> PasswordHasher:
    configured = app.extras.get("password_hasher")
    return configured if isinstance(configured, PasswordHasher) else PasswordHasher()


class _read:  # noqa: N801 - used like a function, as a context manager
    """A read-only connection, with database errors translated."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Connection:
        try:
            self._conn = self._engine.connect()
        except DBAPIError as exc:
            raise _translate(exc) from None
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.close()
        if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
            raise _translate(exc) from None


class _write:  # noqa: N801 - used like a function, as a context manager
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite), database errors translated."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Connection:
        try:
            conn = self._engine.connect()
            if self._engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            self._conn = conn
            self._tx = conn.begin()
        except DBAPIError as exc:
            raise _translate(exc) from None
        return conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self._conn.close()
        if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
            raise _translate(exc) from None


def _translate(exc: DBAPIError) -> Exception:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if "no such table" in message or ("relation" in message and "does not exist" in message):
        return SchemaNotReady("the database has no accounts tables yet: run 'tracker db upgrade'")
    return StoreUnavailable(f"database error: {type(exc.orig).__name__ if exc.orig else 'unknown'}")


# -- the role matrix -----------------------------------------------------------------------
#
#                      practitioner   manager        auditor      admin
#   read a case        own teams      own teams      every case   no
#   write a case       own teams      no             no           no
#   list alerts        own teams      own teams      every team   no
#   acknowledge alert  no             own teams      no           no
#   ratings/compliance no             own teams      every team   no
#   verify the chain   no             no             yes          yes
#   access log         no             no             yes          yes
#   manage users       no             no             no           yes
#
# Admin is a technical role: it does not read case content. A person who needs both has
# two accounts, so every case read is attributable to the role it was made in.


def can_read_case(user: User, case_team: str | None) -> bool:
    """May ``user`` read a case of ``case_team`` (None: the case does not exist)?"""
    if user.role == "auditor":
        return True
    if user.role in ("practitioner", "manager"):
        return case_team is not None and case_team in user.teams
    return False


def can_write_case(user: User, case_team: str | None) -> bool:
    """May ``user`` record events on a case of ``case_team``?"""
    return user.role == "practitioner" and case_team is not None and case_team in user.teams


def can_see_team(user: User, team: str | None) -> bool:
    """May ``user`` see team-level figures (caseload, alerts, compliance) for ``team``?

    ``team`` None means every team: only auditors see across teams.
    """
    if user.role == "auditor":
        return True
    if user.role in ("practitioner", "manager"):
        return team is not None and team in user.teams
    return False


def can_see_management(user: User, team: str | None) -> bool:
    """May ``user`` see management figures (ratings, compliance, team engagement) for ``team``?"""
    return user.role != "practitioner" and can_see_team(user, team)


def can_acknowledge(user: User, case_team: str | None) -> bool:
    """May ``user`` acknowledge or resolve an alert on a case of ``case_team``?"""
    return user.role == "manager" and case_team is not None and case_team in user.teams


def can_verify(user: User) -> bool:
    """May ``user`` run and read the chain verification?"""
    return user.role in ("auditor", "admin")


def can_read_access_log(user: User) -> bool:
    """May ``user`` search the access log?"""
    return user.role in ("auditor", "admin")


def can_manage_users(user: User) -> bool:
    """May ``user`` add, change and deactivate users and issue tokens for them?"""
    return user.role == "admin"
