"""The projector's writes within one transaction: upserts, audit replacement, and the
helper thread that runs them while the main thread computes the next rows."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

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
    """This transaction's writes, in order, in one of three ways.

    - ``threaded``: a helper thread runs them on the connection while the main thread
      computes the next rows (large transactions: the database writes while Python works).
    - ``pipelined`` (PostgreSQL): they wait until ``flush`` and are then sent in one
      psycopg pipeline: every statement in one message, one round trip for the lot
      instead of one per table (the latency path: small transactions at the head).
    - neither: each runs when submitted.

    ``ready_to_read`` frees the connection for the main thread's reads. Pipelined writes
    stay pending across reads, so a caller reads only rows no pending write touches (the
    projector reads events, records it has not folded in this transaction, alerts and the
    quarantine; it writes records, views and audits). A failed write is raised at the next
    ``flush`` (or ``ready_to_read``, threaded) and the transaction rolls back."""

    def __init__(self, conn: Connection, *, threaded: bool, pipelined: bool = False) -> None:
        self._conn = conn
        self._threaded = threaded
        self._pipelined = pipelined and not threaded and conn.dialect.name == "postgresql"
        self._pending: list[Job] = []
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
        if self._pipelined:
            self._pending.append(job)
        elif self._thread is None:
            job(self._conn)
        else:
            self._queue.put(job)

    def ready_to_read(self) -> None:
        """The main thread may read on the connection (pipelined writes stay pending)."""
        if not self._pipelined:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            jobs, self._pending = self._pending, []
            with pipeline(self._conn):
                for job in jobs:
                    job(self._conn)
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
            self._pending.clear()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if exc_type is None:
            self.flush()


@contextmanager
def pipeline(conn: Connection) -> Iterator[None]:
    """psycopg's pipeline mode on this connection for the block: statements are sent
    without waiting for their results, which arrive together at the end (one round trip).
    Only for statements whose results nobody reads. An error the server reports at the
    end is raised as SQLAlchemy's exception for it, as if the statement had raised it."""
    driver: Any = conn.connection.dbapi_connection
    try:
        with driver.pipeline():
            yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

