"""The dramatiq actors, declared on a given broker for a given App (nothing at import).

Run them with ``tracker worker``, or with the plain dramatiq CLI::

    dramatiq tracker.main:worker_setup --processes 2 --threads 8

``tracker.main.worker_setup`` bootstraps the App from the environment (``TRACKER_*``), checks
the delivery settings and makes its broker dramatiq's global one, which the CLI then consumes.

Queues: ``projection`` (project, project_partition, sweep, heal, digest) and ``delivery``
(deliver), so a slow mail server never holds the read models back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import dramatiq
import structlog
from dramatiq import Actor, Broker

from tracker.kernel.logging import JsonLineHandler, log_uncaught, safe_exc_info
from workers import jobs
from workers.broker import DELIVERY_QUEUE, PROJECTION_QUEUE

if TYPE_CHECKING:
    from workers.runtime import Workers


@dataclass(frozen=True)
class Actors:
    """The actors of one broker."""

    project: Actor[[], None]
    project_partition: Actor[[int], None]
    sweep: Actor[[str], None]
    heal: Actor[[str | None], None]
    deliver: Actor[[str], None]
    digest: Actor[[str], None]
    retention: Actor[[str], None]


def declare_actors(broker: Broker, w: Workers) -> Actors:
    """Declare every actor on ``broker``; each runs its job on ``w``."""

    def project() -> None:
        jobs.project(w)

    def project_partition(index: int) -> None:
        jobs.project_partition(w, index)

    def sweep(as_at: str) -> None:
        jobs.sweep(w, datetime.fromisoformat(as_at))

    def heal(as_at: str | None = None) -> None:
        jobs.heal(w, datetime.fromisoformat(as_at) if as_at else None)

    def deliver(key: str) -> None:
        jobs.deliver(w, key)

    def digest(day: str) -> None:
        jobs.digest(w, date.fromisoformat(day))

    def retention(day: str) -> None:
        jobs.retention(w, date.fromisoformat(day))

    projection: dict[str, Any] = {
        "broker": broker, "queue_name": PROJECTION_QUEUE,
        "max_retries": 20, "min_backoff": 500, "max_backoff": 30_000,
    }
    # Send failures are counted in the deliveries table, which decides when to stop; the
    # broker's retries of ``deliver`` cover the database being away while it runs.
    delivery: dict[str, Any] = {
        "broker": broker, "queue_name": DELIVERY_QUEUE,
        "max_retries": w.app.settings.delivery_max_attempts + 20,
        "min_backoff": 1000, "max_backoff": w.app.settings.delivery_max_backoff_ms,
    }
    return Actors(
        project=dramatiq.actor(actor_name="project", **projection)(project),
        project_partition=dramatiq.actor(actor_name="project_partition",
                                         **projection)(project_partition),
        sweep=dramatiq.actor(actor_name="sweep", **projection)(sweep),
        heal=dramatiq.actor(actor_name="heal", **projection)(heal),
        digest=dramatiq.actor(actor_name="digest", **projection)(digest),
        retention=dramatiq.actor(actor_name="retention", **projection)(retention),
        deliver=dramatiq.actor(actor_name="deliver", **delivery)(deliver),
    )


def json_stdlib_logging(level: str) -> None:
    """Render dramatiq's own (stdlib) log lines as JSON with the bound correlation id."""
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            safe_exc_info,  # a traceback is a field, not raw lines, and has no values
            structlog.processors.JSONRenderer(),
        ],
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.add_logger_name,
        ],
    )
    root = logging.getLogger()
    for handler in list(root.handlers):  # a plain stream handler writes apart from structlog
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            root.removeHandler(handler)
    if not any(isinstance(h, JsonLineHandler) for h in root.handlers):
        root.addHandler(JsonLineHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter)
    log_uncaught("worker")
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
