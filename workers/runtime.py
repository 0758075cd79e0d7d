"""The workers of one App: its broker, its actors, and the hint sent after each append.

``attach(app)`` (called by the bootstrap) builds the broker from settings, declares the
actors on it and subscribes to the store's appends. Nothing connects until a message is
sent. The append listener never makes an append fail: a broker error is logged, further
hints are skipped for a few seconds, and the scheduler's periodic catch-up heals the lag.

On the embedded default (no Redis), ``InProcessWorkers(app).start()`` runs the same actors
in threads of the current process, with the scheduler's jobs on a background timer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import structlog
from dramatiq import Broker, Worker
from dramatiq.brokers.stub import StubBroker
from redis import Redis

from events.envelope import RecordedEvent
from tracker.kernel.errors import ConfigurationError
from workers.actors import declare_actors
from workers.broker import QUEUES, build_broker, redis_client
from workers.delivery import Channel, Outbox, channels_from_settings
from workers.gate import Gate, LocalGate, RedisGate
from workers.jobs import make_projector
from workers.scheduler import Scheduler, sweep_trigger

if TYPE_CHECKING:
    from projections.projector import Projector
    from tracker.services.app import App
    from workers.actors import Actors
    from workers.scheduler import Scheduler

log = structlog.get_logger("workers")

QUIET_SECONDS = 5.0
"""After a failed hint, appends skip the broker this long (the periodic catch-up heals)."""


def attached(app: App) -> Workers | None:
    """The app's workers, typed (the app holds them as a ``WorkerHandle``), or None."""
    return app.workers if isinstance(app.workers, Workers) else None


def workers_of(app: App) -> Workers:
    """The app's workers; raises ``ConfigurationError`` when it was built without them."""
    workers = attached(app)
    if workers is None:
        raise ConfigurationError("this app was bootstrapped without workers")
    return workers


class Workers:
    """Broker, actors, gate and outbox of one App."""
    def __init__(self, app: App, broker: Broker, redis: Redis | None) -> None:
        self.app = app
        self.broker = broker
        self.redis = redis
        self.gate: Gate = (
            RedisGate(redis, app.settings.redis_namespace) if redis is not None else LocalGate()
        )
        self.partitions = app.settings.projection_partitions
        self.partition_gates: list[Gate] = [
            RedisGate(redis, app.settings.redis_namespace, suffix=f":{i}/{self.partitions}")
            if redis is not None else LocalGate()
            for i in range(self.partitions)
        ] if self.partitions > 1 else []
        self.outbox = Outbox(app.engine, app.clock, app.settings)
        self.actors: Actors = declare_actors(broker, self)
        self._quiet_until = 0.0
        self._projectors: dict[int | None, tuple[threading.Lock, Projector]] = {}
        self._projectors_lock = threading.Lock()
        self._channels: dict[str, Channel] | None = None

    @property
    def in_process(self) -> bool:
        """True when the broker is the in-memory one (no Redis)."""
        return self.redis is None

    # -- the append side ---------------------------------------------------------------

    def on_append(self, recorded: Sequence[RecordedEvent]) -> None:
        """Store listener: wake the projector. Never raises."""
        try:
            self.hint(recorded[0].correlation_id if recorded else None)
        except Exception as exc:  # a listener must not fail an append that has committed
            log.warning("projection_hint_failed", error=type(exc).__name__)

    def hint(self, correlation_id: str | None = None) -> bool:
        """Enqueue a projection hint unless one is pending; False if none was sent.

        The error path asks Redis nothing more: a Redis that is frozen rather than gone
        would make a clean-up wait a second full timeout. A mark left set by a failed send
        expires by itself (``workers.gate.TTL_SECONDS``) and the periodic catch-up heals the
        lag, so an append waits on Redis for at most one ``TRACKER_REDIS_TIMEOUT_SECONDS``.
        """
        now = time.monotonic()
        if now < self._quiet_until:
            return False
        try:
            if not self.gate.open():
                return False
            options: dict[str, Any] = {"correlation_id": correlation_id} if correlation_id else {}
            self.actors.project.send_with_options(**options)
            return True
        except Exception as exc:
            self._quiet_until = time.monotonic() + QUIET_SECONDS
            log.warning(
                "projection_hint_failed", error=type(exc).__name__, quiet_seconds=QUIET_SECONDS
            )
            return False

    # -- the worker side ---------------------------------------------------------------

    @contextmanager
    def projecting(self, partition: int | None = None) -> Iterator[Projector]:
        """The projector of one partition (or of all of them in turn), for this thread
        alone while the block runs. One per partition in the process, shared by its
        threads, so the records it keeps between catch-ups serve whichever thread takes
        the next hint; two threads on one partition would wait for each other on its
        checkpoint lock anyway."""
        with self._projectors_lock:
            entry = self._projectors.get(partition)
            if entry is None:
                entry = self._projectors[partition] = (
                    threading.Lock(), make_projector(self.app, partition))
        lock, projector = entry
        with lock:
            yield projector

    def hint_partition(self, index: int, correlation_id: str | None = None) -> bool:
        """Enqueue one partition's catch-up unless one is pending for it."""
        if not self.partition_gates[index].open():
            return False
        options: dict[str, Any] = {"correlation_id": correlation_id} if correlation_id else {}
        self.actors.project_partition.send_with_options(args=(index,), **options)
        return True

    def channels(self) -> dict[str, Channel]:
        """The configured delivery channels (checked once; ConfigurationError if wrong)."""
        if self._channels is None:
            self._channels = channels_from_settings(self.app.settings, self.app.clock)
        return self._channels

    def check(self) -> None:
        """Fail early, with one clear line, on settings a worker cannot run with."""
        self.channels()

        sweep_trigger(self.app)

    def close(self) -> None:
        with suppress(Exception):
            self.broker.close()
        if self.redis is not None:
            with suppress(Exception):
                self.redis.close()


def attach(app: App) -> Workers:
    """Give ``app`` its workers (broker, actors, append hint). Connects to nothing."""
    settings = app.settings
    client = redis_client(settings) if settings.redis_url else None
    workers = Workers(app, build_broker(settings, client), client)
    app.workers = workers
    app.store.on_append(workers.on_append)
    if client is not None:
        # Separate worker processes keep the read models current: the API need not.
        app.extras["worker"] = workers
    return workers


class InProcessWorkers:
    """The actors in threads of this process, with the scheduler's jobs (demo, no Redis)."""
    def __init__(self, app: App, *, threads: int = 2) -> None:
        self.app = app
        self.workers = workers_of(app)
        self.threads = threads
        self.worker: Worker | None = None
        self.scheduler: Scheduler | None = None

    def start(self, *, schedule: bool = True) -> InProcessWorkers:
        self.worker = Worker(
            self.workers.broker, worker_threads=self.threads, worker_timeout=100
        )
        self.worker.start()
        if schedule:
            self.scheduler = Scheduler(self.workers)
            self.scheduler.start(background=True)
        self.app.extras["worker"] = self
        self.workers.hint()
        log.info("in_process_workers_started", threads=self.threads)
        return self

    def join(self, timeout_ms: int = 60_000) -> None:
        """Wait until every queued message, and what it enqueued, has been processed."""
        broker = self.workers.broker
        if self.worker is None or not isinstance(broker, StubBroker):
            return
        while True:
            for queue in QUEUES:
                broker.join(queue, timeout=timeout_ms, fail_fast=False)
            self.worker.join()
            if all(broker.queues[q].unfinished_tasks == 0 for q in broker.queues):
                return

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self.worker is not None:
            self.worker.stop(timeout=10_000)
            self.worker = None
        self.app.extras.pop("worker", None)
