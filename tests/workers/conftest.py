"""Fixtures for the worker tests: servers of their own on free ports, settings for speed.

``own_redis`` is a fresh redis-server per test (tests stop and restart it). ``own_pg`` is
one PostgreSQL cluster for the session, ``pg_db`` a fresh migrated database in it per test.
Neither touches the shared servers on 5432 / 6379. Missing binaries skip the test, or fail
it under ``TRACKER_REQUIRE_SERVERS=1`` / ``CI=true``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tests.conftest import NOW, TEST_KEY, missing_server
from tests.servers import PostgresServer, RedisServer, ServerUnavailable
from tracker.bootstrap import App, bootstrap
from tracker.db.migrations import upgrade
from tracker.kernel.clock import FixedClock
from tracker.kernel.config import Settings

FAST: dict[str, Any] = {
    "redis_heartbeat_timeout_ms": 2000,
    "redis_maintenance_chance": 1_000_000,
    "redis_timeout_seconds": 1.0,
    "catch_up_seconds": 1.0,
    "delivery_min_backoff_ms": 50,
    "delivery_max_backoff_ms": 200,
    "delivery_claim_seconds": 2.0,
    "projection_batch_size": 50,
}


def worker_settings(database_url: str, redis_url: str | None = None, **extra: Any) -> Settings:
    """Settings for a test: fast heartbeats, short backoffs, a namespace of its own."""
    values: dict[str, Any] = {
        **FAST, "database_url": database_url, "master_key": TEST_KEY, "log_json": True,
        "redis_url": redis_url, "redis_namespace": f"t{secrets.token_hex(4)}",
    }
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    try:
        server = RedisServer().start()
    except ServerUnavailable as exc:
        missing_server("redis-server", str(exc))
    yield server
    server.close()


@pytest.fixture(scope="session")
def own_pg() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except ServerUnavailable as exc:
        missing_server("PostgreSQL binaries", str(exc))
    yield server
    server.close()


@pytest.fixture
def pg_db(own_pg: PostgresServer) -> str:
    """A fresh, migrated database on the tests' own PostgreSQL."""
    url = own_pg.create_database(f"w_{secrets.token_hex(6)}")
    app = bootstrap(worker_settings(url), configure_logging=False, workers=False)
    upgrade(app.engine)
    app.close()
    return url


@pytest.fixture
def make_app() -> Iterator[Any]:
    """Build apps from settings; every one is closed at the end of the test."""
    made: list[App] = []

    def build(settings: Settings, *, clock: Any = None) -> App:
        app = bootstrap(settings, clock=clock or FixedClock(NOW), configure_logging=False)
        made.append(app)
        return app

    yield build
    for app in made:
        app.close()


@pytest.fixture
def json_logs() -> Iterator[Any]:
    """structlog configured as in production (JSON lines); returns a reader of the lines."""
    import io
    import json
    import threading

    from tracker.kernel import logging as tlog

    class Sink(io.StringIO):
        lock = threading.Lock()

        def write(self, text: str) -> int:
            with self.lock:
                return super().write(text)

    sink = Sink()
    tlog.configure("INFO", True)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sink))

    def read() -> list[dict[str, Any]]:
        with sink.lock:
            text = sink.getvalue()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    yield read
    structlog.reset_defaults()
