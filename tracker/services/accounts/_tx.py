"""The accounts' own transaction helpers: connections with database errors translated."""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from tracker.kernel.errors import SchemaNotReady, StoreUnavailable


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
