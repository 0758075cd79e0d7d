"""Read-model rebuild and case replay: how fast the projections are rebuilt from the log.

``python -m bench projections --json [--backend sqlite|postgresql|all] [--events N]
[--rounds R] [--replays K] [--processes 1 2]``

For each backend a throw-away database is seeded with at least ``--events`` events (the
deterministic synthetic caseload of ``tracker.services.seed``, recorded through ``CaseService``),
then, round by round in alternating order:

``read``
    every event read back through ``EventStore.iter_all`` (decoded, decrypted, validated)
    and nothing else: the limit a projection that reads the log the usual way could reach;
``lean_read``
    every event read by the projector's own reader (``projections.source``: payloads as
    stored, nothing decrypted or re-validated), and nothing else;
``rebuild``
    ``Projector.rebuild()``: every read model emptied and rebuilt from event 1 (records,
    the four views, audits, alerts), committed.

Each line reports the median rate of each, and the medians of the per-round ratios
rebuild/read and rebuild/lean_read. With ``--processes 1 2`` (issue 14, goal 3) one more
line per backend times the rebuild in 1 and in 2 partitions, one forked process per
partition (``rebuild_in_processes``: the checkpoints reset to that many partitions, then
each process catches its partition up; wall time from the reset to the last exit), round
by round in alternating order, and reports the speed-up of 2 over 1: the median and the
10th-90th percentiles of the per-round ratios, and the processes' CPU seconds (the same
work takes as much CPU either way; a machine whose other load leaves this work one core's
share shows no wall-clock speed-up). Linux schedules by session (autogroup): forked
processes share their parent's share unless ``--own-sessions``. Goal: >= 1.6 x.

A last line per backend times ``replay`` of one case of 1,000 events as of a date
(``projections.queries.replay``), median and 90th percentile over ``--replays`` runs.
Goals (issue 3): rebuild >= 20,000 events/s on PostgreSQL; rebuild >= 0.3 x read; replay
median < 50 ms.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import random
import resource
import secrets
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import Rounds, backends, emit, pg_database, temp_dir, timed
from projections import source
from projections.projector import Partition, Projector, rebuild_txn_events
from projections.queries import replay
from tracker.bootstrap import bootstrap
from tracker.db.migrations import upgrade
from tracker.kernel.clock import FixedClock
from tracker.kernel.config import Settings
from tracker.services import synthetic
from tracker.services.app import App

GOAL_EVENTS_PER_S = 20_000
GOAL_RATIO = 0.3
GOAL_REPLAY_MS = 50.0
GOAL_SPEEDUP_2 = 1.6
EVENTS_PER_CASE = 34  # about what the seeder records per case over its year
NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
UNTIL = date(2026, 10, 30)
LONG_CASE = "CS-BENCH-LONG"


def _app(url: str, *, workers: bool) -> App:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(database_url=url, master_key=key, log_json=True, log_level="WARNING")
    app = bootstrap(settings, clock=FixedClock(NOW), workers=workers)  # warnings to stderr
    upgrade(app.engine)
    return app


@contextmanager
def database(backend: str, name: str = "tracker_bench_proj", *, workers: bool = True
             ) -> Iterator[App]:
    """A fresh, migrated database of the backend (PostgreSQL: ``name_<pid>_<hex>``, dropped
    afterwards; SQLite: a file in a temporary directory), and the app on it."""
    if backend == "postgresql":
        with pg_database(name) as url:
            app = _app(url, workers=workers)
            try:
                yield app
            finally:
                app.close()
    else:
        with temp_dir() as path:
            app = _app(f"sqlite:///{path / 'bench.db'}", workers=workers)
            try:
                yield app
            finally:
                app.close()


def seed_service(
    app: App, *, events: int = 0, open_cases: int = 0, until: date = UNTIL
) -> dict[str, int]:
    """The one seeding of the benches that need a service (``projections``, ``pages``): the
    deterministic synthetic caseload of ``tracker.services.seed`` (seed 1, up to ``until``),
    recorded through ``CaseService``, grown round by round until the log holds at least
    ``events`` events and (when asked) at least ``open_cases`` cases are open as at the
    bench's clock, the read models caught up after each such round."""
    from projections.queries import caseload
    from tracker.services.seed import seed_caseload

    cases = max(1, events // EVENTS_PER_CASE, open_cases)
    found = 0
    while True:
        seed_caseload(app, cases=cases, seed=1, until=until)
        if open_cases:
            Projector(app).catch_up()
            found = len(caseload(app))
        if app.store.head_position() >= events and found >= open_cases:
            return {"cases": cases, "open_cases": found, "events": app.store.head_position()}
        grow = open_cases / max(found, 1) if found < open_cases else 1.15
        cases = int(cases * grow) + 1


def seed(app: App, events: int) -> dict[str, int]:
    """At least ``events`` events of the synthetic caseload, and one long case."""
    seeded = seed_service(app, events=events)
    long_case = write_long_case(app, 1000)
    return {"cases": seeded["cases"] + 1, "events": app.store.head_position(),
            "long_case": long_case}


def write_long_case(app: App, events: int) -> int:
    """One case with exactly ``events`` events (about two years of intensive contact)."""
    rng = random.Random(11)
    start = UNTIL - timedelta(days=1150)
    proposals = synthetic.plan_case(rng, LONG_CASE, start=start, until=UNTIL,
                                    contacts_per_week=8.0, months=40,
                                    child_id="C-BENCH-LONG")
    accepted = synthetic.accept(proposals)[:events]
    if len(accepted) < events:
        raise SystemExit(f"bench projections: the long case has only {len(accepted)} events")
    synthetic.write(app, accepted)
    return len(accepted)


def read_all(app: App) -> int:
    n = 0
    for batch in app.store.iter_all(batch_size=5000):
        n += len(batch)
    return n


def lean_read_all(app: App) -> int:
    n, position = 0, 0
    with app.engine.connect() as conn:
        while True:
            batch = source.read_after(conn, position, 5000)
            if not batch:
                return n
            n += len(batch)
            position = batch[-1].position


def measure_rebuild(app: App, backend: str, rounds: int, events: int) -> dict[str, Any]:
    projector = Projector(app)
    work = {
        "read": lambda: read_all(app),
        "lean_read": lambda: lean_read_all(app),
        "rebuild": lambda: projector.rebuild(partitions=1),
    }

    def one(name: str, _round: int) -> float:
        return events / timed(work[name])

    table = Rounds(list(work))
    table.run(rounds, one)
    rebuild = table.median("rebuild")
    ratio = table.ratio("rebuild", "read")
    return {
        "bench": "projections", "case": "rebuild", "backend": backend, "events": events,
        "rounds": rounds,
        "rebuild_events_per_s": round(rebuild),
        "read_events_per_s": round(table.median("read")),
        "lean_read_events_per_s": round(table.median("lean_read")),
        "ratio_to_read": round(ratio, 3),
        "ratio_to_lean_read": round(table.ratio("rebuild", "lean_read"), 3),
        "rebuild_seconds": round(events / rebuild, 2),
        "goal_events_per_s": GOAL_EVENTS_PER_S if backend == "postgresql" else None,
        "goal_ratio": GOAL_RATIO,
        "meets_goal": (ratio >= GOAL_RATIO) and (
            backend != "postgresql" or rebuild >= GOAL_EVENTS_PER_S
        ),
    }


def _catch_up_partition(app: App, index: int, count: int, own_session: bool) -> None:
    """A forked process's work: its partition, from the reset checkpoints to the head."""
    if own_session:
        os.setsid()  # scheduled as its own group, as a separately started process is
    app.engine.dispose(close=False)  # the parent's connections stay the parent's
    Projector(app, partition=Partition(index, count)).catch_up(
        batch_size=5000, txn_events=rebuild_txn_events(app))


def rebuild_in_processes(app: App, processes: int, own_session: bool = False) -> None:
    """Every read model rebuilt in ``processes`` partitions, one forked process each."""
    Projector(app).reset(partitions=processes)
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=_catch_up_partition,
                             args=(app, i, processes, own_session))
                for i in range(processes)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    failed = [i for i, c in enumerate(children) if c.exitcode != 0]
    if failed:
        raise SystemExit(f"bench projections: the process of partition {failed[0]} failed")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_processes(app: App, backend: str, rounds: int, events: int,
                      processes: Sequence[int], own_sessions: bool = False) -> dict[str, Any]:
    """The rebuild in 1, 2, ... processes, round by round, and the speed-ups over 1; with
    the CPU seconds the processes used, to tell a lack of parallelism from a lack of CPU."""
    names = [f"p{n}" for n in processes]
    cpu: dict[str, list[float]] = {name: [] for name in names}

    def one(name: str, _round: int) -> float:
        before = _children_cpu()
        seconds = timed(lambda: rebuild_in_processes(app, int(name[1:]), own_sessions))
        cpu[name].append(_children_cpu() - before)
        return events / seconds

    table = Rounds(names)
    table.run(rounds, one)
    out: dict[str, Any] = {
        "bench": "projections", "case": "rebuild_processes", "backend": backend,
        "events": events, "rounds": rounds, "cpus": multiprocessing.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1), "own_sessions": own_sessions,
    }
    for name in names:
        out[f"{name}_events_per_s"] = round(table.median(name))
        out[f"{name}_cpu_seconds"] = round(statistics.median(cpu[name]), 2)
        out[f"{name}_wall_seconds"] = round(events / table.median(name), 2)
    for name in names[1:]:
        out[f"speedup_{name}"] = round(table.ratio(name, names[0]), 3)
        if rounds >= 2:
            low, high = table.spread(name, names[0])
            out[f"speedup_{name}_p10_p90"] = [round(low, 3), round(high, 3)]
    if "p2" in names and names[0] == "p1":
        out["goal_speedup_p2"] = GOAL_SPEEDUP_2
        out["meets_goal"] = table.ratio("p2", "p1") >= GOAL_SPEEDUP_2
    Projector(app).rebuild(partitions=1)  # leave the store as the other measurements found it
    return out


def measure_replay(app: App, backend: str, replays: int, events: int) -> dict[str, Any]:
    as_of = UNTIL - timedelta(days=30)
    replay(app, LONG_CASE, as_of=as_of)  # warm: imports, caches, prepared statements
    times = []
    for _ in range(replays):
        start = time.perf_counter()
        result = replay(app, LONG_CASE, as_of=as_of)
        times.append((time.perf_counter() - start) * 1000)
    assert len(result["timeline"]) == events
    times.sort()
    median = statistics.median(times)
    return {
        "bench": "projections", "case": "replay", "backend": backend, "events": events,
        "replays": replays, "median_ms": round(median, 2),
        "p90_ms": round(times[min(len(times) - 1, int(0.9 * len(times)))], 2),
        "goal_ms": GOAL_REPLAY_MS, "meets_goal": median < GOAL_REPLAY_MS,
    }


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench projections", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON line per measurement")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--events", type=int, default=200_000,
                        help="seed at least this many events (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--replays", type=int, default=30,
                        help="timed replays of the long case (default 30)")
    parser.add_argument("--processes", type=int, nargs="+", default=None,
                        help="also time the rebuild in these numbers of processes, one per "
                             "partition, e.g. 1 2 (the first is the baseline)")
    parser.add_argument("--own-sessions", action="store_true",
                        help="start each rebuild process in a session of its own, so a kernel "
                             "that schedules by session (autogroup) gives each its own share")
    args = parser.parse_args(argv)
    if args.events < 1 or args.rounds < 1 or args.replays < 1:
        parser.error("--events, --rounds and --replays must be positive")
    if args.processes is not None and (
            min(args.processes) < 1 or max(args.processes) > 64 or len(args.processes) < 2):
        parser.error("--processes: give two or more numbers between 1 and 64, e.g. 1 2")
    return args


def main(argv: list[str]) -> None:
    args = parse(argv)
    for backend in backends(args.backend, "projections"):
        with database(backend) as app:
            started = time.perf_counter()
            seeded = seed(app, args.events)
            print(f"bench projections: {backend}: seeded {seeded['events']} events "
                  f"in {time.perf_counter() - started:.0f}s", file=sys.stderr)
            emit(measure_rebuild(app, backend, args.rounds, seeded["events"]),
                 as_json=args.json)
            if args.processes:
                emit(measure_processes(app, backend, args.rounds, seeded["events"],
                                       args.processes, args.own_sessions), as_json=args.json)
            emit(measure_replay(app, backend, args.replays, seeded["long_case"]),
                 as_json=args.json)
