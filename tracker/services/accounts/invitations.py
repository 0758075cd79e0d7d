"""Invitations: an admin adds a user and gives them a one-time link to set their own
password, so no admin ever chooses or sees another person's password.

The link's secret is shown once and stored only as its SHA-256. It works once, until it
expires (the service's setting ``invitation_valid_hours``, ``TRACKER_INVITATION_VALID_HOURS``;
72 by local practice), and a newer invitation for the same user voids older ones.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import structlog
from sqlalchemy import insert, select, update

from tracker.db import tx
from tracker.db.account_tables import TABLES, invitations
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.accounts.account_log import record_changes
from tracker.services.accounts.passwords import check_password, sha256
from tracker.services.accounts.users import OPERATOR, User, Users

log = structlog.get_logger("tracker.services.accounts")

INVITATION_PREFIX = "inv_"


class Invitations(Users):
    """Issuing and redeeming one-time set-password links."""

    def invite(self, user_id: str, *, by: str = OPERATOR) -> tuple[str, datetime]:
        """A new set-password link's secret for ``user_id`` (shown once) and its expiry;
        any earlier unused link for them stops working."""
        user = self.get(user_id)
        if user is None:
            raise InvalidInput([FieldProblem("user_id", "no such user")])
        secret = INVITATION_PREFIX + secrets.token_urlsafe(32)
        now = self.app.clock.now()
        expires = now + timedelta(hours=self.app.settings.invitation_valid_hours)
        with tx.write(self.engine, tables=TABLES) as conn:
            conn.execute(update(invitations)
                         .where(invitations.c.user_id == user_id, invitations.c.used_at.is_(None))
                         .values(used_at=now))  # void the older links
            conn.execute(insert(invitations).values(
                token_hash=sha256(secret), user_id=user_id, created_at=now, expires_at=expires))
            record_changes(conn, at=now, actor_id=by, user_id=user_id, changes=[
                ("invited", f"set-password link valid until {expires:%Y-%m-%d %H:%M} UTC"),
            ])
        log.info("user_invited", user_id=user_id)
        return secret, expires

    def invited_user(self, secret: str) -> User | None:
        """The user a live (unused, unexpired) link is for, or None."""
        with tx.read(self.engine, tables=TABLES) as conn:
            row = conn.execute(
                select(invitations.c.user_id, invitations.c.expires_at, invitations.c.used_at)
                .where(invitations.c.token_hash == sha256(secret[:200]))
            ).first()
        if row is None or row.used_at is not None or row.expires_at <= self.app.clock.now():
            return None
        user = self.get(row.user_id)
        return user if user is not None and user.active else None

    def redeem_invitation(self, secret: str, password: str, repeated: str) -> User:
        """Set the invited user's password from their link, once; every problem is named
        (``InvalidInput``) and nothing is changed unless all is well."""
        user = self.invited_user(secret)
        if user is None:
            raise InvalidInput([FieldProblem(
                "link", "has expired or was already used: ask your administrator for a new one")])
        problems = check_password(password, user.username)
        if password != repeated:
            problems.append(FieldProblem("repeat_password", "does not match the password"))
        if problems:
            raise InvalidInput(problems)
        now = self.app.clock.now()
        with tx.write(self.engine, tables=TABLES) as conn:
            used = conn.execute(
                update(invitations)
                .where(invitations.c.token_hash == sha256(secret), invitations.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if used != 1:  # redeemed by someone else in the meantime
                raise InvalidInput([FieldProblem("link", "was already used")])
        self.update_user(user.user_id, password=password, by=user.user_id)
        with tx.write(self.engine, tables=TABLES) as conn:
            record_changes(conn, at=now, actor_id=user.user_id, user_id=user.user_id,
                           changes=[("password_set_by_invitation", "")])
        log.info("invitation_redeemed", user_id=user.user_id)
        return user
