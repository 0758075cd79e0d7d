"""Personal data in the log is sealed with the child's own key (crypto-shredding).

Fields marked ``PERSONAL`` (notes, reasons, date of birth, objective text) are stored as
``sealed:v1:<child>:<base64(nonce|AES-256-GCM ciphertext)>``. Each child has a random
data key, kept wrapped by the service's master key in ``child_keys``. Destroying that
row at the end of retention makes the sealed values unreadable for good, while the
stored bytes, and so the hash chain over them, stay exactly as they were.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from events.base import BASIC, DETAIL, PERSONAL
from events.schema import child_keys
from tracker.kernel.errors import ConfigurationError, KeyUnavailable

PREFIX = "sealed:v1:"
ERASED = "[erased]"


class Keyring(Protocol):
    """Gives a child's data key of one tier; ``None`` once it has been destroyed."""

    def key_for(self, child_id: str, *, create: bool, tier: str = BASIC) -> bytes | None: ...

    def tier_destroyed(self, child_id: str, tier: str) -> bool:
        """Whether the child's key of ``tier`` was destroyed (not merely never created)."""
        ...


KEY_CHECK_SECONDS = 0.25
"""How long a process may use a child's key, read from the database, before it reads the
key's row again. Erasure must take effect in every running process within one second;
this bound (well under it) is the longest any reader can still open a destroyed key.
Sealing never relies on it: the append re-checks the key under the writer lock."""

Scope = Literal["detail", "all"]
"""What a destruction takes: the detail key only (reduction to basic information), or
both keys (erasure)."""


def key_slot(child_id: str, tier: str) -> str:
    """The cache and wrapping name of a child's key of ``tier`` (``<child>:detail``; a
    child id never holds a colon)."""
    return child_id if tier == BASIC else f"{child_id}:{DETAIL}"


_KEY_COLUMNS = (
    child_keys.c.child_id, child_keys.c.wrapped_key, child_keys.c.destroyed_at,
    child_keys.c.detail_wrapped_key, child_keys.c.detail_destroyed_at,
)


class SqlKeyring:
    """Data keys in the database, wrapped (AES-GCM) by a master key held outside it.

    Each child has two keys on one row: the basic key (identity: the date of birth, and
    every value sealed before keys had tiers) and the detail key (narrative), created
    with the row or, for a row from before tiers, on the first narrative write.

    Keys read from the database are kept for at most ``KEY_CHECK_SECONDS`` (per process,
    shared by its threads): long enough for a page or a projector batch to open many
    values with one read, short enough that a key destroyed by another process is gone
    here within a second. Only a destroyed key, never a live one, outlives the bound.
    """

    def __init__(self, engine: Engine, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ConfigurationError("master key must be 32 bytes (base64 in TRACKER_MASTER_KEY)")
        self._engine = engine
        self._kek = AESGCM(master_key)
        self._cache: dict[str, tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()

    def _cached(self, slot: str, *, any_age: bool = False) -> tuple[bool, bytes | None]:
        """(known, key): a key read within the bound (or at any time, ``any_age``), or one
        known destroyed for good."""
        entry = self._cache.get(slot)
        if entry is None:
            return False, None
        read_at, key = entry
        if key is None and read_at == float("inf"):
            return True, None
        if not any_age and time.monotonic() - read_at > KEY_CHECK_SECONDS:
            return False, None
        return True, key

    def _keep(self, slot: str, key: bytes | None, *, destroyed: bool = False) -> None:
        with self._lock:
            before = self._cache.get(slot)
            self._cache[slot] = (float("inf") if destroyed else time.monotonic(), key)
        if destroyed and before is not None and before[1] is not None:
            _aead.cache_clear()  # a key this process used is gone: so is its cipher

    def _keep_row(self, row: Any) -> None:
        """Cache both keys of one ``child_keys`` row (one read serves both tiers)."""
        child_id = str(row.child_id)
        if row.destroyed_at is not None or row.wrapped_key is None:
            self._keep(child_id, None, destroyed=True)  # a destroyed key never comes back
        else:
            self._keep(child_id, self._unwrap(child_id, bytes(row.wrapped_key)))
        detail = key_slot(child_id, DETAIL)
        if row.detail_destroyed_at is not None or row.destroyed_at is not None:
            self._keep(detail, None, destroyed=True)
        elif row.detail_wrapped_key is None:
            self._keep(detail, None)  # not created yet (a row from before tiers)
        else:
            self._keep(detail, self._unwrap(detail, bytes(row.detail_wrapped_key)))

    def key_for(self, child_id: str, *, create: bool, tier: str = BASIC) -> bytes | None:
        slot = key_slot(child_id, tier)
        # Sealing (``create``) may use a live key of any age: the writer checks under its
        # lock that the key was not destroyed since, and refuses the append if it was. The
        # bound is for reading, so that erased data stops showing within it everywhere.
        known, cached = self._cached(slot, any_age=create)
        if known and (cached is not None or not create):
            return cached
        row = self._read(child_id)
        if create and (row is None or (tier == DETAIL and row.detail_wrapped_key is None)):
            self._create(child_id, new_row=row is None)
            row = self._read(child_id)  # ours, or the one a concurrent writer stored first
        if row is None:
            return None  # no key yet: nothing was ever sealed for this child
        self._keep_row(row)  # only a key that is committed is ever used to seal
        _known, key = self._cached(slot)
        if key is None and create:
            raise KeyUnavailable(f"child {child_id}: personal data key ({tier}) was destroyed")
        return key

    def tier_destroyed(self, child_id: str, tier: str) -> bool:
        slot = key_slot(child_id, tier)
        if not self._cached(slot)[0]:
            row = self._read(child_id)
            if row is None:
                return False
            self._keep_row(row)
        entry = self._cache.get(slot)
        return entry is not None and entry[1] is None and entry[0] == float("inf")

    def preload(self, child_ids: Iterable[str]) -> None:
        """Fetch the keys of many children in a few queries (readers folding many cases)."""
        missing = sorted({c for c in child_ids if c and not self._cached(c)[0]})
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(*_KEY_COLUMNS).where(child_keys.c.child_id.in_(chunk))
                ).all()
            for row in rows:
                self._keep_row(row)

    def forget(self) -> None:
        """Drop every cached key, so a key destroyed by another process is not used again."""
        with self._lock:
            self._cache.clear()
        _aead.cache_clear()

    def destroyed(self, child_id: str, scope: Scope = "all") -> None:
        """Note here that another transaction destroyed the child's keys (see ``destroy``)."""
        self._keep(key_slot(child_id, DETAIL), None, destroyed=True)
        if scope == "all":
            self._keep(child_id, None, destroyed=True)

    def data_keys(self, child_id: str) -> tuple[bytes | None, bytes | None] | None:
        """The child's data keys (basic, detail; None where destroyed or never made), or None
        if the child has no key row: for a transfer bundle, which re-wraps them under the
        transfer key. They never leave this process unwrapped."""
        row = self._read(child_id)
        if row is None:
            return None
        self._keep_row(row)
        return self._cached(child_id, any_age=True)[1], self._cached(
            key_slot(child_id, DETAIL), any_age=True)[1]

    def key_row(
        self, child_id: str, basic: bytes | None, detail: bytes | None, now: datetime
    ) -> dict[str, Any]:
        """A ``child_keys`` row holding these data keys wrapped by this database's master
        key (a destroyed key stays destroyed): how an imported bundle's keys are stored."""
        def wrap(slot: str, dek: bytes) -> bytes:
            nonce = os.urandom(12)
            return nonce + self._kek.encrypt(nonce, dek, slot.encode())

        return {
            "child_id": child_id, "created_at": now,
            "wrapped_key": wrap(child_id, basic) if basic else None,
            "destroyed_at": None if basic else now,
            "detail_wrapped_key": wrap(key_slot(child_id, DETAIL), detail) if detail else None,
            "detail_destroyed_at": None if detail or not basic else now,
        }

    def _unwrap(self, slot: str, blob: bytes) -> bytes:
        try:
            return self._kek.decrypt(blob[:12], blob[12:], slot.encode())
        except InvalidTag:
            raise ConfigurationError(
                "the master key does not open this database's child keys"
            ) from None

    def _read(self, child_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(
                select(*_KEY_COLUMNS).where(child_keys.c.child_id == child_id)
            ).first()

    def _wrap(self, slot: str) -> bytes:
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        return nonce + self._kek.encrypt(nonce, dek, slot.encode())

    def _create(self, child_id: str, *, new_row: bool) -> None:
        """Store new wrapped keys (both for a new child, the detail key for a row from
        before tiers); losing a race to another writer is fine."""
        detail = self._wrap(key_slot(child_id, DETAIL))
        try:
            with self._engine.connect() as conn:
                if self._engine.dialect.name == "sqlite":
                    conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                with conn.begin():
                    if new_row:
                        conn.execute(insert(child_keys).values(
                            child_id=child_id, wrapped_key=self._wrap(child_id),
                            detail_wrapped_key=detail, created_at=datetime.now(UTC),
                        ))
                    else:  # never over a destroyed key, nor over a detail key created meanwhile
                        conn.execute(update(child_keys).where(
                            child_keys.c.child_id == child_id,
                            child_keys.c.destroyed_at.is_(None),
                            child_keys.c.detail_destroyed_at.is_(None),
                            child_keys.c.detail_wrapped_key.is_(None),
                        ).values(detail_wrapped_key=detail))
        except IntegrityError:
            pass

    @staticmethod
    def destroy_in(conn: Connection, child_id: str, now: datetime, scope: Scope = "all") -> bool:
        """Crypto-shred inside the caller's transaction (the store's, under its writer lock,
        so that no append can seal under the key after it checked it): the detail key, and
        with ``scope="all"`` the basic key too. False: none to destroy (no key, or
        destroyed before)."""
        detail = conn.execute(
            update(child_keys)
            .where(child_keys.c.child_id == child_id, child_keys.c.detail_destroyed_at.is_(None))
            .values(detail_wrapped_key=None, detail_destroyed_at=now)
        )
        if scope == "detail":
            return bool(detail.rowcount)
        result = conn.execute(
            update(child_keys)
            .where(child_keys.c.child_id == child_id, child_keys.c.destroyed_at.is_(None))
            .values(wrapped_key=None, destroyed_at=now)
        )
        return bool(result.rowcount)

    def destroy(self, child_id: str, scope: Scope = "all") -> bool:
        """Crypto-shred: forget the child's keys (``scope``). Returns False if there was none.

        Tests and tools only: erasure goes through ``EventStore.destroy_key``, which
        takes the writer lock first.
        """
        with self._engine.begin() as conn:
            done = self.destroy_in(conn, child_id, datetime.now(UTC), scope)
        self.destroyed(child_id, scope)
        return done


@dataclass(frozen=True)
class _Slot:
    name: str
    kind: str  # "personal", "model", "model_list", "replacement"
    optional: bool
    model: type[BaseModel] | None = None
    tier: str = DETAIL


def _markers(annotation: Any) -> set[object]:
    """The ``Annotated`` metadata of ``annotation``, looking inside ``X | None``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return set(annotation.__metadata__)
    found: set[object] = set()
    for arg in typing.get_args(annotation):
        found |= _markers(arg)
    return found


def _nested_model(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return "model_list", item
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _nested_model(arg)
            if found:
                return found
    return None


@cache
def plan(model: type[BaseModel]) -> tuple[_Slot, ...]:
    """Which fields of ``model`` hold personal data, directly or nested (computed once)."""
    slots: list[_Slot] = []
    for name, info in model.model_fields.items():
        optional = not info.is_required()
        markers = set(info.metadata) | _markers(info.annotation)
        if PERSONAL in markers:
            tier = BASIC if BASIC in markers else DETAIL
            slots.append(_Slot(name, "personal", optional, tier=tier))
        elif name == "replacement" and "replacement_type" in model.model_fields:
            slots.append(_Slot(name, "replacement", optional))
        else:
            nested = _nested_model(info.annotation)
            if nested:
                slots.append(_Slot(name, nested[0], optional, nested[1]))
    return tuple(slots)


Resolver = Callable[[str], type[BaseModel]]


def seal(
    model: type[BaseModel], data: dict[str, Any], child_id: str | None, keyring: Keyring,
    resolve: Resolver,
) -> dict[str, Any]:
    """Seal the personal fields of a JSON-ready payload with the child's key."""
    slots = plan(model)
    if not slots:
        return data
    out = dict(data)
    for slot in slots:
        value = out.get(slot.name)
        if value is None:
            continue
        if slot.kind == "personal":
            if child_id is None:
                raise ConfigurationError("personal data given for a write with no child")
            out[slot.name] = _seal_value(value, child_id, keyring, slot.tier)
        elif slot.kind == "model" and slot.model:
            out[slot.name] = seal(slot.model, value, child_id, keyring, resolve)
        elif slot.kind == "model_list" and slot.model:
            out[slot.name] = [seal(slot.model, v, child_id, keyring, resolve) for v in value]
        elif slot.kind == "replacement":
            target = resolve(str(out["replacement_type"]))
            out[slot.name] = seal(target, value, child_id, keyring, resolve)
    return out


def unseal(
    model: type[BaseModel], data: dict[str, Any], keyring: Keyring, resolve: Resolver
) -> dict[str, Any]:
    """Open sealed fields; a destroyed key yields ``None`` (or ``[erased]`` if required)."""
    slots = plan(model)
    if not slots:
        return data
    out = dict(data)
    for slot in slots:
        value = out.get(slot.name)
        if value is None:
            continue
        if slot.kind == "personal":
            if isinstance(value, str) and value.startswith(PREFIX):
                opened = _open_value(value, keyring, slot.tier)
                out[slot.name] = opened if opened is not _GONE else (
                    None if slot.optional else ERASED
                )
        elif slot.kind == "model" and slot.model:
            out[slot.name] = unseal(slot.model, value, keyring, resolve)
        elif slot.kind == "model_list" and slot.model:
            out[slot.name] = [unseal(slot.model, v, keyring, resolve) for v in value]
        elif slot.kind == "replacement":
            target = resolve(str(out["replacement_type"]))
            out[slot.name] = unseal(target, value, keyring, resolve)
    return out


_GONE = object()


def seal_text(text: str, child_id: str, keyring: Keyring) -> str:
    """Seal a free-text value kept outside the events (a manager's note on an alert)
    with the child's detail key, so that reducing or erasing the child erases it too."""
    return _seal_value(text, child_id, keyring, DETAIL)


def open_text(value: str | None, keyring: Keyring) -> str | None:
    """Open ``seal_text``'s token: ``ERASED`` once the key is destroyed; a value stored
    before notes were sealed is returned as it is."""
    if value is None or not value.startswith(PREFIX):
        return value
    opened = _open_value(value, keyring, DETAIL)
    return ERASED if opened is _GONE else str(opened)


_VALUE_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(value, ensure_ascii=False)

DETAIL_MARK = f"{DETAIL}:"
"""Tier marker in a token: ``sealed:v1:<child>:detail:<b64>`` is sealed under the child's
detail key; ``sealed:v1:<child>:<b64>`` (base64 never holds a colon) under the basic key,
as every value was before keys had tiers."""


def detail_token_of(child_id: str) -> str:
    """How every detail-tier token of this child starts (the store's check of a write)."""
    return f"{PREFIX}{child_id}:{DETAIL_MARK}"


@lru_cache(maxsize=256)
def _aead(key: bytes) -> AESGCM:
    """The cipher of a data key, made once per key rather than per value: setting up
    AES-GCM cost twice the encryption of a note. Cleared when this process learns that
    a key was destroyed, or forgets its keys."""
    return AESGCM(key)


def _seal_value(value: Any, child_id: str, keyring: Keyring, tier: str) -> str:
    key = keyring.key_for(child_id, create=True, tier=tier)
    if key is None:
        raise KeyUnavailable(f"child {child_id}: personal data key ({tier}) was destroyed")
    slot = key_slot(child_id, tier)
    nonce = os.urandom(12)
    plain = _VALUE_JSON.encode(value).encode()
    blob = nonce + _aead(key).encrypt(nonce, plain, slot.encode())
    mark = DETAIL_MARK if tier == DETAIL else ""
    return f"{PREFIX}{child_id}:{mark}{base64.b64encode(blob).decode()}"


def _open_value(sealed: str, keyring: Keyring, field_tier: str) -> Any:
    """Open a token. A token from before tiers (basic key) in a narrative field reads as
    erased once the child's detail key is destroyed: reduction hides it too, although
    only full erasure makes it cryptographically unreadable."""
    child_id, _, rest = sealed[len(PREFIX) :].partition(":")
    tier = BASIC
    if rest.startswith(DETAIL_MARK):
        tier, rest = DETAIL, rest[len(DETAIL_MARK):]
    elif field_tier == DETAIL and keyring.tier_destroyed(child_id, DETAIL):
        return _GONE
    key = keyring.key_for(child_id, create=False, tier=tier)
    if key is None:
        return _GONE
    blob = base64.b64decode(rest)
    try:
        aad = key_slot(child_id, tier).encode()
        return json.loads(_aead(key).decrypt(blob[:12], blob[12:], aad))
    except InvalidTag:
        return _GONE
