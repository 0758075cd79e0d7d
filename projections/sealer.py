"""The one personal value the read models keep, the date of birth, stays sealed.

A case record keeps the date-of-birth token exactly as the event stored it (sealed with
the child's key), and opens it in memory only to evaluate the 17½ rule. Destroying the
child's key (crypto-shredding) therefore makes it unreadable in the read models too.

Opening needs the child's data key. ``preload`` fetches many children's keys in one query
(a rebuild meets thousands of children), unwrapping them with the service's master key
exactly as ``events.sealing.SqlKeyring`` does; anything it cannot unwrap is left to the
keyring itself, so the fast path can only save time, never change an answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, select

from events.case import CaseOpened
from events.catalogue import event_class
from events.schema import child_keys
from events.sealing import PREFIX, Keyring, seal, unseal
from tracker.bootstrap import App, load_master_key
from tracker.errors import KeyUnavailable, TrackerError


def child_of(token: str) -> str | None:
    """The child id a sealed token was sealed for."""
    if not token.startswith(PREFIX):
        return None
    child, _, _rest = token[len(PREFIX):].partition(":")
    return child or None


class _Preloaded:
    """A keyring answering from preloaded keys first, then from the real keyring."""

    def __init__(self, keys: dict[str, bytes], inner: Keyring) -> None:
        self._keys = keys
        self._inner = inner

    def key_for(self, child_id: str, *, create: bool) -> bytes | None:
        found = self._keys.get(child_id)
        if found is not None:
            return found
        return self._inner.key_for(child_id, create=create)


class KeyringDob:
    """Seals and opens dates of birth with each child's key (``record.DobSealer``)."""

    def __init__(self, keyring: Keyring, *, engine: Engine | None = None,
                 master_key: bytes | None = None) -> None:
        self._keys: dict[str, bytes] = {}
        self._keyring = _Preloaded(self._keys, keyring)
        self._engine = engine
        self._kek = AESGCM(master_key) if master_key is not None else None

    @classmethod
    def for_app(cls, app: App) -> KeyringDob:
        try:
            master = load_master_key(app.settings)
        except TrackerError:
            master = None
        return cls(app.keyring, engine=app.engine, master_key=master)

    def preload(self, child_ids: Iterable[str]) -> None:
        """Fetch the keys of these children in one query (those not already known)."""
        if self._engine is None or self._kek is None:
            return
        missing = sorted({c for c in child_ids if c and c not in self._keys})
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(child_keys.c.child_id, child_keys.c.wrapped_key)
                    .where(child_keys.c.child_id.in_(chunk),
                           child_keys.c.destroyed_at.is_(None))
                ).all()
            for child_id, wrapped in rows:
                if wrapped is None:
                    continue
                blob = bytes(wrapped)
                try:
                    self._keys[child_id] = self._kek.decrypt(
                        blob[:12], blob[12:], child_id.encode()
                    )
                except (InvalidTag, ValueError):
                    continue  # not ours to judge: the keyring will answer for this child

    def forget(self) -> None:
        """Drop the preloaded keys (so a key destroyed meanwhile is not used again)."""
        self._keys.clear()

    def seal(self, child_id: str, dob: date) -> str | None:
        try:
            sealed = seal(CaseOpened, {"date_of_birth": dob.isoformat()}, child_id,
                          self._keyring, event_class)
        except KeyUnavailable:
            return None
        value = sealed.get("date_of_birth")
        return str(value) if value is not None else None

    def open(self, token: str) -> date | None:
        opened = unseal(CaseOpened, {"date_of_birth": token}, self._keyring, event_class)
        value = opened.get("date_of_birth")
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
