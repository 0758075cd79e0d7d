"""Personal data left in clear by earlier versions: managers' alert notes (sealed by
``tracker db seal-notes``, reported by ``tracker db check``) and the 17½ date (removed by
migration 0006_i9_no_dob_dates)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, update

from events.sealing import ERASED
from projections import queries
from projections.projector import Projector
from tests.conftest import TEST_KEY
from tests.support import open_case, run_cli
from tests.test_erasure import ADMIN
from tracker.bootstrap import App
from tracker.db.migrations import alembic_config
from tracker.db.migrations import upgrade as run_upgrade
from tracker.db.read_models import alerts, continuity
from tracker.edges.cli import context
from tracker.services.erasure import erase_child


def _alert_with_clear_note(app: App, case_id: str, child: str, note: str) -> str:
    open_case(app, case_id, child_id=child, start_date="2026-10-01")  # no case manager
    Projector(app).catch_up()
    alert_id = next(a["alert_id"] for a in queries.list_alerts(app) if a["case_id"] == case_id)
    with app.engine.begin() as conn:  # as a version before sealing wrote it
        conn.execute(update(alerts).where(alerts.c.alert_id == alert_id)
                     .values(ack_note=note, close_note=note))
    return str(alert_id)


def test_seal_notes_seals_old_notes_and_drops_those_of_erased_children(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    kept = _alert_with_clear_note(app, "CS-N1", "C-NOTE0001", "ZQX-OLD-NOTE")
    gone = _alert_with_clear_note(app, "CS-N2", "C-NOTE0002", "ZQX-OLD-ERASED")
    erase_child(app, "C-NOTE0002", "erasure_request", actor=ADMIN, correlation_id="t")
    assert queries.notes_in_clear(app) == 2
    monkeypatch.setenv("TRACKER_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("TRACKER_MASTER_KEY", TEST_KEY)
    context.set_app(None)
    code, out, _ = run_cli(monkeypatch, capsys, "db", "check")
    assert code == 2 and "seal-notes" in out
    code, out, _ = run_cli(monkeypatch, capsys, "db", "seal-notes")
    assert code == 0 and "2 note(s) sealed, 2 of erased children removed" in out
    assert queries.notes_in_clear(app) == 0
    with app.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(select(alerts)) for v in row)
    assert "ZQX-" not in raw
    opened = {a["alert_id"]: a for a in queries.list_alerts(app, open_only=False)}
    assert opened[kept]["ack_note"] == "ZQX-OLD-NOTE"
    assert (opened[gone]["ack_note"], opened[gone]["close_note"]) == (ERASED, ERASED)
    assert run_cli(monkeypatch, capsys, "db", "check")[0] == 0


def test_the_migration_removes_the_seventeen_and_a_half_date_from_stored_rows(app: App
                                                                              ) -> None:
    open_case(app, "CS-175", child_id="C-1751", date_of_birth="2009-04-20",
              start_date="2026-10-01", expected_end_date="2027-06-30")
    Projector(app).catch_up()
    cfg = alembic_config()
    with app.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    with app.engine.begin() as conn:  # as the version before wrote them
        conn.execute(update(alerts).values(details='{"transition_date": "2026-10-20"}'))
        view = json.loads(conn.execute(select(continuity.c.view)).scalar_one())
        view["probation"]["transition_date"] = "2026-10-20"
        conn.execute(update(continuity).values(view=json.dumps(view)))
    run_upgrade(app.engine)
    with app.engine.connect() as conn:
        raw = " ".join(str(v) for t in (alerts, continuity) for row in conn.execute(select(t))
                       for v in row)
    assert "2026-10-20" not in raw and "transition_date" in raw  # the key stays, as null
