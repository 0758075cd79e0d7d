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
from functools import cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from events.base import PERSONAL
from events.schema import child_keys
from tracker.kernel.errors import ConfigurationError, KeyUnavailable

PREFIX = "sealed:v1:"
ERASED = "[erased]"


class Keyring(Protocol):
    """Gives a child's data key; ``None`` once it has been destroyed."""

    def key_for(self, child_id: str, *, create: bool) -> bytes | None: ...


KEY_CHECK_SECONDS = 0.25
"""How long a process may use a child's key, read from the database, before it reads the
key's row again. Erasure must take effect in every running process within one second;
this bound (well under it) is the longest any reader can still open a destroyed key.
Sealing never relies on it: the append re-checks the key under the writer lock."""


class SqlKeyring:
    """Data keys in the database, wrapped (AES-GCM) by a master key held outside it.

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

    def _cached(self, child_id: str) -> tuple[bool, bytes | None]:
        """(known, key): a key read within the bound, or one known destroyed for good."""
        entry = self._cache.get(child_id)
        if entry is None:
            return False, None
        read_at, key = entry
        if key is None and read_at == float("inf"):
            return True, None
        if time.monotonic() - read_at > KEY_CHECK_SECONDS:
            return False, None
        return True, key

    def _keep(self, child_id: str, key: bytes | None, *, destroyed: bool = False) -> None:
        with self._lock:
            self._cache[child_id] = (float("inf") if destroyed else time.monotonic(), key)

    def key_for(self, child_id: str, *, create: bool) -> bytes | None:
        known, cached = self._cached(child_id)
        if known and (cached is not None or not create):
            return cached
        row = self._read(child_id)
        if row is None and create:
            self._create(child_id)
            row = self._read(child_id)  # ours, or the one a concurrent writer stored first
        if row is not None and (row.destroyed_at is not None or row.wrapped_key is None):
            self._keep(child_id, None, destroyed=True)  # a destroyed key never comes back
            if create:
                raise KeyUnavailable(f"child {child_id}: personal data key was destroyed")
            return None
        if row is None:
            return None  # no key yet: nothing was ever sealed for this child
        dek = self._unwrap(child_id, bytes(row.wrapped_key))
        self._keep(child_id, dek)  # only a key that is committed is ever used to seal
        return dek

    def preload(self, child_ids: Iterable[str]) -> None:
        """Fetch the keys of many children in a few queries (readers folding many cases)."""
        missing = sorted({c for c in child_ids if c and not self._cached(c)[0]})
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(child_keys.c.child_id, child_keys.c.wrapped_key).where(
                        child_keys.c.child_id.in_(chunk)
                    )
                ).all()
            for child_id, wrapped in rows:
                if wrapped is None:
                    self._keep(child_id, None, destroyed=True)
                else:
                    self._keep(child_id, self._unwrap(child_id, bytes(wrapped)))

    def forget(self) -> None:
        """Drop every cached key, so a key destroyed by another process is not used again."""
        with self._lock:
            self._cache.clear()

    def destroyed(self, child_id: str) -> None:
        """Note here that another transaction destroyed the child's key (see ``destroy``)."""
        self._keep(child_id, None, destroyed=True)

    def _unwrap(self, child_id: str, blob: bytes) -> bytes:
        try:
            return self._kek.decrypt(blob[:12], blob[12:], child_id.encode())
        except InvalidTag:
            raise ConfigurationError(
                "the master key does not open this database's child keys"
            ) from None

    def _read(self, child_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(
                select(child_keys.c.wrapped_key, child_keys.c.destroyed_at).where(
                    child_keys.c.child_id == child_id
                )
            ).first()

    def _create(self, child_id: str) -> None:
        """Store a new wrapped key; losing a race to another writer is fine."""
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        wrapped = nonce + self._kek.encrypt(nonce, dek, child_id.encode())
        try:
            with self._engine.connect() as conn:
                if self._engine.dialect.name == "sqlite":
                    conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                with conn.begin():
                    conn.execute(
                        insert(child_keys).values(
                            child_id=child_id, wrapped_key=wrapped, created_at=datetime.now(UTC)
                        )
                    )
        except IntegrityError:
            pass

    @staticmethod
    def destroy_in(conn: Connection, child_id: str, now: datetime) -> bool:
        """Crypto-shred inside the caller's transaction (the store's, under its writer lock,
        so that no append can seal under the key after it checked it). False: none to
        destroy (no key, or destroyed before)."""
        result = conn.execute(
            update(child_keys)
            .where(child_keys.c.child_id == child_id, child_keys.c.destroyed_at.is_(None))
            .values(wrapped_key=None, destroyed_at=now)
        )
        return bool(result.rowcount)

    def destroy(self, child_id: str) -> bool:
        """Crypto-shred: forget the child's key. Returns False if there was none.

        Tests and tools only: erasure goes through ``EventStore.destroy_key``, which
        takes the writer lock first.
        """
        with self._engine.begin() as conn:
            done = self.destroy_in(conn, child_id, datetime.now(UTC))
        self.destroyed(child_id)
        return done


@dataclass(frozen=True)
class _Slot:
    name: str
    kind: str  # "personal", "model", "model_list", "replacement"
    optional: bool
    model: type[BaseModel] | None = None


def _personal(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        return PERSONAL in annotation.__metadata__
    return any(_personal(arg) for arg in typing.get_args(annotation))


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
        if PERSONAL in info.metadata or _personal(info.annotation):
            slots.append(_Slot(name, "personal", optional))
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
            out[slot.name] = _seal_value(value, child_id, keyring)
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
                opened = _open_value(value, keyring)
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
    with the child's key, so that erasing the child erases it too."""
    return _seal_value(text, child_id, keyring)


def open_text(value: str | None, keyring: Keyring) -> str | None:
    """Open ``seal_text``'s token: ``ERASED`` once the key is destroyed; a value stored
    before notes were sealed is returned as it is."""
    if value is None or not value.startswith(PREFIX):
        return value
    opened = _open_value(value, keyring)
    return ERASED if opened is _GONE else str(opened)


_VALUE_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(value, ensure_ascii=False)


def _seal_value(value: Any, child_id: str, keyring: Keyring) -> str:
    key = keyring.key_for(child_id, create=True)
    if key is None:
        raise KeyUnavailable(f"child {child_id}: personal data key was destroyed")
    nonce = os.urandom(12)
    plain = _VALUE_JSON.encode(value).encode()
    blob = nonce + AESGCM(key).encrypt(nonce, plain, child_id.encode())
    return f"{PREFIX}{child_id}:{base64.b64encode(blob).decode()}"


def _open_value(sealed: str, keyring: Keyring) -> Any:
    child_id, _, b64 = sealed[len(PREFIX) :].partition(":")
    key = keyring.key_for(child_id, create=False)
    if key is None:
        return _GONE
    blob = base64.b64decode(b64)
    try:
        return json.loads(AESGCM(key).decrypt(blob[:12], blob[12:], child_id.encode()))
    except InvalidTag:
        return _GONE
