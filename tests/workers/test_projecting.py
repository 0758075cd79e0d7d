"""A worker process shares one projector per partition among its threads, one thread at a
time, so the records it keeps between catch-ups serve whichever thread takes the next
hint (both back ends, in-process broker)."""

from __future__ import annotations

import threading

from projections.projector import Projector
from tests.support import open_case
from tracker.bootstrap import App
from workers.runtime import workers_of


def test_threads_take_the_one_projector_in_turn(app: App) -> None:
    w = workers_of(app)
    entered = threading.Event()
    release = threading.Event()
    seen: list[Projector] = []

    def hold() -> None:
        with w.projecting() as projector:
            seen.append(projector)
            entered.set()
            release.wait(10)

    def take() -> None:
        with w.projecting() as projector:
            seen.append(projector)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    taker = threading.Thread(target=take)
    taker.start()
    taker.join(0.3)
    assert taker.is_alive() and len(seen) == 1  # waits while the other thread projects
    release.set()
    holder.join(10)
    taker.join(10)
    assert len(seen) == 2 and seen[0] is seen[1]


def test_the_shared_projector_catches_up_from_any_thread(app: App) -> None:
    w = workers_of(app)
    open_case(app, "CS-W1")
    done: list[int] = []

    def project() -> None:
        with w.projecting() as projector:
            done.append(projector.catch_up())

    for _ in range(2):
        t = threading.Thread(target=project)
        t.start()
        t.join(60)
    assert done[0] >= 1 and done[1] == 0  # the second thread found nothing left to apply
    with w.projecting(0) as by_partition, w.projecting() as every:
        assert by_partition is not every  # one projector per partition, and one for all
