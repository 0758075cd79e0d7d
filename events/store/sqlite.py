"""The SQLite back end: the in-process database the tracker embeds by default.

Appends go through one driver connection that the store keeps (``HeldConnection``) and
drive ``BEGIN IMMEDIATE`` / the statements / ``COMMIT`` on it directly: on SQLite the
statements run in-process and take microseconds, so checking a connection out of
SQLAlchemy's pool and letting SQLAlchemy begin and commit around them was about 40% of a
single-event append. The rarer writes that run SQLAlchemy statements inside the writer
transaction (erasure's key destruction, a transfer's adoption) keep ``SqliteWriter``.
Either way ``BEGIN IMMEDIATE`` is the writer lock, so the two (and other processes)
exclude each other in the database as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, suppress
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, event

from events.chain import GENESIS
from events.store.base import (
    INSERT_COLUMNS,
    Backend,
    StaleConnection,
    StreamHead,
    Writer,
    key_rows,
)


class SqliteWriter(Writer):
    """SQLite: ``BEGIN IMMEDIATE`` is the lock; statements run in-process."""

    POSITION = "SELECT coalesce(max(position), 0) FROM events"
    HEAD = (
        "SELECT stream_version, hash FROM events WHERE stream_id = ? "
        "ORDER BY stream_version DESC LIMIT 1"
    )
    HEADS = (
        "SELECT (SELECT coalesce(max(position), 0) FROM events), h.stream_version, h.hash"
        " FROM (SELECT 1) AS one LEFT JOIN (SELECT stream_version, hash FROM events"
        " WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1) AS h ON 1"
    )
    INSERT = (
        "INSERT INTO events (" + INSERT_COLUMNS + ") "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def _options(self, conn: Connection) -> Connection:
        return conn.execution_options(sqlite_begin="IMMEDIATE")

    HEADS_AND_KEY = (
        "SELECT (SELECT coalesce(max(position), 0) FROM events), h.stream_version, h.hash,"
        " k.child_id, k.destroyed_at IS NOT NULL, k.detail_destroyed_at IS NOT NULL"
        " FROM (SELECT 1) AS one LEFT JOIN (SELECT stream_version, hash FROM events"
        " WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1) AS h ON 1"
        " LEFT JOIN child_keys AS k ON k.child_id = ?"
    )

    def _lock_and_read_heads(
        self, stream_ids: Sequence[str], children: Sequence[str]
    ) -> tuple[int, dict[str, StreamHead]]:
        # The lock was taken by BEGIN IMMEDIATE. The log head, the first stream's head
        # and (the usual append: one case, one child) the key's state in one statement.
        driver = self.driver
        heads: dict[str, StreamHead] = {}
        if not stream_ids:
            position = driver.execute(self.POSITION).fetchone()[0]
        elif len(children) == 1:
            position, version, digest, child, gone, detail_gone = driver.execute(
                self.HEADS_AND_KEY, (stream_ids[0], children[0])
            ).fetchone()
            heads[stream_ids[0]] = _head(version, digest)
            rows = [] if child is None else [(child, gone, detail_gone)]
            self._key_states = (children, key_rows(rows))
        else:
            position, version, digest = driver.execute(self.HEADS, (stream_ids[0],)).fetchone()
            heads[stream_ids[0]] = _head(version, digest)
        for sid in stream_ids[1:]:
            row = driver.execute(self.HEAD, (sid,)).fetchone()
            heads[sid] = StreamHead(0, GENESIS) if row is None else StreamHead(row[0], row[1])
        return int(position), heads

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        # The spellings SQLAlchemy's types store on SQLite: hex UUIDs, naive UTC datetimes
        # (spelt once per moment: a write's events share its recorded_at, often more).
        times: dict[tuple[datetime, Any], str] = {}

        def spelt(moment: datetime) -> str:
            key = (moment, moment.tzinfo)  # equal instants in two zones spell differently
            text = times.get(key)
            if text is None:
                text = times[key] = _sqlite_time(moment)
            return text

        stored = [
            (p, e.hex, s, v, t, sv, spelt(o), spelt(r), *rest)
            for p, e, s, v, t, sv, o, r, *rest in rows
        ]
        if len(stored) == 1:
            self.driver.execute(self.INSERT, stored[0])
        else:
            self.driver.executemany(self.INSERT, stored)


class HeldConnection:
    """The one driver connection an event store appends through on SQLite.

    Made by the engine, so its connect hooks (WAL, ``synchronous=FULL``, foreign keys,
    busy timeout) apply, then detached from the pool: it is the store's own. One thread
    at a time uses it (``lock``), for one whole transaction; threads of this process
    queue here instead of in SQLite's busy handler, and other processes still meet
    ``BEGIN IMMEDIATE``. It is closed when the engine is disposed (the next append makes
    another), dropped if it fails as a connection, and never shared across a fork.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.lock = threading.Lock()
        self._driver: sqlite3.Connection | None = None
        self._pid = 0
        event.listen(engine, "engine_disposed", self._on_disposed)

    def driver(self) -> sqlite3.Connection:
        """The connection (made on first use, or afresh in a forked child); hold ``lock``."""
        if self._driver is not None and self._pid == os.getpid():
            return self._driver
        if self._driver is not None:  # made by the parent process: never touch it here
            _LEFT_BY_PARENT.append(self._driver)
        proxied = self._engine.raw_connection()
        try:
            driver = proxied.driver_connection
            if not isinstance(driver, sqlite3.Connection):
                raise TypeError(f"not a sqlite3 connection: {type(driver).__name__}")
            driver.isolation_level = None  # we send BEGIN and COMMIT ourselves
            proxied.detach()
        except BaseException:
            proxied.close()
            raise
        self._driver, self._pid = driver, os.getpid()
        return driver

    def drop(self) -> None:
        """Close the connection (hold ``lock``): it failed, or the engine was disposed."""
        driver, self._driver = self._driver, None
        if driver is not None and self._pid == os.getpid():
            with suppress(sqlite3.Error):
                driver.close()

    def _on_disposed(self, _engine: Engine) -> None:
        with self.lock:
            self.drop()


_LEFT_BY_PARENT: list[sqlite3.Connection] = []
"""Connections a forked child inherited: kept referenced, so that they are never closed
(closing the last connection in a process may checkpoint and remove the WAL file)."""


class SqliteDriverWriter(SqliteWriter):
    """The append transaction on the store's held connection: ``BEGIN IMMEDIATE``, the
    statements and ``COMMIT`` straight to the driver, no pool, no SQLAlchemy events.

    Reads that the general append path runs through SQLAlchemy (recognising a replayed
    retry) use another pooled connection: the lock is held and nothing is written yet,
    so it sees exactly what this transaction would.
    """

    def __init__(self, engine: Engine, held: HeldConnection) -> None:
        super().__init__(engine)
        self._held = held

    def __enter__(self) -> Writer:
        self._held.lock.acquire()
        try:
            self.driver = self._held.driver()
            self.driver.execute("BEGIN IMMEDIATE")  # may wait for another process's writer
        except BaseException:
            self._held.lock.release()
            raise
        return self

    def reading(self) -> AbstractContextManager[Connection]:
        return self._engine.connect()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                try:
                    self.driver.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            elif isinstance(exc, StaleConnection) or (
                isinstance(exc, self._engine.dialect.loaded_dbapi.Error)
                and self._engine.dialect.is_disconnect(exc, self.driver, None)
            ):
                self._held.drop()
            else:
                self._rollback()
        finally:
            self._held.lock.release()

    def _rollback(self) -> None:
        try:
            if self.driver.in_transaction:
                self.driver.execute("ROLLBACK")
        except Exception:
            self._held.drop()  # a transaction we cannot end: let the connection go


class SqliteBackend(Backend):
    """SQLite through the standard library's ``sqlite3``."""

    writer = SqliteWriter

    def missing_table(self, error: BaseException) -> bool:
        return "no such table" in str(error)

    def append_writer(self, engine: Engine) -> Callable[[], Writer]:
        """A database file: appends go through a connection the store holds. An in-memory
        database is one per connection, so it keeps the pooled writer."""
        database = engine.url.database or ""
        if database in ("", ":memory:") or "mode=memory" in database or (
            engine.url.query.get("mode") == "memory"
        ):
            return super().append_writer(engine)
        held = HeldConnection(engine)
        return lambda: SqliteDriverWriter(engine, held)


def _head(version: int | None, digest: str | None) -> StreamHead:
    return StreamHead(0, GENESIS) if version is None or digest is None else (
        StreamHead(version, digest)
    )


def _sqlite_time(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
