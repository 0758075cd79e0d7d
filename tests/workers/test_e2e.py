"""A real ``dramatiq`` worker process on a real Redis, against the in-process path.

The same synthetic caseload is seeded into two databases. One is projected, swept and
delivered by the plain dramatiq CLI (``dramatiq tracker.main:worker_setup``) on the test's own
Redis; the other by the in-process workers (the embedded default). The alerts raised, and
the alerts delivered, must be the same.
"""

from __future__ import annotations

import secrets
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.servers import PostgresServer, RedisServer
from tests.workers.conftest import worker_settings
from tests.workers.fakes import WebhookReceiver
from tests.workers.harness import caught_up, dramatiq_worker, wait_until
from tracker.bootstrap import App
from tracker.db.migrations import upgrade
from tracker.kernel.clock import LONDON, SystemClock
from tracker.services.seed import seed_caseload
from workers.jobs import job_runs
from workers.runtime import InProcessWorkers

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SECRET = "e2e-secret"


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    pair = (WebhookReceiver(SECRET), WebhookReceiver(SECRET))
    yield pair
    for r in pair:
        r.close()


def _alerts(app: App) -> set[tuple[Any, ...]]:
    from tracker.db.read_models import alerts as t

    with app.engine.connect() as conn:
        return set(conn.execute(select(
            t.c.alert_id, t.c.rule, t.c.case_id, t.c.subject, t.c.severity, t.c.owner,
            t.c.team, t.c.status)).all())


def _settings(url: str, receiver: WebhookReceiver, redis_url: str | None = None) -> Any:
    return worker_settings(url, redis_url, alert_channels="webhook", webhook_url=receiver.url,
                           webhook_secret=SECRET)


def test_dramatiq_process_raises_and_delivers_what_the_in_process_path_does(
    own_pg: PostgresServer, own_redis: RedisServer, make_app: Any, tmp_path: Path,
    receivers: tuple[WebhookReceiver, WebhookReceiver],
) -> None:
    today = datetime.now(LONDON).date()
    as_at = datetime.now(UTC).replace(microsecond=0)
    by_redis, in_process = receivers

    url = own_pg.create_database(f"e2e_{secrets.token_hex(4)}")
    settings = _settings(url, by_redis, own_redis.url)
    app = make_app(settings, clock=SystemClock())
    upgrade(app.engine)
    seeded = seed_caseload(app, cases=60, seed=11, until=today)
    proc = dramatiq_worker(settings, tmp_path / "dramatiq.log")
    try:
        app.workers.hint("e2e-hint")
        app.workers.actors.sweep.send(as_at.isoformat())
        wait_until(lambda: caught_up(app) and "sweep" in job_runs(app), "projection and sweep",
                   procs=(proc,))
        expected = {f"{a[0]}:webhook" for a in _alerts(app) if a[-1] == "open"}
        wait_until(lambda: set(by_redis.accepted) == expected, "every alert delivered",
                   procs=(proc,))
    finally:
        proc.kill(signal.SIGTERM)
    raised_by_redis = _alerts(app)

    url2 = own_pg.create_database(f"e2e_{secrets.token_hex(4)}")
    other = make_app(_settings(url2, in_process), clock=SystemClock())
    upgrade(other.engine)
    assert seed_caseload(other, cases=60, seed=11, until=today) == seeded
    running = InProcessWorkers(other, threads=2).start(schedule=False)
    try:
        other.workers.actors.sweep.send(as_at.isoformat())
        running.join()
    finally:
        running.stop()

    assert raised_by_redis, "the caseload should raise some alerts"
    assert _alerts(other) == raised_by_redis
    assert set(in_process.accepted) == set(by_redis.accepted)
    assert len(by_redis.requests) == len(by_redis.accepted)  # each sent once
    # the dramatiq process logged JSON with the hint's correlation id, message id and actor
    log = (tmp_path / "dramatiq.log").read_text()
    assert '"correlation_id": "e2e-hint"' in log and '"actor_name": "project"' in log
