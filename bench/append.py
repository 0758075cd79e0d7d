"""Append throughput: the tracker's store against the raw driver and ``eventsourcing``.

``python -m bench append --json [--backend sqlite|postgresql|all] [--events N]
[--rounds R] [--streams S]``

Three implementations append the same events to the same number of streams, one event
per transaction and 100 per transaction, on SQLite and on PostgreSQL:

``tracker``
    ``EventStore.append`` as the application calls it: seals the note with the child's
    key, takes the writer lock, reads the log and stream heads, chains the hashes, inserts,
    commits. Drafts (validated pydantic events) are built before the clock starts.
``raw``
    The driver alone (psycopg 3 / sqlite3) inserting identical rows (same columns, same
    sealed payload text, hashes computed beforehand) into an identical ``events`` table,
    in an equivalent transaction: ``BEGIN``; one ``INSERT`` (``executemany`` for a batch);
    ``COMMIT`` (SQLite: ``BEGIN IMMEDIATE``, WAL, ``synchronous=FULL``, like the tracker).
    No lock, no reads, no checks: the floor of what the database can do.
``eventsourcing``
    eventsourcing 9.x's persistence layer, as ``Application.save`` drives it:
    ``EventStore.put(domain_events)`` with its ``Mapper`` (JSON transcoder, AES-GCM
    cipher: personal data encrypted at rest like ours) and its *application* recorder
    (gap-free notification order: ``LOCK TABLE ... IN EXCLUSIVE MODE`` on PostgreSQL, in
    one pipelined round trip; ``BEGIN`` then ``INSERT`` per event on SQLite). Its tables
    live in the same throw-away database, beside ours. Same server durability settings.

Each round runs every implementation once, rotating which goes first; each line reports
median rates and the median of the ratios taken within each round.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

import psycopg
from sqlalchemy import text

from bench.common import (
    Rounds,
    backends,
    emit,
    libpq_params,
    pg_database,
    temp_dir,
    timed,
)
from events.catalogue import event_class
from events.chain import GENESIS, ChainFields, canonical_payload, link_hash
from events.delivery import ContactAttended
from events.envelope import Actor, Draft
from events.sealing import Keyring, seal
from tracker.bootstrap import bootstrap
from tracker.db.migrations import upgrade
from tracker.kernel.config import Settings
from tracker.services.app import App

BATCH = 100
SLICES = 10  # each round is cut into this many interleaved slices
GOALS: dict[tuple[str, int], tuple[float, float | None]] = {
    # (backend, events per transaction): (tracker / raw, tracker / eventsourcing), issue 14
    ("postgresql", 1): (0.8, 1.5),
    ("postgresql", BATCH): (0.7, None),
    ("sqlite", 1): (0.8, 1.5),
    ("sqlite", BATCH): (0.6, 1.5),
}
ACTOR = Actor("P-BENCH01", "practitioner")
CORRELATION_ID = "bench-append"
NOTE = (
    "Home visit with parent present. Talked through school attendance this half term and "
    "the bus fare to the office; agreed to apply for a travel pass together next week. "
    "Engaged well, spoke about football training on Saturdays and wants to look at a "
    "level 2 coaching course. No new concerns raised; next contact booked."
)
COLUMNS = (
    "position", "event_id", "stream_id", "stream_version", "event_type", "schema_version",
    "occurred_at", "recorded_at", "recorded_by", "recorded_role", "correlation_id",
    "payload", "prev_hash", "hash",
)

Tx = tuple[int, int]  # (stream index, events in the transaction)


# -- the workload ------------------------------------------------------------------------


def stream_id(i: int) -> str:
    return f"CS-BENCH{i:05d}"


def child_id(i: int) -> str:
    return f"C-BENCH{i:05d}"


def contact(n: int) -> ContactAttended:
    """The n-th event: a realistic contact with a note (about 350 bytes of JSON, sealed)."""
    return ContactAttended(
        contact_id=f"CT-{n:07d}",
        kind="home_visit" if n % 3 else "office",
        participation=1 + n % 5,
        barriers_noted=["travel", "timing"],
        barriers_addressed=["travel"],
        parent_carer_present=n % 2 == 0,
        note=NOTE,
    )


def plan(events: int, per_tx: int, streams: int) -> list[Tx]:
    """Transactions of ``per_tx`` events, one stream each, streams taken in turn."""
    count = max(1, -(-events // per_tx))
    return [(t % streams, per_tx) for t in range(count)]


class Impl(Protocol):
    """One way of appending: ``prepare`` (untimed) then ``run`` (timed)."""

    def prepare(self, txs: Sequence[Tx]) -> Any: ...

    def run(self, prepared: Any) -> None: ...


# -- the tracker -------------------------------------------------------------------------


class TrackerImpl:
    """``EventStore.append`` with the stream's expected version, as commands do."""

    def __init__(self, app: App, streams: int) -> None:
        self.app = app
        self.versions = [0] * streams
        self.n = 0

    def prepare(self, txs: Sequence[Tx]) -> list[tuple[str, list[Draft], int, str]]:
        now = datetime.now(UTC)
        out = []
        for s, k in txs:
            drafts = []
            for _ in range(k):
                self.n += 1
                drafts.append(Draft(contact(self.n), now))
            out.append((stream_id(s), drafts, self.versions[s], child_id(s)))
            self.versions[s] += k
        return out

    def run(self, prepared: list[tuple[str, list[Draft], int, str]]) -> None:
        append = self.app.store.append
        for sid, drafts, expected, subject in prepared:
            append(sid, drafts, expected_version=expected, actor=ACTOR,
                   correlation_id=CORRELATION_ID, subject_id=subject)


# -- the raw driver ----------------------------------------------------------------------


class RowMaker:
    """The rows the tracker would store (sealed payload, chained hashes), made in advance."""

    def __init__(self, keyring: Keyring, streams: int) -> None:
        self.keyring = keyring
        self.heads = [(0, GENESIS)] * streams
        self.position = 0
        self.n = 0

    def rows(self, txs: Sequence[Tx]) -> list[list[dict[str, Any]]]:
        out = []
        for s, k in txs:
            version, prev = self.heads[s]
            recorded_at = datetime.now(UTC)
            tx_rows = []
            for _ in range(k):
                self.n += 1
                self.position += 1
                version += 1
                event = contact(self.n)
                cls = type(event)
                payload = canonical_payload(
                    seal(cls, event.model_dump(mode="json"), child_id(s), self.keyring,
                         event_class)
                )
                fields = ChainFields(
                    event_id=str(uuid4()),
                    stream_id=stream_id(s), stream_version=version, type=cls.type,
                    schema_version=cls.version, occurred_at=recorded_at,
                    recorded_at=recorded_at, recorded_by=ACTOR.user_id,
                    recorded_role=ACTOR.role, correlation_id=CORRELATION_ID, payload=payload,
                )
                digest = link_hash(prev, fields)
                tx_rows.append({
                    "position": self.position, "event_id": UUID(fields.event_id),
                    "stream_id": fields.stream_id, "stream_version": version,
                    "event_type": cls.type, "schema_version": cls.version,
                    "occurred_at": recorded_at, "recorded_at": recorded_at,
                    "recorded_by": ACTOR.user_id, "recorded_role": ACTOR.role,
                    "correlation_id": CORRELATION_ID, "payload": payload,
                    "prev_hash": prev, "hash": digest,
                })
                prev = digest
            self.heads[s] = (version, prev)
            out.append(tx_rows)
        return out


class RawPostgres:
    """psycopg 3: ``INSERT`` (``executemany`` for a batch) then ``COMMIT``."""

    SQL = (
        f"INSERT INTO bench_raw_events ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    )

    def __init__(self, url: str, maker: RowMaker) -> None:
        self.conn = psycopg.connect(**libpq_params(url))
        self.maker = maker

    def prepare(self, txs: Sequence[Tx]) -> list[list[tuple[Any, ...]]]:
        return [[tuple(r[c] for c in COLUMNS) for r in tx] for tx in self.maker.rows(txs)]

    def run(self, prepared: list[list[tuple[Any, ...]]]) -> None:
        conn = self.conn
        with conn.cursor() as cur:
            for rows in prepared:
                if len(rows) == 1:
                    cur.execute(self.SQL, rows[0])
                else:
                    cur.executemany(self.SQL, rows)
                conn.commit()

    def close(self) -> None:
        self.conn.close()


class RawSqlite:
    """sqlite3: ``BEGIN IMMEDIATE``; ``INSERT`` / ``executemany``; ``COMMIT``."""

    SQL = (
        f"INSERT INTO events ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(['?'] * len(COLUMNS))})"
    )

    def __init__(self, path: str, maker: RowMaker) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=30000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.maker = maker

    def prepare(self, txs: Sequence[Tx]) -> list[list[tuple[Any, ...]]]:
        # The column types' SQLite spellings, as SQLAlchemy stores them for the tracker.
        def cell(column: str, value: Any) -> Any:
            if isinstance(value, UUID):
                return value.hex
            if isinstance(value, datetime):
                return value.replace(tzinfo=None).isoformat(" ", "microseconds")
            return value

        return [
            [tuple(cell(c, r[c]) for c in COLUMNS) for r in tx]
            for tx in self.maker.rows(txs)
        ]

    def run(self, prepared: list[list[tuple[Any, ...]]]) -> None:
        conn = self.conn
        for rows in prepared:
            conn.execute("BEGIN IMMEDIATE")
            if len(rows) == 1:
                conn.execute(self.SQL, rows[0])
            else:
                conn.executemany(self.SQL, rows)
            conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


# -- eventsourcing -----------------------------------------------------------------------


@dataclass(frozen=True)
class EsContactAttended:
    """The same fact as an eventsourcing domain event (what ``Aggregate.trigger_event``
    would have collected): originator, version, timestamp, then the payload fields."""

    originator_id: str
    originator_version: int
    timestamp: datetime
    occurred_at: datetime
    contact_id: str | None
    kind: str
    participation: int
    barriers_noted: list[str]
    barriers_addressed: list[str]
    parent_carer_present: bool
    note: str | None


class EventsourcingImpl:
    """``eventsourcing.persistence.EventStore.put`` over its application recorder."""

    def __init__(self, recorder: Any, streams: int) -> None:
        from eventsourcing.cryptography import AESCipher
        from eventsourcing.persistence import (
            DatetimeAsISO,
            DecimalAsStr,
            EventStore,
            JSONTranscoder,
            Mapper,
            UUIDAsHex,
        )
        from eventsourcing.utils import Environment

        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
        cipher = AESCipher(Environment(env={"CIPHER_KEY": AESCipher.create_key(32)}))
        self.store: Any = EventStore(Mapper(transcoder, cipher=cipher), recorder)
        self.recorder = recorder
        self.versions = [0] * streams
        self.n = 0

    def prepare(self, txs: Sequence[Tx]) -> list[list[EsContactAttended]]:
        now = datetime.now(UTC)
        out = []
        for s, k in txs:
            batch = []
            for _ in range(k):
                self.n += 1
                self.versions[s] += 1
                e = contact(self.n)
                batch.append(EsContactAttended(
                    originator_id=stream_id(s), originator_version=self.versions[s],
                    timestamp=now, occurred_at=now, contact_id=e.contact_id, kind=e.kind,
                    participation=e.participation, barriers_noted=list(e.barriers_noted),
                    barriers_addressed=list(e.barriers_addressed),
                    parent_carer_present=e.parent_carer_present, note=e.note,
                ))
            out.append(batch)
        return out

    def run(self, prepared: list[list[EsContactAttended]]) -> None:
        put = self.store.put
        for batch in prepared:
            put(batch)


# -- set-up per backend ------------------------------------------------------------------


def _app(url: str) -> App:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(database_url=url, master_key=key, log_json=True)
    return bootstrap(settings, configure_logging=False)


@contextmanager
def postgres_impls(streams: int) -> Iterator[dict[str, Impl]]:
    """The three implementations on one throw-away PostgreSQL database."""
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    with pg_database("tracker_bench") as url, ExitStack() as stack:
        app = _app(url)
        stack.callback(app.close)
        upgrade(app.engine)
        with app.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_raw_events (LIKE events INCLUDING ALL)"))
        raw = RawPostgres(url, RowMaker(app.keyring, streams))
        stack.callback(raw.close)
        p = libpq_params(url)
        datastore = PostgresDatastore(
            p["dbname"], p["host"], p["port"], p["user"], p.get("password", ""),
            originator_id_type="text", pool_size=1,
        )
        stack.callback(datastore.close)
        recorder = PostgresApplicationRecorder(datastore, events_table_name="es_stored_events")
        recorder.create_table()
        yield {
            "tracker": TrackerImpl(app, streams),
            "raw": raw,
            "eventsourcing": EventsourcingImpl(recorder, streams),
        }


@contextmanager
def sqlite_impls(streams: int) -> Iterator[dict[str, Impl]]:
    """The three implementations, each on its own SQLite file in a temporary directory."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    with temp_dir() as tmp, ExitStack() as stack:
        app = _app(f"sqlite:///{tmp / 'tracker.db'}")
        stack.callback(app.close)
        upgrade(app.engine)
        raw_app = _app(f"sqlite:///{tmp / 'raw.db'}")  # same schema, by the same migrations
        upgrade(raw_app.engine)
        raw_app.close()
        raw = RawSqlite(str(tmp / "raw.db"), RowMaker(app.keyring, streams))
        stack.callback(raw.close)
        datastore = SQLiteDatastore(str(tmp / "eventsourcing.db"), originator_id_type="text")
        stack.callback(datastore.close)
        recorder = SQLiteApplicationRecorder(datastore)
        recorder.create_table()
        with app.engine.connect() as conn:
            tracker = _durability(conn.connection.driver_connection)
        with datastore.get_connection(commit=False) as es_conn:
            es = _durability(es_conn.cursor().sqlite_cursor)
        settings = {"tracker": tracker, "raw": _durability(raw.conn), "eventsourcing": es}
        if len(set(settings.values())) != 1:
            raise RuntimeError(f"the three SQLite files are not equally durable: {settings}")
        yield {
            "tracker": TrackerImpl(app, streams),
            "raw": raw,
            "eventsourcing": EventsourcingImpl(recorder, streams),
        }


def _durability(cursor: Any) -> tuple[str, int]:
    """A SQLite connection's ``journal_mode`` and ``synchronous``: the bench compares like
    with like (eventsourcing sets WAL itself and leaves ``synchronous`` at SQLite's
    default, FULL in this build; the tracker and the raw driver set FULL)."""
    mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    return mode, int(cursor.execute("PRAGMA synchronous").fetchone()[0])


# -- measuring ---------------------------------------------------------------------------


IMPLS = ("tracker", "raw", "eventsourcing")


def measure(
    impls: dict[str, Impl], backend: str, per_tx: int, events: int, rounds: int, streams: int,
    slices: int = SLICES,
) -> dict[str, Any]:
    """One case: a warm-up, then ``rounds`` interleaved rounds; the JSON record."""
    per_slice = max(1, -(-events // (per_tx * slices)))  # transactions in one slice
    txs = plan(per_slice * per_tx, per_tx, streams)
    warm = plan(min(events, 10 * per_tx), per_tx, streams)
    for impl in impls.values():
        impl.run(impl.prepare(warm))

    def one(name: str) -> tuple[int, float]:
        impl = impls[name]
        prepared = impl.prepare(txs)
        return len(txs) * per_tx, timed(lambda: impl.run(prepared))

    results = Rounds(IMPLS)
    results.run_sliced(rounds, slices, one)
    total = len(txs) * per_tx * slices
    vs_raw = results.ratio("tracker", "raw")
    vs_es = results.ratio("tracker", "eventsourcing")
    goal, goal_es = GOALS.get((backend, per_tx), (None, None))
    return {
        "bench": "append",
        "backend": backend,
        "events_per_tx": per_tx,
        "impl": "tracker",
        "events_per_s": round(results.median("tracker"), 1),
        "raw_events_per_s": round(results.median("raw"), 1),
        "eventsourcing_events_per_s": round(results.median("eventsourcing"), 1),
        "ratio_vs_raw": round(vs_raw, 3),
        "ratio_vs_eventsourcing": round(vs_es, 3),
        "ratio_vs_raw_p10_p90": [round(x, 3) for x in results.spread("tracker", "raw")],
        "ratio_vs_eventsourcing_p10_p90": [
            round(x, 3) for x in results.spread("tracker", "eventsourcing")
        ],
        "goal_vs_raw": goal,
        "goal_vs_eventsourcing": goal_es,
        "goals_met": None if goal is None else bool(
            vs_raw >= goal and (goal_es is None or vs_es >= goal_es)),
        "chain_verified": _verified(impls),
        "events": total,
        "streams": streams,
        "rounds": rounds,
        "samples": len(results.rates["tracker"]),
    }


def _verified(impls: dict[str, Impl]) -> bool:
    """Whether every hash chain the tracker wrote while measured verifies (by the
    reference implementation, ``tracker.services.verify``): speed that broke it would not count."""
    from tracker.services.verify import verify

    tracker = impls["tracker"]
    assert isinstance(tracker, TrackerImpl)
    return verify(tracker.app.engine).ok


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench append", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON line per case")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--events", type=int, default=1000,
                        help="events per implementation per round and case (default 1000)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--streams", type=int, default=20, help="streams (cases) written")
    parser.add_argument("--per-tx", type=int, nargs="+", default=[1, BATCH],
                        help="events per transaction, one case each (default 1 100)")
    args = parser.parse_args(argv)
    if args.events < 1 or args.rounds < 1 or args.streams < 1 or min(args.per_tx) < 1:
        parser.error("--events, --rounds, --streams and --per-tx must be positive")
    return args


def main(argv: list[str]) -> None:
    args = parse(argv)
    for backend in backends(args.backend, "append"):
        setup = postgres_impls if backend == "postgresql" else sqlite_impls
        with setup(args.streams) as impls:
            for per_tx in args.per_tx:
                record = measure(impls, backend, per_tx, args.events, args.rounds, args.streams)
                emit(record, as_json=args.json)
