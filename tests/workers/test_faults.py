"""Reliability: worker processes on servers of the tests' own, with parts failing under them.

Each test runs real ``tracker worker`` (and ``tracker scheduler``) processes against its own
PostgreSQL database and its own redis-server, breaks something, and then checks that the
read models equal a clean rebuild: no event lost, none applied twice, nothing half-done.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from sqlalchemy import create_engine, select, text

from tests.servers import PostgresServer, RedisServer, env_for
from tests.support import at, open_case, record, store_unfoldable
from tests.workers.conftest import worker_settings
from tests.workers.harness import (
    assert_equals_rebuild,
    caught_up,
    checkpoint,
    children,
    tracker_scheduler,
    tracker_worker,
    wait_until,
)
from tracker.db.migrations import upgrade
from tracker.db.read_models import alerts
from tracker.kernel.clock import SystemClock
from tracker.services.seed import seed_caseload

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def _unacked(client: redis.Redis, ns: str) -> dict[str, int]:
    """Messages fetched but not acknowledged, per worker ack set."""
    return {k.decode(): cast(int, client.scard(k)) for k in client.scan_iter(f"{ns}:__acks__.*")}


def test_worker_killed_mid_batch_loses_and_doubles_nothing(
    pg_db: str, own_redis: RedisServer, make_app: Any, tmp_path: Path
) -> None:
    settings = worker_settings(pg_db, own_redis.url, projection_batch_size=10,
                               projection_message_limit=400)
    app = make_app(settings, clock=SystemClock())
    seed_caseload(app, cases=100, seed=7)
    head = app.store.head_position()
    first = tracker_worker(settings, tmp_path / "first.log")
    try:
        app.workers.hint("kill-test")
        wait_until(lambda: checkpoint(app.engine) >= 150, "the worker to be part-way",
                   procs=(first,))
        client = redis.Redis.from_url(own_redis.url)
        in_flight = _unacked(client, settings.redis_namespace)
    finally:
        first.kill(signal.SIGKILL)
    at_kill = checkpoint(app.engine)
    assert at_kill < head, "the worker finished before it could be killed"
    assert sum(in_flight.values()) >= 1  # it held a message it never acknowledged
    second = tracker_worker(settings, tmp_path / "second.log")
    try:
        wait_until(lambda: caught_up(app), "the restarted worker to catch up", procs=(second,))
        # the dead worker's unacknowledged message was put back and handled: after the
        # heartbeat timeout the broker's maintenance requeued it, and the ack set emptied
        dead = [k for k, n in in_flight.items() if n]
        wait_until(lambda: all(_unacked(client, settings.redis_namespace).get(k, 0) == 0
                               for k in dead),
                   "the dead worker's messages to be requeued", procs=(second,))
    finally:
        second.kill(signal.SIGTERM)
        client.close()
    assert_equals_rebuild(app)


def test_one_of_two_partition_workers_killed_mid_batch_loses_and_doubles_nothing(
    pg_db: str, own_redis: RedisServer, make_app: Any, tmp_path: Path
) -> None:
    settings = worker_settings(pg_db, own_redis.url, projection_batch_size=10,
                               projection_message_limit=200)
    app = make_app(settings, clock=SystemClock())
    seed_caseload(app, cases=100, seed=7)
    head = app.store.head_position()
    first = tracker_worker(settings, tmp_path / "first.log", processes=2)
    try:
        workers = wait_until(lambda: (found := children(first.popen.pid))[1:] and found,
                             "the two worker processes", procs=(first,))
        app.workers.hint("kill-partition-test")
        wait_until(lambda: min(checkpoint(app.engine, f"records:{i}/2") for i in (0, 1)) >= 150,
                   "both partitions to be part-way", procs=(first,))
        os.kill(workers[0], signal.SIGKILL)  # one partition process dies mid-batch
        at_kill = {i: checkpoint(app.engine, f"records:{i}/2") for i in (0, 1)}
        first.popen.wait(120)  # dramatiq stops the other process when one dies
    finally:
        first.kill(signal.SIGKILL)
    assert min(at_kill.values()) < head, "the workers finished before one could be killed"
    second = tracker_worker(settings, tmp_path / "second.log", processes=2)
    try:
        app.workers.hint("after-the-kill")
        wait_until(lambda: caught_up(app), "the restarted workers to catch up", procs=(second,))
    finally:
        second.kill(signal.SIGTERM)
    before = assert_equals_rebuild(app)
    layouts = {row[0] for row in before["projection_checkpoints"]}
    assert "partitions" in layouts and "records:1/2" in layouts


def test_a_worker_of_another_partition_count_refuses_to_start(
    pg_db: str, own_redis: RedisServer, make_app: Any, tmp_path: Path
) -> None:
    settings = worker_settings(pg_db, own_redis.url)
    app = make_app(settings, clock=SystemClock())
    open_case(app, "CS-LAYOUT")
    from projections.projector import Projector

    Projector(app).catch_up()  # one partition
    refused = tracker_worker(settings, tmp_path / "refused.log", processes=2)
    assert refused.popen.wait(120) == 2
    refused.kill()
    assert "project --rebuild --processes 2" in refused.text()
    assert "Traceback" not in refused.text()


def test_appends_while_redis_is_down_are_projected_when_it_returns(
    pg_db: str, own_redis: RedisServer, make_app: Any, tmp_path: Path, json_logs: Any
) -> None:
    settings = worker_settings(pg_db, own_redis.url, catch_up_seconds=1.0)
    app = make_app(settings, clock=SystemClock())
    worker = tracker_worker(settings, tmp_path / "worker.log")
    scheduler = tracker_scheduler(settings, tmp_path / "scheduler.log")
    procs = (worker, scheduler)
    try:
        open_case(app, "CS-RDS00")
        wait_until(lambda: caught_up(app), "the first case to be projected", procs=procs)
        own_redis.stop()
        for i in range(1, 11):
            open_case(app, f"CS-RDS{i:02d}", child_id=f"C-RDS{i:05d}")  # none may raise
        assert app.store.head_position() == 11
        assert any(e["event"] == "projection_hint_failed" for e in json_logs())
        wait_until(lambda: "schedule_lock_failed" in scheduler.text(),
                   "the scheduler to tick while Redis is away", procs=procs)
        own_redis.start()  # same port, empty: every queued message and lock is gone
        wait_until(lambda: caught_up(app), "the read models to catch up after Redis returned",
                   procs=procs)
    finally:
        for p in procs:
            p.kill(signal.SIGTERM)
    assert_equals_rebuild(app)


def test_postgres_connections_dropped_under_a_worker(
    own_redis: RedisServer, make_app: Any, tmp_path: Path
) -> None:
    server = PostgresServer().start()  # its own: this test restarts it
    try:
        url = server.create_database("drops")
        settings = worker_settings(url, own_redis.url, projection_batch_size=10,
                                   projection_message_limit=100_000)
        app = make_app(settings, clock=SystemClock())
        upgrade(app.engine)
        seed_caseload(app, cases=100, seed=3)
        worker = tracker_worker(settings, tmp_path / "worker.log")
        try:
            app.workers.hint("drop-test")
            wait_until(lambda: checkpoint(app.engine) >= 100, "the worker to be part-way",
                       procs=(worker,))
            admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
            killed = 0
            for _ in range(5):
                with admin.connect() as conn:
                    killed += len(conn.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = 'drops' AND pid <> pg_backend_pid()")).all())
                time.sleep(0.15)
            admin.dispose()
            server.stop("immediate")  # and a crash of the server itself
            server.start()
            assert killed >= 1
            wait_until(lambda: caught_up(app), "the worker to recover and catch up",
                       timeout=90, procs=(worker,))
        finally:
            worker.kill(signal.SIGTERM)
        log = worker.text()
        assert "Retrying message" in log or "StoreUnavailable" in log  # the worker saw it
        assert_equals_rebuild(app)
    finally:
        server.close()


def test_worker_logs_are_json_with_the_correlation_id(
    pg_db: str, own_redis: RedisServer, make_app: Any, tmp_path: Path
) -> None:
    settings = worker_settings(pg_db, own_redis.url)
    app = make_app(settings, clock=SystemClock())
    worker = tracker_worker(settings, tmp_path / "worker.log")
    try:
        open_case(app, "CS-LOG01")  # support.record appends with correlation id "test"
        wait_until(lambda: caught_up(app), "the case to be projected", procs=(worker,))
        wait_until(lambda: '"projection_caught_up"' in worker.text(), "the worker's log line",
                   procs=(worker,))
    finally:
        worker.kill(signal.SIGTERM)
    lines = [json.loads(line) for line in worker.text().splitlines() if line.startswith("{")]
    caught = [line for line in lines if line.get("event") == "projection_caught_up"
              and line.get("correlation_id") == "test"]
    assert caught, "no JSON line of the hint's message carried the request's correlation id"
    assert caught[0]["actor_name"] == "project" and caught[0]["message_id"]


def test_a_case_the_worker_cannot_fold_is_quarantined_and_the_others_still_alert(
    pg_db: str, own_redis: RedisServer, make_app: Any, tmp_path: Path
) -> None:
    """Issue 9 §1: the worst event an older build accepted (a year-1 appointment) on one
    case, then an unacceptable miss on another: the worker raises the other case's alert,
    and ``tracker status --json`` lists the first as quarantined (it used to stop every
    case's projection with an OverflowError)."""
    settings = worker_settings(pg_db, own_redis.url)
    app = make_app(settings, clock=SystemClock())
    worker = tracker_worker(settings, tmp_path / "worker.log")
    try:
        open_case(app, "CS-WORST", child_id="C-WORST")
        store_unfoldable(app, "CS-WORST", 1)
        open_case(app, "CS-OTHER", child_id="C-OTHER")
        record(app, "CS-OTHER", "contact_missed",
               {"kind": "office", "acceptable": False, "reason": "no_reason_given"},
               at("2026-02-02"))
        wait_until(lambda: "missed_appointment_not_followed_up" in _open_rules(app, "CS-OTHER"),
                   "the other case's alert", procs=(worker,))
        wait_until(lambda: caught_up(app), "the checkpoints to move past the bad event",
                   procs=(worker,))
        status = subprocess.run([sys.executable, "-m", "tracker", "status", "--json"],
                                env=env_for(settings), capture_output=True, text=True,
                                timeout=120, check=False)
    finally:
        worker.kill(signal.SIGTERM)
    assert status.returncode == 0, status.stderr
    listed = json.loads(status.stdout)["quarantined"]
    assert [(q["case_id"], q["error_type"], q["event_type"]) for q in listed] == [
        ("CS-WORST", "OverflowError", "contact_scheduled")]
    assert _open_rules(app, "CS-WORST") == ["case_quarantined"]
    assert "Traceback" not in worker.text()


def _open_rules(app: Any, case_id: str) -> list[str]:
    with app.engine.connect() as conn:
        return [r[0] for r in conn.execute(
            select(alerts.c.rule).where(alerts.c.case_id == case_id,
                                        alerts.c.status == "open"))]
