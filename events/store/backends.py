"""The back end for an engine's database."""

from __future__ import annotations

from sqlalchemy import Engine

from events.store.base import Backend
from events.store.postgres import PostgresBackend
from events.store.sqlite import SqliteBackend
from tracker.kernel.errors import StoreUnavailable

_BACKENDS: dict[str, Backend] = {"postgresql": PostgresBackend(), "sqlite": SqliteBackend()}


def backend_for(engine: Engine) -> Backend:
    """Raises ``StoreUnavailable`` for a database the store does not support."""
    backend = _BACKENDS.get(engine.dialect.name)
    if backend is None:
        raise StoreUnavailable(f"the event store does not support {engine.dialect.name}")
    return backend
