"""What ``tracker status`` and the metrics endpoint report, gathered in one place.

- each projection's lag: events behind the log head, and seconds behind it;
- each queue's depth (Redis: ready + unacked + delayed messages; dead-lettered apart);
- deliveries waiting (pending) and failed (retries exhausted), and the oldest waiting;
- when each scheduled job last finished.

A part that cannot be reached is reported as such (``error``), never as a crash.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from sqlalchemy.exc import DBAPIError

from tracker.kernel.errors import TrackerError
from workers.broker import QUEUES
from workers.jobs import job_runs, make_projector
from workers.runtime import attached

if TYPE_CHECKING:
    from tracker.services.app import App


@dataclass
class QueueDepth:
    """Messages in one queue."""
    ready: int
    unacked: int
    delayed: int
    dead: int

    @property
    def depth(self) -> int:
        return self.ready + self.unacked + self.delayed


@dataclass
class Status:
    """Everything ``tracker status`` prints."""
    projections: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    queues: dict[str, dict[str, int]] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    oldest_pending_seconds: float | None = None
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    broker: str = "in-process"
    errors: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for job in out["jobs"].values():
            for k, v in job.items():
                if isinstance(v, datetime):
                    job[k] = v.isoformat()
        return out


def queue_depths(app: App) -> dict[str, QueueDepth]:
    """Depth of each queue on the app's broker (Redis keys, or the in-memory queues)."""
    w = attached(app)
    if w is None:
        return {}
    if w.redis is None:
        broker = w.broker
        assert isinstance(broker, StubBroker)
        return {
            q: QueueDepth(
                ready=broker.queues[q].qsize(), unacked=0,
                delayed=broker.queues[dq_name(q)].qsize(),
                dead=len(broker.dead_letters_by_queue[q]),
            )
            for q in QUEUES
        }
    ns = app.settings.redis_namespace
    pipe = w.redis.pipeline(transaction=False)
    for q in QUEUES:
        pipe.llen(f"{ns}:{q}")
        pipe.hlen(f"{ns}:{q}.msgs")
        pipe.hlen(f"{ns}:{dq_name(q)}.msgs")
        pipe.zcard(f"{ns}:{xq_name(q)}")
    values = [int(v) for v in pipe.execute()]
    out = {}
    for i, q in enumerate(QUEUES):
        ready, held, delayed, dead = values[4 * i: 4 * i + 4]
        out[q] = QueueDepth(ready=ready, unacked=max(0, held - ready), delayed=delayed, dead=dead)
    return out


def collect(app: App) -> Status:
    """Gather every figure; each part that fails is named in ``errors``."""
    status = Status(broker="in-process" if app.workers is None or app.workers.in_process
                    else "redis")
    try:
        projector = make_projector(app)
        for name, lag in projector.lag().items():
            status.projections[name] = {"events": lag.events, "seconds": lag.seconds}
        status.quarantined = [dict(q) for q in projector.quarantined()]
    except (TrackerError, DBAPIError) as exc:
        status.errors["projections"] = _reason(exc)
    try:
        for q, d in queue_depths(app).items():
            status.queues[q] = {**asdict(d), "depth": d.depth}
    except Exception as exc:  # Redis down, refused, timed out: report it, do not crash
        status.errors["queues"] = _reason(exc)
    workers = attached(app)
    if workers is not None:
        try:
            status.deliveries = workers.outbox.counts()
            oldest = workers.outbox.oldest_pending()
            if oldest is not None:
                status.oldest_pending_seconds = (app.clock.now() - oldest).total_seconds()
            status.jobs = job_runs(app)
        except DBAPIError as exc:
            status.errors["deliveries"] = _reason(exc)
    return status


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TrackerError):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]
