"""Prometheus metrics: the figures of ``tracker status``, gathered on each scrape.

- ``tracker_projection_lag_events{projection}``, ``tracker_projection_lag_seconds{projection}``
- ``tracker_queue_depth{queue}``, ``tracker_queue_dead_letters{queue}``
- ``tracker_deliveries{status}`` (pending = waiting, failed = retries exhausted, sent)
- ``tracker_delivery_oldest_pending_seconds``
- ``tracker_job_last_finished_timestamp_seconds{job}``
- ``tracker_status_errors{part}`` (1 when that part could not be read)

Serve them with ``tracker worker --metrics-port 9191`` / ``tracker scheduler --metrics-port``
(a small HTTP server), or mount ``asgi_app(app)`` in a web application at ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, make_asgi_app, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from workers.status import collect

if TYPE_CHECKING:
    from tracker.services.app import App


class StatusCollector(Collector):
    """Reads the status on every scrape (a few small queries and one Redis pipeline)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = collect(self.app)
        lag_events = GaugeMetricFamily(
            "tracker_projection_lag_events", "Events a projection is behind the log head",
            labels=["projection"],
        )
        lag_seconds = GaugeMetricFamily(
            "tracker_projection_lag_seconds", "Seconds a projection is behind the log head",
            labels=["projection"],
        )
        for name, lag in status.projections.items():
            lag_events.add_metric([name], float(lag["events"] or 0))
            if lag["seconds"] is not None:
                lag_seconds.add_metric([name], float(lag["seconds"]))
        depth = GaugeMetricFamily(
            "tracker_queue_depth", "Messages waiting, in flight or delayed", labels=["queue"]
        )
        dead = GaugeMetricFamily(
            "tracker_queue_dead_letters", "Messages dead-lettered", labels=["queue"]
        )
        for q, d in status.queues.items():
            depth.add_metric([q], float(d["depth"]))
            dead.add_metric([q], float(d["dead"]))
        deliveries = GaugeMetricFamily(
            "tracker_deliveries", "Alert deliveries by status", labels=["status"]
        )
        for s, n in status.deliveries.items():
            deliveries.add_metric([s], float(n))
        oldest = GaugeMetricFamily(
            "tracker_delivery_oldest_pending_seconds", "Age of the oldest waiting delivery"
        )
        oldest.add_metric([], float(status.oldest_pending_seconds or 0.0))
        jobs = GaugeMetricFamily(
            "tracker_job_last_finished_timestamp_seconds", "When a scheduled job last finished",
            labels=["job"],
        )
        for job, info in status.jobs.items():
            jobs.add_metric([job], info["last_finished_at"].timestamp())
        errors = GaugeMetricFamily(
            "tracker_status_errors", "1 when a part of the status could not be read",
            labels=["part"],
        )
        for part in ("projections", "queues", "deliveries"):
            errors.add_metric([part], 1.0 if part in status.errors else 0.0)
        quarantined = GaugeMetricFamily(
            "tracker_projection_quarantined_cases",
            "Cases the projector could not fold or evaluate (their read models are stale)",
        )
        quarantined.add_metric([], float(len(status.quarantined)))
        yield from (lag_events, lag_seconds, quarantined, depth, dead, deliveries, oldest, jobs,
                    errors)

    def describe(self) -> list[Any]:
        return []  # figures are read at scrape time, not at registration


def registry(app: App) -> CollectorRegistry:
    """A registry holding only the tracker's figures."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StatusCollector(app))
    return reg


def asgi_app(app: App) -> Any:
    """An ASGI app serving the metrics, to mount at ``/metrics`` in the web application."""
    return make_asgi_app(registry=registry(app))


def start(app: App, port: int, addr: str = "0.0.0.0") -> Any:  # noqa: S104
    """Serve the metrics on ``addr:port`` from a daemon thread; returns the server."""
    server, _thread = start_http_server(port, addr=addr, registry=registry(app))
    return server
