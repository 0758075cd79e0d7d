"""Secrets: passwords (argon2id, upgraded on login when the parameters change), and the
SHA-256 that random session and API tokens are kept as.

A new password follows the NCSC's guidance ("Password policy: updating your approach"): a
minimum length and a deny-list (common passwords, the words they are built on, the
username), no composition rules. The list ships as package data (``common_passwords.txt``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher

from tracker.kernel.errors import FieldProblem
from tracker.services.app import App

MIN_PASSWORD = 12
MAX_PASSWORD = 256


MIN_DISTINCT = 5
"""Fewer different characters than this is a repetition ("aaaaaaaaaaaa", "abababababab")."""

_LOOK_ALIKE = str.maketrans("0134578@$!", "oieastbasi")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The deny-list (lower-case), read once from the package data."""
    text = files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _common(password: str) -> bool:
    """Whether the password is a listed one, maybe dressed up with digits, symbols and
    look-alike characters (``Password1234``, ``P@ssw0rd!``)."""
    lowered = password.lower()
    stem = _EDGES.sub("", lowered)
    candidates = {lowered, stem, lowered.translate(_LOOK_ALIKE), stem.translate(_LOOK_ALIKE)}
    return not candidates.isdisjoint(common_passwords())


def check_password(password: str, username: str | None = None) -> list[FieldProblem]:
    """What is wrong with a new password: too short or long, common, repetitive, all digits,
    or containing the username. Long passphrases beat composition rules."""
    if len(password) < MIN_PASSWORD:
        return [FieldProblem("password", f"must be at least {MIN_PASSWORD} characters")]
    if len(password) > MAX_PASSWORD:
        return [FieldProblem("password", f"must be at most {MAX_PASSWORD} characters")]
    if _common(password):
        return [FieldProblem("password", "is too common: choose a less guessable passphrase")]
    if len(set(password.lower())) < MIN_DISTINCT or password.isdigit():
        return [FieldProblem("password", "is too repetitive: choose a less guessable passphrase")]
    if username and len(username) >= 3 and username.lower() in password.lower():
        return [FieldProblem("password", "must not contain the username")]
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
