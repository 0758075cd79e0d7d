"""The projector: folds new events into the case records and refreshes the read models.

Checkpoints. Each read model (``tables.MODEL_NAMES``) has a row in
``projection_checkpoints``. A transaction first locks every checkpoint row (PostgreSQL:
``SELECT ... FOR UPDATE`` in name order; SQLite: ``BEGIN IMMEDIATE``), reads the events
after the records' checkpoint, writes the changed rows and moves the checkpoints, then
commits: rows and checkpoint together or not at all. A second projector waits for the lock
and then starts from the new checkpoint, so two processes never apply the same events and
applying an event twice is impossible (the record also ignores positions it has seen).

Order of work. ``records`` (the per-case fold) follows the log. The four views, the audits
and the alerts are derived from the records; they are brought up to the records' position
when a transaction reaches the head of the log, for every case with events in between.
So a long catch-up or a rebuild evaluates each case once at the end, and never raises
alerts from half a history. A view model whose checkpoint carries another policy version
is recomputed for every case.

Time. Views and alerts are evaluated as at ``app.clock.now()``; ``sweep(as_at)``
re-evaluates the time-based rules of every open case with no new event.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
import structlog
from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from projections import alerts as alert_rules
from projections import source
from projections.asat import AsAt
from projections.record import (
    Alloc,
    Builder,
    CaseRecord,
    RawEvent,
    StaleRecord,
    dumps,
    fold_raw,
    loads,
    sealed_child,
)
from projections.sealer import KeyringDob, child_of
from projections.views import CaseViews, evaluate_all
from tracker.db.read_models import (
    MODEL_NAMES,
    VIEW_TABLES,
    audits,
    case_records,
    checkpoints,
)
from tracker.domain.policy import Policy
from tracker.kernel.errors import (
    FieldProblem,
    InvalidInput,
    SchemaNotReady,
    StoreUnavailable,
    TrackerError,
    UnknownReadModel,
)
from tracker.services.app import App, policy_for

log = structlog.get_logger("projections.projector")

PER_CASE = ("aspire", "engagement", "continuity", "enforcement", "audits")
TIME_RULES = frozenset({
    "assessment_overdue", "plan_overdue", "review_overdue", "first_appointment_overdue",
    "contact_shortfall", "missed_appointment_not_followed_up", "no_case_manager",
    "release_not_ready", "falling_engagement", "probation_transition_plan_missing",
})
"""Rules whose answer changes with time alone: what ``sweep`` re-evaluates."""

ProgressCallback = Callable[[int, int], None]
"""Called with (events just applied, events still behind the head)."""


@dataclass(frozen=True)
class Lag:
    """How far a read model is behind the log: events, and seconds since the oldest one
    it has not applied was recorded (0.0 when caught up; None when the log is empty)."""

    events: int
    seconds: float | None


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: cases evaluated, alerts raised and resolved, alerts now open."""

    as_at: datetime
    cases: int
    raised: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    open: int = 0


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - the tracker runs on these two
        raise StoreUnavailable(f"unsupported database {dialect}")
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name != key},
    )
    conn.execute(stmt, rows)


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def view_rows(views: CaseViews, record: CaseRecord, at: datetime) -> dict[str, dict[str, Any]]:
    """The row each per-case view table gets for this case."""
    h = views.header
    base = {
        "case_id": views.case_id, "service": h.get("service"), "team": h.get("team"),
        "practitioner": h.get("case_manager"), "is_open": bool(h.get("open")),
        "evaluated_at": at, "position": record.position,
        "policy_version": views.policy_version,
    }
    stages = views.aspire.get("stages", {})
    eng = views.engagement
    cont = views.continuity
    enf = views.enforcement
    custody = cont.get("custody_periods", [])
    return {
        "aspire": {
            **base, "view": _json(views.aspire),
            "assessment": stages.get("assessment", {}).get("status"),
            "planning": stages.get("planning", {}).get("status"),
            "delivery": stages.get("delivery", {}).get("status"),
            "review": stages.get("review", {}).get("status"),
            "overdue": int(views.aspire.get("overdue", 0)),
            "next_due": _day(views.aspire.get("next_due")),
        },
        "engagement": {
            **base, "view": _json(eng),
            "attendance_rate": eng.get("attendance", {}).get("rate"),
            "days_since_contact": eng.get("days_since_contact"),
            "trend": eng.get("participation", {}).get("trend"),
            "falling": bool(eng.get("participation", {}).get("falling")),
        },
        "continuity": {
            **base, "view": _json(cont),
            "setting": cont.get("setting"),
            "has_case_manager": cont.get("case_manager") is not None,
            "changes": int(cont.get("changes", 0)),
            "without_case_manager_since": _day(cont.get("without_case_manager_since")),
            "custody_first": _day(custody[0]["from"]) if custody else None,
            "custody_last_end": _day(custody[-1]["to"]) if custody else None,
            "ever_custody": bool(custody),
        },
        "enforcement": {
            **base, "view": _json(enf),
            "status": enf.get("status"),
            "warnings_in_period": int(enf.get("warnings_in_period", 0)),
            "breach_due": len(enf.get("breach_due", [])),
        },
    }


def audit_rows(views: CaseViews, record: CaseRecord, judged_levels: Sequence[str]) -> list[
    dict[str, Any]
]:
    """One ``rm_audits`` row per audit of the case, with the risk levels it was judged at."""
    v = views.visible
    if not views.exists or not record.audits:
        return []
    out = []
    custody = v.custody_periods()
    for a in record.audits:
        earlier = [x for x in record.assessments if x.t <= a.t]
        latest = max(earlier, key=lambda x: (x.t, x.pos)) if earlier else None
        safety = a.safety or (latest.safety if latest else None)
        harm = a.harm or (latest.harm if latest else None)
        out.append({
            "audit_event_id": a.id, "case_id": record.case_id,
            "service": views.header.get("service"), "team": views.header.get("team"),
            "route": views.header.get("route"), "audited_on": date.fromordinal(a.d),
            "question_set": a.question_set,
            "answers": _json([list(x) for x in a.answers]),
            "safety_level": safety, "harm_level": harm,
            "custody_case": any(p.start.toordinal() <= a.d for p in custody),
            "position": a.pos,
        })
    return out


class Projector:
    """Keeps the read models up to date with the log. Safe to run in several processes."""

    def __init__(self, app: App, policy: Policy | None = None) -> None:
        self.app = app
        self.policy = policy or policy_for(app)
        self.sealer = KeyringDob.for_app(app)
        self._cache: dict[str, CaseRecord] = {}
        self._cache_position: int | None = None

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
        models = self._selected(only)
        per_txn = txn_events or batch_size
        start: tuple[int, int] | None = None
        end = (0, 0)
        try:
            with gc_paused():
                while True:
                    done = end[0] - start[0] if start else 0
                    budget = per_txn if limit is None else min(per_txn, limit - done)
                    before, after, at_head = self._step(models, batch_size, budget, on_progress)
                    start = before if start is None else start
                    end = after
                    if at_head or (limit is not None and end[0] - start[0] >= limit):
                        break
        finally:
            self._cache.clear()
            self._cache_position = None
            self.sealer.forget()
        assert start is not None
        return max(0, end[0] - start[0], end[1] - start[1])

    def rebuild(self, only: str | None = None, *, on_progress: ProgressCallback | None = None,
                batch_size: int = 5000) -> int:
        """Empty a read model (all of them by default) and project it again from event 1.

        Alerts are reconciled rather than emptied, so acknowledgements and the history of
        raised and resolved alerts survive; ``--only X`` recomputes X from the case
        records (rebuild ``records`` or everything to refold the records from the events).
        """
        self._selected(only)
        targets = set(MODEL_NAMES) if only in (None, "records") else {only}
        with self._txn() as conn:
            self._lock(conn)
            if "records" in targets:
                conn.execute(delete(case_records))
            for name in targets & set(VIEW_TABLES):
                conn.execute(delete(VIEW_TABLES[name]))
            if "audits" in targets:
                conn.execute(delete(audits))
            conn.execute(
                update(checkpoints)
                .where(checkpoints.c.name.in_(sorted(targets)))
                .values(position=0, policy_version=None, updated_at=self.app.clock.now())
            )
        log.info("projection_rebuild_started", models=sorted(targets))
        txn = 50_000 if self.app.engine.dialect.name == "sqlite" else 1_000_000_000
        return self.catch_up(only=only, batch_size=batch_size, txn_events=txn,
                             on_progress=on_progress)

    def lag(self) -> dict[str, Lag]:
        """How far behind the log each read model is."""
        now = self.app.clock.now()
        with self._read() as conn:
            head = source.head(conn)
            rows = {r.name: r for r in conn.execute(select(checkpoints))}
            out: dict[str, Lag] = {}
            first_pending: dict[int, datetime | None] = {}
            for name in MODEL_NAMES:
                row = rows.get(name)
                position = int(row.position) if row is not None else 0
                behind = max(0, head - position)
                if head == 0:
                    out[name] = Lag(0, None)
                elif behind == 0:
                    out[name] = Lag(0, 0.0)
                else:
                    if position not in first_pending:
                        first_pending[position] = source.recorded_at_of(conn, position + 1)
                    moment = first_pending[position]
                    seconds = (now - moment).total_seconds() if moment else None
                    out[name] = Lag(behind, max(0.0, seconds) if seconds is not None else None)
            return out

    def sweep(self, as_at: datetime) -> SweepResult:
        """Re-evaluate the time-based alert rules of every open case as at ``as_at``.

        Catches up first; then raises and resolves alerts with no new event, and refreshes
        the stored views of the open cases (their ``evaluated_at`` becomes ``as_at``).
        """
        if as_at.tzinfo is None:
            raise InvalidInput([FieldProblem("as_at", "must include a time zone")])
        self.catch_up()
        at = AsAt.at(as_at)
        with gc_paused(), self._txn() as conn:
            self._lock(conn)
            rows = conn.execute(
                select(case_records.c.case_id, case_records.c.record)
                .where(case_records.c.closed_on.is_(None))
                .order_by(case_records.c.case_id)
            ).all()
            holding: dict[str, list[alert_rules.Candidate]] = {}
            view_batches: dict[str, list[dict[str, Any]]] = defaultdict(list)
            case_ids = []
            self.sealer.preload(c for _id, text in rows if (c := sealed_child(text)) is not None)
            for case_id, text in rows:
                record = restore(conn, case_id, text, self.sealer)
                views = evaluate_all(record, at, self.policy)
                case_ids.append(case_id)
                holding[case_id] = [
                    c for c in alert_rules.candidates(views, self.policy) if c.rule in TIME_RULES
                ]
                if views.exists:
                    for name, row in view_rows(views, record, as_at).items():
                        view_batches[name].append(row)
            for name, table in VIEW_TABLES.items():
                _upsert(conn, table, view_batches[name], "case_id")
            result = alert_rules.reconcile(
                conn, case_ids, holding, as_at, self.policy.version, rules=TIME_RULES
            )
            from sqlalchemy import func

            from tracker.db.read_models import alerts as alerts_table

            open_count = conn.execute(
                select(func.count()).select_from(alerts_table)
                .where(alerts_table.c.status == "open")
            ).scalar_one()
        self.sealer.forget()
        log.info("projection_sweep", cases=len(case_ids), raised=len(result.raised),
                 resolved=len(result.resolved))
        return SweepResult(as_at, len(case_ids), result.raised, result.resolved, int(open_count))

    # -- one transaction ------------------------------------------------------------------

    def _selected(self, only: str | None) -> frozenset[str]:
        if only is None:
            return frozenset(MODEL_NAMES)
        if only not in MODEL_NAMES:
            raise UnknownReadModel(
                f"only: unknown read model '{only}'; known: {', '.join(MODEL_NAMES)}"
            )
        return frozenset({"records", only})

    def _step(
        self,
        models: frozenset[str],
        read_size: int,
        budget: int,
        on_progress: ProgressCallback | None,
    ) -> tuple[tuple[int, int], tuple[int, int], bool]:
        """One transaction; returns (records, slowest selected model) before and after."""
        try:
            with self._txn() as conn:
                cps = self._lock(conn)
                return self._work(conn, cps, models, read_size, budget, on_progress)
        except BaseException:
            self._cache.clear()
            self._cache_position = None
            raise

    def _work(
        self,
        conn: Connection,
        cps: dict[str, tuple[int, str | None]],
        models: frozenset[str],
        read_size: int,
        budget: int,
        on_progress: ProgressCallback | None,
    ) -> tuple[tuple[int, int], tuple[int, int], bool]:
        records_cp = cps["records"][0]
        if self._cache_position != records_cp:
            self._cache.clear()
        now = self.app.clock.now()
        at_head = False
        position = records_cp
        head = source.head(conn)
        builders: dict[str, Builder] = {}
        read = 0
        while read < budget:
            want = min(read_size, budget - read)
            batch = source.read_after(conn, position, want)
            if batch:
                read += len(batch)
                position = batch[-1].position
                self._fold_batch(conn, batch, builders)
                if on_progress is not None:
                    on_progress(len(batch), max(0, head - position))
            if len(batch) < want:
                at_head = True
                break
        if position >= head:
            at_head = True
        new_cps: dict[str, int] = {}
        with _Writes(conn, threaded=len(builders) > THREADED_WRITES_FROM) as writes:
            if builders:
                rows = []
                for case_id, builder in builders.items():
                    record = builder.freeze()
                    self._cache[case_id] = record
                    rows.append(self._record_row(record, now))
                writes.submit(_upsert_job(case_records, rows))
                new_cps["records"] = position
            if at_head:
                self._derive(conn, writes, cps, models, position, now, new_cps)
            writes.flush()
            self._save_checkpoints(conn, new_cps, now)
        self._cache_position = position
        before = min(self._effective(cps[m]) for m in models)
        after = min(new_cps.get(m, self._effective(cps[m])) for m in models)
        return (records_cp, before), (position, after), at_head

    def _fold_batch(
        self, conn: Connection, batch: list[RawEvent], builders: dict[str, Builder]
    ) -> None:
        """Fold a batch of events into per-case builders (loading records not yet seen)."""
        fresh = {e.stream_id for e in batch if e.stream_id not in builders}
        missing = [c for c in fresh if c not in self._cache]
        if missing:
            self._cache.update(self._load(conn, missing))
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
        for e in batch:
            builders[e.stream_id].apply(e)

    def _effective(self, checkpoint: tuple[int, str | None]) -> int:
        """A checkpoint's position, or 0 if it was made under another policy version."""
        position, version = checkpoint
        return 0 if version is not None and version != self.policy.version else position

    def _derive(
        self,
        conn: Connection,
        writes: _Writes,
        cps: dict[str, tuple[int, str | None]],
        models: frozenset[str],
        records_at: int,
        now: datetime,
        new_cps: dict[str, int],
    ) -> None:
        """Bring the view models, audits and alerts up to the records' position."""
        version = self.policy.version
        touched: dict[str, set[str]] = {}
        between: dict[int, list[str]] = {}
        writes.flush()  # the connection is ours again for reading
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
                between[cp] = source.streams_between(conn, cp, records_at)
            touched[name] = set(between[cp])
            new_cps[name] = records_at
        if not touched:
            return
        wanted = sorted({c for ids in touched.values() for c in ids})
        missing = [c for c in wanted if c not in self._cache]
        if missing:
            self._cache.update(self._load(conn, missing))
        at = AsAt.at(now)
        holding: dict[str, list[alert_rules.Candidate]] = {}
        judged = self.policy.ratings.judged_levels
        for chunk in _chunks(wanted, DERIVE_CHUNK):
            rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
            audit_list: list[dict[str, Any]] = []
            for case_id in chunk:
                record = self._cache.get(case_id)
                if record is None:
                    continue
                views = evaluate_all(record, at, self.policy)
                if views.exists:
                    for name, row in view_rows(views, record, now).items():
                        if case_id in touched.get(name, ()):
                            rows[name].append(row)
                if case_id in touched.get("audits", ()):
                    audit_list.extend(audit_rows(views, record, judged))
                if case_id in touched.get("alerts", ()):
                    holding[case_id] = alert_rules.candidates(views, self.policy)
            for name, table in VIEW_TABLES.items():
                if rows[name]:
                    writes.submit(_upsert_job(table, rows[name]))
            if "audits" in touched:
                writes.submit(_replace_audits_job(
                    [c for c in chunk if c in touched["audits"]], audit_list))
        if "alerts" in touched:
            writes.flush()
            ids = sorted(touched["alerts"])
            result = alert_rules.reconcile(conn, ids, holding, now, version)
            if result.raised or result.resolved:
                log.info("alerts_reconciled", raised=len(result.raised),
                         resolved=len(result.resolved), cases=len(ids))

    # -- storage helpers ------------------------------------------------------------------

    def _record_row(self, record: CaseRecord, now: datetime) -> dict[str, Any]:
        o = record.opened
        cm = current_case_manager(record)
        closed = record.closed
        today = AsAt.at(now).day
        return {
            "case_id": record.case_id,
            "service": o.service if o else None,
            "team": (cm.team if cm is not None and cm.team else (o.team if o else None)),
            "practitioner": cm.practitioner if cm is not None else None,
            "route": o.route if o else None,
            "start_date": date.fromordinal(o.start) if o else None,
            "closed_on": date.fromordinal(closed.d) if closed else None,
            "is_open": bool(o and closed is None and o.start <= today.toordinal()),
            "record": dumps(record, self.sealer),
            "position": record.position,
            "updated_at": now,
        }

    def _load(self, conn: Connection, case_ids: Sequence[str]) -> dict[str, CaseRecord]:
        texts: list[tuple[str, str]] = []
        for chunk in _chunks(list(case_ids), 500):
            texts.extend(
                (case_id, text) for case_id, text in conn.execute(
                    select(case_records.c.case_id, case_records.c.record)
                    .where(case_records.c.case_id.in_(chunk))
                )
            )
        self.sealer.preload(c for _id, text in texts if (c := sealed_child(text)) is not None)
        return {case_id: restore(conn, case_id, text, self.sealer) for case_id, text in texts}

    def load_record(self, case_id: str) -> CaseRecord | None:
        """The stored record of one case (None if the projector has not seen it)."""
        with self._read() as conn:
            return self._load(conn, [case_id]).get(case_id)

    def _save_checkpoints(self, conn: Connection, new_cps: dict[str, int], now: datetime) -> None:
        for name, position in new_cps.items():
            version = None if name == "records" else self.policy.version
            conn.execute(
                update(checkpoints).where(checkpoints.c.name == name)
                .values(position=position, policy_version=version, updated_at=now)
            )

    def _lock(self, conn: Connection) -> dict[str, tuple[int, str | None]]:
        query = (
            select(checkpoints.c.name, checkpoints.c.position, checkpoints.c.policy_version)
            .where(checkpoints.c.name.in_(MODEL_NAMES))
            .order_by(checkpoints.c.name)
            .with_for_update()
        )
        rows = {r.name: (int(r.position), r.policy_version) for r in conn.execute(query)}
        if len(rows) < len(MODEL_NAMES):
            missing = [m for m in MODEL_NAMES if m not in rows]
            stmt: Any = (
                postgresql.insert(checkpoints) if conn.dialect.name == "postgresql"
                else sqlite.insert(checkpoints)
            )
            conn.execute(
                stmt.on_conflict_do_nothing(index_elements=["name"]),
                [{"name": m, "position": 0} for m in missing],
            )
            rows = {r.name: (int(r.position), r.policy_version) for r in conn.execute(query)}
        return rows

    @contextmanager
    def _txn(self) -> Iterator[Connection]:
        engine = self.app.engine
        try:
            conn = engine.connect()
            if engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn, conn.begin():
                yield conn
        except DBAPIError as exc:
            raise _translate(exc) from None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.app.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise _translate(exc) from None


def restore(
    conn: Connection, case_id: str, text: str, sealer: KeyringDob, *, upto: int | None = None
) -> CaseRecord:
    """A stored record, or (if it was stored in another layout) the case refolded from its
    events up to the stored record's position."""
    try:
        return loads(text, sealer)
    except StaleRecord:
        position = int(orjson.loads(text).get("position", 0)) if upto is None else upto
        events = [e.event for e in source.read_case(conn, case_id)
                  if e.event.position <= position]
        log.info("record_refolded", case_id=case_id, events=len(events))
        return fold_raw(case_id, events, sealer.open)


def current_case_manager(record: CaseRecord) -> Alloc | None:
    """The latest case-manager allocation not yet ended (all facts, in time order)."""
    ends: dict[str, int] = {}
    for e in sorted(record.alloc_ends, key=lambda f: (f.t, f.pos)):
        if e.role == "case_manager":
            ends[e.practitioner] = e.t
    active = [
        a for a in record.allocs
        if a.role == "case_manager" and ends.get(a.practitioner, -1) < a.t
    ]
    return max(active, key=lambda a: (a.t, a.pos)) if active else None


THREADED_WRITES_FROM = 200
"""Cases in one transaction above which its writes run on a helper thread."""
DERIVE_CHUNK = 500

Job = Callable[[Connection], None]


def _upsert_job(table: Table, rows: list[dict[str, Any]]) -> Job:
    def job(conn: Connection) -> None:
        _upsert(conn, table, rows, "case_id")

    return job


def _replace_audits_job(case_ids: list[str], rows: list[dict[str, Any]]) -> Job:
    def job(conn: Connection) -> None:
        for chunk in _chunks(case_ids, 500):
            conn.execute(delete(audits).where(audits.c.case_id.in_(chunk)))
        if rows:
            conn.execute(insert(audits), rows)

    return job


class _Writes:
    """This transaction's writes, in order. With ``threaded``, a helper thread runs them on
    the connection while the main thread computes the next rows, so the database writes
    while Python works; the main thread ``flush``es before it uses the connection itself.
    A failed write is raised at the next ``flush`` (and the transaction rolls back)."""

    def __init__(self, conn: Connection, *, threaded: bool) -> None:
        self._conn = conn
        self._threaded = threaded
        self._error: BaseException | None = None
        self._abandoned = False
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=16)
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="projector-writes",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if self._error is None and not self._abandoned:
                    job(self._conn)
            except BaseException as exc:  # handed to the main thread at the next flush
                self._error = exc
            finally:
                self._queue.task_done()

    def submit(self, job: Job) -> None:
        if self._thread is None:
            job(self._conn)
            return
        self._queue.put(job)

    def flush(self) -> None:
        if self._thread is not None:
            self._queue.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> _Writes:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._abandoned = True  # the transaction is rolling back: skip what is queued
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if exc_type is None:
            self.flush()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while folding: the folds build millions of small
    acyclic objects (freed by reference counting) that would otherwise be scanned over and
    over; a rebuild spends a third of its time there. The previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _translate(exc: DBAPIError) -> TrackerError:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if "no such table" in message or ("relation" in message and "does not exist" in message):
        return SchemaNotReady("the read-model tables do not exist yet: run 'tracker db upgrade'")
    return StoreUnavailable(f"database error: {type(exc.orig).__name__ if exc.orig else 'unknown'}")

