"""Build the dramatiq broker from settings: Redis in production, in-process on the demo.

``TRACKER_REDIS_URL`` set: a ``RedisBroker`` whose every key starts with
``TRACKER_REDIS_NAMESPACE:`` (dramatiq keeps ``<ns>:<queue>`` lists, ``<ns>:<queue>.msgs``
hashes, ``<ns>:__acks__.<worker>.<queue>`` sets of unacked ids and ``<ns>:__heartbeats__``).
A worker that stops heartbeating for ``TRACKER_REDIS_HEARTBEAT_TIMEOUT_MS`` is dead: the
next broker call that runs maintenance (``TRACKER_REDIS_MAINTENANCE_CHANCE`` per million
calls) puts its unacked messages back on their queue.

Unset: a ``StubBroker`` (in memory); the process that serves the demo runs the workers in
threads (``workers.runtime.InProcessWorkers``). Building either connects to nothing.
"""

from __future__ import annotations

from typing import Any

from dramatiq import Broker, Middleware
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Retries, TimeLimit
from redis import ConnectionPool, Redis

from tracker.kernel.config import Settings
from workers.middleware import Correlation

PROJECTION_QUEUE = "projection"
DELIVERY_QUEUE = "delivery"
QUEUES = (PROJECTION_QUEUE, DELIVERY_QUEUE)

MESSAGE_TIME_LIMIT_MS = 10 * 60 * 1000


def redis_client(settings: Settings) -> Redis:
    """A client for ``TRACKER_REDIS_URL`` with short timeouts, so nothing waits long on it."""
    if not settings.redis_url:
        raise ValueError("redis_client needs TRACKER_REDIS_URL")
    pool = ConnectionPool.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_timeout_seconds,
        socket_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


def middleware(settings: Settings) -> list[Middleware]:
    """The middleware every broker gets (the same on Redis and in process)."""
    return [
        TimeLimit(time_limit=MESSAGE_TIME_LIMIT_MS),
        Retries(max_retries=10, min_backoff=500, max_backoff=60_000),
        CurrentMessage(),
        Correlation(),
    ]


class TrackerRedisBroker(RedisBroker):
    """dramatiq's Redis broker, polling an idle queue at least every ``poll_ms``.

    An idle consumer backs off exponentially up to the worker's timeout (dramatiq's default
    is a second, which would add up to a second to the first alert after a quiet spell);
    this caps the backoff whatever the CLI passes.
    """

    def __init__(self, *, poll_ms: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.poll_ms = poll_ms

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
        return super().consume(queue_name, prefetch, min(timeout, self.poll_ms))


def build_broker(settings: Settings, client: Redis | None = None) -> Broker:
    """The broker these settings ask for (nothing is connected yet)."""
    if settings.redis_url:
        return TrackerRedisBroker(
            poll_ms=settings.worker_poll_ms,
            client=client or redis_client(settings),
            namespace=settings.redis_namespace,
            heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
            maintenance_chance=settings.redis_maintenance_chance,
            middleware=middleware(settings),
        )
    broker = StubBroker(middleware=middleware(settings))
    broker.emit_after("process_boot")  # no CLI boots this process: start the time limits
    return broker
