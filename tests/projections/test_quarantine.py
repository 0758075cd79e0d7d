"""Issue 9 §1: an event the read side cannot fold quarantines its case, not the projector.

The event is stored as an older build accepted it (``tests.support.store_unfoldable``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from projections.projector import Projector
from projections.queries import cases as case_queries
from tests.support import at, open_case, record, store_unfoldable
from tracker.bootstrap import App
from tracker.db.read_models import alerts
from tracker.kernel.errors import CaseQuarantined


def _open_alerts(app: App, case_id: str) -> list[str]:
    with app.engine.connect() as conn:
        return [r.rule for r in conn.execute(
            select(alerts.c.rule).where(alerts.c.case_id == case_id,
                                        alerts.c.status == "open"))]


def test_one_broken_case_is_quarantined_and_every_other_case_projects(app: App) -> None:
    open_case(app, "CS-BAD", child_id="C-BAD")
    bad_id = store_unfoldable(app, "CS-BAD", 1)
    open_case(app, "CS-GOOD", child_id="C-GOOD")
    record(app, "CS-GOOD", "contact_missed", {"kind": "office", "acceptable": False,
                                              "reason": "no_reason_given"}, at("2026-02-02"))
    projector = Projector(app)
    projector.catch_up()  # used to raise OverflowError and stop every case

    [q] = projector.quarantined()
    assert (q["case_id"], q["stage"], q["error_type"], q["event_id"], q["event_type"]) == (
        "CS-BAD", "fold", "OverflowError", bad_id, "contact_scheduled")
    assert "0001" not in q["message"]
    assert "missed_appointment_not_followed_up" in _open_alerts(app, "CS-GOOD")
    assert _open_alerts(app, "CS-BAD") == ["case_quarantined"]
    assert all(lag.events == 0 for lag in projector.lag().values())  # checkpoints moved on
    with pytest.raises(CaseQuarantined):
        case_queries.case_view(app, "CS-BAD")
    with pytest.raises(CaseQuarantined):
        case_queries.replay(app, "CS-BAD")
    assert case_queries.case_view(app, "CS-GOOD")["case_id"] == "CS-GOOD"

    # Later events on the good case still project; a retry of the bad one still fails.
    record(app, "CS-GOOD", "case_closed", {"reason": "order_completed"}, at("2026-03-01"))
    assert projector.retry_quarantined() == 1
    assert _open_alerts(app, "CS-GOOD") == []

    # A correction brings the case back, and its admins' alert resolves.
    record(app, "CS-BAD", "event_retracted", {"target_event_id": bad_id, "reason": "typo"},
           datetime(2026, 3, 2, 10, tzinfo=UTC))
    projector.catch_up()
    assert projector.quarantined() == []
    assert "case_quarantined" not in _open_alerts(app, "CS-BAD")
    assert case_queries.case_view(app, "CS-BAD")["case_id"] == "CS-BAD"
