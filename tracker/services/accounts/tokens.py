"""API tokens: shown once (``trk_...``) and stored only as their SHA-256."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import insert, select, update

from tracker.db import tx
from tracker.db.account_tables import TABLES, api_tokens
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.accounts.passwords import sha256
from tracker.services.accounts.users import User, Users, plain

log = structlog.get_logger("tracker.services.accounts")

TOKEN_PREFIX = "trk_"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (the secret itself is never stored)."""

    token_id: str
    user_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class Tokens(Users):
    """Issuing, checking, listing and revoking API tokens."""

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
        with tx.write(self.engine, tables=TABLES) as conn:
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
        with tx.read(self.engine, tables=TABLES) as conn:
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
        with tx.read(self.engine, tables=TABLES) as conn:
            rows = conn.execute(query).all()
        return [
            TokenInfo(r.token_id, r.user_id, r.name, r.created_at, r.revoked_at) for r in rows
        ]

    def revoke_token(self, token_id: str) -> bool:
        """Stop a token working; False if there was no such live token."""
        with tx.write(self.engine, tables=TABLES) as conn:
            done = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=self.app.clock.now())
            )
        return bool(done.rowcount)
