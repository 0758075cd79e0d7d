"""PostgreSQL: the advisory lock, pipelined heads, and the one-round-trip known-head insert."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from typing import Any

import psycopg

from events.chain import GENESIS
from events.store.base import (
    INSERT_COLUMNS,
    Backend,
    HeadMoved,
    StaleConnection,
    StreamHead,
    Writer,
    key_rows,
)
from events.store.codec import Link, Stamp

APPEND_LOCK_KEY = 0x74726B72  # "trkr": the advisory lock every appender takes on PostgreSQL


class PostgresWriter(Writer):
    """PostgreSQL: ``BEGIN``, the advisory lock and the heads in one round trip.

    psycopg would send its own ``BEGIN`` and wait for it; instead the connection is put
    in autocommit mode for the duration and ``BEGIN`` leads the pipeline. The server
    runs the pipelined statements one after the other, each with its own snapshot, so
    the heads are read only once the lock statement has returned holding the lock.
    ``COMMIT`` and ``ROLLBACK`` still go through SQLAlchemy (psycopg sends them
    whenever the server is in a transaction, autocommit or not).
    """

    PARAM = "%s"

    LOCK = "SELECT pg_advisory_xact_lock(%d)" % APPEND_LOCK_KEY  # noqa: UP031
    HEADS = (
        "SELECT (SELECT coalesce(max(position), 0) FROM events), h.stream_version, h.hash"
        " FROM (SELECT 1) AS one LEFT JOIN (SELECT stream_version, hash FROM events"
        " WHERE stream_id = %s ORDER BY stream_version DESC LIMIT 1) AS h ON true"
    )
    HEAD = (
        "SELECT stream_version, hash FROM events WHERE stream_id = %s "
        "ORDER BY stream_version DESC LIMIT 1"
    )
    INSERT = (
        "INSERT INTO events (" + INSERT_COLUMNS + ") "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )

    def __enter__(self) -> Writer:
        super().__enter__()
        driver = self.driver
        # Only with the server's default transaction characteristics; otherwise let
        # psycopg begin the transaction as configured (one more round trip).
        self._own_begin = not driver.autocommit and (
            driver.isolation_level is None
            and driver.read_only is None
            and driver.deferrable is None
        )
        if self._own_begin:
            driver.autocommit = True
        return self

    def _lock_and_read_heads(
        self, stream_ids: Sequence[str], children: Sequence[str]
    ) -> tuple[int, dict[str, StreamHead]]:
        driver = self.driver
        with driver.pipeline():
            if driver.autocommit:  # ours, or an AUTOCOMMIT engine's: begin explicitly
                driver.execute("BEGIN")
            driver.execute(self.LOCK)
            cursors = [
                driver.execute(self.HEADS if i == 0 else self.HEAD, (sid,))
                for i, sid in enumerate(stream_ids)
            ]
            keys = (
                driver.execute(self._key_query(len(children)), tuple(children))
                if children else None
            )
        if keys is not None:
            self._key_states = (children, key_rows(keys.fetchall()))
        position = 0
        heads: dict[str, StreamHead] = {}
        for i, (sid, cursor) in enumerate(zip(stream_ids, cursors, strict=True)):
            row = cursor.fetchone()
            if i == 0:
                position, row = row[0], row[1:]
            heads[sid] = StreamHead(0, GENESIS) if row is None or row[0] is None else (
                StreamHead(row[0], row[1])
            )
        return int(position), heads

    COPY = "COPY events (" + INSERT_COLUMNS + ") FROM STDIN"
    COPY_FROM = 16  # rows from which COPY beats a pipelined executemany (about 2x)
    COPY_TYPES = (
        "int8", "uuid", "text", "int4", "text", "int2", "timestamptz", "timestamptz",
        "text", "text", "text", "text", "text", "text",
    )
    """How ``COPY`` spells each value of an ``INSERT_COLUMNS`` row (text format: the
    columns' own types read them)."""

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        with self.driver.cursor() as cursor:
            if len(rows) == 1:
                cursor.execute(self.INSERT, rows[0])
            elif len(rows) < self.COPY_FROM:
                cursor.executemany(self.INSERT, rows)  # pipelined: one round trip
            else:
                with cursor.copy(self.COPY) as copy:
                    copy.set_types(self.COPY_TYPES)  # no dumper looked up per value
                    for row in rows:
                        copy.write_row(row)

    KNOWN_HEAD_MAX = 8

    def insert_at_head(
        self, stamp: Stamp, expected: int, prev: str, links: Sequence[Link],
        sealed_for: str | None,
    ) -> int:
        """Lock, check the head and insert in one round trip; the first position taken.

        One simple-protocol message, one packet each way: the lock, in its own
        statement; then ``EXECUTE`` of an ``INSERT ... SELECT`` prepared on this
        connection, which reads the log head and the stream head (with a snapshot taken
        once the lock is held) and inserts only if the stream's head is still
        ``(expected, prev)``. psycopg binds the values client-side, as quoted literals.
        It inserts nothing either when ``sealed_for``'s key was destroyed (erasure takes
        the same lock), and the general path then says why. Raises ``HeadMoved`` when
        nothing was inserted.
        """
        # Moments and ids go as the text already spelt for the hash (the statement casts).
        params: list[Any] = [
            stamp.stream_id, stamp.recorded_at_iso, stamp.recorded_by, stamp.recorded_role,
            stamp.correlation_id, expected, prev,
        ]
        for link in links:
            cls = type(link.draft.event)
            params += [
                link.event_id, link.version, cls.type, cls.version, link.occurred_at_iso,
                link.payload, link.prev, link.hash,
            ]
        params.append(sealed_for)
        # Without a commit listener, the message is its own transaction: PostgreSQL runs
        # the statements of one simple query as one implicit transaction, committed once
        # the last succeeds (and rolled back if one fails). Otherwise BEGIN explicitly and
        # leave COMMIT to SQLAlchemy. (With an isolation level configured, psycopg has
        # begun the transaction itself and SQLAlchemy commits it.)
        begin = "BEGIN; " if self.driver.autocommit and self.conn.dispatch.commit else ""
        placeholders = ", ".join(["%s"] * len(params))
        for attempt in range(2):
            name = self._prepared(len(links))
            message = f"{begin}EXECUTE {self.LOCK_NAME}; EXECUTE {name}({placeholders})"
            try:
                with psycopg.ClientCursor(self.driver) as cursor:
                    cursor.execute(message, params)
                    for _ in range(2 if begin else 1):
                        cursor.nextset()
                    positions = [r[0] for r in cursor.fetchall()]
                break
            except psycopg.errors.InvalidSqlStatementName:
                # psycopg sends DEALLOCATE ALL after a rollback once it has prepared
                # statements of its own, and that takes ours too: prepare them again.
                self.driver.rollback()
                self._prepared_here().clear()
                if attempt:
                    raise HeadMoved from None
            except self._engine.dialect.loaded_dbapi.Error as exc:
                if self._engine.dialect.is_disconnect(exc, self.driver, None):
                    raise StaleConnection(exc) from exc
                raise
        if not positions:
            raise HeadMoved
        return int(min(positions))

    def _prepared_here(self) -> set[str]:
        names: set[str] = self.conn.connection.info.setdefault(_PREPARED, set())
        return names

    LOCK_NAME = "tracker_append_lock_v1"

    def _prepared(self, n: int) -> str:
        """The name of the insert of ``n`` events at a known head, prepared on this
        connection with the lock statement (once; the pool keeps the connection, and
        this note with it)."""
        name = f"tracker_append_at_head_v3_{n}"
        names = self._prepared_here()
        for wanted, sql in ((self.LOCK_NAME, self.LOCK), (name, None)):
            if wanted not in names:
                with contextlib.suppress(psycopg.errors.DuplicatePreparedStatement):
                    self.driver.execute(f"PREPARE {wanted} AS {sql or _known_head_insert(n)}")
                names.add(wanted)
        return name

    def _finish(self) -> None:
        if self._own_begin and not self.conn.invalidated:
            try:
                if self.driver.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    self.driver.rollback()
                self.driver.autocommit = False
            except Exception:
                self.conn.invalidate()


@functools.cache
def _known_head_insert(n: int) -> str:
    """The insert of ``n`` events at a known stream head, for ``PREPARE`` (see
    ``PostgresWriter.insert_at_head``): $1-$5 the envelope the events share, $6 and $7
    the head they are chained onto, then eight values per event, then the key that sealed
    them (``<child>`` or ``<child>:detail``; NULL: nothing sealed), which must not have
    been destroyed."""
    sealed = f"${8 + 8 * n}::text"
    values = ", ".join(
        f"({i + 1}, ${8 + 8 * i}::uuid, ${9 + 8 * i}::integer, ${10 + 8 * i}::text,"
        f" ${11 + 8 * i}::smallint, ${12 + 8 * i}::timestamptz, ${13 + 8 * i}::text,"
        f" ${14 + 8 * i}::text, ${15 + 8 * i}::text)"
        for i in range(n)
    )
    # Only constants are spliced in: every value travels as a parameter.
    return (
        "INSERT INTO events (position, event_id, stream_id, stream_version, event_type,"  # noqa: S608
        " schema_version, occurred_at, recorded_at, recorded_by, recorded_role,"
        " correlation_id, payload, prev_hash, hash)"
        " SELECT m.p + v.n, v.event_id, $1::text, v.stream_version, v.event_type,"
        " v.schema_version, v.occurred_at, $2::timestamptz, $3::text, $4::text, $5::text,"
        " v.payload, v.prev_hash, v.hash"
        " FROM (SELECT coalesce(max(position), 0) AS p FROM events) AS m,"
        f" (VALUES {values})"
        " AS v (n, event_id, stream_version, event_type, schema_version, occurred_at,"
        " payload, prev_hash, hash)"
        " WHERE (SELECT coalesce(max(e.stream_version), 0) FROM events AS e"
        " WHERE e.stream_id = $1::text) = $6::integer"
        " AND ($6::integer = 0 OR EXISTS (SELECT 1 FROM events AS e"
        " WHERE e.stream_id = $1::text AND e.stream_version = $6::integer"
        " AND e.hash = $7::text))"
        f" AND ({sealed} IS NULL OR NOT EXISTS (SELECT 1 FROM child_keys AS k"
        f" WHERE k.child_id = split_part({sealed}, ':', 1) AND (k.destroyed_at IS NOT NULL"
        f" OR ({sealed} LIKE '%:detail' AND k.detail_destroyed_at IS NOT NULL))))"
        " RETURNING position"
    )


_PREPARED = "tracker_prepared_statements"  # on a pooled connection: names prepared


class PostgresBackend(Backend):
    """PostgreSQL through psycopg 3."""

    writer = PostgresWriter

    def missing_table(self, error: BaseException) -> bool:
        return isinstance(error, psycopg.errors.UndefinedTable)
