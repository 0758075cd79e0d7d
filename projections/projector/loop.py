"""The projector's loop: transactions that fold new events into the case records and,
at the head of the log, bring the views, audits and alerts up to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import structlog
from sqlalchemy import Connection, delete, func, select
from sqlalchemy.exc import IntegrityError

from projections import alerts, source
from projections.alert_rules import TIME_RULES, check
from projections.asat import AsAt
from projections.projector import checkpoints as cp_store
from projections.projector import quarantine
from projections.projector.checkpoints import Checkpoint, Lag
from projections.projector.quarantine import Problem, QuarantineView, problem
from projections.projector.rows import audit_rows, load, record_row, restore, view_rows
from projections.projector.writes import (
    THREADED_WRITES_FROM,
    Row,
    Writes,
    chunks,
    replace_audits_job,
    upsert,
    upsert_job,
)
from projections.record import Builder, CaseRecord, RawEvent, gc_paused, refold, sealed_child
from projections.sealer import KeyringDob, child_of
from projections.source import Partition
from projections.views import evaluate_all
from tracker.db import tx
from tracker.db.read_models import (
    MODEL_NAMES,
    TABLES,
    VIEW_TABLES,
    audits,
    case_records,
)
from tracker.db.read_models import alerts as alerts_table
from tracker.domain.policy import Policy
from tracker.kernel.errors import (
    FieldProblem,
    InvalidInput,
    PartitionLayoutMismatch,
    StoreUnavailable,
)
from tracker.services.app import App, policy_for

log = structlog.get_logger("projections.projector")

PER_CASE = ("aspire", "engagement", "continuity", "enforcement", "audits")
DERIVE_CHUNK = 500
ERASED = "personal_data_erased"
CACHE_MAX = 20_000
"""Records kept between catch-ups (a worker's next hint touches the same open cases);
above this many (after a rebuild) the cache is emptied."""

ProgressCallback = Callable[[int, int], None]
"""Called with (events just applied, events still behind the head)."""


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: cases evaluated, alerts raised and resolved, alerts now open."""

    as_at: datetime
    cases: int
    raised: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    open: int = 0


class Projector:
    """Keeps the read models up to date with the log. Safe to run in several processes.

    With ``partition`` it works on that partition's cases only (its own checkpoints, the
    other cases' events skipped in SQL); without, on every partition of the layout the
    store keeps, one after the other (one partition unless ``rebuild(partitions=N)``)."""

    def __init__(self, app: App, policy: Policy | None = None, *,
                 partition: Partition | None = None) -> None:
        if partition is not None and not (
                1 <= partition.count <= cp_store.MAX_PARTITIONS
                and 0 <= partition.index < partition.count):
            raise InvalidInput([FieldProblem(
                "partition", f"must be i of N with 0 <= i < N <= {cp_store.MAX_PARTITIONS}")])
        self.app = app
        self.partition = partition
        self.policy = policy or policy_for(app)
        check(self.policy)
        self.sealer = KeyringDob.for_app(app)
        self._cache: dict[str, CaseRecord] = {}
        self._cache_position: tuple[Partition, int] | None = None
        self._retry_all = False

    # -- public -------------------------------------------------------------------------

    def catch_up(
        self,
        *,
        only: str | None = None,
        batch_size: int = 1000,
        limit: int | None = None,
        txn_events: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """Apply every event not yet applied (or up to ``limit``); returns how many.

        ``only`` catches up one read model (and the records it is computed from).
        Each transaction reads ``batch_size`` events at a time, up to ``txn_events`` per
        transaction (default: one batch). Safe to call from several processes at once.
        """
        if batch_size < 1:
            raise InvalidInput([FieldProblem("batch_size", "must be at least 1")])
        if limit is not None and limit < 1:
            raise InvalidInput([FieldProblem("limit", "must be at least 1")])
        models = cp_store.selected(only)
        per_txn = txn_events or batch_size
        if self.partition is not None:
            return self._catch_up(self.partition, models, batch_size, per_txn, limit,
                                  on_progress)
        for attempt in (1, 2):  # a rebuild may change the layout between two partitions
            count = self.partitions()
            try:
                return max(self._catch_up(Partition(i, count), models, batch_size, per_txn,
                                          limit, on_progress) for i in range(count))
            except PartitionLayoutMismatch:
                if attempt == 2 or self.partitions() == count:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def partitions(self) -> int:
        """How many partitions the store keeps its checkpoints in."""
        with self._read() as conn:
            return cp_store.stored_layout(conn)

    def check_partitions(self, count: int) -> None:
        """Fail early (``PartitionLayoutMismatch``) if ``count`` partitions cannot work on
        this store (it keeps another number, and a projector has already worked on it)."""
        with self._read() as conn:
            cp_store.check_layout(conn, count)

    def _catch_up(self, part: Partition, models: frozenset[str], batch_size: int,
                  per_txn: int, limit: int | None, on_progress: ProgressCallback | None) -> int:
        """``catch_up`` for one partition: how many log positions its records or its
        slowest selected model moved on (``limit`` counts the partition's own events)."""
        start: tuple[int, int] | None = None
        end = (0, 0)
        done = 0
        try:
            with gc_paused():
                while True:
                    budget = per_txn if limit is None else min(per_txn, limit - done)
                    before, after, at_head, read = self._step(
                        part, models, batch_size, budget, on_progress)
                    start = before if start is None else start
                    end = after
                    done += read
                    if at_head or (limit is not None and done >= limit):
                        break
        finally:
            if len(self._cache) > CACHE_MAX:
                self._cache.clear()
                self._cache_position = None
            self.sealer.forget()
        assert start is not None
        return max(0, end[0] - start[0], end[1] - start[1])

    def rebuild(self, only: str | None = None, *, on_progress: ProgressCallback | None = None,
                batch_size: int = 5000, partitions: int | None = None) -> int:
        """Empty a read model (all of them by default) and project it again from event 1.

        Alerts are reconciled rather than emptied, so acknowledgements and the history of
        raised and resolved alerts survive; ``--only X`` recomputes X from the case
        records (rebuild ``records`` or everything to refold the records from the events).
        ``partitions`` (rebuilding everything) changes how many partitions the store keeps;
        this projector then projects every partition (or its own one) in turn.
        """
        self.reset(only, partitions=partitions)
        return self.catch_up(only=only, batch_size=batch_size,
                             txn_events=rebuild_txn_events(self.app), on_progress=on_progress)

    def reset(self, only: str | None = None, *, partitions: int | None = None) -> int:
        """Empty a read model (all of them by default) and move its checkpoints back to 0,
        in ``partitions`` partitions (default: as stored); returns the number of
        partitions. Several processes, one per partition, can then ``catch_up`` at once."""
        cp_store.selected(only)
        self._cache.clear()
        self._cache_position = None
        if partitions is not None and not 1 <= partitions <= cp_store.MAX_PARTITIONS:
            raise InvalidInput([FieldProblem(
                "partitions", f"must be between 1 and {cp_store.MAX_PARTITIONS}")])
        targets = set(MODEL_NAMES) if only in (None, "records") else {only}
        with self._txn() as conn:
            count = partitions or (self.partition.count if self.partition is not None
                                   else cp_store.stored_layout(conn))
            if self.partition is not None and count != self.partition.count:
                raise InvalidInput([FieldProblem(
                    "partitions", f"this projector works on {self.partition.count}")])
            cp_store.reset(conn, targets, count, self.app.clock.now())
            if "records" in targets:
                conn.execute(delete(case_records))
            for name in targets & set(VIEW_TABLES):
                conn.execute(delete(VIEW_TABLES[name]))
            if "audits" in targets:
                conn.execute(delete(audits))
        log.info("projection_rebuild_started", models=sorted(targets), partitions=count)
        return count

    def retry_quarantined(self) -> int:
        """Catch up, retrying every quarantined case (an upcaster or a fix in the code may
        have made it foldable); returns how many cases are still quarantined."""
        self._retry_all = True
        try:
            self.catch_up()
        finally:
            self._retry_all = False
        return len(self.quarantined())

    def quarantined(self) -> list[QuarantineView]:
        """The cases the projector has isolated, with what failed."""
        with self._read() as conn:
            return quarantine.listing(conn)

    def lag(self) -> dict[str, Lag]:
        """How far behind the log each read model is."""
        now = self.app.clock.now()
        with self._read() as conn:
            return cp_store.lag(conn, now)

    def sweep(self, as_at: datetime) -> SweepResult:
        """Re-evaluate the time-based alert rules of every open case as at ``as_at``.

        Catches up first; then raises and resolves alerts with no new event, and refreshes
        the stored views of the open cases (their ``evaluated_at`` becomes ``as_at``).
        """
        if as_at.tzinfo is None:
            raise InvalidInput([FieldProblem("as_at", "must include a time zone")])
        if self.partition is None:
            self.catch_up()
        else:
            Projector(self.app, self.policy).catch_up()
        at = AsAt.at(as_at)
        with gc_paused(), self._txn() as conn:
            cp_store.lock_all(conn)
            rows = conn.execute(
                select(case_records.c.case_id, case_records.c.record)
                .where(case_records.c.closed_on.is_(None))
                .order_by(case_records.c.case_id)
            ).all()
            holding: dict[str, list[alerts.Candidate]] = {}
            view_batches: dict[str, list[Row]] = defaultdict(list)
            case_ids = []
            stale = quarantine.case_ids(conn)
            problems: list[Problem] = []
            self.sealer.preload(c for _id, text in rows if (c := sealed_child(text)) is not None)
            for case_id, text in rows:
                if case_id in stale:
                    continue
                try:
                    record = restore(conn, case_id, text, self.sealer)
                    views = evaluate_all(record, at, self.policy)
                    held = [c for c in alerts.candidates(views, self.policy)
                            if c.rule in TIME_RULES]
                    new_rows = view_rows(views, record, as_at) if views.exists else {}
                except Exception as exc:  # one case must not stop the sweep of the others
                    problems.append(problem(case_id, "evaluate", exc))
                    continue
                case_ids.append(case_id)
                holding[case_id] = held
                for name, row in new_rows.items():
                    view_batches[name].append(row)
            quarantine.put(conn, problems, as_at, self.policy.version)
            for name, table in VIEW_TABLES.items():
                upsert(conn, table, view_batches[name], "case_id")
            result = alerts.reconcile(
                conn, case_ids, holding, as_at, self.policy.version, rules=TIME_RULES
            )
            open_count = conn.execute(
                select(func.count()).select_from(alerts_table)
                .where(alerts_table.c.status == "open")
            ).scalar_one()
        self.sealer.forget()
        log.info("projection_sweep", cases=len(case_ids), raised=len(result.raised),
                 resolved=len(result.resolved))
        return SweepResult(as_at, len(case_ids), result.raised, result.resolved, int(open_count))

    # -- one transaction ------------------------------------------------------------------

    def _step(
        self,
        part: Partition,
        models: frozenset[str],
        read_size: int,
        budget: int,
        on_progress: ProgressCallback | None,
    ) -> tuple[tuple[int, int], tuple[int, int], bool, int]:
        """One transaction; returns (records, slowest selected model) before and after,
        whether it reached the head, and how many of the partition's events it read."""
        try:
            with self._txn() as conn:
                cps = cp_store.lock(conn, part)
                return self._work(conn, cps, part, models, read_size, budget, on_progress)
        except BaseException:
            self._cache.clear()
            self._cache_position = None
            raise

    def _work(
        self,
        conn: Connection,
        cps: dict[str, Checkpoint],
        part: Partition,
        models: frozenset[str],
        read_size: int,
        budget: int,
        on_progress: ProgressCallback | None,
    ) -> tuple[tuple[int, int], tuple[int, int], bool, int]:
        records_cp = cps["records"][0]
        if self._cache_position != (part, records_cp):
            # Another projector (or a reset) moved the records since this one last wrote
            # them, or this is another partition: what the cache holds may be stale.
            self._cache.clear()
        now = self.app.clock.now()
        at_head = False
        position = records_cp
        head = source.head(conn)
        builders: dict[str, Builder] = {}
        stale = {c for c in quarantine.case_ids(conn) if part.owns(c)}
        retry = set(stale) if self._retry_all else set()
        problems: list[Problem] = []
        read = 0
        seen: set[str] = set()  # every case with an event in (records_cp, position]
        while read < budget:
            want = min(read_size, budget - read)
            batch = source.read_after(conn, position, want, upto=head, partition=part)
            if batch:
                read += len(batch)
                position = batch[-1].position
                seen.update(e.stream_id for e in batch)
                self._fold_batch(conn, batch, builders, stale, retry, problems)
                if on_progress is not None:
                    on_progress(len(batch), max(0, head - position))
            if len(batch) < want:  # none of this partition's events is left up to the head
                at_head = True
                position = max(position, head)
                break
        if position >= head:
            at_head = True
        released = self._retry(conn, retry, builders, problems)
        new_cps: dict[str, int] = {}
        # Pipelined (PostgreSQL): records, views, audits and checkpoints go in one round
        # trip at the end, in this transaction; threaded for large ones.
        with Writes(conn, threaded=len(builders) > THREADED_WRITES_FROM,
                    pipelined=True) as writes:
            if builders:
                rows = []
                for case_id, builder in builders.items():
                    record = builder.freeze()
                    self._cache[case_id] = record
                    rows.append(record_row(record, now, self.sealer))
                writes.submit(upsert_job(case_records, rows))
            if position > records_cp:
                new_cps["records"] = position
            if at_head or released:
                self._derive(conn, writes, cps, part, models, position, now, new_cps,
                             stale | {p.case_id for p in problems}, released, problems,
                             (records_cp, seen))
            writes.ready_to_read()
            failed = {p.case_id for p in problems}
            quarantine.put(conn, problems, now, self.policy.version)
            quarantine.release(conn, released - failed, now, self.policy.version)
            writes.submit(partial(cp_store.save, new_cps=new_cps,
                                  policy_version=self.policy.version, now=now, part=part))
        self._cache_position = (part, position)
        before = min(cp_store.effective(cps[m], self.policy.version) for m in models)
        after = min(new_cps.get(m, cp_store.effective(cps[m], self.policy.version)) for m in models)
        return (records_cp, before), (position, after), at_head, read

    def _fold_batch(
        self, conn: Connection, batch: list[RawEvent], builders: dict[str, Builder],
        stale: set[str], retry: set[str], problems: list[Problem],
    ) -> None:
        """Fold a batch of events into per-case builders (loading records not yet seen).

        A case whose event fails to fold is quarantined (``problems``) and left out; a new
        event on a quarantined case marks it for a retry (it may be the correction)."""
        fresh = {e.stream_id for e in batch if e.stream_id not in builders}
        for e in batch:
            if e.type == ERASED and e.stream_id in fresh:
                # The child's key may be gone: restore from the stored row, as a projector
                # starting now would (a cached record may still hold the date of birth).
                self._cache.pop(e.stream_id, None)
        missing = [c for c in fresh if c not in self._cache]
        if missing:
            self._cache.update(load(conn, missing, self.sealer))
        for case_id in fresh:
            builders[case_id] = Builder(
                self._cache.get(case_id) or CaseRecord(case_id=case_id), self.sealer.open
            )
        self.sealer.preload(
            child
            for e in batch if e.type == "case_opened"
            and isinstance(token := e.data.get("date_of_birth"), str)
            and (child := child_of(token)) is not None
        )
        failed = {p.case_id for p in problems}
        for e in batch:
            case_id = e.stream_id
            if case_id in failed:
                continue
            if case_id in stale:
                retry.add(case_id)
                builders.pop(case_id, None)
                continue
            try:
                builders[case_id].apply(e)
            except Exception as exc:  # one case's event must not stop every other case
                problems.append(problem(case_id, "fold", exc, e))
                failed.add(case_id)
                builders.pop(case_id, None)
                self._cache.pop(case_id, None)

    def _retry(self, conn: Connection, retry: set[str], builders: dict[str, Builder],
               problems: list[Problem]) -> set[str]:
        """Fold quarantined cases again from their first event; the ones that fold now
        (corrected, upcast or fixed) are returned, to be evaluated and released."""
        released: set[str] = set()
        for case_id in sorted(retry):
            events = [e.event for e in source.read_case(conn, case_id)]
            try:
                record = refold(case_id, events, self.sealer.open)
            except Exception as exc:
                failing = next((e for e in events if _fails(case_id, e, events, self)), None)
                problems.append(problem(case_id, "fold", exc, failing))
                continue
            builders[case_id] = Builder(record, self.sealer.open)
            released.add(case_id)
        return released


    def _derive(
        self,
        conn: Connection,
        writes: Writes,
        cps: dict[str, Checkpoint],
        part: Partition,
        models: frozenset[str],
        records_at: int,
        now: datetime,
        new_cps: dict[str, int],
        stale: set[str],
        forced: set[str],
        problems: list[Problem],
        read: tuple[int, set[str]] = (-1, set()),
    ) -> None:
        """Bring the view models, audits and alerts up to the records' position.

        ``forced`` cases (just out of quarantine) are evaluated for every model; ``stale``
        ones (quarantined) are not; a case whose evaluation fails joins ``problems``.
        ``read`` is (p, the cases of every event in (p, records_at] of the partition): this
        transaction read them all, so a model at p needs no query for its cases (the
        worker's usual step: every model was at the records' checkpoint)."""
        version = self.policy.version
        touched: dict[str, set[str]] = {}
        between: dict[int, list[str]] = {}
        writes.ready_to_read()  # pending writes touch no row read here
        for name in (*PER_CASE, "alerts"):
            if name not in models:
                continue
            cp, applied_version = cps[name]
            if applied_version is not None and applied_version != version:
                cp = 0
            if cp >= records_at:
                if applied_version != version:
                    new_cps[name] = records_at
                continue
            if cp not in between:
                between[cp] = (sorted(read[1]) if cp == read[0]
                               else source.streams_between(conn, cp, records_at, part))
            touched[name] = set(between[cp])
            new_cps[name] = records_at
        for name in (*PER_CASE, "alerts"):
            if name in models and forced:
                touched.setdefault(name, set()).update(forced)
        for name in touched:
            touched[name] -= stale - forced
        if not touched:
            return
        wanted = sorted({c for ids in touched.values() for c in ids})
        missing = [c for c in wanted if c not in self._cache]
        if missing:
            self._cache.update(load(conn, missing, self.sealer))
        at = AsAt.at(now)
        holding: dict[str, list[alerts.Candidate]] = {}
        judged = self.policy.ratings.judged_levels
        for chunk in chunks(wanted, DERIVE_CHUNK):
            rows: dict[str, list[Row]] = defaultdict(list)
            audit_list: list[Row] = []
            for case_id in chunk:
                record = self._cache.get(case_id)
                if record is None:
                    continue
                try:
                    views = evaluate_all(record, at, self.policy)
                    new_rows = view_rows(views, record, now) if views.exists else {}
                    new_audits = audit_rows(views, record, judged)
                    held = alerts.candidates(views, self.policy)
                except Exception as exc:  # one case must not stop every other case
                    problems.append(Problem(case_id, "evaluate", type(exc).__name__,
                                            position=record.position))
                    for members in touched.values():
                        members.discard(case_id)
                    continue
                for name, row in new_rows.items():
                    if case_id in touched.get(name, ()):
                        rows[name].append(row)
                if case_id in touched.get("audits", ()):
                    audit_list.extend(new_audits)
                if case_id in touched.get("alerts", ()):
                    holding[case_id] = held
            for name, table in VIEW_TABLES.items():
                if rows[name]:
                    writes.submit(upsert_job(table, rows[name]))
            if "audits" in touched:
                writes.submit(replace_audits_job(
                    [c for c in chunk if c in touched["audits"]], audit_list))
        if "alerts" in touched:
            writes.ready_to_read()
            ids = sorted(touched["alerts"])
            result = alerts.reconcile(conn, ids, holding, now, version)
            if result.raised or result.resolved:
                log.info("alerts_reconciled", raised=len(result.raised),
                         resolved=len(result.resolved), cases=len(ids))

    # -- storage helpers ------------------------------------------------------------------

    def load_record(self, case_id: str) -> CaseRecord | None:
        """The stored record of one case (None if the projector has not seen it)."""
        with self._read() as conn:
            return load(conn, [case_id], self.sealer).get(case_id)

    @contextmanager
    def _txn(self) -> Iterator[Connection]:
        """A write transaction; a constraint refusal (only a concurrent writer of the same
        rows can cause one) reads as the database being unavailable, to be retried."""
        try:
            with tx.write(self.app.engine, tables=TABLES) as conn:
                yield conn
        except IntegrityError:
            raise StoreUnavailable("database error: IntegrityError") from None

    def _read(self) -> AbstractContextManager[Connection]:
        return tx.read(self.app.engine, tables=TABLES)


def rebuild_txn_events(app: App) -> int:
    """Events per transaction in a rebuild: SQLite lets readers in between, PostgreSQL
    commits once (a partition's rebuild never waits on another's)."""
    return 50_000 if app.engine.dialect.name == "sqlite" else 1_000_000_000


def _fails(case_id: str, event: RawEvent, events: list[RawEvent], projector: Projector) -> bool:
    """Whether folding the case up to and including ``event`` fails (to name the event)."""
    try:
        refold(case_id, [e for e in events if e.position <= event.position],
               projector.sealer.open)
    except Exception:
        return True
    return False
