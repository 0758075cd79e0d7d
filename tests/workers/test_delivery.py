"""Alert delivery end to end: each new alert sent once per channel, whatever is repeated.

The alerts come from the real projector; the sends go to a real SMTP catcher and a real
HTTP receiver; the worker is dramatiq's, on the in-process broker or on a Redis of the
test's own.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from dramatiq import Worker
from sqlalchemy import select

from tests.servers import PostgresServer, RedisServer
from tests.support import open_case
from tests.workers.conftest import worker_settings
from tests.workers.fakes import MailCatcher, WebhookReceiver
from tracker.bootstrap import App
from tracker.db.migrations import upgrade
from tracker.db.worker_tables import deliveries
from workers import jobs
from workers.broker import DELIVERY_QUEUE, QUEUES
from workers.runtime import InProcessWorkers
from workers.status import collect

SECRET = "test-webhook-secret"


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    c = MailCatcher()
    yield c
    c.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(SECRET)
    yield r
    r.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    url: str = request.getfixturevalue("pg_db")
    return url


def _settings(database_url: str, catcher: MailCatcher, receiver: WebhookReceiver,
              redis_url: str | None = None, **extra: Any) -> Any:
    values: dict[str, Any] = {
        "alert_channels": "email,webhook",
        "smtp_host": "127.0.0.1", "smtp_port": catcher.port, "smtp_timeout_seconds": 0.5,
        "alert_email_to": "{team}-alerts@yjs.example.org",
        "webhook_url": receiver.url, "webhook_secret": SECRET, "webhook_timeout_seconds": 0.5,
    }
    return worker_settings(database_url, redis_url, **{**values, **extra})


def _open_alerts(app: App) -> set[str]:
    from tracker.db.read_models import alerts

    with app.engine.connect() as conn:
        return {r[0] for r in conn.execute(select(alerts.c.alert_id)
                                           .where(alerts.c.status == "open"))}


def _caused(app: App) -> dict[str, list[str]]:
    from tracker.db.read_models import alerts

    with app.engine.connect() as conn:
        return {r[0]: json.loads(r[1]) for r in conn.execute(
            select(alerts.c.alert_id, alerts.c.caused_by))}


def _rows(app: App) -> dict[str, Any]:
    with app.engine.connect() as conn:
        return {r.key: r for r in conn.execute(select(deliveries))}


def _seed_two_cases(app: App) -> None:
    open_case(app, "CS-DLV1")
    open_case(app, "CS-DLV2", child_id="C-TEST0002", start_date="2026-10-01")


def test_in_process_workers_deliver_each_new_alert_once_per_channel(
    database_url: str, catcher: MailCatcher, receiver: WebhookReceiver, make_app: Any
) -> None:
    app = make_app(_settings(database_url, catcher, receiver))
    upgrade(app.engine)
    running = InProcessWorkers(app, threads=2).start(schedule=False)
    try:
        # each append hints the projector, which raises the alerts. (One at a time: on
        # SQLite, the keyring's deferred read-then-insert can meet the worker's write.)
        running.join()
        open_case(app, "CS-DLV1")
        running.join()
        open_case(app, "CS-DLV2", child_id="C-TEST0002", start_date="2026-10-01")
        running.join()
        alerts = _open_alerts(app)
        assert len(alerts) >= 4
        # a second hint and a heal find nothing new to send
        app.workers.hint()
        app.workers.actors.heal.send(None)
        running.join()
    finally:
        running.stop()
    assert set(receiver.accepted) == {f"{a}:webhook" for a in alerts}
    assert len(receiver.requests) == len(alerts)  # no request was repeated
    mails = Counter(m["X-Tracker-Idempotency-Key"] for m in catcher.messages)
    assert mails == Counter({f"{a}:email": 1 for a in alerts})
    assert {m["To"] for m in catcher.messages} == {"TEAM-A-alerts@yjs.example.org"}
    rows = _rows(app)
    assert {r.status for r in rows.values()} == {"sent"} and len(rows) == 2 * len(alerts)
    # the correlation id of the request that recorded an alert's cause reached its delivery
    caused = _caused(app)
    assert {r.correlation_id for r in rows.values() if caused[r.alert_id]} == {"test"}
    # nothing personal in what was sent: no date of birth, no child id
    for request in receiver.requests:
        assert b"2010-05-17" not in request["body"] and b"C-TEST" not in request["body"]
    for mail in catcher.messages:
        assert "2010-05-17" not in mail.as_string() and "C-TEST" not in mail.as_string()


@pytest.mark.redis
def test_a_message_delivered_twice_sends_once(
    database_url: str, own_redis: RedisServer, catcher: MailCatcher, receiver: WebhookReceiver,
    make_app: Any,
) -> None:
    app = make_app(_settings(database_url, catcher, receiver, own_redis.url))
    upgrade(app.engine)
    _seed_two_cases(app)
    jobs.make_projector(app).catch_up()
    broker = app.workers.broker
    broker.flush_all()  # the append hints: this test drives the deliveries itself
    jobs.enqueue_deliveries(app.workers)
    # the broker hands every deliver message out a second time, as after a lost ack
    messages = [json.loads(v) for v in app.workers.redis.hgetall(
        f"{app.settings.redis_namespace}:{DELIVERY_QUEUE}.msgs").values()]
    assert len(messages) == 2 * len(_open_alerts(app))
    for m in messages:
        app.workers.actors.deliver.send_with_options(args=tuple(m["args"]),
                                                     correlation_id="dup")
    worker = Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        for q in QUEUES:
            broker.join(q, timeout=30_000)
        worker.join()
    finally:
        worker.stop()
    alerts = _open_alerts(app)
    assert len(receiver.requests) == len(alerts)
    assert set(receiver.accepted) == {f"{a}:webhook" for a in alerts}
    assert Counter(m["X-Tracker-Idempotency-Key"] for m in catcher.messages) == Counter(
        {f"{a}:email": 1 for a in alerts})
    assert {r.attempts for r in _rows(app).values()} == {1}


@pytest.mark.redis
def test_a_send_that_timed_out_is_retried_and_takes_effect_once(
    database_url: str, own_redis: RedisServer, catcher: MailCatcher, receiver: WebhookReceiver,
    make_app: Any,
) -> None:
    app = make_app(_settings(database_url, catcher, receiver, own_redis.url))
    upgrade(app.engine)
    open_case(app, "CS-TIME1", start_date="2026-10-01")
    jobs.make_projector(app).catch_up()
    alerts = _open_alerts(app)
    # the receiver acts on the first request of each alert but answers after the sender gave
    # up; the mail relay stalls before its greeting on the first connection of each alert
    receiver.stall.count, receiver.stall.seconds = len(alerts), 1.0
    catcher.stall.count, catcher.stall.seconds = len(alerts), 1.0
    broker = app.workers.broker
    worker = Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        jobs.enqueue_deliveries(app.workers)
        for q in QUEUES:
            broker.join(q, timeout=60_000)
        worker.join()
    finally:
        worker.stop()
    by_key = Counter(r["key"] for r in receiver.requests)
    assert by_key == Counter({f"{a}:webhook": 2 for a in alerts})  # sent again, same key
    assert set(receiver.accepted) == {f"{a}:webhook" for a in alerts}  # acted on once each
    assert Counter(m["X-Tracker-Idempotency-Key"] for m in catcher.messages) == Counter(
        {f"{a}:email": 1 for a in alerts})
    rows = _rows(app)
    assert {(r.status, r.attempts) for r in rows.values()} == {("sent", 2)}
    assert all("timed out" in r.last_error or "SMTP" in r.last_error
               for r in rows.values() if r.last_error)  # the cause stays recorded


def test_exhausted_retries_are_kept_counted_and_can_be_sent_again(
    database_url: str, catcher: MailCatcher, receiver: WebhookReceiver, make_app: Any
) -> None:
    app = make_app(_settings(database_url, catcher, receiver, alert_channels="webhook",
                             delivery_max_attempts=3))
    upgrade(app.engine)
    receiver.status = 503
    running = InProcessWorkers(app, threads=2).start(schedule=False)
    try:
        running.join()
        open_case(app, "CS-FAIL1", start_date="2026-10-01")
        running.join()
        alerts = _open_alerts(app)
        rows = _rows(app)
        assert len(rows) == len(alerts) and {r.status for r in rows.values()} == {"failed"}
        assert {r.attempts for r in rows.values()} == {3}
        assert {r.last_error for r in rows.values()} == {"webhook: HTTP 503"}
        status = collect(app)
        assert status.deliveries["failed"] == len(alerts)
        assert status.deliveries["pending"] == 0
        # an operator fixes the receiver and sends the failed ones again
        receiver.status = 200
        queued = app.workers.outbox.requeue_failed(None)
        jobs.send_deliveries(app.workers, queued)
        running.join()
    finally:
        running.stop()
    assert {r.status for r in _rows(app).values()} == {"sent"}
    assert set(receiver.accepted) == {f"{a}:webhook" for a in alerts}


def test_a_lost_message_is_sent_by_the_healer(
    database_url: str, catcher: MailCatcher, receiver: WebhookReceiver, make_app: Any
) -> None:
    from datetime import timedelta

    app = make_app(_settings(database_url, catcher, receiver, alert_channels="webhook"))
    upgrade(app.engine)
    open_case(app, "CS-LOST1", start_date="2026-10-01")
    jobs.make_projector(app).catch_up()
    jobs.enqueue_deliveries(app.workers)
    app.workers.broker.flush_all()  # every deliver message lost (e.g. Redis restarted empty)
    assert receiver.requests == []
    app.clock.set(app.clock.now() + timedelta(seconds=30))  # past the heal grace
    running = InProcessWorkers(app, threads=2).start(schedule=False)
    try:
        app.workers.actors.heal.send(None)
        running.join()
    finally:
        running.stop()
    alerts = _open_alerts(app)
    assert alerts and set(receiver.accepted) == {f"{a}:webhook" for a in alerts}
    assert len(receiver.requests) == len(alerts)


def test_claims_are_exclusive_until_they_expire(
    database_url: str, catcher: MailCatcher, receiver: WebhookReceiver, make_app: Any
) -> None:
    from datetime import timedelta

    app = make_app(_settings(database_url, catcher, receiver, alert_channels="webhook"))
    upgrade(app.engine)
    outbox = app.workers.outbox
    open_case(app, "CS-CLAIM", start_date="2026-10-01")
    jobs.make_projector(app).catch_up()
    (first, *_) = outbox.create_for_open_alerts(["webhook"], "c1")
    assert outbox.create_for_open_alerts(["webhook"], "c2") == []  # rows are made once
    claim = outbox.claim(first.key)
    assert claim is not None and claim.attempts == 1
    assert outbox.claim(first.key) is None  # in another worker's hands
    app.clock.set(app.clock.now() + timedelta(seconds=app.settings.delivery_claim_seconds + 1))
    second = outbox.claim(first.key)  # that worker died mid-send: the claim expired
    assert second is not None and second.attempts == 2
    assert outbox.sent(claim) is False  # the first worker's late answer changes nothing
    assert outbox.sent(second) is True
    assert outbox.claim(first.key) is None  # sent: never claimed again


def test_own_pg_fixture_is_not_the_shared_server(own_pg: PostgresServer) -> None:
    assert own_pg.port != 5432


def test_daily_digest_is_one_mail_per_owner_per_day(
    database_url: str, catcher: MailCatcher, receiver: WebhookReceiver, make_app: Any
) -> None:
    app = make_app(_settings(database_url, catcher, receiver, alert_channels="email",
                             digest_enabled=True))
    upgrade(app.engine)
    open_case(app, "CS-DIG1", start_date="2026-10-01")
    open_case(app, "CS-DIG2", child_id="C-TEST0002", team="TEAM-B", start_date="2026-10-01")
    jobs.make_projector(app).catch_up()
    running = InProcessWorkers(app, threads=2).start(schedule=False)
    try:
        running.join()  # the per-alert mails
        per_alert = len(catcher.messages)
        app.workers.actors.digest.send("2026-11-02")
        app.workers.actors.digest.send("2026-11-02")  # the same day again: nothing new
        running.join()
    finally:
        running.stop()
    digests = catcher.messages[per_alert:]
    assert sorted(m["To"] for m in digests) == ["TEAM-A-alerts@yjs.example.org",
                                                "TEAM-B-alerts@yjs.example.org"]
    alerts = _open_alerts(app)
    listed = "".join(cast(EmailMessage, m).get_content() for m in digests)
    assert all(a in listed for a in alerts)
