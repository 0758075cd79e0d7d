"""Connections and transactions on the tracker's database, with driver errors translated.

Every service reads through ``read`` and writes through ``write``, so a missing table
(``SchemaNotReady``) or a database that cannot be reached (``StoreUnavailable``) reads the
same wherever it happens; the store's back end says which is which. An
``IntegrityError`` is left as it is: only the caller knows what the constraint meant (a
username taken, a row already there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from events.store.backends import backend_for


@contextmanager
def translated(engine: Engine, *, tables: str) -> Iterator[None]:
    """Driver errors raised inside become ours; ``tables`` names what the block needs."""
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as exc:
        raise backend_for(engine).translate(exc, tables) from None


@contextmanager
def read(engine: Engine, *, tables: str) -> Iterator[Connection]:
    """A connection for reading (each statement sees what was committed when it ran)."""
    with translated(engine, tables=tables), engine.connect() as conn:
        yield conn


@contextmanager
def write(engine: Engine, *, tables: str) -> Iterator[Connection]:
    """A transaction: committed if the block succeeds, rolled back if it raises.

    On SQLite it begins ``IMMEDIATE``, taking the write lock before its first read: a
    deferred transaction that reads and then writes would fail at once, without waiting,
    if another writer had committed since its read.
    """
    with translated(engine, tables=tables):
        conn = engine.connect()
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn, conn.begin():
            yield conn
