"""What the back ends share: the writer transaction they extend, and their error reading.

Each back end (``postgres``, ``sqlite``) subclasses ``Writer`` with its own statements and
``Backend`` with its own way of recognising a missing table; turning that into our
errors is written once, here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from events.envelope import ENVELOPE_FIELDS, column_of
from events.store.codec import Link, Stamp
from tracker.kernel.errors import SchemaNotReady, StoreUnavailable, TrackerError


@dataclass(frozen=True)
class StreamHead:
    """Where a stream stands: its last version and the hash of that event."""

    version: int
    hash: str


class HeadMoved(Exception):
    """Raised when the stream's head was not the one the append was chained onto."""


class StaleConnection(Exception):
    """Raised when the pooled connection was dead as the append began (nothing written)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


# The statements of the back ends name the ``events`` table and its columns as
# ``events.schema`` defines them; ``tests`` append and read through both back ends.
INSERT_COLUMNS = ", ".join(
    ("position", *(column_of(name) for name in ENVELOPE_FIELDS), "payload", "prev_hash", "hash")
)


class Writer:
    """A transaction holding the single writer lock until it commits or rolls back.

    The hot statements (lock, heads, insert) go straight to the driver connection, inside
    a transaction that SQLAlchemy begins and ends: no SQL compilation or type processing
    per append, prepared statements (psycopg prepares a statement after five uses), and
    SQLAlchemy's events and pool still see every begin, commit and rollback.
    """

    KNOWN_HEAD_MAX: ClassVar[int] = 0
    """Events in one append that ``insert_at_head`` takes (0: this back end has no such path)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Writer:
        conn = self._engine.connect()
        try:
            self.conn = self._options(conn)
            self._tx = self.conn.begin()  # SQLite: BEGIN IMMEDIATE, which may time out
            self.driver: Any = self.conn.connection.driver_connection
        except BaseException:
            conn.close()
            raise
        return self

    def _options(self, conn: Connection) -> Connection:
        return conn

    def reading(self) -> AbstractContextManager[Connection]:
        """A SQLAlchemy connection that reads what this transaction sees (before it has
        written anything): its own."""
        return nullcontext(self.conn)

    def lock_and_read_heads(
        self, stream_ids: Sequence[str], children: Sequence[str] = ()
    ) -> tuple[int, dict[str, StreamHead]]:
        """Take the writer lock, then read the log head and each stream's head; and the
        key states of ``children`` with them, for ``destroyed_keys`` (the statements
        travel together: one round trip on PostgreSQL, one statement on SQLite).

        Raises ``StaleConnection`` if the connection turns out to be dead: nothing has
        been written yet, so the append may safely start again on another.
        """
        try:
            return self._lock_and_read_heads(stream_ids, children)
        except self._engine.dialect.loaded_dbapi.Error as exc:
            if self._engine.dialect.is_disconnect(exc, self.driver, None):
                raise StaleConnection(exc) from exc
            raise

    def _lock_and_read_heads(
        self, stream_ids: Sequence[str], children: Sequence[str]
    ) -> tuple[int, dict[str, StreamHead]]:
        raise NotImplementedError

    _key_states: tuple[Sequence[str], list[tuple[str, bool, bool]]] | None = None
    """The key states read with the heads under the lock: (children, rows)."""

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows in ``INSERT_COLUMNS`` order (Python values, aware UTC datetimes)."""
        raise NotImplementedError

    KEY_STATES = (
        "SELECT child_id, destroyed_at IS NOT NULL, detail_destroyed_at IS NOT NULL "
        "FROM child_keys WHERE child_id IN ({marks})"
    )

    PARAM = "?"
    """The driver's placeholder (the standard library's ``sqlite3``; psycopg's is ``%s``)."""

    def destroyed_keys(self, children: Sequence[str]) -> list[tuple[str, bool, bool]]:
        """Per child with a key row: whether its key, and its detail key, were destroyed.

        On the driver connection like the other statements under the lock: this runs on
        every append that seals a value, so it skips SQL compilation."""
        if self._key_states is not None and list(self._key_states[0]) == list(children):
            return self._key_states[1]  # read under this lock, with the heads
        rows = self.driver.execute(self._key_query(len(children)), tuple(children)).fetchall()
        return key_rows(rows)

    def _key_query(self, n: int) -> str:
        return self.KEY_STATES.format(marks=", ".join([self.PARAM] * n))

    def insert_at_head(
        self, stamp: Stamp, expected: int, prev: str, links: Sequence[Link],
        sealed_for: str | None,
    ) -> int:
        """Lock, check the head and insert in one round trip (if ``KNOWN_HEAD_MAX``); the
        insert does not happen if ``sealed_for`` names a child whose key was destroyed."""
        raise NotImplementedError

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                try:
                    self._tx.commit()
                except BaseException:
                    self._discard()
                    raise
            elif isinstance(exc, StaleConnection) or (
                isinstance(exc, self._engine.dialect.loaded_dbapi.Error)
                and self._engine.dialect.is_disconnect(exc, self.driver, None)
            ):
                self.conn.invalidate()
            else:
                self._tx.rollback()
        finally:
            try:
                self._finish()
            finally:
                self.conn.close()

    def _finish(self) -> None:
        """Put the connection back as the pool lent it."""

    def _discard(self) -> None:
        # A commit that failed (or was refused by an event hook) leaves SQLAlchemy's
        # transaction inactive, and it would hand the connection back to the pool with
        # its transaction, and the writer lock, still open. Roll it back here, or drop it.
        try:
            self.driver.rollback()
        except Exception:
            self.conn.invalidate()


def key_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[str, bool, bool]]:
    return [(str(c), bool(gone), bool(detail_gone)) for c, gone, detail_gone in rows]


class Backend:
    """One database: its writer, and how its driver says that a table is missing."""

    writer: ClassVar[type[Writer]]
    """The writer transaction on a pooled SQLAlchemy connection (every write may use it)."""

    def append_writer(self, engine: Engine) -> Callable[[], Writer]:
        """How one ``EventStore`` begins its append transactions (made once per store)."""
        return lambda: self.writer(engine)

    def missing_table(self, error: BaseException) -> bool:
        """Whether the driver's error says a table does not exist (not migrated yet)."""
        raise NotImplementedError

    def translate(self, exc: BaseException, tables: str = "event store") -> TrackerError:
        """Our error for a driver's (or SQLAlchemy's wrapping of it); ``tables`` names what
        the failed statement needed, for the message asking to run the migrations."""
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        if self.missing_table(exc if cause is None else cause):
            return SchemaNotReady(f"the database has no {tables} yet: run 'tracker db upgrade'")
        return StoreUnavailable(
            f"database error: {'unknown' if cause is None else type(cause).__name__}"
        )
