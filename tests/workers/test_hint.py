"""After an append commits, one projection hint is enqueued; Redis down never fails it."""

from __future__ import annotations

import json
import signal
import time
from typing import Any, cast

import pytest
import redis

from tests.servers import RedisServer
from tests.support import open_case
from tests.workers.conftest import worker_settings
from tracker.db.migrations import upgrade
from workers.broker import PROJECTION_QUEUE

pytestmark = pytest.mark.redis


def _queued(client: redis.Redis, ns: str) -> list[dict[str, Any]]:
    stored = cast(dict[bytes, bytes], client.hgetall(f"{ns}:{PROJECTION_QUEUE}.msgs"))
    return [json.loads(v) for v in stored.values()]


def test_appends_enqueue_one_coalesced_hint_in_the_namespace(
    own_redis: RedisServer, tmp_path: Any, make_app: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url)
    app = make_app(settings)
    upgrade(app.engine)
    open_case(app, "CS-HINT1")
    open_case(app, "CS-HINT2", child_id="C-TEST0002")
    client = redis.Redis.from_url(own_redis.url)
    queued = _queued(client, settings.redis_namespace)
    assert [m["actor_name"] for m in queued] == ["project"]  # two appends, one hint waiting
    assert queued[0]["options"]["correlation_id"] == "test"  # the appending request's id
    # every key the workers wrote is under the namespace
    keys = [k.decode() for k in cast(list[bytes], client.keys("*"))]
    assert keys and all(k.startswith(settings.redis_namespace + ":") for k in keys)
    # once a worker has taken the hint (it clears the gate), the next append sends another
    assert app.workers is not None
    app.workers.gate.clear()
    open_case(app, "CS-HINT3", child_id="C-TEST0003")
    assert len(_queued(client, settings.redis_namespace)) == 2
    client.close()


def test_append_succeeds_while_redis_is_down(
    own_redis: RedisServer, tmp_path: Any, make_app: Any, json_logs: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url)
    app = make_app(settings)
    upgrade(app.engine)
    own_redis.stop()
    for i in range(3):
        open_case(app, f"CS-DOWN{i}", child_id=f"C-DOWN000{i}")
    assert app.store.head_position() == 3  # every append committed
    failures = [e for e in json_logs() if e["event"] == "projection_hint_failed"]
    assert len(failures) == 1  # then quiet for a few seconds instead of failing each append
    assert failures[0]["level"] == "warning"


def test_embedded_default_uses_the_in_process_broker(tmp_path: Any, make_app: Any) -> None:
    app = make_app(worker_settings(f"sqlite:///{tmp_path / 't.db'}"))
    upgrade(app.engine)
    assert app.workers is not None and app.workers.in_process
    open_case(app, "CS-LOCAL1")
    open_case(app, "CS-LOCAL2", child_id="C-TEST0002")
    queue = app.workers.broker.queues[PROJECTION_QUEUE]
    assert queue.qsize() == 1


FROZEN_TIMEOUT = 3.0
"""A Redis timeout long enough that one wait is told apart from two on a busy machine."""


def test_append_waits_on_a_frozen_redis_for_one_timeout_not_two(
    own_redis: RedisServer, tmp_path: Any, make_app: Any, json_logs: Any
) -> None:
    """A frozen Redis (SIGSTOP: it accepts connections and never answers) costs an append
    at most one ``TRACKER_REDIS_TIMEOUT_SECONDS``: the claim may time out, but nothing on the
    error path asks Redis again (today the clean-up waited a second full timeout)."""
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url,
                               redis_timeout_seconds=FROZEN_TIMEOUT)
    app = make_app(settings)
    upgrade(app.engine)
    open_case(app, "CS-FRZ00")  # connected, and the hint's mark is set
    assert own_redis.proc is not None
    app.workers.gate.clear()  # as a worker would: the next append claims the gate again
    own_redis.proc.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        open_case(app, "CS-FRZ01", child_id="C-FRZ00001")  # must return, not raise
        waited = time.monotonic() - started
    finally:
        own_redis.proc.send_signal(signal.SIGCONT)
    assert app.store.head_position() == 2  # the append committed
    failures = [e for e in json_logs() if e["event"] == "projection_hint_failed"]
    assert [f["error"] for f in failures] == ["TimeoutError"]  # the hint was skipped, once
    # one timeout, not two: a generous bound, far from the 2x of a second wait
    assert waited < 1.5 * FROZEN_TIMEOUT, f"the append waited {waited:.1f}s on a frozen Redis"
