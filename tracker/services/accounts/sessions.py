"""Browser sessions: a random token in an HttpOnly cookie; the database keeps only its
SHA-256, with the session's CSRF token, an idle and an absolute expiry (the service's
settings ``session_idle_minutes``, ``session_absolute_hours``, ``session_touch_minutes``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import insert, select, update

from tracker.db import tx
from tracker.db.account_tables import TABLES, sessions
from tracker.services.accounts.passwords import sha256
from tracker.services.accounts.users import User, Users

log = structlog.get_logger("tracker.services.accounts")



@dataclass(frozen=True)
class Session:
    """A live browser session: whose it is and the CSRF token its forms must carry."""

    user: User
    csrf_token: str


class Sessions(Users):
    """Starting, finding and ending browser sessions."""

    @property
    def lifetimes(self) -> tuple[timedelta, timedelta, timedelta]:
        """(idle, absolute, touch): the settings' session lifetimes."""
        s = self.app.settings
        return (timedelta(minutes=s.session_idle_minutes),
                timedelta(hours=s.session_absolute_hours),
                timedelta(minutes=s.session_touch_minutes))

    def start_session(self, user: User) -> tuple[str, str]:
        """A new session for ``user``: (cookie value, CSRF token). Only the hash is kept."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.app.clock.now()
        with tx.write(self.engine, tables=TABLES) as conn:
            conn.execute(
                insert(sessions).values(
                    token_hash=sha256(token), user_id=user.user_id, csrf_token=csrf,
                    created_at=now, last_seen_at=now, expires_at=now + self.lifetimes[1],
                )
            )
        log.info("session_started", user_id=user.user_id)
        return token, csrf

    def session(self, token: str) -> Session | None:
        """The live session behind a cookie value, or None (ended, expired, user inactive)."""
        if not token or len(token) > 128:
            return None
        key = sha256(token)
        with tx.read(self.engine, tables=TABLES) as conn:
            row = conn.execute(select(sessions).where(sessions.c.token_hash == key)).first()
        if row is None or row.ended_at is not None:
            return None
        now = self.app.clock.now()
        idle, _absolute, touch = self.lifetimes
        if now >= row.expires_at or now - row.last_seen_at >= idle:
            return None
        user = self.get(row.user_id)
        if user is None or not user.active:
            return None
        if now - row.last_seen_at >= touch:
            with tx.write(self.engine, tables=TABLES) as conn:
                conn.execute(
                    update(sessions).where(sessions.c.token_hash == key).values(last_seen_at=now)
                )
        return Session(user=user, csrf_token=row.csrf_token)

    def end_session(self, token: str) -> None:
        """Sign out: the cookie stops working at once."""
        with tx.write(self.engine, tables=TABLES) as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == sha256(token), sessions.c.ended_at.is_(None))
                .values(ended_at=self.app.clock.now())
            )
