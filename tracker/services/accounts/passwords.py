"""Secrets: passwords (argon2id, upgraded on login when the parameters change), and the
SHA-256 that random session and API tokens are kept as."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher

from tracker.kernel.errors import FieldProblem
from tracker.services.app import App

MIN_PASSWORD = 12
MAX_PASSWORD = 256


def check_password(password: str) -> list[FieldProblem]:
    """What is wrong with a new password (length only: long passphrases beat rules)."""
    if len(password) < MIN_PASSWORD:
        return [FieldProblem("password", f"must be at least {MIN_PASSWORD} characters")]
    if len(password) > MAX_PASSWORD:
        return [FieldProblem("password", f"must be at most {MAX_PASSWORD} characters")]
    return []


def sha256(value: str) -> str:
    """Hex SHA-256: how session and API tokens are kept (random, so no salt needed)."""
    return hashlib.sha256(value.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


def hasher_for(app: App) -> PasswordHasher:
    """The app's password hasher (tests configure a fast one), or argon2's defaults."""
    configured = app.extras.get("password_hasher")
    return configured if isinstance(configured, PasswordHasher) else PasswordHasher()
