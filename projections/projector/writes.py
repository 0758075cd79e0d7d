"""The projector's writes within one transaction: upserts, audit replacement, and the
helper thread that runs them while the main thread computes the next rows."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection, Table, delete, insert
from sqlalchemy.dialects import postgresql, sqlite

from tracker.db.read_models import audits
from tracker.kernel.errors import StoreUnavailable

THREADED_WRITES_FROM = 200
"""Cases in one transaction above which its writes run on a helper thread."""

Job = Callable[[Connection], None]
Row = dict[str, object]
"""A row to write: column name -> value as the column takes it."""


def upsert(conn: Connection, table: Table, rows: list[Row], key: str) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - the tracker runs on these two
        raise StoreUnavailable(f"unsupported database {dialect}")
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name != key},
    )
    conn.execute(stmt, rows)


def upsert_job(table: Table, rows: list[Row]) -> Job:
    def job(conn: Connection) -> None:
        upsert(conn, table, rows, "case_id")

    return job


def replace_audits_job(case_ids: list[str], rows: list[Row]) -> Job:
    def job(conn: Connection) -> None:
        for chunk in chunks(case_ids, 500):
            conn.execute(delete(audits).where(audits.c.case_id.in_(chunk)))
        if rows:
            conn.execute(insert(audits), rows)

    return job


class Writes:
    """This transaction's writes, in order. With ``threaded``, a helper thread runs them on
    the connection while the main thread computes the next rows, so the database writes
    while Python works; the main thread ``flush``es before it uses the connection itself.
    A failed write is raised at the next ``flush`` (and the transaction rolls back)."""

    def __init__(self, conn: Connection, *, threaded: bool) -> None:
        self._conn = conn
        self._threaded = threaded
        self._error: BaseException | None = None
        self._abandoned = False
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=16)
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="projector-writes",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if self._error is None and not self._abandoned:
                    job(self._conn)
            except BaseException as exc:  # handed to the main thread at the next flush
                self._error = exc
            finally:
                self._queue.task_done()

    def submit(self, job: Job) -> None:
        if self._thread is None:
            job(self._conn)
            return
        self._queue.put(job)

    def flush(self) -> None:
        if self._thread is not None:
            self._queue.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> Writes:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._abandoned = True  # the transaction is rolling back: skip what is queued
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if exc_type is None:
            self.flush()


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

