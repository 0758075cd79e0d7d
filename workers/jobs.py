"""What each actor does, as plain functions of the workers (no dramatiq in here).

- ``project``: catch the read models up from their stored checkpoints (the message is only
  a hint), then create and enqueue the deliveries of alerts that became open.
- ``sweep``: the time-based rules as at the scheduled moment (no new event), then deliveries.
- ``heal``: the periodic safety net: catch up, and re-enqueue deliveries whose message was
  lost (Redis restarted empty, a worker crashed mid-send and its claim expired).
- ``deliver``: claim one delivery by its idempotency key, send it, record the outcome.
- ``digest``: one digest row per alert owner for the day, then deliver them.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import dramatiq
import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from projections.projector import Projector
from projections.source import Partition
from tracker.db.read_models import alerts
from tracker.db.worker_tables import worker_jobs
from tracker.kernel import logging as tlog
from tracker.services.retention import run_retention
from workers.delivery import (
    Claim,
    DeliveryError,
    Queued,
    backoff_ms,
    load_alert,
    open_alerts_of,
)

if TYPE_CHECKING:
    from projections.projector import Projector
    from tracker.services.app import App
    from workers.runtime import Workers

log = structlog.get_logger("workers")


def make_projector(app: App, partition: int | None = None) -> Projector:
    """The read side's projector for ``app``: of one partition (of the
    ``projection_partitions`` the settings give), or of every partition in turn."""
    if partition is None:
        return Projector(app)
    return Projector(app, partition=Partition(partition, app.settings.projection_partitions))


# -- projection ------------------------------------------------------------------------


def project(w: Workers) -> int:
    """Catch up from the checkpoints; hand on if the backlog is longer than one message.

    With several partitions the hint fans out: one ``project_partition`` message per
    partition (unless one is waiting), which worker threads of any process then run in
    parallel."""
    w.gate.clear()  # before reading: an append committing after this sends a new hint
    if w.partitions > 1:
        correlation_id = tlog.current_correlation_id()
        for i in range(w.partitions):
            w.hint_partition(i, correlation_id)
        return 0
    s = w.app.settings
    started = time.perf_counter()
    with w.projecting() as projector:
        done = projector.catch_up(
            batch_size=s.projection_batch_size, limit=s.projection_message_limit
        )
    if done >= s.projection_message_limit:
        w.hint(tlog.current_correlation_id())
    created = enqueue_deliveries(w) if done else 0
    log.info("projection_caught_up", events=done, deliveries=created,
             ms=round(1000 * (time.perf_counter() - started), 1))
    return done


def project_partition(w: Workers, index: int) -> int:
    """Catch one partition up; hand on to itself if its backlog is longer than a message."""
    if not 0 <= index < w.partitions:
        log.warning("projection_partition_unknown", partition=index, partitions=w.partitions)
        return 0
    w.partition_gates[index].clear()  # before reading, as ``project`` clears the hint's gate
    s = w.app.settings
    started = time.perf_counter()
    with w.projecting(index) as projector:
        done = projector.catch_up(
            batch_size=s.projection_batch_size, limit=s.projection_message_limit
        )
    if done >= s.projection_message_limit:
        w.hint_partition(index, tlog.current_correlation_id())
    created = enqueue_deliveries(w) if done else 0
    log.info("projection_caught_up", events=done, deliveries=created, partition=index,
             ms=round(1000 * (time.perf_counter() - started), 1))
    return done


def sweep(w: Workers, as_at: datetime) -> None:
    """The time-based rules as at ``as_at`` (the scheduled moment); it catches up first."""
    with w.projecting() as projector:
        projector.sweep(as_at)
    created = enqueue_deliveries(w)
    record_run(w.app, "sweep", as_at)
    log.info("sweep_done", as_at=as_at.isoformat(), deliveries=created)


def heal(w: Workers, as_at: datetime | None = None) -> None:
    """Catch up, and re-send whatever a lost message or a crashed worker left behind."""
    project(w)
    created = enqueue_deliveries(w)
    grace = timedelta(seconds=max(w.app.settings.catch_up_seconds, 1.0))
    stale = w.outbox.stale(grace)
    send_deliveries(w, stale)
    record_run(w.app, "heal", as_at)
    if created or stale:
        log.info("heal_done", deliveries=created, requeued=len(stale))


# -- delivery --------------------------------------------------------------------------


def enqueue_deliveries(w: Workers) -> int:
    """Create the outbox rows of newly open alerts and enqueue one message per row."""
    channels = list(w.channels())
    if not channels:
        return 0
    queued = w.outbox.create_for_open_alerts(channels, tlog.current_correlation_id())
    send_deliveries(w, queued)
    return len(queued)


def send_deliveries(w: Workers, queued: list[Queued]) -> None:
    for q in queued:
        w.actors.deliver.send_with_options(args=(q.key,), correlation_id=q.correlation_id)


def deliver(w: Workers, key: str) -> str:
    """Send one delivery if it is still to send; returns what happened (for the logs)."""
    claim = w.outbox.claim(key)
    if claim is None:
        log.info("delivery_skipped", key=key, reason="sent, failed or claimed elsewhere")
        return "skipped"
    channel = w.channels().get(claim.channel)
    try:
        if channel is None:
            raise DeliveryError(f"channel {claim.channel} is not configured", permanent=True)
        if claim.kind == "digest":
            day = date.fromisoformat(claim.key.rsplit(":", 2)[1])
            channel.send_digest(claim.key, claim.owner or "", day,
                                open_alerts_of(w.app.engine, claim.owner or ""))
        else:
            alert = load_alert(w.app.engine, claim.alert_id or "")
            if alert is None:
                raise DeliveryError("alert not in the read model (rebuilding?)")
            channel.send_alert(claim.key, alert)
    except DeliveryError as exc:
        return _failed(w, claim, exc)
    if not w.outbox.sent(claim):
        log.warning("delivery_claim_lost", key=key)
    log.info("delivery_sent", key=key, channel=claim.channel, attempts=claim.attempts)
    return "sent"


def _failed(w: Workers, claim: Claim, exc: DeliveryError) -> str:
    error = str(exc)
    if exc.permanent or claim.attempts >= w.app.settings.delivery_max_attempts:
        w.outbox.failed(claim, error)
        log.error("delivery_failed", key=claim.key, channel=claim.channel,
                  attempts=claim.attempts, error=error)
        return "failed"
    delay = backoff_ms(w.app.settings, claim.attempts)
    w.outbox.retry(claim, error, delay)
    log.warning("delivery_retry", key=claim.key, channel=claim.channel,
                attempts=claim.attempts, delay_ms=delay, error=error)
    raise dramatiq.Retry(error, delay=delay)


def digest(w: Workers, day: date) -> int:
    """A digest row per owner of open alerts, enqueued; returns how many were created."""
    if "email" not in w.channels():
        return 0
    query = select(alerts.c.owner).where(alerts.c.status == "open", alerts.c.owner.is_not(None))
    with w.app.engine.connect() as conn:
        owners = sorted({str(o) for (o,) in conn.execute(query.distinct())})
    queued = [
        q for owner in owners
        if (q := w.outbox.create_digest(owner, day, tlog.current_correlation_id())) is not None
    ]
    send_deliveries(w, queued)
    record_run(w.app, "digest", None)
    return len(queued)


def retention(w: Workers, day: date) -> int:
    """Erase or reduce to basic information (or ask admins to approve it) the children
    whose retention ran out by ``day``; returns how many were found."""
    run = run_retention(w.app, day, correlation_id=tlog.current_correlation_id())
    record_run(w.app, "retention", None)
    return len(run.expired) + len(run.reducible)


# -- bookkeeping -----------------------------------------------------------------------


def record_run(app: App, job: str, as_at: datetime | None) -> None:
    """Note that a scheduled job finished (shown by ``tracker status``)."""
    now = app.clock.now()
    dialect = postgresql if app.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(worker_jobs).values(
        job=job, last_as_at=as_at, last_finished_at=now, runs=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["job"],
        set_={
            "last_as_at": func.coalesce(stmt.excluded.last_as_at, worker_jobs.c.last_as_at),
            "last_finished_at": now,
            "runs": worker_jobs.c.runs + 1,
        },
    )
    with app.engine.begin() as conn:
        conn.execute(stmt)


def job_runs(app: App) -> dict[str, dict[str, Any]]:
    with app.engine.connect() as conn:
        rows = conn.execute(select(worker_jobs)).all()
    return {r.job: {"last_as_at": r.last_as_at, "last_finished_at": r.last_finished_at,
                    "runs": r.runs} for r in rows}

