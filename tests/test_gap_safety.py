"""Gap-safe global order: a reader following the log never skips a late-committing event.

Several threads append concurrently through the real store; one transaction is slow to
commit, one is rolled back. A follower polls ``read_all(after=checkpoint)`` the whole time,
as a projector does. Afterwards, every event in the table must have been seen by the
follower, in order, exactly once. A negative control runs the same race against a naive
log (a sequence-numbered table with no writer lock) to show that this check can fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, event, text

from events.delivery import ContactAttended
from events.envelope import Actor, Draft
from tests.support import at
from tracker.bootstrap import App

ACTOR = Actor("P-TEST01", "practitioner")
SLOW = "slow-writer"
DOOMED = "doomed-writer"


class Doomed(Exception):
    """Raised inside a commit to force a rollback."""


def _install_commit_hooks(engine: Engine) -> Callable[[], None]:
    def on_commit(conn) -> None:  # type: ignore[no-untyped-def]
        name = threading.current_thread().name
        if name.startswith(SLOW):
            time.sleep(0.4)  # holds the transaction (and its locks) open
        elif name.startswith(DOOMED):
            raise Doomed

    event.listen(engine, "commit", on_commit)
    return lambda: event.remove(engine, "commit", on_commit)


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


def _race(append_one: Callable[[int], None], read: Callable[[int], list[int]]) -> list[int]:
    """Run writers (one slow, one doomed, the rest normal) while a follower reads."""
    stop = threading.Event()
    seen: list[int] = []
    follower = threading.Thread(target=_follow, args=(read, stop, seen))
    follower.start()
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        for j in range(6):
            try:
                append_one(i * 100 + j)
            except Doomed:
                pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

    names = [SLOW] + [DOOMED] + [f"writer-{i}" for i in range(4)]
    threads = [threading.Thread(target=writer, args=(i,), name=name)
               for i, name in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    follower.join()
    assert not errors, errors
    return seen


def _store_race(app: App) -> tuple[list[int], list[int]]:
    remove = _install_commit_hooks(app.engine)
    try:
        def append_one(n: int) -> None:
            app.store.append(f"S{n}", [Draft(ContactAttended(kind="office", participation=3),
                                             at("2026-02-01"))],
                             expected_version=None, actor=ACTOR, correlation_id="race")

        def read(after: int) -> list[int]:
            return [r.position for r in app.store.read_all(after=after, limit=50)]

        seen = _race(append_one, read)
    finally:
        remove()
    with app.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT position FROM events ORDER BY 1"))]
    return seen, stored


def test_follower_sees_every_event_in_order_on_the_store(app: App) -> None:
    seen, stored = _store_race(app)
    assert len(stored) == 5 * 6  # the doomed writer's six appends were all rolled back
    assert seen == stored  # nothing skipped, nothing twice, in order
    assert stored == list(range(1, len(stored) + 1))  # a rollback leaves no hole


@pytest.mark.postgres
def test_naive_sequence_log_does_skip_so_the_check_can_fail(pg_app: App) -> None:
    """Negative control: a bigserial log without the writer lock loses events to a follower."""
    engine = pg_app.engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS naive_log"))
        conn.execute(text("CREATE TABLE naive_log (position bigserial PRIMARY KEY, n int)"))
    remove = _install_commit_hooks(engine)
    try:
        def append_one(n: int) -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO naive_log (n) VALUES (:n)"), {"n": n})

        def read(after: int) -> list[int]:
            with engine.connect() as conn:
                return [r[0] for r in conn.execute(
                    text("SELECT position FROM naive_log WHERE position > :a ORDER BY 1 LIMIT 50"),
                    {"a": after})]

        seen = _race(append_one, read)
    finally:
        remove()
        with engine.begin() as conn:
            stored = [r[0] for r in conn.execute(text("SELECT position FROM naive_log ORDER BY 1"))]
            conn.execute(text("DROP TABLE naive_log"))
    assert len(stored) == 5 * 6
    assert set(seen) < set(stored), "the naive follower should have skipped a slow commit"
