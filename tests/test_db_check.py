"""``tracker db check``: the table definitions against a database the migrations built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from tests.conftest import TEST_KEY
from tests.support import run_cli
from tracker.bootstrap import App
from tracker.db.check import differences
from tracker.db.read_models import alerts
from tracker.edges.cli import context as ctx
from tracker.kernel.errors import SchemaNotReady


def test_the_tables_match_the_migrations(app: App) -> None:
    with app.engine.connect() as conn:
        assert differences(conn) == []


def test_every_difference_is_reported(app: App) -> None:
    """The negative control: the database loses an index and gains a column (rolled back)."""
    with app.engine.connect() as conn:
        tx = conn.begin()
        try:
            conn.execute(text("DROP INDEX uq_alerts_open"))
            conn.execute(text("ALTER TABLE alerts ADD COLUMN extra TEXT"))
            found = differences(conn)
        finally:
            tx.rollback()
    assert sorted(found) == [
        "table alerts column extra: in the database, not in the table definitions",
        "unique index uq_alerts_open on alerts (rule, case_id, subject): "
        "in the table definitions, not in the database",
    ]


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()])  # type: ignore[no-untyped-call]
def test_the_open_alert_index_is_partial_on_both_back_ends(dialect: Any) -> None:
    """Alembic does not compare an index's WHERE clause: this pins it to migration 0002's."""
    (index,) = (i for i in alerts.indexes if i.name == "uq_alerts_open")
    assert str(CreateIndex(index).compile(dialect=dialect)).endswith("WHERE status = 'open'")


def test_a_database_short_of_head_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with engine.connect() as conn, pytest.raises(SchemaNotReady, match="db upgrade"):
            differences(conn)
    finally:
        engine.dispose()


def _cli(app: App, monkeypatch: Any, capsys: Any) -> tuple[int, str, str]:
    monkeypatch.setenv("TRACKER_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("TRACKER_MASTER_KEY", TEST_KEY)
    ctx.set_app(None)
    return run_cli(monkeypatch, capsys, "db", "check")


def test_the_command_passes_on_a_migrated_database(
    app: App, monkeypatch: Any, capsys: Any
) -> None:
    code, out, _ = _cli(app, monkeypatch, capsys)
    assert code == 0 and "the tables match the migrations" in out


def test_the_command_exits_2_listing_the_differences(
    sqlite_app: App, monkeypatch: Any, capsys: Any
) -> None:
    with sqlite_app.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_rm_aspire_team"))
    code, out, _ = _cli(sqlite_app, monkeypatch, capsys)
    assert code == 2
    assert out.strip() == (
        "index ix_rm_aspire_team on rm_aspire (team, is_open): "
        "in the table definitions, not in the database"
    )
