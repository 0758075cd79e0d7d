"""The projector on real SQLite and PostgreSQL: checkpoints, idempotence, rebuild,
corrections arriving later, concurrency, sweep, acknowledgements, policy versions."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, date, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from events.case import DisposalType
from events.envelope import Actor
from projections import queries
from projections.projector import Projector
from tests.projections.helpers import alert_rows, seed, snapshot
from tests.support import at, open_case, record
from tracker.bootstrap import App, bootstrap
from tracker.db.read_models import VIEW_TABLES, case_records, checkpoints
from tracker.domain.policy import build_policy
from tracker.kernel.errors import AlertNotFound, InvalidInput, SchemaNotReady, UnknownReadModel
from tracker.services import synthetic

MANAGER = Actor("M-TEST01", "manager")


def test_catch_up_projects_every_case_and_moves_every_checkpoint(app: App) -> None:
    accepted = seed(app, 6, 1)
    projector = Projector(app)
    assert projector.catch_up() == len(accepted)
    snap = snapshot(app)
    cases = {p.case_id for p in accepted}
    assert set(snap["records"]) == cases
    for name in VIEW_TABLES:
        assert set(snap[name]) == cases
        assert {row["policy_version"] for row in snap[name].values()} == {
            projector.policy.version}
    assert set(snap["checkpoints"].values()) == {len(accepted)}
    assert all(lag.events == 0 and lag.seconds == 0.0 for lag in projector.lag().values())


def test_catching_up_again_changes_nothing(app: App) -> None:
    seed(app, 4, 2)
    projector = Projector(app)
    projector.catch_up(batch_size=50)
    before, alerts_before = snapshot(app), alert_rows(app)
    assert projector.catch_up() == 0
    assert Projector(app).catch_up(batch_size=7) == 0
    assert snapshot(app) == before
    assert alert_rows(app) == alerts_before


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed_value=st.integers(0, 10_000), cases=st.integers(1, 4),
       batch=st.integers(1, 400), parts=st.integers(1, 6))
def test_rebuild_equals_incremental(app: App, seed_value: int, cases: int, batch: int,
                                    parts: int) -> None:
    accepted = synthetic.accept(synthetic.caseload(
        random.Random(seed_value), cases, start=date(2025, 9, 1), until=date(2026, 10, 30),
        prefix=f"CS-H{seed_value}-"))
    existing = {r[0] for r in _streams(app)}
    accepted = [p for p in accepted if p.case_id not in existing]
    projector = Projector(app)
    size = max(1, len(accepted) // parts)
    for i in range(0, len(accepted), size):  # appended and projected a little at a time
        synthetic.write(app, accepted[i : i + size])
        projector.catch_up(batch_size=batch)
    incremental = snapshot(app)
    projector.rebuild()
    assert snapshot(app) == incremental


def _streams(app: App) -> list[tuple[str]]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT DISTINCT stream_id FROM events"))]


def test_a_correction_arriving_later_is_applied(app: App) -> None:
    open_case(app, "CS-C1", start_date="2026-09-01")
    record(app, "CS-C1", "case_manager_allocated", {
        "practitioner_id": "P-1", "agency": "yot", "role": "case_manager",
        "manager_id": "M-1"}, at("2026-09-01"))
    missed = record(app, "CS-C1", "contact_missed", {
        "kind": "office", "acceptable": False, "reason": "no_reason_given"},
        at("2026-10-05"))[0]
    projector = Projector(app)
    projector.catch_up()
    rules = {a["rule"] for a in queries.list_alerts(app)}
    assert "missed_appointment_not_followed_up" in rules
    record(app, "CS-C1", "event_retracted", {"target_event_id": str(missed.event_id),
                                             "reason": "Recorded on the wrong case."},
           at("2026-11-01"))
    assert projector.catch_up() == 1
    loaded = projector.load_record("CS-C1")
    assert loaded is not None and loaded.missed == ()
    closed = [a for a in queries.list_alerts(app, open_only=False)
              if a["rule"] == "missed_appointment_not_followed_up"]
    assert [a["status"] for a in closed] == ["resolved"]


def test_two_projectors_at_once_give_what_one_gives(app: App) -> None:
    accepted = synthetic.accept(synthetic.caseload(
        random.Random(5), 5, start=date(2025, 9, 1), until=date(2026, 10, 30)))
    chunks = [accepted[i : i + 60] for i in range(0, len(accepted), 60)]
    done = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            for chunk in chunks:
                synthetic.write(app, chunk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            done.set()

    def projecting(batch: int) -> None:
        projector = Projector(app)
        try:
            while not done.is_set():
                projector.catch_up(batch_size=batch)
            projector.catch_up(batch_size=batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=appender)] + [
        threading.Thread(target=projecting, args=(b,)) for b in (13, 29)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert errors == []
    together = snapshot(app)
    assert set(together["checkpoints"].values()) == {len(accepted)}
    Projector(app).rebuild()
    assert snapshot(app) == together


def test_sweep_raises_and_resolves_time_based_alerts_with_no_new_event(app: App) -> None:
    open_case(app, "CS-S1", start_date="2026-10-26")
    record(app, "CS-S1", "case_manager_allocated", {
        "practitioner_id": "P-1", "agency": "yot", "role": "case_manager",
        "manager_id": "M-1"}, at("2026-10-26"))
    projector = Projector(app)
    projector.catch_up()  # the clock says 2 November: the assessment is not due yet
    assert not [a for a in queries.list_alerts(app) if a["rule"] == "assessment_overdue"]
    result = projector.sweep(datetime(2026, 11, 17, 8, tzinfo=UTC))
    raised = [a for a in queries.list_alerts(app) if a["rule"] == "assessment_overdue"]
    assert [a["alert_id"] for a in raised] == ["assessment_overdue:CS-S1:assessment:1"]
    assert raised[0]["alert_id"] in result.raised
    assert raised[0]["owner"] == "M-1"
    app.clock.set(datetime(2026, 11, 18, 12, tzinfo=UTC))  # type: ignore[attr-defined]
    record(app, "CS-S1", "assessment_completed", {
        "kind": "initial", "likelihood_of_reoffending": "low", "safety_and_wellbeing": "low",
        "risk_of_serious_harm": "low", "strengths_recorded": True, "child_involved": True,
        "parent_carer_involved": True, "victim_considered": True,
        "other_agencies_information_used": True}, at("2026-11-18"))
    result = projector.sweep(datetime(2026, 11, 18, 10, tzinfo=UTC))
    rows = [a for a in queries.list_alerts(app, open_only=False)
            if a["rule"] == "assessment_overdue"]
    assert [(a["status"], a["resolved_at"] is not None) for a in rows] == [("resolved", True)]
    assert projector.sweep(datetime(2026, 11, 18, 10, tzinfo=UTC)).raised == []


def test_acknowledging_is_idempotent_and_survives_a_rebuild(app: App) -> None:
    open_case(app, "CS-A1", start_date="2026-09-01")
    projector = Projector(app)
    projector.catch_up()
    alert = next(a for a in queries.list_alerts(app) if a["rule"] == "no_case_manager")
    first = queries.acknowledge_alert(app, alert["alert_id"], note="Allocating today.",
                                      actor=MANAGER)
    assert (first["acknowledged_by"], first["ack_note"]) == ("M-TEST01", "Allocating today.")
    again = queries.acknowledge_alert(app, alert["alert_id"], note="Something else.",
                                      actor=Actor("M-OTHER", "manager"))
    assert again == first
    projector.rebuild()
    after = next(a for a in queries.list_alerts(app) if a["alert_id"] == alert["alert_id"])
    assert (after["status"], after["ack_note"]) == ("open", "Allocating today.")


def test_bad_acknowledgements_are_clear(app: App) -> None:
    with pytest.raises(InvalidInput, match="note: must not be empty"):
        queries.acknowledge_alert(app, "x", note="  ", actor=MANAGER)
    with pytest.raises(AlertNotFound, match="alert nope not found"):
        queries.acknowledge_alert(app, "nope", note="ok", actor=MANAGER)


def test_rebuilding_one_model_leaves_the_others_alone(app: App) -> None:
    seed(app, 3, 3)
    projector = Projector(app)
    projector.catch_up()
    before = snapshot(app)
    with app.engine.begin() as conn:
        conn.execute(VIEW_TABLES["engagement"].update().values(view="{}"))
        conn.execute(VIEW_TABLES["aspire"].update().values(view="{}"))
    assert projector.rebuild("aspire") > 0
    after = snapshot(app)
    assert after["aspire"] == before["aspire"]
    assert all(row["view"] == "{}" for row in after["engagement"].values())
    with pytest.raises(UnknownReadModel, match="known: records, aspire"):
        projector.rebuild("nonsense")


def test_the_policy_version_is_recorded_and_a_new_policy_recomputes(app: App) -> None:
    seed(app, 2, 4)
    Projector(app).catch_up()
    strict = build_policy({"version": "strict-1", "disposals": {
        d: {"assessment_working_days": 1} for d in get_args(DisposalType)}})
    Projector(app, strict).catch_up()
    with app.engine.connect() as conn:
        versions = {r[0] for r in conn.execute(select(VIEW_TABLES["aspire"].c.policy_version))}
        cps = dict(conn.execute(select(checkpoints.c.name, checkpoints.c.policy_version)).all())
    assert versions == {"strict-1"}
    assert cps["aspire"] == "strict-1" and cps["alerts"] == "strict-1"
    assert {a["policy_version"] for a in queries.list_alerts(app)} <= {"strict-1"}


def test_lag_counts_events_and_seconds_behind(app: App) -> None:
    projector = Projector(app)
    assert projector.lag()["records"].seconds is None  # nothing recorded yet
    open_case(app, "CS-L1", start_date="2026-10-01")
    app.clock.set(app.clock.now() + timedelta(minutes=5))  # type: ignore[attr-defined]
    lag = projector.lag()
    assert lag["records"].events == 1
    assert lag["aspire"].seconds == pytest.approx(300.0)
    projector.catch_up(limit=1)
    assert projector.lag()["alerts"].events == 0


def test_replay_is_the_same_whether_or_not_the_projections_are_up_to_date(app: App) -> None:
    accepted = seed(app, 2, 6)
    case_id = accepted[0].case_id
    cold = queries.replay(app, case_id, as_of=date(2026, 3, 1))
    Projector(app).catch_up()
    warm = queries.replay(app, case_id, as_of=date(2026, 3, 1))
    assert warm == cold
    assert cold["evaluated_as_at"].startswith("2026-03-01T23:59:59")


def test_limit_stops_early_and_the_views_wait_for_the_head(app: App) -> None:
    accepted = seed(app, 2, 7)
    projector = Projector(app)
    assert projector.catch_up(batch_size=10, limit=25) == 25
    lag = projector.lag()
    assert lag["records"].events == len(accepted) - 25
    assert lag["aspire"].events == len(accepted)  # derived models move at the head only
    assert projector.catch_up() == len(accepted)
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(case_records)).scalar_one() == 2


def test_bad_arguments_are_clear(app: App) -> None:
    projector = Projector(app)
    with pytest.raises(InvalidInput, match="batch_size: must be at least 1"):
        projector.catch_up(batch_size=0)
    with pytest.raises(InvalidInput, match="as_at: must include a time zone"):
        projector.sweep(datetime(2026, 1, 1))


def test_an_unmigrated_database_is_reported_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings

    bare = bootstrap(make_settings(f"sqlite:///{tmp_path / 'bare.db'}"), configure_logging=False)
    try:
        with pytest.raises(SchemaNotReady, match="tracker db upgrade"):
            Projector(bare).catch_up()
    finally:
        bare.close()


def test_a_record_stored_in_an_older_layout_is_refolded_from_its_events(app: App) -> None:
    accepted = seed(app, 2, 10)
    projector = Projector(app)
    projector.catch_up()
    before = snapshot(app)
    case_id = accepted[0].case_id
    position = before["records"][case_id][0].position
    with app.engine.begin() as conn:  # what an earlier version of the projector stored
        conn.execute(case_records.update().where(case_records.c.case_id == case_id).values(
            record=json.dumps({"case_id": case_id, "position": position, "opened": [1]})))
    loaded = projector.load_record(case_id)
    assert loaded == before["records"][case_id][0]
    assert queries.case_view(app, case_id)["case"]["case_id"] == case_id
