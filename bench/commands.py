"""Commands against long cases: ``CaseService.record`` against ``eventsourcing``'s Application.

``python -m bench commands --json [--backend sqlite|postgresql|all] [--lengths 10 100 ...]
[--rounds R] [--per-sample K]``

For cases of 10, 100, 1,000 and 5,000 events (an opening, then contacts with notes, sealed
as the tracker stores them), one command: a contact attended, end to end.

``tracker``
    ``CaseService.record`` as the pages and the API call it, for a signed-in practitioner
    of the case's team: load the decision state, authorise, decide, append (seal, lock,
    chain, insert, commit). States of recent cases are kept per store and checked against
    the stored stream on every load (``CaseService.load``), as in a running server.
``tracker_cold``
    The same with that cache emptied before each command: the first command on a case
    after a restart (the whole stream read and folded). Reported, not a goal.
``eventsourcing`` / ``eventsourcing_snapshots``
    eventsourcing 9.x's ``Application``: ``repository.get`` the aggregate (replaying its
    events; with snapshots, from its latest snapshot, taken every ``SNAPSHOT_EVERY``
    events as ``snapshotting_intervals`` does), trigger the event, ``save``. Events
    encrypted with its ``AESCipher`` (our notes are sealed). Same database server.

Each round measures every implementation at every length, the order rotating; each
sample times ``--per-sample`` commands after a full garbage collection. Ratios are taken
within a round (paired), and reported as the median with the 10th and 90th percentiles.
"""

from __future__ import annotations

import argparse
import base64
import functools
import os
import secrets
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from bench.append import NOTE, contact
from bench.common import backends, emit, libpq_params, pg_database, temp_dir, timed
from events.case import CaseOpened
from events.envelope import Actor, Draft
from tracker.bootstrap import bootstrap
from tracker.db.migrations import upgrade
from tracker.domain.access import Principal
from tracker.domain.commands import RecordEvent
from tracker.kernel.config import Settings
from tracker.kernel.logging import configure as configure_logs
from tracker.services.app import App
from tracker.services.cases import CaseService, StateCache
from tracker.services.verify import verify

LENGTHS = (10, 100, 1000, 5000)
SNAPSHOT_EVERY = 100
BASE = 100  # the length the flatness goal compares with
GOAL_FLAT = 1.5  # time at the longest case / time at BASE, at most
GOAL_VS_ES = 1.5  # eventsourcing's time / ours, at least (both variants, every length)
WRITE_BATCH = 500
TEAM = "TEAM-BENCH"
PRACTITIONER = Principal("P-BENCH01", "practitioner", frozenset({TEAM}))
OPERATOR = Actor("P-BENCH01", "practitioner")
IMPLS = ("tracker", "tracker_cold", "eventsourcing", "eventsourcing_snapshots")


def case_id(length: int) -> str:
    return f"CS-CMD{length:06d}"


def child_id(length: int) -> str:
    return f"C-CMD{length:06d}"


# -- the tracker -------------------------------------------------------------------------


def _opening(length: int) -> CaseOpened:
    return CaseOpened(
        child_id=child_id(length), date_of_birth=date(2010, 5, 17), disposal_type="yro",
        route="court", start_date=date(2025, 1, 6), intervention_level="enhanced",
        service="YJS-BENCH", team=TEAM,
    )


class Tracker:
    """Cases of each length written through the store, commands through the service."""

    def __init__(self, app: App, lengths: Sequence[int]) -> None:
        self.app = app
        self.service = CaseService.of(app)
        self.n = 10_000_000
        start = datetime(2025, 1, 6, 10, tzinfo=UTC)
        for length in lengths:
            drafts = [Draft(_opening(length), start)]
            drafts += [Draft(contact(i), start + timedelta(minutes=i)) for i in range(1, length)]
            version = 0
            for i in range(0, len(drafts), WRITE_BATCH):
                chunk = drafts[i:i + WRITE_BATCH]
                app.store.append(case_id(length), chunk, expected_version=version,
                                 actor=OPERATOR, correlation_id="bench-commands-setup",
                                 subject_id=child_id(length))
                version += len(chunk)

    def command(self, length: int, *, cold: bool = False) -> None:
        service = self.service
        if cold:  # a service with an empty cache of its own (the shared one stays warm)
            service = CaseService.of(self.app)
            service.states = StateCache()
        self.n += 1
        e = contact(self.n)
        # unscheduled (a contact_id must name an appointment on the case)
        data = e.model_dump(mode="json", exclude_none=True, exclude={"contact_id"})
        command = RecordEvent(case_id=case_id(length), event_type="contact_attended",
                              data=data, occurred_at=datetime.now(UTC) - timedelta(minutes=1))
        service.record(command, actor=PRACTITIONER, correlation_id="bench-commands")


# -- eventsourcing -----------------------------------------------------------------------


@functools.cache  # eventsourcing registers each class by its topic, once per process
def _es_classes() -> tuple[type[Any], type[Any], type[Any]]:
    """An aggregate keeping what our decision state keeps for contacts (every event's type
    by id, the contacts resolved), and an application without and with snapshots."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class EsCase(Aggregate):
        @event("Opened")
        def __init__(self, case_id: str, child_id: str, team: str) -> None:
            self.case_id = case_id
            self.child_id = child_id
            self.team = team
            self.event_types: dict[str, str] = {}
            self.resolved: list[str] = []

        @event("ContactAttended")
        def attend(self, event_id: str, contact_id: str | None, kind: str, participation: int,
                   barriers_noted: list[str], barriers_addressed: list[str],
                   parent_carer_present: bool, note: str | None, occurred_at: str) -> None:
            self.event_types[event_id] = "contact_attended"
            if contact_id is not None:
                self.resolved.append(contact_id)

    class EsCommands(Application[UUID]):
        name = "EsCommands"

    class EsCommandsSnapshots(Application[UUID]):
        name = "EsCommandsSnapshots"
        snapshotting_intervals = {EsCase: SNAPSHOT_EVERY}

    return EsCase, EsCommands, EsCommandsSnapshots


class Eventsourcing:
    """One eventsourcing application with a case of each length."""

    def __init__(self, app_class: type[Any], aggregate: type[Any], env: dict[str, str],
                 lengths: Sequence[int]) -> None:
        self.app = app_class(env=env)
        self.ids: dict[int, UUID] = {}
        self.n = 20_000_000
        for length in lengths:
            case = aggregate(case_id(length), child_id(length), TEAM)
            for i in range(1, length):
                self._attend(case, i)
                if i % WRITE_BATCH == 0:
                    self.app.save(case)
            self.app.save(case)
            self.ids[length] = case.id

    def _attend(self, case: Any, n: int) -> None:
        e = contact(n)
        case.attend(event_id=secrets.token_hex(16), contact_id=e.contact_id, kind=e.kind,
                    participation=e.participation, barriers_noted=list(e.barriers_noted),
                    barriers_addressed=list(e.barriers_addressed),
                    parent_carer_present=e.parent_carer_present, note=NOTE,
                    occurred_at=datetime.now(UTC).isoformat())

    def command(self, length: int) -> None:
        case = self.app.repository.get(self.ids[length])
        if case.team != TEAM:
            raise AssertionError("not this team's case")
        self.n += 1
        self._attend(case, self.n)
        self.app.save(case)

    def close(self) -> None:
        self.app.close()


def _es_env(backend: str, url_or_path: str, prefix: str) -> dict[str, str]:
    from eventsourcing.cryptography import AESCipher

    env = {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(32),
    }
    if backend == "sqlite":
        env |= {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": os.path.join(url_or_path, f"{prefix}.db")}
        return env
    p = libpq_params(url_or_path)
    env |= {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": p["dbname"],
            "POSTGRES_HOST": p["host"], "POSTGRES_PORT": str(p["port"]),
            "POSTGRES_USER": p["user"], "POSTGRES_PASSWORD": p.get("password", "")}
    return env


# -- set-up per backend ------------------------------------------------------------------


def _app(url: str) -> App:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(database_url=url, master_key=key, log_json=True)
    # JSON logs as in production, warnings only: a line per command would flood the output
    configure_logs(level="WARNING", json=True)
    return bootstrap(settings, configure_logging=False)


@dataclass
class Impls:
    tracker: Tracker
    es: Eventsourcing
    es_snap: Eventsourcing

    def runner(self, name: str) -> Callable[[int], None]:
        if name == "tracker":
            return self.tracker.command
        if name == "tracker_cold":
            return lambda length: self.tracker.command(length, cold=True)
        return (self.es if name == "eventsourcing" else self.es_snap).command


@contextmanager
def implementations(backend: str, lengths: Sequence[int]) -> Iterator[Impls]:
    """The tracker and both eventsourcing applications on one throw-away database."""
    aggregate, plain, snapshots = _es_classes()
    with ExitStack() as stack:
        if backend == "postgresql":
            url = stack.enter_context(pg_database("tracker_bench"))
            es_env = _es_env(backend, url, "")
            snap_env = dict(es_env)
        else:
            tmp = stack.enter_context(temp_dir())
            url = f"sqlite:///{tmp / 'tracker.db'}"
            es_env = _es_env(backend, str(tmp), "eventsourcing")
            snap_env = _es_env(backend, str(tmp), "eventsourcing_snapshots")
        app = _app(url)
        stack.callback(app.close)
        upgrade(app.engine)
        tracker = Tracker(app, lengths)
        es = Eventsourcing(plain, aggregate, es_env, lengths)
        stack.callback(es.close)
        es_snap = Eventsourcing(snapshots, aggregate, snap_env, lengths)
        stack.callback(es_snap.close)
        yield Impls(tracker, es, es_snap)


# -- measuring ---------------------------------------------------------------------------


def _pct(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [round(values[0], 3)] * 2 if values else []
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return [round(deciles[0], 3), round(deciles[-1], 3)]


def measure(impls: Impls, backend: str, lengths: Sequence[int], rounds: int,
            per_sample: int) -> list[dict[str, Any]]:
    """Warm every implementation up, then ``rounds`` rounds; one JSON record per length."""
    for name in IMPLS:
        run = impls.runner(name)
        for length in lengths:
            run(length)
    ms: dict[tuple[str, int], list[float]] = {}
    cells = [(name, length) for length in lengths for name in IMPLS]
    for r in range(rounds):
        order = cells[r % len(cells):] + cells[:r % len(cells)]
        for name, length in order:
            run = impls.runner(name)

            def work(run: Callable[[int], None] = run, length: int = length) -> None:
                for _ in range(per_sample):
                    run(length)

            ms.setdefault((name, length), []).append(1000 * timed(work) / per_sample)
    base = BASE if BASE in lengths else min(lengths)
    verified = verify(impls.tracker.app.engine).ok  # what was written still chains
    records = []
    for length in lengths:
        ours = ms[("tracker", length)]
        flat = [a / b for a, b in zip(ours, ms[("tracker", base)], strict=True)]
        vs_es = [b / a for a, b in zip(ours, ms[("eventsourcing", length)], strict=True)]
        vs_snap = [b / a for a, b in
                   zip(ours, ms[("eventsourcing_snapshots", length)], strict=True)]
        speedups = (statistics.median(vs_es), statistics.median(vs_snap))
        records.append({
            "bench": "commands",
            "backend": backend,
            "events": length,
            "impl": "tracker",
            "ms": round(statistics.median(ours), 3),
            "ms_p10_p90": _pct(ours),
            "cold_ms": round(statistics.median(ms[("tracker_cold", length)]), 3),
            "eventsourcing_ms": round(statistics.median(ms[("eventsourcing", length)]), 3),
            "eventsourcing_snapshots_ms": round(
                statistics.median(ms[("eventsourcing_snapshots", length)]), 3),
            "ratio_vs_base": round(statistics.median(flat), 3),
            "ratio_vs_base_p10_p90": _pct(flat),
            "base_events": base,
            "speedup_vs_eventsourcing": round(speedups[0], 3),
            "speedup_vs_eventsourcing_p10_p90": _pct(vs_es),
            "speedup_vs_eventsourcing_snapshots": round(speedups[1], 3),
            "speedup_vs_eventsourcing_snapshots_p10_p90": _pct(vs_snap),
            "goals_met": bool(
                statistics.median(flat) <= GOAL_FLAT and min(speedups) >= GOAL_VS_ES
            ),
            "chain_verified": verified,
            "rounds": rounds,
            "per_sample": per_sample,
        })
    return records


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench commands", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON line per case length")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS),
                        help="events in each case before the commands (default 10 100 1000 5000)")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--per-sample", type=int, default=3,
                        help="commands timed together in one sample (default 3)")
    args = parser.parse_args(argv)
    if min(args.lengths) < 1 or args.rounds < 1 or args.per_sample < 1:
        parser.error("--lengths, --rounds and --per-sample must be positive")
    return args


def main(argv: list[str]) -> None:
    args = parse(argv)
    for backend in backends(args.backend, "commands"):
        with implementations(backend, args.lengths) as impls:
            for record in measure(impls, backend, args.lengths, args.rounds, args.per_sample):
                emit(record, as_json=args.json)
