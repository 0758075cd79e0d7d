"""The projector's pipelined writes (``projections.projector.writes.Writes``) on both back
ends: deferred to one round trip on PostgreSQL, and still all-or-nothing with the rest of
the transaction when one of them fails."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from projections.projector.writes import Job, Writes
from tracker.bootstrap import App
from tracker.db import tx
from tracker.db.read_models import checkpoints

TABLES = "projection checkpoints"


def _add(name: str, position: int) -> Job:
    def job(conn: Connection) -> None:
        conn.execute(insert(checkpoints).values(name=name, position=position))
    return job


def _count(conn: Connection, *names: str) -> int:
    return int(conn.execute(select(func.count()).select_from(checkpoints)
                            .where(checkpoints.c.name.in_(names))).scalar_one())


def test_pipelined_writes_wait_for_the_flush_and_then_all_land(app: App) -> None:
    with tx.write(app.engine, tables=TABLES) as conn:
        pipelined = conn.dialect.name == "postgresql"
        with Writes(conn, threaded=False, pipelined=True) as writes:
            writes.submit(_add("t-a", 1))
            writes.submit(_add("t-b", 2))
            writes.ready_to_read()
            # PostgreSQL: still pending while the projector reads; SQLite: written at once
            assert _count(conn, "t-a", "t-b") == (0 if pipelined else 2)
        assert _count(conn, "t-a", "t-b") == 2
    with app.engine.connect() as conn:
        rows = dict(conn.execute(select(checkpoints.c.name, checkpoints.c.position)
                                 .where(checkpoints.c.name.in_(["t-a", "t-b"]))).all())
    assert rows == {"t-a": 1, "t-b": 2}


def _failing_transaction(app: App) -> None:
    with tx.write(app.engine, tables=TABLES) as conn:
        conn.execute(insert(checkpoints).values(name="t-direct", position=9))
        with Writes(conn, threaded=False, pipelined=True) as writes:
            writes.submit(_add("t-c", 1))
            writes.submit(_add("t-c", 2))  # the same key


def test_a_failed_pipelined_write_rolls_the_whole_transaction_back(app: App) -> None:
    with pytest.raises(IntegrityError):
        _failing_transaction(app)
    with app.engine.connect() as conn:
        assert _count(conn, "t-c", "t-direct") == 0  # neither the pipeline nor before it
