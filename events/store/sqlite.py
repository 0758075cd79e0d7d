"""The SQLite back end: the in-process database the tracker embeds by default."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from events.chain import GENESIS
from events.store.base import INSERT_COLUMNS, Backend, StreamHead, Writer


class SqliteWriter(Writer):
    """SQLite: ``BEGIN IMMEDIATE`` is the lock; statements run in-process."""

    POSITION = "SELECT coalesce(max(position), 0) FROM events"
    HEAD = (
        "SELECT stream_version, hash FROM events WHERE stream_id = ? "
        "ORDER BY stream_version DESC LIMIT 1"
    )
    INSERT = (
        "INSERT INTO events (" + INSERT_COLUMNS + ") "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def _options(self, conn: Connection) -> Connection:
        return conn.execution_options(sqlite_begin="IMMEDIATE")

    def _lock_and_read_heads(
        self, stream_ids: Sequence[str]
    ) -> tuple[int, dict[str, StreamHead]]:
        driver = self.driver
        position = driver.execute(self.POSITION).fetchone()[0]
        heads: dict[str, StreamHead] = {}
        for sid in stream_ids:
            row = driver.execute(self.HEAD, (sid,)).fetchone()
            heads[sid] = StreamHead(0, GENESIS) if row is None else StreamHead(row[0], row[1])
        return int(position), heads

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        # The spellings SQLAlchemy's types store on SQLite: hex UUIDs, naive UTC datetimes.
        stored = [
            (p, e.hex, s, v, t, sv, _sqlite_time(o), _sqlite_time(r), *rest)
            for p, e, s, v, t, sv, o, r, *rest in rows
        ]
        if len(stored) == 1:
            self.driver.execute(self.INSERT, stored[0])
        else:
            self.driver.executemany(self.INSERT, stored)


class SqliteBackend(Backend):
    """SQLite through the standard library's ``sqlite3``."""

    writer = SqliteWriter

    def missing_table(self, error: BaseException) -> bool:
        return "no such table" in str(error)


def _sqlite_time(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
