"""``tracker.db.tx``: driver errors translated once, per back end; SQLite writes IMMEDIATE."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from tracker.bootstrap import App
from tracker.db import tx
from tracker.kernel.errors import SchemaNotReady

INSERT_CHECKPOINT = text("INSERT INTO projection_checkpoints (name, position) VALUES ('t', 0)")
COUNT_CHECKPOINT = text("SELECT count(*) FROM projection_checkpoints WHERE name = 't'")


def test_a_missing_table_asks_for_the_migrations(app: App) -> None:
    missing = pytest.raises(SchemaNotReady, match="no widgets yet: run 'tracker db upgrade'")
    with missing, tx.read(app.engine, tables="widgets") as conn:
        conn.execute(text("SELECT * FROM no_such_table"))


def test_a_write_rolls_back_and_leaves_a_refused_constraint_to_the_caller(app: App) -> None:
    with tx.write(app.engine, tables="read models") as conn:
        conn.execute(INSERT_CHECKPOINT)

    def delete_then_insert_twice() -> None:
        with tx.write(app.engine, tables="read models") as conn:
            conn.execute(text("DELETE FROM projection_checkpoints WHERE name = 't'"))
            conn.execute(INSERT_CHECKPOINT)
            conn.execute(INSERT_CHECKPOINT)

    with pytest.raises(IntegrityError):
        delete_then_insert_twice()
    with tx.read(app.engine, tables="read models") as conn:
        assert conn.execute(COUNT_CHECKPOINT).scalar() == 1  # the delete was rolled back too


def test_a_write_on_sqlite_takes_the_lock_as_it_begins(sqlite_app: App) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(sqlite_app.engine, "before_cursor_execute", seen)
    with tx.write(sqlite_app.engine, tables="read models") as conn:
        conn.execute(INSERT_CHECKPOINT)
    assert statements[0] == "BEGIN IMMEDIATE"
