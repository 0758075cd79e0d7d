"""The correlation id of the appending request travels into every message and its logs."""

from __future__ import annotations

import json
from typing import Any, cast

import dramatiq
import pytest
import redis
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from tests.servers import RedisServer
from tests.workers.conftest import worker_settings
from tracker.kernel import logging as tlog
from workers.broker import build_broker

pytestmark = pytest.mark.redis


def _probe(broker: Any, attempts: list[int], fail_first: bool) -> Any:
    log = __import__("structlog").get_logger("probe")

    @dramatiq.actor(broker=broker, actor_name="probe", queue_name="probe",
                    max_retries=3, min_backoff=10, max_backoff=20)
    def probe() -> None:
        attempts.append(1)
        log.info("inside_probe", attempt=len(attempts))
        if fail_first and len(attempts) == 1:
            raise RuntimeError("first attempt fails")

    return probe


def _run(broker: Any) -> None:
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join("probe", timeout=20_000) if isinstance(broker, StubBroker) else None
        worker.join()
    finally:
        worker.stop()


def test_in_process_broker_binds_the_correlation_id_message_id_and_actor(
    tmp_path: Any, json_logs: Any
) -> None:
    broker = build_broker(worker_settings(f"sqlite:///{tmp_path / 'x.db'}"))
    assert isinstance(broker, StubBroker)
    attempts: list[int] = []
    probe = _probe(broker, attempts, fail_first=False)
    with tlog.correlation("req-in-process-1"):
        message = probe.send()
    assert message.options["correlation_id"] == "req-in-process-1"
    _run(broker)
    inside = [line for line in json_logs() if line["event"] == "inside_probe"]
    assert len(inside) == 1
    assert inside[0]["correlation_id"] == "req-in-process-1"
    assert inside[0]["message_id"] == message.message_id
    assert inside[0]["actor_name"] == "probe"


def test_redis_message_carries_the_correlation_id_across_a_retry(
    own_redis: RedisServer, tmp_path: Any, json_logs: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 'x.db'}", own_redis.url)
    broker = build_broker(settings)
    attempts: list[int] = []
    probe = _probe(broker, attempts, fail_first=True)
    with tlog.correlation("req-redis-7"):
        message = probe.send()
    client = redis.Redis.from_url(own_redis.url)
    stored = cast(dict[bytes, bytes], client.hgetall(f"{settings.redis_namespace}:probe.msgs"))
    assert len(stored) == 1
    assert json.loads(next(iter(stored.values())))["options"]["correlation_id"] == "req-redis-7"
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join("probe", timeout=20_000)
        worker.join()
    finally:
        worker.stop()
    inside = [line for line in json_logs() if line["event"] == "inside_probe"]
    assert [line["attempt"] for line in inside] == [1, 2]  # failed once, retried once
    assert {line["correlation_id"] for line in inside} == {"req-redis-7"}
    assert {line["message_id"] for line in inside} == {message.message_id}
    assert all(line["actor_name"] == "probe" for line in inside)
    # outside a message the ids are unbound again
    assert "message_id" not in __import__("structlog").contextvars.get_contextvars()
    client.close()
