"""Shared fixtures: real SQLite and PostgreSQL stores, a real Redis, isolated per run.

PostgreSQL: one throw-away database per test session (``tracker_test_<pid>_<hex>``),
tables truncated between tests. Redis: a key namespace of this run, deleted afterwards.
With ``TRACKER_REQUIRE_SERVERS=1`` (set by ``.ci/run``, and implied by ``CI=true``) a
missing server fails the tests that need it; otherwise they skip and say why.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import pg_unreachable
from tracker.bootstrap import App, bootstrap
from tracker.db.engine import make_engine
from tracker.db.migrations import upgrade
from tracker.kernel.clock import FixedClock
from tracker.kernel.config import Settings

PG_ADMIN_URL = os.environ.get(
    "TRACKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_KEY = "dGVzdC1tYXN0ZXIta2V5LW5vdC1mb3ItcHJvZC11c2U="  # 32 bytes, tests only
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def servers_required() -> bool:
    return os.environ.get("TRACKER_REQUIRE_SERVERS") == "1" or os.environ.get("CI") == "true"


def missing_server(what: str, why: str) -> None:
    message = f"{what} not reachable ({why})"
    if servers_required():
        pytest.fail(f"{message}; TRACKER_REQUIRE_SERVERS/CI says it must be there", pytrace=False)
    pytest.skip(f"{message}; start it or set the TRACKER_TEST_* URL to run this test")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"tracker_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means "not there"
        admin.dispose()
        missing_server("PostgreSQL", f"{make_url(PG_ADMIN_URL).host}: {type(exc).__name__}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    bootstrapped = create_engine(url)
    upgrade(bootstrapped)
    bootstrapped.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(app: App) -> None:
    """Empty every table but Alembic's (TRUNCATE skips the append-only row triggers)."""
    with app.engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        # A tamper test may have lifted the append-only trigger; every test starts with it.
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER ALL"))


def make_settings(url: str, **extra: object) -> Settings:
    return Settings(database_url=url, master_key=TEST_KEY, log_json=True, **extra)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file Alembic migrated to head, once per session (per xdist worker).

    Running the migrations costs about half a second; copying the file, a millisecond. The
    copy is the same database the migrations built, so ``tracker db check`` still compares
    the table definitions against Alembic's work.
    """
    path = tmp_path_factory.mktemp("sqlite-template") / "tracker.db"
    engine = make_engine(f"sqlite:///{path}")  # the store's engine: WAL, foreign keys on
    upgrade(engine)
    engine.dispose()
    return path


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy an SQLite database through SQLite's backup API (safe whatever the journal mode)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture
def sqlite_app(tmp_path, clock, sqlite_template) -> Iterator[App]:  # type: ignore[no-untyped-def]
    path = tmp_path / "tracker.db"
    copy_sqlite(sqlite_template, path)
    app = bootstrap(make_settings(f"sqlite:///{path}"), clock=clock, configure_logging=False)
    yield app
    app.close()


@pytest.fixture
def pg_app(pg_url, clock) -> Iterator[App]:  # type: ignore[no-untyped-def]
    app = bootstrap(make_settings(pg_url), clock=clock, configure_logging=False)
    truncate_all(app)
    yield app
    app.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest) -> App:
    """The same test on the embedded SQLite store and on PostgreSQL."""
    chosen: App = request.getfixturevalue(
        "sqlite_app" if request.param == "sqlite" else "pg_app"
    )
    return chosen


@pytest.fixture
def redis_namespace() -> Iterator[tuple[str, str]]:
    """(redis url, key namespace) private to this test; its keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        missing_server("Redis", f"{REDIS_URL}: {type(exc).__name__}")
    namespace = f"tracker-test-{os.getpid()}-{secrets.token_hex(4)}"
    yield REDIS_URL, namespace
    keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def other(app: App, clock: FixedClock) -> Iterator[App]:
    """A second app on the same database: its own engine, keyring and store (a process)."""
    second = bootstrap(app.settings, clock=clock, configure_logging=False)
    yield second
    second.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, keep each module that shares a module-scoped fixture together.

    A browser module's demo server and Chromium, or the schema fuzzer's live server, are
    built once per module; spread over workers they would be built once per worker, and a
    module's closing check (``test_zz_…``, reading what its earlier tests counted) would
    run where those tests did not. So the whole of such a module gets one ``xdist_group``
    (``--dist loadgroup`` sends a group to one worker, in order; a parametrised module
    fixture makes one group per parameter), and these modules go first, so the longest
    pieces start early and single tests fill in around them.
    """
    if not config.pluginmanager.hasplugin("xdist") or not config.getoption("numprocesses"):
        return  # one process (the default): collection order, exactly as before

    def module_of(item: pytest.Item) -> str:
        return item.nodeid.split("::")[0]

    def shares_a_module_fixture(item: pytest.Item) -> bool:
        info = getattr(item, "_fixtureinfo", None)
        chains = info.name2fixturedefs.values() if info is not None else ()
        return any(d.scope == "module" for chain in chains for d in chain)

    def group_of(item: pytest.Item) -> str:
        # A module fixture with parameters (the route matrix's world, per back end) is
        # built once per parameter anyway: each parameter's tests can go to their own
        # worker, so the module's two long halves run side by side.
        info = getattr(item, "_fixtureinfo", None)
        callspec = getattr(item, "callspec", None)
        if info is None or callspec is None:
            return module_of(item)
        ids = [str(callspec.params[name]) for name, chain in info.name2fixturedefs.items()
               if name in callspec.params and any(d.scope == "module" for d in chain)]
        return module_of(item) + (f"[{','.join(ids)}]" if ids else "")

    shared = {module_of(item) for item in items if shares_a_module_fixture(item)}
    grouped = [item for item in items if module_of(item) in shared]
    for item in grouped:
        item.add_marker(pytest.mark.xdist_group(group_of(item)))
    items[:] = grouped + [item for item in items if module_of(item) not in shared]


@pytest.fixture
def bench_pg(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point a benchmark at the tests' PostgreSQL (``TRACKER_BENCH_PG_URL``), or skip (fail
    under ``TRACKER_REQUIRE_SERVERS``) when it is not reachable."""
    monkeypatch.setenv("TRACKER_BENCH_PG_URL", PG_ADMIN_URL)
    why = pg_unreachable()
    if why is not None:
        missing_server("PostgreSQL", why)
