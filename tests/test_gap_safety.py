"""Gap-safe global order: a reader following the log never skips a late-committing event.

Several threads append concurrently through the real store, on both of its append paths
(an unpinned append, and the one-round-trip append at a known head); one transaction is
slow to commit and one is rolled back. The delay and the failure happen *inside* the
database (a row trigger, calling a function of the test on SQLite), while the writer
lock is held, so the store's own code runs unchanged on every path. A follower polls
``read_all(after=checkpoint)`` the whole time, as a projector does. Afterwards every
stored event must have been seen by the follower, in order, exactly once. A negative
control runs the same race against a naive log (a ``bigserial`` table, no writer lock)
to show that this check can fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event, text

from events.delivery import ContactAttended
from events.envelope import Actor, Draft
from tests.support import at
from tracker.bootstrap import App
from tracker.kernel.errors import TrackerError

ACTOR = Actor("P-TEST01", "practitioner")
WRITERS = ["SLOW", "DOOMED", "PINNED-A", "PINNED-B", "FREE-A", "FREE-B"]
ROUNDS = 6


slept: list[str] = []
"""The SLOW writes whose SQLite hook slept (the PostgreSQL hook cannot report here)."""


@contextmanager
def _slow_and_doomed(engine: Engine, table: str) -> Iterator[None]:
    """Make writes of SLOW* wait 0.4 s before commit and writes of DOOMED* roll back."""
    if engine.dialect.name == "postgresql":
        column = "stream_id" if table == "events" else "tag"
        with engine.begin() as conn:
            conn.execute(text(f"""
                CREATE OR REPLACE FUNCTION test_race_hook() RETURNS trigger AS $$
                BEGIN
                    IF NEW.{column} LIKE 'SLOW%' THEN PERFORM pg_sleep(0.4); END IF;
                    IF NEW.{column} LIKE 'DOOMED%' THEN RAISE EXCEPTION 'doomed'; END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql"""))
            conn.execute(text(f"CREATE TRIGGER test_race_hook AFTER INSERT ON {table} "
                              "FOR EACH ROW EXECUTE FUNCTION test_race_hook()"))
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.execute(text(f"DROP TRIGGER test_race_hook ON {table}"))
                conn.execute(text("DROP FUNCTION test_race_hook()"))
        return

    # SQLite: the same trigger, calling a function of this process that every connection
    # the engine makes has (the store appends through a connection of its own, which
    # SQLAlchemy's events do not see). Disposing the engine makes every connection anew,
    # the store's own included.
    column = "stream_id" if table == "events" else "tag"

    def hook(tag: str) -> int:
        if tag.startswith("SLOW"):
            time.sleep(0.4)
            slept.append(tag)
        elif tag.startswith("DOOMED"):
            raise RuntimeError("doomed")
        return 0

    def register(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.create_function("test_race_hook", 1, hook)

    event.listen(engine, "connect", register)
    engine.dispose()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TRIGGER test_race_hook AFTER INSERT ON {table} "
                          f"FOR EACH ROW BEGIN SELECT test_race_hook(NEW.{column}); END"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER test_race_hook"))
        event.remove(engine, "connect", register)
        engine.dispose()


def _follow(read: Callable[[int], list[int]], stop: threading.Event, seen: list[int]) -> None:
    checkpoint = 0
    while True:
        done = stop.is_set()
        positions = read(checkpoint)
        if positions:
            seen.extend(positions)
            checkpoint = positions[-1]
        elif done:
            return
        time.sleep(0.001)


def _race(append_one: Callable[[str, int], None], read: Callable[[int], list[int]]) -> list[int]:
    stop = threading.Event()
    seen: list[int] = []
    follower = threading.Thread(target=_follow, args=(read, stop, seen))
    follower.start()
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        for n in range(ROUNDS):
            try:
                append_one(name, n)
            except Exception as exc:
                if not name.startswith("DOOMED"):
                    errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,), name=name) for name in WRITERS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    follower.join()
    assert not errors, errors
    return seen


def test_follower_sees_every_event_in_order_on_the_store(app: App) -> None:
    def append_one(name: str, n: int) -> None:
        draft = Draft(ContactAttended(kind="office", participation=3), at("2026-02-01"))
        pinned = not name.startswith("FREE")
        app.store.append(f"{name}-{n}", [draft], expected_version=0 if pinned else None,
                         actor=ACTOR, correlation_id="race")

    def read(after: int) -> list[int]:
        return [r.position for r in app.store.read_all(after=after, limit=50)]

    slept.clear()
    with _slow_and_doomed(app.engine, "events"):
        seen = _race(append_one, read)
    with app.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT position FROM events ORDER BY 1"))]
        streams = {r[0].split("-")[0] for r in conn.execute(text("SELECT stream_id FROM events"))}
    assert len(stored) == (len(WRITERS) - 1) * ROUNDS
    assert "DOOMED" not in streams and "SLOW" in streams  # the hooks really fired
    if app.engine.dialect.name == "sqlite":
        assert len(slept) == ROUNDS  # every SLOW write waited, holding the writer lock
    assert seen == stored  # nothing skipped, nothing twice, in order
    assert stored == list(range(1, len(stored) + 1))  # a rollback leaves no hole


def test_doomed_append_reports_an_error_and_leaves_nothing(app: App) -> None:
    draft = Draft(ContactAttended(kind="office", participation=3), at("2026-02-01"))
    with _slow_and_doomed(app.engine, "events"):
        result: list[BaseException] = []

        def go() -> None:
            try:
                app.store.append("DOOMED-1", [draft], expected_version=0, actor=ACTOR,
                                 correlation_id="race")
            except Exception as exc:
                result.append(exc)

        t = threading.Thread(target=go, name="DOOMED")
        t.start()
        t.join()
    assert len(result) == 1
    assert isinstance(result[0], TrackerError | RuntimeError)
    assert app.store.head_position() == 0


@pytest.mark.postgres
def test_naive_sequence_log_does_skip_so_the_check_can_fail(pg_app: App) -> None:
    """Negative control: a bigserial log without the writer lock loses events to a follower."""
    engine = pg_app.engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS naive_log"))
        conn.execute(text("CREATE TABLE naive_log (position bigserial PRIMARY KEY, tag text)"))

    def append_one(name: str, n: int) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO naive_log (tag) VALUES (:t)"), {"t": f"{name}-{n}"})

    def read(after: int) -> list[int]:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(
                text("SELECT position FROM naive_log WHERE position > :a ORDER BY 1 LIMIT 50"),
                {"a": after})]

    try:
        with _slow_and_doomed(engine, "naive_log"):
            seen = _race(append_one, read)
        with engine.connect() as conn:
            stored = [r[0] for r in conn.execute(text("SELECT position FROM naive_log ORDER BY 1"))]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE naive_log"))
    assert len(stored) == (len(WRITERS) - 1) * ROUNDS
    assert set(seen) < set(stored), "the naive follower should have skipped a slow commit"
